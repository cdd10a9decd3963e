// Start-up: each item is checked from what n8n's routing resolved for it, and the
// items the routing never handed to the node (their request could not be built) are checked once
// its loop is over. Either way no paid create starts while any item is invalid.
import type { FakeEachlabs } from '../../dev/fake-eachlabs';
import { startFakeEachlabs } from '../../dev/fake-eachlabs';
import { runNode } from '../helpers/n8n';
import { editImage } from '../helpers/params';

let fake: FakeEachlabs;
beforeAll(async () => {
	fake = await startFakeEachlabs({ apiKey: 'test-key', jobMs: 50 });
});
afterAll(async () => await fake.close());
beforeEach(() => fake.reset());

// Item 1's prompt expression throws, so n8n's routing fails to build item 1's request.
const parameters = editImage({
	prompt: '={{ $json.i === 1 ? $json.missing.deep : "Put @Image1 on the horse in @Image2" }}',
});
const items = [0, 1, 2].map((i) => ({ json: { i } }));
const credentials = () => ({ apiKey: 'test-key', baseUrl: fake.apiUrl });
const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

test('stop on errors: an item the routing could not build stops the others before any create', async () => {
	await expect(runNode({ parameters, items, credentials: credentials() })).rejects.toThrow();
	// n8n reports item 1 at once; item 0 had already been handed to the node: give it time.
	await settle();
	expect(fake.stats().createRequests).toBe(0);
});

test('continue on fail: the other items go ahead, the broken one is an error item', async () => {
	const output = await runNode({
		parameters,
		items,
		credentials: credentials(),
		onError: 'continueRegularOutput',
	});
	await settle();
	const succeeded = output.filter((item) => item.json.status === 'success');
	expect(succeeded.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 2 }]);
	expect(output.filter((item) => item.json.error ?? item.error)).toHaveLength(1);
	expect(new Set(fake.stats().predictions)).toEqual(
		new Set(succeeded.map((item) => item.json.predictionId)),
	);
});
