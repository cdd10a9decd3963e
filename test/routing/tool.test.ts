import type { INodeParameters } from 'n8n-workflow';

import type { FakeEachlabs } from '../../dev/fake-eachlabs';
import { startFakeEachlabs } from '../../dev/fake-eachlabs';
import type { RunOptions } from '../helpers/n8n';
import { runNode } from '../helpers/n8n';
import { editImage, getPrediction, IMAGE_1, images } from '../helpers/params';

/*
 * The node run as n8n runs an AI Agent's tool (type `…klingO1Tool`): the agent reads only the
 * JSON, so the answer carries the prediction's ID, status, image URLs and cost, nothing is
 * downloaded unless the user asked for it, and a failure is an answer that says what to change.
 */

const API_KEY = 'sk-tool-7d2e41b9';
const TOOL_TYPE = 'n8n-nodes-kling-o1.klingO1Tool';
let fake: FakeEachlabs;
beforeAll(async () => {
	fake = await startFakeEachlabs({ apiKey: API_KEY, jobMs: 150 });
});
afterAll(async () => await fake.close());
beforeEach(() => fake.reset());

const run = async (parameters: INodeParameters, more: Partial<RunOptions> = {}) =>
	await runNode({
		parameters,
		credentials: { apiKey: API_KEY, baseUrl: fake.apiUrl },
		nodeTypeName: TOOL_TYPE,
		...more,
	});

const oneImage = (overrides: INodeParameters = {}) =>
	editImage({ prompt: 'Put @Image1 on a marble table', images: images(IMAGE_1), ...overrides });

const creates = () => fake.stats().createRequests;

describe('a tool call that succeeds', () => {
	test('answers with one item: prediction ID, status, image URLs and cost; downloads nothing', async () => {
		const items = await run(oneImage({ numImages: 3 }));
		const [predictionId] = fake.stats().predictions;
		expect(items).toHaveLength(1);
		expect(items[0].binary).toBeUndefined();
		expect(items[0].pairedItem).toEqual({ item: 0 });
		expect(items[0].json).toEqual({
			predictionId,
			status: 'success',
			imageCount: 3,
			predictTime: expect.any(Number),
			imageUrls: [0, 1, 2].map((index) => fake.outputUrl(predictionId, index)),
			estimatedCostUsd: 0.084,
			predictionCostUsd: 0.084,
		});
		// Every prediction the fake created is named in the answer, and nothing was fetched.
		expect(fake.stats().predictions).toEqual([items[0].json.predictionId]);
		expect(fake.stats().downloads).toBe(0);
		expect(fake.requests.filter((request) => request.host === 'files')).toHaveLength(0);
		expect(JSON.stringify(items)).not.toContain(API_KEY);
	});

	test('Get Prediction answers with the URLs too, without downloading', async () => {
		await runNode({
			parameters: oneImage({ waitForCompletion: false }),
			credentials: { apiKey: API_KEY, baseUrl: fake.apiUrl },
		});
		const [predictionId] = fake.stats().predictions;
		const items = await run(getPrediction(predictionId));
		expect(items).toHaveLength(1);
		expect(items[0].json).toMatchObject({
			predictionId,
			status: 'success',
			imageUrls: [fake.outputUrl(predictionId, 0)],
			estimatedCostUsd: 0.028,
		});
		expect(items[0].binary).toBeUndefined();
		expect(fake.stats().downloads).toBe(0);
	});

	test('Download Images turned on explicitly downloads, as the user asked', async () => {
		const items = await run(oneImage({ options: { downloadImages: true } }));
		expect(items).toHaveLength(1);
		expect(items[0].binary?.data).toBeDefined();
		expect(fake.stats().downloads).toBe(1);
	});

	test('Download Images turned off explicitly gives the same answer as leaving it out', async () => {
		const items = await run(oneImage({ options: { downloadImages: false } }));
		expect(items[0].json.imageUrls).toHaveLength(1);
		expect(items[0].binary).toBeUndefined();
		expect(fake.stats().downloads).toBe(0);
	});

	test('the same parameters outside a tool call still download (the default is unchanged)', async () => {
		const items = await run(oneImage(), { nodeTypeName: 'n8n-nodes-kling-o1.klingO1' });
		expect(items[0].binary?.data).toBeDefined();
		expect(fake.stats().downloads).toBe(1);
	});
});

describe('a tool call that fails answers the agent with what to change', () => {
	test('bad input: the message the node shows today, nothing sent', async () => {
		const items = await run(oneImage({ prompt: 'Put @Image2 on a marble table' }));
		expect(items).toEqual([
			{
				json: {
					status: 'failed',
					error: 'Prompt refers to @Image2, but only 1 image is given: use @Image1 or @Image',
					whatToChange:
						"The node's fields are wrong for item 0: fix this field and run the node again. Nothing was sent to Eachlabs.",
				},
				pairedItem: { item: 0 },
			},
		]);
		expect(creates()).toBe(0);
	});

	test('a URL that is not public https: nothing sent', async () => {
		const items = await run(oneImage({ images: images('http://example.com/a.png') }));
		expect(items[0].json.status).toBe('failed');
		expect(items[0].json.error).toMatch(/^@Image1 /);
		expect(creates()).toBe(0);
	});

	test('a failed prediction: its ID, the reason and what to change', async () => {
		const items = await run(oneImage({ prompt: 'Put @Image1 on a marble table [fail]' }));
		const [predictionId] = fake.stats().predictions;
		expect(items).toHaveLength(1);
		expect(items[0].json).toEqual({
			status: 'failed',
			predictionId,
			error: 'Kling O1 could not edit the image: Image generation failed',
			whatToChange: expect.stringContaining('Change the input and run the node again'),
		});
		expect(fake.stats().predictions).toEqual([items[0].json.predictionId]);
		expect(fake.stats().downloads).toBe(0);
	});

	test('a timeout names the prediction, which may still finish', async () => {
		fake.configure({ jobMs: 5_000 });
		try {
			const items = await run(
				oneImage({ options: { timeoutSeconds: 1, pollIntervalSeconds: 0.2 } }),
			);
			const [predictionId] = fake.stats().predictions;
			expect(items[0].json).toMatchObject({
				status: 'failed',
				predictionId,
				error: `Prediction ${predictionId} did not finish within 1 seconds`,
			});
			expect(items[0].json.whatToChange).toContain(predictionId);
			expect(fake.stats().predictions).toEqual([items[0].json.predictionId]);
		} finally {
			fake.configure({ jobMs: 150 });
		}
	});

	test('an API error: the key appears nowhere in the answer', async () => {
		fake.failNext('create', '401', 1);
		const items = await run(oneImage());
		expect(items[0].json).toMatchObject({
			status: 'failed',
			error: 'Eachlabs did not accept the API key',
		});
		expect(items[0].json.whatToChange).toContain('API key');
		expect(items[0].json.predictionId).toBeUndefined();
		expect(fake.stats().predictions).toEqual([]);
		expect(JSON.stringify(items)).not.toContain(API_KEY);
	});

	test('On Error "Stop Workflow" set on the tool: the failure stops the workflow as before', async () => {
		await expect(
			run(oneImage({ prompt: 'Put @Image2 on a marble table' }), { onError: 'stopWorkflow' }),
		).rejects.toMatchObject({
			message: 'Prompt refers to @Image2, but only 1 image is given: use @Image1 or @Image',
		});
		expect(creates()).toBe(0);
	});
});
