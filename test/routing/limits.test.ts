// Rate limits: at most 10 predictions in flight per API key in one process, shared by
// items and by executions side by side; 429s waited out within the item's timeout; queue time not
// counted against the timeout; with Wait for Completion off, creates wait out the API's 429s.
import {
	createRequests,
	fakeLifecycle,
	fastRetries,
	manyItems,
	promptByItem,
	outcomeWithin,
	run,
} from '../helpers/faultKit';
import { quietPolicy } from '../../nodes/KlingO1/limiter';
import { editImage } from '../helpers/params';

const startFake = fakeLifecycle();
fastRetries();

function expectAllSucceeded(
	items: Array<{ json: any; pairedItem?: unknown; binary?: unknown }>,
	n: number,
) {
	expect(items).toHaveLength(n);
	expect(items.map((item) => item.json.error)).toEqual(Array(n).fill(undefined));
	expect(items.map((item) => item.json.status)).toEqual(Array(n).fill('success'));
	expect(items.map((item) => item.pairedItem)).toEqual(
		Array.from({ length: n }, (_, i) => ({ item: i })),
	);
	expect(items.every((item) => item.binary)).toBe(true);
	expect(new Set(items.map((item) => item.json.predictionId)).size).toBe(n);
	expect(items.some((item) => item.json.warnings)).toBe(false);
}

describe('10 predictions in flight per API key', () => {
	test('50 items → 50 results; the node itself never has more than 10 in flight (API limit off)', async () => {
		// With the fake's own limit off, only the node can keep the count at 10.
		const fake = await startFake({ rateLimit: null, jobMs: 300 });
		const items = await run(fake, { parameters: editImage(), items: manyItems(50) });
		expectAllSucceeded(items, 50);
		const stats = fake.stats();
		expect(stats.creates).toBe(50);
		expect(stats.createRequests).toBe(50);
		expect(stats.maxInFlight).toBe(10);
		expect(new Set(items.map((item) => item.json.predictionId))).toEqual(
			new Set(stats.predictions),
		);
	});

	test('50 items against the API’s 10-concurrent limit: no 429 is ever provoked', async () => {
		const fake = await startFake({ jobMs: 300 });
		const items = await run(fake, { parameters: editImage(), items: manyItems(50) });
		expectAllSucceeded(items, 50);
		expect(fake.stats()).toMatchObject({
			creates: 50,
			createRequests: 50,
			rateLimited: 0,
			maxInFlight: 10,
		});
	});

	test('two executions side by side with the same key share the 10 slots', async () => {
		const fake = await startFake({ rateLimit: null, jobMs: 600 });
		const parameters = editImage();
		const [first, second] = await Promise.all([
			run(fake, { parameters, items: manyItems(8) }),
			run(fake, { parameters, items: manyItems(8) }),
		]);
		expectAllSucceeded(first, 8);
		expectAllSucceeded(second, 8);
		const stats = fake.stats();
		expect(stats.creates).toBe(16);
		expect(stats.maxInFlight).toBe(10);
	});

	test('a freed slot is used at once: the 11th create follows the first finished prediction, not the slowest', async () => {
		const fake = await startFake({ rateLimit: null });
		const marks: Record<number, string> = { 0: '[slow:200]' };
		for (let i = 1; i < 10; i++) marks[i] = '[slow:2500]';
		const items = await run(fake, {
			parameters: editImage({ prompt: promptByItem(marks) }),
			items: manyItems(11),
		});
		expectAllSucceeded(items, 11);
		const creates = createRequests(fake);
		expect(creates).toHaveLength(11);
		const waited = creates[10].time - creates[0].time;
		// Item 0 is done after ~200 ms (plus a poll and a download); the others after 2.5 s.
		expect(waited).toBeGreaterThanOrEqual(200);
		expect(waited).toBeLessThan(1200);
		expect(String((creates[10].body as any).input.prompt)).toBe('Put @Image1 on table 10');
	});

	test('slots held by failed and timed-out items are given back: queued items complete', async () => {
		const fake = await startFake({ rateLimit: null });
		const marks: Record<number, string> = { 0: '[fail]', 1: '[fail:classified]' };
		for (let i = 2; i < 10; i++) marks[i] = '[slow:4000]';
		const items = await run(fake, {
			parameters: editImage({ prompt: promptByItem(marks), options: { timeoutSeconds: 1 } }),
			items: manyItems(14),
			onError: 'continueRegularOutput',
		});
		expect(items).toHaveLength(14);
		expect(items.slice(0, 10).every((item) => typeof item.json.error === 'string')).toBe(true);
		for (let i = 2; i < 10; i++)
			expect(items[i].json.error).toMatch(/did not finish within 1 seconds$/);
		for (const item of items.slice(10)) expect(item.json.status).toBe('success');
		expect(fake.stats().creates).toBe(14);
		// Another run right after finds all 10 slots free.
		const again = await run(fake, { parameters: editImage(), items: manyItems(10) });
		expectAllSucceeded(again, 10);
	});
});

describe('429 answers', () => {
	// These check waits against Retry-After and the item's time, so a create waits exactly what
	// Eachlabs asks; the random 1 to 2 × Retry-After of a create in a crowded key (queue mode) has
	// its own tests in test/unit/limiter.test.ts and test/unit/sharing.test.ts.
	const spread = quietPolicy.spread;
	beforeAll(() => {
		quietPolicy.spread = 0;
	});
	afterAll(() => {
		quietPolicy.spread = spread;
	});

	test('a scripted 429 is waited out for its Retry-After, then retried; the user never sees it', async () => {
		const fake = await startFake();
		fake.failNext('create', '429', 2, { retryAfter: 1 });
		const items = await run(fake, { parameters: editImage() });
		expectAllSucceeded(items, 1);
		const times = createRequests(fake).map((request) => request.time);
		expect(times).toHaveLength(3);
		expect(times[1] - times[0]).toBeGreaterThanOrEqual(950);
		expect(times[2] - times[1]).toBeGreaterThanOrEqual(950);
		expect(times[2] - times[0]).toBeLessThan(3500);
		expect(fake.stats().creates).toBe(1);
	});

	test('an API that allows only 2 concurrent predictions: 429s are waited out and 6 items → 6 results', async () => {
		const fake = await startFake({
			jobMs: 200,
			rateLimit: { concurrent: 2, retryAfterSeconds: 1 },
		});
		const items = await run(fake, { parameters: editImage(), items: manyItems(6) });
		expectAllSucceeded(items, 6);
		const stats = fake.stats();
		expect(stats.rateLimited).toBeGreaterThan(0);
		expect(stats.creates).toBe(6);
		expect(stats.createRequests).toBe(6 + stats.rateLimited);
		expect(stats.maxInFlight).toBeLessThanOrEqual(2);
	});

	test('the per-minute create window: 12 items with 5 creates per window → 12 results', async () => {
		const fake = await startFake({
			jobMs: 100,
			rateLimit: { concurrent: null, perMinute: 5, windowMs: 1500, retryAfterSeconds: 1 },
		});
		const items = await run(fake, { parameters: editImage(), items: manyItems(12) });
		expectAllSucceeded(items, 12);
		const stats = fake.stats();
		expect(stats.rateLimited).toBeGreaterThan(0);
		expect(stats.creates).toBe(12);
	});

	test('429s that outlast the item timeout end in an error soon after it (timeoutSeconds 2 → within 5 s)', async () => {
		const fake = await startFake();
		fake.failNext('create', '429', 1000, { retryAfter: 1 });
		const started = Date.now();
		const settled = await outcomeWithin(
			fake,
			{ parameters: editImage({ options: { timeoutSeconds: 2 } }) },
			5000,
		);
		expect(settled).not.toBe('still running');
		expect(Date.now() - started).toBeLessThan(5500);
		expect(settled.message).toMatch(/429|rate limit/i);
		// It did wait out the Retry-After while time remained.
		expect(fake.stats().createRequests).toBeGreaterThanOrEqual(2);
		expect(fake.stats().creates).toBe(0);
	}, 15_000);
});

describe('the timeout and the queue', () => {
	test('time queued behind the limit does not count: 12 jobs of 1.5 s with timeoutSeconds 2 all succeed', async () => {
		const fake = await startFake({ jobMs: 1500 });
		const started = Date.now();
		const items = await run(fake, {
			parameters: editImage({ options: { timeoutSeconds: 2 } }),
			items: manyItems(12),
		});
		expectAllSucceeded(items, 12);
		// Items 10 and 11 waited ~1.5 s for a slot, then ran 1.5 s: 3 s in all, more than 2 s.
		expect(Date.now() - started).toBeGreaterThan(2900);
		expect(fake.stats()).toMatchObject({ creates: 12, rateLimited: 0 });
	});

	test('Wait for Completion off: creates beyond the API’s limit wait out its 429s; 13 items → 13 prediction ids', async () => {
		const fake = await startFake({ jobMs: 1500, rateLimit: { retryAfterSeconds: 1 } });
		const items = await run(fake, {
			parameters: editImage({ waitForCompletion: false }),
			items: manyItems(13),
		});
		expect(items).toHaveLength(13);
		for (const [index, item] of items.entries()) {
			expect(item.json).toMatchObject({ status: 'processing', estimatedCostUsd: 0.028 });
			expect(item.json.error).toBeUndefined();
			expect(item.json.warnings).toBeUndefined();
			expect(item.pairedItem).toEqual({ item: index });
		}
		const stats = fake.stats();
		expect(new Set(items.map((item) => item.json.predictionId))).toEqual(
			new Set(stats.predictions),
		);
		expect(stats.creates).toBe(13);
		expect(stats.rateLimited).toBeGreaterThanOrEqual(3);
		expect(stats.createRequests).toBe(13 + stats.rateLimited);
		expect(stats.polls).toBe(0);
		expect(stats.downloads).toBe(0);
	});
});
