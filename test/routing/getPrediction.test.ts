import { NodeApiError } from 'n8n-workflow';

import type { FakeEachlabs } from '../../dev/fake-eachlabs';
import { startFakeEachlabs } from '../../dev/fake-eachlabs';
import { binaryBuffer, runNode } from '../helpers/n8n';
import { editImage, getPrediction } from '../helpers/params';

/* Get Prediction resumes a prediction made earlier: without waiting, after a timeout, by id. */

let fake: FakeEachlabs;
beforeAll(async () => {
	fake = await startFakeEachlabs({ apiKey: 'test-key', jobMs: 400 });
});
afterAll(async () => await fake.close());
beforeEach(() => fake.reset());

const credentials = () => ({ apiKey: 'test-key', baseUrl: fake.apiUrl });

async function createWithoutWaiting(prompt = 'Put @Image1 on the horse in @Image2', numImages = 2) {
	const [item] = await runNode({
		parameters: editImage({ prompt, numImages, waitForCompletion: false }),
		credentials: credentials(),
	});
	return item.json.predictionId as string;
}

test('waits for a prediction made without waiting and returns its images', async () => {
	const id = await createWithoutWaiting();
	const items = await runNode({ parameters: getPrediction(id), credentials: credentials() });
	expect(items).toHaveLength(2);
	expect(items.map((item) => item.json.imageIndex)).toEqual([0, 1]);
	expect(items[1].json).toMatchObject({ predictionId: id, status: 'success', imageCount: 2 });
	expect((await binaryBuffer(items[1].binary!.data)).equals(fake.expectedImage(id, 1))).toBe(true);
	expect(fake.stats().creates).toBe(1);
	expect(fake.requests.at(-3)?.path).toBe(`/v1/prediction/${id}`);
});

test.each([
	['1.1 (its own field, waitForResult)', 1.1, { waitForResult: false }],
	['1 (saved workflows: the field shared with Edit Image)', 1, { waitForCompletion: false }],
])(
	'without waiting, version %s: the current state of a running prediction',
	async (_, typeVersion, wait) => {
		const id = await createWithoutWaiting();
		const items = await runNode({
			parameters: getPrediction(id, wait),
			credentials: credentials(),
			typeVersion,
		});
		expect(items).toEqual([
			{
				json: {
					predictionId: id,
					status: expect.stringMatching(/^(created|starting|processing)$/),
				},
				pairedItem: { item: 0 },
			},
		]);
		expect(fake.stats().polls).toBe(1);
	},
);

test('without waiting: a finished prediction comes with its images', async () => {
	const id = await createWithoutWaiting('Put @Image1 on @Image2', 1);
	await new Promise((resolve) => setTimeout(resolve, 600));
	const items = await runNode({
		parameters: getPrediction(id, { waitForResult: false }),
		credentials: credentials(),
	});
	expect(items).toHaveLength(1);
	expect(items[0].binary!.data.fileName).toBe(`kling-o1-${id}-0.png`);
});

test('the ID comes from the input item through an expression', async () => {
	const id = await createWithoutWaiting('Put @Image1 on @Image2', 1);
	const items = await runNode({
		parameters: getPrediction('={{ $json.predictionId }}', { options: { downloadImages: false } }),
		items: [{ json: { predictionId: id } }],
		credentials: credentials(),
	});
	expect(items[0].json).toMatchObject({
		predictionId: id,
		imageUrls: [fake.outputUrl(id, 0, 'png')],
	});
});

test('an unknown ID is a clear error, and the poll is not retried', async () => {
	const error = await runNode({
		parameters: getPrediction('no-such-prediction'),
		credentials: credentials(),
	}).catch((thrown: unknown) => thrown);
	expect(error).toBeInstanceOf(NodeApiError);
	expect((error as NodeApiError).message).toBe('Prediction no-such-prediction was not found');
	expect((error as NodeApiError).description).toContain('Check the prediction ID');
	expect(fake.stats().polls).toBe(1);
});

test('a failed prediction is an error carrying the API message and the item index', async () => {
	const id = await createWithoutWaiting('Put @Image1 on @Image2 [fail]', 1);
	const error = (await runNode({ parameters: getPrediction(id), credentials: credentials() }).catch(
		(thrown: unknown) => thrown,
	)) as NodeApiError;
	expect(error).toBeInstanceOf(NodeApiError);
	expect(error.message).toBe('Kling O1 could not edit the image: Image generation failed');
	expect(error.description).toContain(id);
	expect(error.context.itemIndex).toBe(0);
});
