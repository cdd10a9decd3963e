import type { INodeExecutionData } from 'n8n-workflow';

import type { FakeEachlabs } from '../../dev/fake-eachlabs';
import { startFakeEachlabs } from '../../dev/fake-eachlabs';
import { binaryBuffer, runNode } from '../helpers/n8n';
import { editImage, IMAGE_1, IMAGE_2, images } from '../helpers/params';

/* Edit Image through n8n's routing: what reaches the API, and the items that come out. */

const API_KEY = 'sk-test-4f1c9a7e';
let fake: FakeEachlabs;
beforeAll(async () => {
	fake = await startFakeEachlabs({ apiKey: API_KEY, jobMs: 150 });
});
afterAll(async () => await fake.close());
beforeEach(() => fake.reset());

const run = async (parameters: Parameters<typeof editImage>[0], items?: INodeExecutionData[]) =>
	await runNode({
		parameters: editImage(parameters),
		items,
		credentials: { apiKey: API_KEY, baseUrl: fake.apiUrl },
	});

const creates = () =>
	fake.requests.filter(
		(request) => request.method === 'POST' && request.path.startsWith('/v1/prediction'),
	);

describe('the create request', () => {
	test('carries every field exactly as the API schema wants, defaults filled in', async () => {
		await run({});
		expect(creates()).toHaveLength(1);
		expect(creates()[0].body).toEqual({
			model: 'kling-o1',
			version: '0.0.1',
			input: {
				prompt: 'Put @Image1 on the horse in @Image2',
				image_urls: [IMAGE_1, IMAGE_2],
				resolution: '1K',
				num_images: 1,
				aspect_ratio: 'auto',
				output_format: 'png',
			},
		});
		expect(creates()[0].headers['x-api-key']).toBe(API_KEY);
		expect(creates()[0].headers['content-type']).toMatch(/^application\/json/);
	});

	test('maps each field to its input key, numbers as numbers and URLs as a JSON array', async () => {
		await run({
			prompt: 'Make @Image1 look like a watercolor',
			images: images(`  ${IMAGE_1}  `),
			numImages: 3,
			resolution: '2K',
			aspectRatio: '21:9',
			outputFormat: 'webp',
			options: { webhookUrl: 'https://hooks.example.com/kling' },
		});
		expect(creates()[0].body).toEqual({
			model: 'kling-o1',
			version: '0.0.1',
			input: {
				prompt: 'Make @Image1 look like a watercolor',
				image_urls: [IMAGE_1],
				resolution: '2K',
				num_images: 3,
				aspect_ratio: '21:9',
				output_format: 'webp',
			},
			webhook_url: 'https://hooks.example.com/kling',
		});
	});

	test('a URL expression returning an array becomes that many image URLs', async () => {
		await run(
			{
				prompt: 'Put @Image1 next to @Image2 and @Image3',
				images: {
					image: [{ url: '={{ $json.urls }}' }, { url: 'https://example.com/third.png' }],
				},
			},
			[{ json: { urls: [IMAGE_1, IMAGE_2] } }],
		);
		expect((creates()[0].body as { input: { image_urls: string[] } }).input.image_urls).toEqual([
			IMAGE_1,
			IMAGE_2,
			'https://example.com/third.png',
		]);
	});

	test('the credential base URL may end in / or /v1', async () => {
		await runNode({
			parameters: editImage({ waitForCompletion: false }),
			credentials: { apiKey: API_KEY, baseUrl: `${fake.apiUrl}/v1/` },
		});
		expect(creates()[0].path).toBe('/v1/prediction/');
	});
});

describe('output', () => {
	test('one item per image with binary data, metadata, cost and pairedItem', async () => {
		const items = await run({ numImages: 3, resolution: '2K' });
		const [id] = fake.stats().predictions;
		expect(items).toHaveLength(3);
		for (const [index, item] of items.entries()) {
			expect(item.json).toEqual({
				predictionId: id,
				status: 'success',
				imageIndex: index,
				imageCount: 3,
				imageUrl: fake.outputUrl(id, index, 'png'),
				predictTime: expect.any(Number),
				estimatedCostUsd: 0.028,
				predictionCostUsd: 0.084,
			});
			expect(item.pairedItem).toEqual({ item: 0 });
			const binary = item.binary!.data;
			expect(binary).toMatchObject({
				mimeType: 'image/png',
				fileExtension: 'png',
				fileName: `kling-o1-${id}-${index}.png`,
			});
			expect((await binaryBuffer(binary)).equals(fake.expectedImage(id, index))).toBe(true);
		}
		const total = items.reduce((sum, item) => sum + (item.json.estimatedCostUsd as number), 0);
		expect(total).toBeCloseTo(0.084, 10);
	});

	test.each([
		['jpeg', 'image/jpeg', 'jpg'],
		['webp', 'image/webp', 'webp'],
	])('%s images get the right MIME type and extension', async (format, mimeType, ext) => {
		const [item] = await run({ outputFormat: format });
		const [id] = fake.stats().predictions;
		expect(item.binary!.data).toMatchObject({
			mimeType,
			fileExtension: ext,
			fileName: `kling-o1-${id}-0.${ext}`,
		});
	});

	test('a chosen binary field name is used', async () => {
		const [item] = await run({ options: { binaryPropertyName: 'photo' } });
		expect(Object.keys(item.binary!)).toEqual(['photo']);
	});

	test('all images in one item: data_0 … with the URLs and the total cost', async () => {
		const items = await run({ numImages: 2, options: { outputMode: 'allInOneItem' } });
		const [id] = fake.stats().predictions;
		expect(items).toHaveLength(1);
		expect(items[0].json).toEqual({
			predictionId: id,
			status: 'success',
			imageCount: 2,
			predictTime: expect.any(Number),
			imageUrls: [fake.outputUrl(id, 0, 'png'), fake.outputUrl(id, 1, 'png')],
			estimatedCostUsd: 0.056,
			predictionCostUsd: 0.056,
		});
		expect(Object.keys(items[0].binary!)).toEqual(['data_0', 'data_1']);
		expect((await binaryBuffer(items[0].binary!.data_1)).equals(fake.expectedImage(id, 1))).toBe(
			true,
		);
		expect(items[0].pairedItem).toEqual({ item: 0 });
	});

	test('without downloading: one item with the URLs and no binary, and no file request', async () => {
		const items = await run({ numImages: 2, options: { downloadImages: false } });
		expect(items).toHaveLength(1);
		expect(items[0].binary).toBeUndefined();
		expect(items[0].json.imageUrls).toHaveLength(2);
		expect(items[0].json.estimatedCostUsd).toBe(0.056);
		expect(fake.requests.filter((request) => request.host === 'files')).toHaveLength(0);
	});

	test('not waiting: the prediction ID at once, status processing, no poll', async () => {
		const items = await run({ waitForCompletion: false, numImages: 4 });
		const [id] = fake.stats().predictions;
		expect(items).toEqual([
			{
				json: { predictionId: id, status: 'processing', estimatedCostUsd: 0.112 },
				pairedItem: { item: 0 },
			},
		]);
		expect(fake.stats().polls).toBe(0);
	});

	test('a single URL string as output is one image', async () => {
		const items = await run({ prompt: 'Put @Image1 on @Image2 [single-url]' });
		expect(items).toHaveLength(1);
		expect(items[0].binary!.data.mimeType).toBe('image/png');
	});

	test('several input items: each output item points at its own input item', async () => {
		const input = [0, 1, 2].map((i) => ({ json: { n: i + 1 } }));
		const items = await run({ numImages: '={{ $json.n }}' as unknown as number }, input);
		expect(items.map((item) => item.pairedItem)).toEqual([
			{ item: 0 },
			{ item: 1 },
			{ item: 1 },
			{ item: 2 },
			{ item: 2 },
			{ item: 2 },
		]);
		expect(fake.stats().creates).toBe(3);
	});
});

describe('retry on fail', () => {
	test('a second run of the node in the same execution starts afresh', async () => {
		fake.failNext('create', '401');
		const items = await runNode({
			parameters: editImage({}),
			credentials: { apiKey: API_KEY, baseUrl: fake.apiUrl },
			tries: 2,
		});
		expect(items).toHaveLength(1);
		expect(items[0].json.status).toBe('success');
		expect(fake.stats().createRequests).toBe(2);
		expect(fake.stats().creates).toBe(1);
	});
});
