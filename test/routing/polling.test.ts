// When the node polls, through n8n's routing against the fake: with no Poll Interval
// it learns the job times of a key and settings and then polls where jobs end; an explicit Poll
// Interval stays a fixed interval; a fresh prediction is never polled right after its create.
// Timing figures belong to `npm run bench`; these tests only check orderings that load cannot
// reverse (load makes polls later, never earlier).
import type { INodeParameters } from 'n8n-workflow';

import type { FakeEachlabs } from '../../dev/fake-eachlabs';
import { fakeLifecycle, manyItems, run } from '../helpers/faultKit';

const startFake = fakeLifecycle();

const parameters = (options: Record<string, unknown> = {}): INodeParameters => ({
	operation: 'editImage',
	prompt: 'Put @Image1 on a table',
	images: { image: [{ url: 'https://example.com/a.png' }] },
	options: { timeoutSeconds: 60, ...options },
});

/** Per prediction: ms from its create to each of its polls, from the fake's request log. */
function pollOffsets(fake: FakeEachlabs) {
	return fake
		.timings()
		.map((timing) =>
			fake.requests
				.filter((request) => request.host === 'api' && request.path.includes(timing.id))
				.map((request) => request.time - timing.createdAt),
		);
}

function expectAllDelivered(items: Array<{ json: any; binary?: unknown }>, n: number) {
	expect(items).toHaveLength(n);
	expect(items.every((item) => item.json.status === 'success' && item.binary)).toBe(true);
}

test('no Poll Interval: the node learns the job time and then polls less, and never right after the create', async () => {
	const fake = await startFake({ apiKey: 'learning-key', jobMs: 2500 });
	// First run: nothing known yet, so it polls on the unlearned schedule (every second).
	expectAllDelivered(
		await run(fake, { apiKey: 'learning-key', parameters: parameters(), items: manyItems(5) }),
		5,
	);
	const cold = pollOffsets(fake);
	fake.reset();
	// Second run in the same process with the same key and settings: it knows jobs take 2.5 s.
	expectAllDelivered(
		await run(fake, { apiKey: 'learning-key', parameters: parameters(), items: manyItems(5) }),
		5,
	);
	const warm = pollOffsets(fake);

	for (const offsets of [...cold, ...warm]) expect(offsets[0]).toBeGreaterThanOrEqual(900);
	// Cold: polls at 1 s and 2 s find it running, one at 3 s finds it done.
	for (const offsets of cold) expect(offsets.length).toBeGreaterThanOrEqual(3);
	// Warm: the first poll waits until jobs are known to end (after the two-second mark) ...
	for (const offsets of warm) expect(offsets[0]).toBeGreaterThan(2000);
	// ... and the run needs fewer polls than the cold one.
	const count = (runs: number[][]) => runs.reduce((sum, offsets) => sum + offsets.length, 0);
	expect(count(warm)).toBeLessThan(count(cold));
});

test('another resolution is another job time: nothing learned at 1K is used at 2K', async () => {
	const fake = await startFake({ apiKey: 'resolution-key', jobMs: 2500 });
	await run(fake, { apiKey: 'resolution-key', parameters: parameters(), items: manyItems(3) });
	fake.reset();
	await run(fake, {
		apiKey: 'resolution-key',
		parameters: { ...parameters(), resolution: '2K' },
		items: manyItems(3),
	});
	// Cold again at 2K: the one-second ladder, so a 2.5 s job is polled three times.
	for (const offsets of pollOffsets(fake)) expect(offsets.length).toBeGreaterThanOrEqual(3);
});

test('an explicit Poll Interval is a fixed interval, also once job times are known', async () => {
	const fake = await startFake({ apiKey: 'fixed-key', jobMs: 1200 });
	await run(fake, { apiKey: 'fixed-key', parameters: parameters(), items: manyItems(3) });
	fake.reset();
	const items = await run(fake, {
		apiKey: 'fixed-key',
		parameters: parameters({ pollIntervalSeconds: 0.3 }),
		items: manyItems(3),
	});
	expectAllDelivered(items, 3);
	for (const offsets of pollOffsets(fake)) {
		// From the create: 0.3 s, 0.6 s, 0.9 s, 1.2 s, … (never earlier, however loaded).
		expect(offsets.length).toBeGreaterThanOrEqual(4);
		expect(offsets[0]).toBeGreaterThanOrEqual(280);
		for (let i = 1; i < offsets.length; i++) {
			expect(offsets[i] - offsets[i - 1]).toBeGreaterThanOrEqual(280);
		}
	}
});
