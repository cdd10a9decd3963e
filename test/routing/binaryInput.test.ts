import type { IBinaryData, INodeExecutionData, INodeParameters } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import type { FakeEachlabs } from '../../dev/fake-eachlabs';
import { makeImage, startFakeEachlabs } from '../../dev/fake-eachlabs';
import { fastRetries } from '../helpers/faultKit';
import type { BinaryMode } from '../helpers/n8n';
import { binaryBuffer, runNode, storeBinary } from '../helpers/n8n';
import { editImage, IMAGE_1, IMAGE_2 } from '../helpers/params';

/*
 * Binary images in: files an item holds are uploaded to Eachlabs' storage (presign with the key,
 * PUT without it) and their public URLs go into image_urls, in the order the user lists them.
 * The fake's upload host checks the signed headers and its jobs fetch every input they get, so a
 * prediction succeeds only when the uploaded bytes really are the image.
 */

const API_KEY = 'sk-binary-5d2e';
let fake: FakeEachlabs;
beforeAll(async () => {
	fake = await startFakeEachlabs({ apiKey: API_KEY, jobMs: 100 });
});
afterAll(async () => await fake.close());
beforeEach(() => fake.reset());
fastRetries();

const png = (name: string, bytes = 3000) => makeImage({ id: name, index: 0, format: 'png', bytes });
const jpeg = (name: string, bytes = 3000) =>
	makeImage({ id: name, index: 0, format: 'jpeg', bytes });

type Files = Record<string, { bytes: Buffer; mimeType?: string; fileName?: string }>;

/** One input item holding these files, stored through n8n's BinaryDataService. */
async function itemWith(files: Files, mode: BinaryMode = 'filesystem', json = {}) {
	const binary: Record<string, IBinaryData> = {};
	for (const [field, file] of Object.entries(files)) {
		binary[field] = await storeBinary(
			file.bytes,
			{ fileName: file.fileName ?? `${field}.png`, mimeType: file.mimeType ?? 'image/png' },
			mode,
		);
	}
	return { json, binary } as INodeExecutionData;
}

const binaryImage = (binaryPropertyName = 'data') => ({ source: 'binary', binaryPropertyName });

const run = async (
	parameters: INodeParameters,
	items: INodeExecutionData[],
	extra: { onError?: 'continueRegularOutput'; binaryMode?: BinaryMode } = {},
) =>
	await runNode({
		parameters: editImage(parameters),
		items,
		credentials: { apiKey: API_KEY, baseUrl: fake.apiUrl },
		...extra,
	});

const creates = () =>
	fake.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/v1/prediction'));
const presigns = () => fake.requests.filter((r) => r.path.startsWith('/v1/upload/presign'));
const puts = () => fake.requests.filter((r) => r.host === 'uploads' && r.method === 'PUT');
const imageUrlsSent = (index = 0) =>
	(creates()[index].body as { input: { image_urls: string[] } }).input.image_urls;

/** The key reached the API only: never the upload host, never the files host. */
function expectKeyOnlyOnApi() {
	for (const request of fake.requests.filter((r) => r.host !== 'api')) {
		expect(request.headers['x-api-key']).toBeUndefined();
		expect(request.headers.authorization).toBeUndefined();
	}
	for (const request of fake.requests.filter((r) => r.host === 'api')) {
		expect(request.headers['x-api-key']).toBe(API_KEY);
	}
	expect(fake.stats().uploadsWithKey).toBe(0);
}

async function rejectionOf(promise: Promise<unknown>): Promise<NodeApiError> {
	const error = await promise.then(
		() => undefined,
		(thrown: unknown) => thrown,
	);
	expect(error).toBeInstanceOf(NodeApiError);
	return error as NodeApiError;
}

describe('one binary image', () => {
	test.each<BinaryMode>(['filesystem', 'default'])(
		'%s binary mode: presign with the key, PUT without it, public URL into image_urls',
		async (mode) => {
			const bytes = png('product', 5000);
			const items = await run(
				{ prompt: 'Put @Image1 on a marble table', images: { image: [binaryImage()] } },
				[await itemWith({ data: { bytes, fileName: 'product.png' } }, mode)],
				{ binaryMode: mode },
			);
			if (mode === 'filesystem') expect(items.length).toBe(1);
			expect(presigns()).toHaveLength(1);
			expect(presigns()[0].body).toEqual({ content_type: 'image/png', file_type: 'image' });
			expect(puts()).toHaveLength(1);
			expect(puts()[0].headers['content-type']).toBe('image/png');
			expect(puts()[0].headers['content-length']).toBe(String(bytes.length));
			const [publicUrl] = imageUrlsSent();
			expect(new URL(publicUrl).origin).toBe(fake.uploadsUrl);
			expect(fake.uploadedFile(publicUrl)!.equals(bytes)).toBe(true);
			expect(fake.stats()).toMatchObject({ presigns: 1, uploads: 1, creates: 1, inputFetches: 1 });
			const [id] = fake.stats().predictions;
			expect(items).toHaveLength(1);
			expect(items[0].json).toMatchObject({
				predictionId: id,
				status: 'success',
				uploadedImages: [{ index: 0, field: 'data', fileName: 'product.png', publicUrl }],
			});
			expect((await binaryBuffer(items[0].binary!.data)).equals(fake.expectedImage(id))).toBe(true);
			expectKeyOnlyOnApi();
		},
	);

	test('data stored by n8n 1.x (no `bytes` on the item): the size comes from the store', async () => {
		const bytes = png('one-x', 4321);
		const item = await itemWith({ data: { bytes } });
		delete item.binary!.data.bytes;
		await run({ prompt: 'Edit @Image1', images: { image: [binaryImage()] } }, [item]);
		expect(puts()[0].headers['content-length']).toBe('4321');
		expect(fake.uploadedFile(imageUrlsSent()[0])!.equals(bytes)).toBe(true);
	});

	test("n8n's combined binary mode (files under json._files) works too", async () => {
		const bytes = png('combined');
		const { binary } = await itemWith({ data: { bytes } });
		await run({ prompt: 'Edit @Image1', images: { image: [binaryImage()] } }, [
			{ json: { _files: binary } },
		]);
		expect(fake.uploadedFile(imageUrlsSent()[0])!.equals(bytes)).toBe(true);
	});

	test('Wait for Completion off: uploaded, created, and the upload recorded', async () => {
		const items = await run(
			{ prompt: 'Edit @Image1', images: { image: [binaryImage()] }, waitForCompletion: false },
			[await itemWith({ data: { bytes: png('later') } })],
		);
		expect(items[0].json).toMatchObject({
			status: 'processing',
			uploadedImages: [{ index: 0, field: 'data', publicUrl: imageUrlsSent()[0] }],
		});
	});
});

describe('order and counting', () => {
	test('binary and URL entries mixed keep the order the user sees', async () => {
		const bytes = png('middle');
		await run(
			{
				prompt: 'Put @Image2 between @Image1 and @Image3',
				images: { image: [{ url: IMAGE_1 }, binaryImage('photo'), { url: IMAGE_2 }] },
			},
			[await itemWith({ photo: { bytes } })],
		);
		const sent = imageUrlsSent();
		expect(sent).toHaveLength(3);
		expect(sent[0]).toBe(IMAGE_1);
		expect(fake.uploadedFile(sent[1])!.equals(bytes)).toBe(true);
		expect(sent[2]).toBe(IMAGE_2);
	});

	test('ten binary images: ten uploads, in order, one prediction', async () => {
		const files: Files = {};
		for (let i = 0; i < 10; i++) files[`img${i}`] = { bytes: png(`ten-${i}`, 2000 + i) };
		const items = await run(
			{
				prompt: 'Make a collage of @Image1 to @Image10',
				images: { image: Object.keys(files).map((field) => binaryImage(field)) },
			},
			[await itemWith(files)],
		);
		const sent = imageUrlsSent();
		expect(sent).toHaveLength(10);
		sent.forEach((url, i) =>
			expect(fake.uploadedFile(url)!.equals(files[`img${i}`].bytes)).toBe(true),
		);
		expect(fake.stats()).toMatchObject({ presigns: 10, uploads: 10, creates: 1 });
		expect((items[0].json.uploadedImages as Array<{ index: number }>).map((u) => u.index)).toEqual([
			0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
		]);
		expect(items[0].json.status).toBe('success');
	});

	test('one entry naming several comma-separated fields: each is one image', async () => {
		const first = png('first');
		const second = jpeg('second');
		await run(
			{
				prompt: 'Put @Image1 on @Image2, then add @Image3',
				images: { image: [binaryImage('data, attachment_0'), { url: IMAGE_1 }] },
			},
			[
				await itemWith({
					data: { bytes: first },
					attachment_0: { bytes: second, mimeType: 'image/jpeg', fileName: 'b.jpg' },
				}),
			],
		);
		const sent = imageUrlsSent();
		expect(fake.uploadedFile(sent[0])!.equals(first)).toBe(true);
		expect(fake.uploadedFile(sent[1])!.equals(second)).toBe(true);
		expect(sent[2]).toBe(IMAGE_1);
		expect(presigns().map((r) => (r.body as { content_type: string }).content_type)).toEqual(
			expect.arrayContaining(['image/png', 'image/jpeg']),
		);
	});

	test('the same bytes twice in one item are uploaded once', async () => {
		const bytes = png('twice');
		await run(
			{
				prompt: 'Compare @Image1, @Image2 and @Image3',
				images: { image: [binaryImage('data, data'), binaryImage('copy')] },
			},
			// `copy` is another stored file with the very same bytes.
			[await itemWith({ data: { bytes }, copy: { bytes } })],
		);
		const sent = imageUrlsSent();
		expect(new Set(sent).size).toBe(1);
		expect(fake.stats()).toMatchObject({ presigns: 1, uploads: 1, creates: 1 });
	});
});

describe('bad binary input: refused before anything is uploaded or created', () => {
	async function refused(parameters: INodeParameters, items: INodeExecutionData[]) {
		const error = await rejectionOf(run(parameters, items));
		// A field error: shown by n8n as it is, with no HTTP code (README, Errors).
		expect(error.httpCode).toBeNull();
		expect(fake.requests).toHaveLength(0);
		return error;
	}

	test('a PDF names its type', async () => {
		const error = await refused({ prompt: 'Edit @Image1', images: { image: [binaryImage()] } }, [
			await itemWith({
				data: { bytes: Buffer.from('%PDF-1.7 …'), mimeType: 'application/pdf', fileName: 'a.pdf' },
			}),
		]);
		expect(error.message).toBe(
			'@Image1 (binary field "data") is of type application/pdf, which Kling O1 cannot use: give it a PNG, JPEG or WebP image',
		);
		expect(error.context.itemIndex).toBe(0);
	});

	test('a video names its type', async () => {
		const error = await refused({ prompt: 'Edit @Image1', images: { image: [binaryImage()] } }, [
			await itemWith({ data: { bytes: Buffer.alloc(64, 1), mimeType: 'video/mp4' } }),
		]);
		expect(error.message).toMatch(/is of type video\/mp4, which Kling O1 cannot use/);
	});

	test('a missing field is named with the fields the item has', async () => {
		const error = await refused(
			{ prompt: 'Edit @Image1', images: { image: [binaryImage('photo')] } },
			[await itemWith({ data: { bytes: png('a') }, attachment_0: { bytes: png('b') } })],
		);
		expect(error.message).toBe(
			'@Image1: item 0 has no binary field "photo"; its binary fields are: data, attachment_0',
		);
	});

	test('an item without any binary data says so', async () => {
		const error = await refused({ prompt: 'Edit @Image1', images: { image: [binaryImage()] } }, [
			{ json: {} },
		]);
		expect(error.message).toBe(
			'@Image1: item 0 has no binary field "data" (the item holds no binary data at all)',
		);
	});

	test('eleven images counting binaries', async () => {
		const files: Files = {};
		for (let i = 0; i < 6; i++) files[`f${i}`] = { bytes: png(`eleven-${i}`) };
		const urls = Array.from({ length: 5 }, (_, i) => ({ url: `https://example.com/${i}.png` }));
		const error = await refused(
			{
				prompt: 'Use @Image1',
				images: { image: [...urls, binaryImage(Object.keys(files).join(','))] },
			},
			[await itemWith(files)],
		);
		expect(error.message).toBe('Images: 11 images given, the maximum is 10');
	});

	test('an empty Input Binary Field', async () => {
		const error = await refused({ prompt: 'Edit @Image1', images: { image: [binaryImage(' ')] } }, [
			await itemWith({ data: { bytes: png('x') } }),
		]);
		expect(error.message).toBe(
			'@Image1: Input Binary Field is empty: name the binary field that holds the image, e.g. data',
		);
	});

	test('an empty file', async () => {
		const error = await refused({ prompt: 'Edit @Image1', images: { image: [binaryImage()] } }, [
			await itemWith({ data: { bytes: Buffer.alloc(0) } }),
		]);
		expect(error.message).toBe('@Image1 (binary field "data") is an empty file (0 bytes)');
	});

	test('a file over 100 MB (size from the stored metadata)', async () => {
		const item = await itemWith({ data: { bytes: png('big') } });
		item.binary!.data.bytes = 100 * 1024 * 1024 + 1;
		const error = await refused({ prompt: 'Edit @Image1', images: { image: [binaryImage()] } }, [
			item,
		]);
		expect(error.message).toBe(
			'@Image1 (binary field "data") is 100 MB (104857601 bytes); Eachlabs takes files of up to 100 MB',
		);
	});

	test('On Error: Stop — one bad item of three: nothing uploaded, nothing created', async () => {
		const good = await itemWith({ data: { bytes: png('good') } });
		const bad = await itemWith({
			data: { bytes: Buffer.from('%PDF'), mimeType: 'application/pdf' },
		});
		const error = await refused({ prompt: 'Edit @Image1', images: { image: [binaryImage()] } }, [
			good,
			good,
			bad,
		]);
		expect(error.message).toMatch(/^@Image1 \(binary field "data"\) is of type application\/pdf/);
		expect(error.context.itemIndex).toBe(2);
	});

	test('octet-stream with a .jpg name is taken as JPEG (some servers send any file so)', async () => {
		const bytes = jpeg('octet');
		await run({ prompt: 'Edit @Image1', images: { image: [binaryImage()] } }, [
			await itemWith({
				data: { bytes, mimeType: 'application/octet-stream', fileName: 'photo.JPG' },
			}),
		]);
		expect(puts()[0].headers['content-type']).toBe('image/jpeg');
		expect(fake.stats().creates).toBe(1);
	});
});

describe('storage faults', () => {
	const oneImage = { prompt: 'Edit @Image1', images: { image: [binaryImage()] } };

	test('a 5xx or a reset on the PUT is retried, with the same presigned URL', async () => {
		fake.failNext('upload', '503', 2);
		fake.failNext('upload', 'reset');
		const bytes = png('retry');
		const items = await run(oneImage, [await itemWith({ data: { bytes } })]);
		expect(items[0].json.status).toBe('success');
		expect(fake.stats()).toMatchObject({ presigns: 1, uploads: 4, creates: 1 });
		expect(new Set(puts().map((r) => r.path)).size).toBe(1);
		expect(fake.uploadedFile(imageUrlsSent()[0])!.equals(bytes)).toBe(true);
	});

	test('an expired signed URL (403 after expires_at) gets a fresh presign', async () => {
		fake.failNext('presign', 'expiredUrl');
		const items = await run(oneImage, [await itemWith({ data: { bytes: png('expired') } })]);
		expect(items[0].json.status).toBe('success');
		expect(fake.stats()).toMatchObject({ presigns: 2, uploads: 2, creates: 1 });
		expect(new Set(puts().map((r) => r.path)).size).toBe(2);
	});

	test('a 403 that is not an expiry fails the item at once, naming the image; no create', async () => {
		fake.failNext('upload', '403');
		const error = await rejectionOf(
			run(oneImage, [await itemWith({ data: { bytes: png('denied') } })]),
		);
		expect(error.message).toBe(
			'@Image1 (binary field "data") could not be uploaded to Eachlabs: the storage refused it (HTTP 403, SignatureDoesNotMatch)',
		);
		expect(error.description).toMatch(/^No prediction was created for this item/);
		expect(fake.stats()).toMatchObject({ presigns: 1, uploads: 1, createRequests: 0 });
	});

	test('storage answering 500 until the time is up: the item fails before any create', async () => {
		fake.failNext('upload', '500', 1000);
		const error = await rejectionOf(
			run({ ...oneImage, options: { timeoutSeconds: 1.5 } }, [
				await itemWith({ data: { bytes: png('down') } }),
			]),
		);
		expect(error.message).toBe(
			'@Image1 (binary field "data") could not be uploaded to Eachlabs: the storage kept answering HTTP 500',
		);
		expect(fake.stats().uploads).toBeGreaterThanOrEqual(3);
		expect(fake.stats().createRequests).toBe(0);
	});

	test('continue on fail: the failed upload is an error item; the other items are edited', async () => {
		fake.failNext('upload', '403');
		const items = await run(
			{ ...oneImage, prompt: '={{ "Edit @Image1 #" + $json.i }}' },
			[
				await itemWith({ data: { bytes: png('c0') } }, 'filesystem', { i: 0 }),
				await itemWith({ data: { bytes: png('c1') } }, 'filesystem', { i: 1 }),
			],
			{ onError: 'continueRegularOutput' },
		);
		const failed = items.filter((item) => item.json.error);
		const edited = items.filter((item) => item.json.status === 'success');
		expect(failed).toHaveLength(1);
		expect(failed[0].json.error).toMatch(/could not be uploaded to Eachlabs/);
		expect(edited).toHaveLength(1);
		// Every prediction created was delivered, and nothing else was created.
		expect(new Set(edited.map((item) => item.json.predictionId))).toEqual(
			new Set(fake.stats().predictions),
		);
		expect(fake.stats().creates).toBe(1);
	});
});

describe('uploads in a batch', () => {
	test('queued items upload while the first predictions run', async () => {
		fake.configure({ jobMs: 1500 });
		try {
			const items = await Promise.all(
				Array.from(
					{ length: 12 },
					async (_, i) =>
						await itemWith({ data: { bytes: png(`queue-${i}`) } }, 'filesystem', { i }),
				),
			);
			const output = await run(
				{ prompt: '={{ "Edit @Image1 #" + $json.i }}', images: { image: [binaryImage()] } },
				items,
			);
			expect(output).toHaveLength(12);
			const firstEnd = Math.min(...creates().map((r) => r.time)) + 1500;
			// All twelve were on storage before the first prediction could have ended.
			expect(Math.max(...puts().map((r) => r.time))).toBeLessThan(firstEnd);
			expect(fake.stats()).toMatchObject({ presigns: 12, uploads: 12, creates: 12 });
			expect(fake.stats().maxInFlight).toBeLessThanOrEqual(10);
		} finally {
			fake.configure({ jobMs: 100 });
		}
	});

	test('On Error: Stop and an upload that fails: the error names every prediction created', async () => {
		fake.failNext('upload', '403');
		const items = await Promise.all(
			Array.from(
				{ length: 6 },
				async (_, i) => await itemWith({ data: { bytes: png(`stop-${i}`) } }, 'filesystem', { i }),
			),
		);
		const error = await rejectionOf(
			run(
				{ prompt: '={{ "Edit @Image1 #" + $json.i }}', images: { image: [binaryImage()] } },
				items,
			),
		);
		expect(error.message).toMatch(/could not be uploaded to Eachlabs: the storage refused it/);
		// Give any request still on the wire time to land, then compare what exists with what is named.
		await new Promise((resolve) => setTimeout(resolve, 300));
		const created = fake.stats().predictions;
		for (const id of created) expect(error.description).toContain(id);
		const named = [...String(error.description).matchAll(/([0-9a-f-]{36}) \(item/g)].map(
			(m) => m[1],
		);
		expect(new Set(named)).toEqual(new Set(created));
	});

	test('Retry On Fail: items whose predictions exist are resumed by ID without a new upload; every prediction is named', async () => {
		const items = await Promise.all(
			Array.from(
				{ length: 3 },
				async (_, i) => await itemWith({ data: { bytes: png(`retry-${i}`) } }, 'filesystem', { i }),
			),
		);
		const error = await rejectionOf(
			runNode({
				parameters: editImage({
					prompt: '={{ "Edit @Image1 #" + $json.i + ($json.i === 1 ? " [fail]" : "") }}',
					images: { image: [binaryImage()] },
				}),
				items,
				credentials: { apiKey: API_KEY, baseUrl: fake.apiUrl },
				tries: 3,
			}),
		);
		expect(error.message).toBe('Kling O1 could not edit the image: Image generation failed');
		const created = fake.stats().predictions;
		// Items 0 and 2 once (resumed on tries 2 and 3), item 1 once per try: uploads follow creates.
		expect(created).toHaveLength(5);
		expect(fake.stats()).toMatchObject({ presigns: 5, uploads: 5, creates: 5 });
		const named = String(error.description).match(/[0-9a-f]{8}-[0-9a-f-]{27}/g) ?? [];
		expect(new Set(named)).toEqual(new Set(created));
		expectKeyOnlyOnApi();
	});

	test('a PUT that hangs is given up at its timeout and sent again', async () => {
		fake.failNext('upload', 'hang');
		const items = await run(
			{
				prompt: 'Edit @Image1',
				images: { image: [binaryImage()] },
				options: { timeoutSeconds: 2 },
			},
			[await itemWith({ data: { bytes: png('hang') } })],
		);
		expect(items[0].json.status).toBe('success');
		expect(fake.stats()).toMatchObject({ presigns: 1, uploads: 2, creates: 1 });
	}, 20_000);
});

describe('stopping the execution', () => {
	test('during a hanging upload: the node ends within 1 s and creates nothing', async () => {
		fake.failNext('upload', 'hang');
		const controller = new AbortController();
		const outcome = runNode({
			parameters: editImage({ prompt: 'Edit @Image1', images: { image: [binaryImage()] } }),
			items: [await itemWith({ data: { bytes: png('stop') } })],
			credentials: { apiKey: API_KEY, baseUrl: fake.apiUrl },
			signal: controller.signal,
		}).then(
			() => undefined,
			(error: Error) => error,
		);
		for (let i = 0; i < 100 && puts().length === 0; i++) {
			await new Promise((resolve) => setTimeout(resolve, 20));
		}
		expect(puts()).toHaveLength(1);
		const stoppedAt = Date.now();
		controller.abort();
		const error = await outcome;
		expect(Date.now() - stoppedAt).toBeLessThan(1000);
		expect(error?.message).toBe('The execution was stopped');
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(fake.stats()).toMatchObject({ uploads: 1, createRequests: 0 });
	});
});

describe('what the fake checks (the oracle)', () => {
	test('a prediction whose input is not a reachable image fails', async () => {
		const res = await fetch(`${fake.apiUrl}/v1/upload/presign`, {
			method: 'POST',
			headers: { 'X-API-Key': API_KEY, 'Content-Type': 'application/json' },
			body: JSON.stringify({ content_type: 'image/png' }),
		});
		const { public_url: never } = (await res.json()) as { public_url: string };
		const error = await rejectionOf(
			run({ prompt: 'Edit @Image1', images: { image: [{ url: never }] } }, [{ json: {} }]),
		).catch((thrown) => thrown);
		// Typed by a user, this loopback http URL is refused by the node before the fake sees it;
		// the same address as Eachlabs' own public_url is accepted (the tests above).
		expect(error.message).toMatch(/^@Image1 must be an https:\/\/ URL/);
		fake.reset();
		const created = await fetch(`${fake.apiUrl}/v1/prediction/`, {
			method: 'POST',
			headers: { 'X-API-Key': API_KEY, 'Content-Type': 'application/json' },
			body: JSON.stringify({
				model: 'kling-o1',
				input: { prompt: 'Edit @Image1', image_urls: [never] },
			}),
		});
		const { predictionID } = (await created.json()) as { predictionID: string };
		let body: { status: string; details?: string } = { status: 'created' };
		for (let i = 0; i < 50 && !['success', 'error'].includes(body.status); i++) {
			await new Promise((resolve) => setTimeout(resolve, 50));
			body = (await (
				await fetch(`${fake.apiUrl}/v1/prediction/${predictionID}`, {
					headers: { 'X-API-Key': API_KEY },
				})
			).json()) as typeof body;
		}
		expect(body.status).toBe('error');
		expect(body.details).toMatch(/Could not download .*: it answered HTTP 404/);
	});
});
