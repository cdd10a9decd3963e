// The fake Eachlabs server is itself a test fixture; these tests pin the behaviour the node's
// tests rely on, over real HTTP, so a change in the fake cannot silently weaken them.
import http from 'http';
import type { AddressInfo } from 'net';
import { startFakeEachlabs, type FakeEachlabs } from '../../dev/fake-eachlabs';

const KEY = 'test-key';
const IMAGE = 'https://example.com/horse.png';

type Reply = { status: number; headers: Headers; body: any; text: string };

async function call(
	method: string,
	url: string,
	opts: { body?: unknown; headers?: Record<string, string>; key?: string | null } = {},
): Promise<Reply> {
	const headers: Record<string, string> = { ...opts.headers };
	if (opts.key !== null) headers['X-API-Key'] = opts.key ?? KEY;
	let body: string | undefined;
	if (opts.body !== undefined) {
		headers['Content-Type'] = 'application/json';
		body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
	}
	const res = await fetch(url, { method, headers, body });
	const text = await res.text();
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		parsed = undefined;
	}
	return { status: res.status, headers: res.headers, body: parsed, text };
}

function createBody(input: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
	return {
		model: 'kling-o1',
		version: '0.0.1',
		input: { prompt: 'Edit @Image1', image_urls: [IMAGE], ...input },
		...extra,
	};
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything jest can simulate but Date: real sockets and timers, a clock the test moves. */
const REAL_TIMERS = [
	'hrtime',
	'nextTick',
	'performance',
	'queueMicrotask',
	'setImmediate',
	'clearImmediate',
	'setInterval',
	'clearInterval',
	'setTimeout',
	'clearTimeout',
] as const;

describe('fake Eachlabs server', () => {
	let fake: FakeEachlabs;
	const create = (input?: Record<string, unknown>, extra?: Record<string, unknown>) =>
		call('POST', `${fake.apiUrl}/v1/prediction/`, { body: createBody(input, extra) });
	const poll = (id: string) => call('GET', `${fake.apiUrl}/v1/prediction/${id}`);
	/** Polls until the prediction ends; `pass` is what happens between two polls. */
	async function waitDone(
		id: string,
		pass: () => Promise<unknown> = () => sleep(10),
	): Promise<{ body: any; seen: string[] }> {
		const seen: string[] = [];
		for (let i = 0; i < 200; i++) {
			const { body } = await poll(id);
			if (!seen.includes(body.status)) seen.push(body.status);
			if (!['created', 'starting', 'processing'].includes(body.status)) return { body, seen };
			await pass();
		}
		throw new Error('prediction never finished');
	}

	beforeAll(async () => {
		fake = await startFakeEachlabs({ jobMs: 60 });
	});
	afterAll(async () => {
		await fake.close();
	});
	afterEach(() => {
		jest.useRealTimers();
	});
	beforeEach(() => {
		fake.reset();
		fake.configure({
			jobMs: 60,
			rateLimit: { concurrent: 10, perMinute: 100 },
			faults: null,
			statusSequence: ['created', 'processing', 'success'],
			stringMetrics: false,
			sparseOutput: false,
		});
	});

	test('accepts X-API-Key and Bearer, answers 401 otherwise', async () => {
		const url = `${fake.apiUrl}/v1/billing/balance`;
		expect((await call('GET', url)).body).toEqual({ balance_usd: 53.475 });
		const bearer = await call('GET', url, {
			key: null,
			headers: { Authorization: `Bearer ${KEY}` },
		});
		expect(bearer.status).toBe(200);
		for (const key of [null, 'wrong']) {
			const res = await call('GET', url, { key });
			expect(res.status).toBe(401);
			expect(res.body).toEqual({
				status: 'error',
				message: 'Invalid or missing API key',
				details: expect.any(String),
			});
		}
		expect(fake.stats().balanceChecks).toBe(4);
	});

	test('validates create input like the real API', async () => {
		const url = `${fake.apiUrl}/v1/prediction`; // no trailing slash is fine too
		const bad: Array<[unknown, RegExp]> = [
			[createBody({ prompt: undefined }), /prompt is required/],
			[createBody({ prompt: '🐴'.repeat(2501) }), /at most 2500 characters/],
			[createBody({ image_urls: JSON.stringify([IMAGE]) }), /not a stringified array/],
			[createBody({ image_urls: [] }), /1 to 10 items/],
			[createBody({ image_urls: ['http://example.com/a.png'] }), /https/],
			[createBody({ image_urls: ['https://127.0.0.1/a.png'] }), /private host/],
			[createBody({ image_urls: ['data:image/png;base64,AAAA'] }), /data URIs/],
			[createBody({ num_images: 10 }), /num_images/],
			[createBody({ num_images: '2' }), /num_images must be an integer/],
			[createBody({ aspect_ratio: '5:4' }), /aspect_ratio/],
			[createBody({ output_format: 'gif' }), /output_format/],
			[createBody({ resolution: '4K' }), /resolution/],
		];
		for (const [body, details] of bad) {
			const res = await call('POST', url, { body });
			expect(res.status).toBe(400);
			expect(res.body.message).toBe('Invalid input');
			expect(res.body.details).toMatch(details);
		}
		// 2500 emoji are 5000 UTF-16 units but 2500 characters: allowed.
		expect((await create({ prompt: '🐴'.repeat(2500) })).status).toBe(200);
		const notJson = await call('POST', url, { body: '{"model": ' });
		expect(notJson).toMatchObject({
			status: 400,
			body: { status: 'error', message: 'Invalid JSON body' },
		});
		const model = await call('POST', url, { body: { ...createBody(), model: 'kling-o2' } });
		expect(model).toMatchObject({
			status: 404,
			body: { status: 'error', message: 'Model not found' },
		});
		expect(fake.stats()).toMatchObject({ createRequests: bad.length + 3, creates: 1 });
	});

	// The fake's address check is written independently of the node's, so the node's own check
	// is tested against a second opinion: these hosts come from the special-purpose registries.
	test('refuses image URLs on loopback, private, shared and link-local addresses, not public ones', async () => {
		const refused = [
			'localhost',
			'img.localhost',
			'0.0.0.1',
			'10.1.2.3',
			'100.64.0.1',
			'100.127.255.254',
			'127.0.0.2',
			'169.254.169.254',
			'172.16.0.1',
			'172.31.255.254',
			'192.168.0.1',
			'[::]',
			'[::1]',
			'[fc00::1]',
			'[fdff::1]',
			'[fe80::1]',
			'[febf::1]',
			'[::ffff:127.0.0.1]',
			'[::ffff:8.8.8.8]',
		];
		const allowed = [
			'example.com',
			'8.8.8.8',
			'11.0.0.1',
			'100.63.255.255',
			'100.128.0.1',
			'172.15.255.255',
			'172.32.0.1',
			'169.253.0.1',
			'192.169.0.1',
			'[2001:4860::8888]',
			'[fec0::1]',
		];
		// More creates than the 10-concurrent limit allows at once: the limit is not the subject.
		fake.configure({ rateLimit: null });
		for (const host of refused) {
			const res = await create({ image_urls: [`https://${host}/a.png`] });
			expect({ host, status: res.status, details: res.body.details }).toEqual({
				host,
				status: 400,
				details: 'image_urls[0] points to a local or private host, which cannot be fetched',
			});
		}
		for (const host of allowed) {
			const res = await create({ image_urls: [`https://${host}/a.png`] });
			expect({ host, status: res.status }).toEqual({ host, status: 200 });
		}
		expect(fake.stats()).toMatchObject({
			createRequests: refused.length + allowed.length,
			creates: allowed.length,
		});
	});

	test('create -> poll -> success -> download, outputs on another host', async () => {
		// The fake derives a job's status from the clock: with only Date simulated (sockets and
		// timers stay real) and moved 10 ms between polls, the 30 ms "processing" share of the 60 ms
		// job is polled however slowly a loaded machine answers. afterEach restores the real clock.
		jest.useFakeTimers({ doNotFake: [...REAL_TIMERS] });
		const created = await create({ num_images: 2, output_format: 'jpeg' });
		expect(created.status).toBe(200);
		expect(created.body).toEqual({
			status: 'success',
			message: 'Prediction created successfully',
			predictionID: expect.stringMatching(/^[0-9a-f-]{36}$/),
		});
		const id = created.body.predictionID;
		const { body, seen } = await waitDone(id, async () => jest.setSystemTime(Date.now() + 10));
		expect(seen[0]).toBe('created');
		expect(seen).toContain('processing');
		expect(body).toMatchObject({
			status: 'success',
			predictionID: id,
			metrics: { predict_time: 0.06, cost: 0.056 },
			urls: { get: `${fake.apiUrl}/v1/prediction/${id}` },
		});
		expect(body.output).toEqual([0, 1].map((i) => `${fake.filesUrl}/outputs/${id}/${i}.jpg`));
		expect(new URL(fake.filesUrl).origin).not.toBe(new URL(fake.apiUrl).origin);
		if (fake.filesHostDistinct) expect(new URL(fake.filesUrl).hostname).toBe('127.0.0.2');

		const res = await fetch(body.output[1]);
		const bytes = Buffer.from(await res.arrayBuffer());
		expect(res.headers.get('content-type')).toBe('image/jpeg');
		expect(Number(res.headers.get('content-length'))).toBe(2048);
		expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
		expect(bytes.equals(fake.expectedImage(id, 1))).toBe(true);

		// The storage host never needs, and here never got, the API key.
		const fileRequests = fake.requests.filter((r) => r.host === 'files');
		expect(fileRequests).toHaveLength(1);
		expect(fileRequests[0].headers['x-api-key']).toBeUndefined();
		expect(fileRequests[0].headers.authorization).toBeUndefined();
		expect(fake.requests[0]).toMatchObject({
			host: 'api',
			method: 'POST',
			path: '/v1/prediction/',
			headers: { 'x-api-key': KEY },
			body: { model: 'kling-o1', input: { num_images: 2 } },
		});
		expect(fake.stats()).toMatchObject({ creates: 1, downloads: 1, maxInFlight: 1, inFlight: 0 });
		expect(fake.stats().predictions).toEqual([id]);
		// Each prediction's prompt, so a test can tell which item an image was made for.
		expect(fake.stats().prompts).toEqual({ [id]: 'Edit @Image1' });
	});

	test('png and webp outputs carry their magic bytes and requested size', async () => {
		fake.configure({ imageBytes: 300_000, jobMs: 0 });
		for (const [format, magic] of [
			['png', '89504e470d0a1a0a'],
			['webp', '52494646'],
		]) {
			const id = (await create({ output_format: format })).body.predictionID;
			const { body } = await waitDone(id);
			const res = await fetch(body.output[0]);
			const bytes = Buffer.from(await res.arrayBuffer());
			expect(res.headers.get('content-type')).toBe(`image/${format}`);
			expect(bytes.length).toBe(300_000);
			expect(bytes.subarray(0, magic.length / 2).toString('hex')).toBe(magic);
			if (format === 'webp') expect(bytes.subarray(8, 12).toString('latin1')).toBe('WEBP');
		}
	});

	test('404 shapes: unknown prediction, unknown output, expired outputs', async () => {
		const missing = await poll('00000000-0000-0000-0000-000000000000');
		expect(missing).toMatchObject({ status: 404, body: { error: 'Prediction not found' } });
		expect((await fetch(`${fake.filesUrl}/outputs/nope/0.png`)).status).toBe(404);

		fake.configure({ jobMs: 0 });
		const id = (await create()).body.predictionID;
		const { body } = await waitDone(id);
		expect((await fetch(body.output[0])).status).toBe(200);
		fake.configure({ expireOutputs: true });
		expect((await fetch(body.output[0])).status).toBe(404);
	});

	test('429 with Retry-After over the concurrency limit and the per-minute window', async () => {
		fake.configure({
			jobMs: 2000,
			rateLimit: { concurrent: 2, perMinute: 0, retryAfterSeconds: 3 },
		});
		expect((await create()).status).toBe(200);
		expect((await create()).status).toBe(200);
		const limited = await create();
		expect(limited.status).toBe(429);
		expect(limited.headers.get('retry-after')).toBe('3');
		expect(limited.body).toMatchObject({ status: 'error', message: 'Rate limit exceeded' });
		expect(fake.stats()).toMatchObject({ creates: 2, rateLimited: 1, maxInFlight: 2, inFlight: 2 });

		fake.reset();
		fake.configure({ jobMs: 0, rateLimit: { concurrent: 0, perMinute: 2, windowMs: 300 } });
		expect((await create()).status).toBe(200);
		expect((await create()).status).toBe(200);
		expect((await create()).status).toBe(429);
		await sleep(320);
		expect((await create()).status).toBe(200);
	});

	test('scripted faults: reset, resetAfterCreate, 502 html, 429, malformed answers', async () => {
		fake.failNext('create', 'reset');
		await expect(create()).rejects.toThrow();
		expect(fake.stats()).toMatchObject({ createRequests: 1, creates: 0 });

		// The ambiguous case: created on the server, but the client never hears about it.
		fake.failNext('create', 'resetAfterCreate');
		await expect(create()).rejects.toThrow();
		expect(fake.stats()).toMatchObject({ createRequests: 2, creates: 1 });
		expect(fake.stats().predictions).toHaveLength(1);

		fake.failNext('poll', '502html', 2);
		const id = fake.stats().predictions[0];
		for (let i = 0; i < 2; i++) {
			const res = await poll(id);
			expect(res.status).toBe(502);
			expect(res.headers.get('content-type')).toMatch(/text\/html/);
			expect(res.text).toMatch(/Bad Gateway/);
		}
		expect((await poll(id)).status).toBe(200);

		fake.failNext('create', '429', 1, { retryAfter: 2 });
		const limited = await create();
		expect(limited.status).toBe(429);
		expect(limited.headers.get('retry-after')).toBe('2');

		fake.failNext('create', 'noPredictionId');
		expect((await create()).body).toEqual({
			status: 'success',
			message: 'Prediction created successfully',
		});
		fake.failNext('poll', 'unknownStatus');
		expect((await poll(id)).body.status).toBe('weird');
		fake.failNext('download', 'nonJson');
		const page = await fetch(`${fake.filesUrl}/outputs/${id}/0.png`);
		expect(page.headers.get('content-type')).toBe('text/html');
		await page.text();

		fake.failNext('balance', 'hang');
		await expect(
			fetch(`${fake.apiUrl}/v1/billing/balance`, {
				headers: { 'X-API-Key': KEY },
				signal: AbortSignal.timeout(150),
			}),
		).rejects.toThrow();
		expect(fake.stats().faultsInjected).toBe(9);
		expect(() => fake.failNext('balance', 'unknownStatus')).toThrow(/only applies/);
	});

	test('seeded random faults replay identically after reset', async () => {
		fake.configure({ faults: { seed: 42, poll5xxRate: 0.5, htmlRate: 0.5 } });
		const run = async () => {
			const codes: number[] = [];
			for (let i = 0; i < 12; i++) codes.push((await poll('x')).status);
			return codes;
		};
		const first = await run();
		fake.reset();
		expect(await run()).toEqual(first);
		expect(new Set(first)).toEqual(new Set([404, 500, 502]));
	});

	test('prompt markers drive the outcome per prediction', async () => {
		fake.configure({ jobMs: 0 });
		const outcome = async (prompt: string) => {
			const id = (await create({ prompt })).body.predictionID;
			return (await waitDone(id)).body;
		};
		expect(await outcome('x [fail]')).toMatchObject({
			status: 'error',
			message: 'Image generation failed',
			details: expect.any(String),
			output: null,
		});
		expect(await outcome('x [fail:classified]')).toMatchObject({
			status: 'error',
			output: { error_code: 'PROVIDER_RATE_LIMIT', error_message: expect.any(String) },
		});
		expect((await outcome('x [cancelled]')).status).toBe('cancelled');
		const single = await outcome('x [single-url]');
		expect(typeof single.output).toBe('string');
		const expired = await outcome('x [expired]');
		expect((await fetch(expired.output[0])).status).toBe(404);

		const started = Date.now();
		const slow = (await create({ prompt: 'x [slow:250]' })).body.predictionID;
		expect((await poll(slow)).body.status).not.toBe('success');
		await waitDone(slow);
		expect(Date.now() - started).toBeGreaterThanOrEqual(240);
	});

	test('a lost create answer can be held until a given number of creates have arrived', async () => {
		fake.failNext('create', 'resetAfterCreate', 1, { afterCreateRequests: 2 });
		let lost = false;
		const first = create().then(
			() => 'answered',
			() => (lost = true),
		);
		await sleep(100);
		// Stored at once, but its connection is still open.
		expect(fake.stats()).toMatchObject({ createRequests: 1, creates: 1 });
		expect(lost).toBe(false);
		expect((await create()).status).toBe(200);
		expect(await first).toBe(true);
		expect(fake.stats()).toMatchObject({ createRequests: 2, creates: 2 });
	});

	test('[answer-after-creates:N] holds a create answer until N creates have arrived', async () => {
		let answered = false;
		const first = create({ prompt: 'x [reject] [answer-after-creates:2]' }).then((res) => {
			answered = true;
			return res;
		});
		await sleep(100);
		expect(answered).toBe(false);
		expect((await create()).status).toBe(200);
		expect((await first).status).toBe(400);
		expect(fake.stats()).toMatchObject({ createRequests: 2, creates: 1 });
	});

	test('the lost-answer switches: [reject], [answer-delay], gateway 504 after the create, delayAnswer', async () => {
		const rejected = await create({ prompt: 'x [reject]' });
		expect(rejected.status).toBe(400);
		expect(fake.stats()).toMatchObject({ createRequests: 1, creates: 0 });

		// The prediction exists before its answer leaves.
		const started = Date.now();
		const late = create({ prompt: 'x [answer-delay:300]' });
		await sleep(100);
		expect(fake.stats().creates).toBe(1);
		expect((await late).body.predictionID).toBe(fake.stats().predictions[0]);
		expect(Date.now() - started).toBeGreaterThanOrEqual(290);

		fake.failNext('create', 'gateway504AfterCreate');
		const gateway = await create();
		expect(gateway.status).toBe(504);
		expect(gateway.headers.get('content-type')).toBe('text/html');
		expect(gateway.text).toMatch(/504 Gateway Time-out/);
		expect(fake.stats()).toMatchObject({ createRequests: 3, creates: 2 });
		expect(fake.inputOf(fake.stats().predictions[1]).prompt).toBe('Edit @Image1');

		fake.failNext('poll', 'delayAnswer', 1, { delayMs: 200 });
		const before = Date.now();
		expect((await poll(fake.stats().predictions[0])).status).toBe(200);
		expect(Date.now() - before).toBeGreaterThanOrEqual(190);
		expect(() => fake.failNext('poll', 'gateway504AfterCreate')).toThrow(/only applies/);
	});

	test('answer quirks: unknown statuses, metrics as strings, null and empty output entries', async () => {
		fake.configure({
			jobMs: 40,
			statusSequence: ['in_queue', 'success'],
			stringMetrics: true,
			sparseOutput: true,
		});
		const id = (await create({ num_images: 2 })).body.predictionID;
		expect((await poll(id)).body.status).toBe('in_queue');
		await sleep(60);
		const { body } = await poll(id);
		expect(body.status).toBe('success');
		expect(body.metrics).toEqual({ predict_time: '0.04', cost: '0.056' });
		expect(body.output).toEqual([null, fake.outputUrl(id, 0), fake.outputUrl(id, 1), '']);
	});

	test('random create faults follow the body: the same fates whatever the order of arrival', async () => {
		fake.configure({
			rateLimit: null,
			faults: { seed: 7, create5xxRate: 0.3, resetRate: 0.2, create504AfterStoreRate: 0.3 },
		});
		const fates = async (order: string[]) => {
			const seen: Record<string, string[]> = {};
			for (let round = 0; round < 4; round++) {
				for (const prompt of order) {
					const status = await create({ prompt }).then(
						(reply) => String(reply.status),
						() => 'reset',
					);
					(seen[prompt] ??= []).push(status);
				}
			}
			return seen;
		};
		const first = await fates(['a @Image1', 'b @Image1', 'c @Image1']);
		fake.reset();
		expect(await fates(['c @Image1', 'a @Image1', 'b @Image1'])).toEqual(first);
		expect(new Set(Object.values(first).flat())).toEqual(new Set(['200', '500', '504', 'reset']));
	});

	test('urls.cancel cancels a running prediction', async () => {
		fake.configure({ jobMs: 5000 });
		const id = (await create()).body.predictionID;
		const cancel = () => call('POST', `${fake.apiUrl}/v1/prediction/${id}/cancel`);
		expect((await cancel()).status).toBe(200);
		expect((await poll(id)).body).toMatchObject({ status: 'cancelled', output: null });
		expect((await cancel()).status).toBe(409);
		expect(fake.stats()).toMatchObject({ cancels: 2, inFlight: 0 });
	});

	test('delivers the webhook when the job ends', async () => {
		const received: any[] = [];
		const receiver = http.createServer((req, res) => {
			let data = '';
			req.on('data', (c) => (data += c));
			req.on('end', () => {
				received.push(JSON.parse(data));
				res.end('ok');
			});
		});
		await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
		const { port } = receiver.address() as AddressInfo;
		try {
			const id = (await create({}, { webhook_url: `http://127.0.0.1:${port}/hook` })).body
				.predictionID;
			for (let i = 0; i < 100 && received.length === 0; i++) await sleep(10);
			expect(received).toEqual([
				{ exec_id: id, status: 'succeeded', output: [expect.any(String)], error: '' },
			]);
		} finally {
			await new Promise((resolve) => receiver.close(resolve));
		}
	});

	test('presigned upload: PUT with the signed headers, then usable as input', async () => {
		const presign = await call('POST', `${fake.apiUrl}/v1/upload/presign`, {
			body: { content_type: 'image/png', file_type: 'image' },
		});
		expect(presign.status).toBe(200);
		const { presigned_url: putUrl, public_url: publicUrl, required_headers } = presign.body;
		expect(new URL(putUrl).origin).toBe(fake.uploadsUrl);
		expect(new URL(publicUrl).origin).toBe(fake.uploadsUrl);
		const bytes = Buffer.from('fake png bytes');
		const wrongType = await fetch(putUrl, {
			method: 'PUT',
			headers: { 'Content-Type': 'image/jpeg', ...required_headers },
			body: bytes,
		});
		expect(wrongType.status).toBe(403);
		await wrongType.text();
		const ok = await fetch(putUrl, {
			method: 'PUT',
			headers: { 'Content-Type': 'image/png', ...required_headers },
			body: bytes,
		});
		expect(ok.status).toBe(200);
		await ok.text();
		expect(Buffer.from(await (await fetch(publicUrl)).arrayBuffer()).equals(bytes)).toBe(true);
		// The storage host is "public" in this world: its own http URLs pass validation.
		expect((await create({ image_urls: [publicUrl] })).status).toBe(200);
	});

	test('control endpoints drive the fake from another process', async () => {
		const control = (path: string, body?: unknown) =>
			call(body === undefined ? 'GET' : 'POST', `${fake.controlUrl}/${path}`, { body, key: null });
		expect((await control('configure', { jobMs: 0 })).body.options.jobMs).toBe(0);
		expect((await control('configure', { bogus: 1 })).status).toBe(400);
		expect((await control('fail-next', { route: 'create', kind: '500', count: 1 })).status).toBe(
			200,
		);
		const failed = await create();
		expect(failed).toMatchObject({ status: 500, body: { message: 'Internal server error' } });
		expect((await create()).status).toBe(200);
		const stats = (await control('stats')).body;
		expect(stats).toMatchObject({ createRequests: 2, creates: 1, faultsInjected: 1 });
		expect(stats.requests).toHaveLength(2);
		expect(stats.requests[0].headers['x-api-key']).toBe(KEY);
		expect((await control('reset', {})).status).toBe(200);
		expect(fake.stats()).toMatchObject({ createRequests: 0, predictions: [] });
		expect(fake.requests).toHaveLength(0);
	});

	test('job times: jobMs plus a seeded draw from the jitter, the same for the same seed', async () => {
		fake.configure({ jobMs: 1000, jobJitterMs: 500, jobSeed: 7 });
		const drawn = async () => {
			for (let i = 0; i < 5; i++) await create();
			return fake.timings().map((timing) => timing.jobMs);
		};
		const first = await drawn();
		expect(first.every((ms) => ms >= 1000 && ms < 1500)).toBe(true);
		expect(new Set(first).size).toBe(5);
		fake.reset();
		expect(await drawn()).toEqual(first);
		fake.reset();
		fake.configure({ jobSeed: 8 });
		expect(await drawn()).not.toEqual(first);
		fake.configure({ jobJitterMs: 0, jobSeed: 1 });
	});

	test('timings: created, ended, first seen ended, and polls per prediction', async () => {
		fake.configure({ jobMs: 80 });
		const { body } = await create();
		const id = body.predictionID;
		await poll(id);
		const running = fake.timings()[0];
		expect(running).toMatchObject({ id, jobMs: 80, polls: 1, seenEndedAt: null });
		expect(running.endedAt).toBe(running.createdAt + 80);
		await sleep(120);
		await poll(id);
		await poll(id);
		const [ended] = fake.timings();
		expect(ended.polls).toBe(3);
		expect(ended.seenEndedAt).toBeGreaterThanOrEqual(ended.endedAt as number);
		const first = ended.seenEndedAt;
		await poll(id);
		expect(fake.timings()[0].seenEndedAt).toBe(first);
		const control = await call('GET', `${fake.controlUrl}/timings`, { key: null });
		expect(control.body.timings).toEqual(fake.timings());
	});

	test('close() ends hanging and keep-alive connections and leaves no servers behind', async () => {
		const servers = () =>
			process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
		const before = servers();
		const other = await startFakeEachlabs();
		expect(servers()).toBe(before + 3);
		other.failNext('poll', 'hang');
		const hanging = fetch(`${other.apiUrl}/v1/prediction/x`, { headers: { 'X-API-Key': KEY } });
		await call('GET', `${other.apiUrl}/v1/billing/balance`);
		await sleep(20);
		await other.close();
		await expect(hanging).rejects.toThrow();
		// libuv releases a closed handle one loop turn after the 'close' callback.
		await sleep(20);
		expect(servers()).toBe(before);
		await expect(fetch(`${other.apiUrl}/v1/billing/balance`)).rejects.toThrow();
	});
});
