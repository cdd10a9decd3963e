// Soak (issue 5): 60 items through seeded 5xx and connection resets on every route, with the API's
// 10-concurrent limit → 60 successes, no duplicate prediction, never more than 10 in flight.
import type { INodeExecutionData } from 'n8n-workflow';

import type { FakeEachlabs } from '../fake-eachlabs';
import {
	editParams,
	expectNoKeyLeak,
	fakeLifecycle,
	fastRetries,
	manyItems,
	run,
	API_KEY,
} from '../helpers/faultKit';
import { binaryBuffer } from '../helpers/n8n';

const startFake = fakeLifecycle();
fastRetries();

const N = 60;
const DUPLICATE_WARNING =
	/(the connection to Eachlabs failed|a gateway answered HTTP 50\d \(.+\)) after the create request was sent.*a duplicate prediction may have been charged/;

const faults = {
	seed: 20260406,
	create5xxRate: 0.1,
	poll5xxRate: 0.1,
	download5xxRate: 0.1,
	resetRate: 0.03,
	htmlRate: 0.3,
};

async function expectSixtySuccesses(fake: FakeEachlabs, items: INodeExecutionData[]) {
	expect(items).toHaveLength(N);
	expect(items.filter((item) => item.json.error !== undefined)).toEqual([]);
	expect(items.map((item) => item.pairedItem)).toEqual(
		Array.from({ length: N }, (_, i) => ({ item: i })),
	);
	for (const item of items) {
		expect(item.json.status).toBe('success');
		const bytes = await binaryBuffer(item.binary!.data);
		expect(bytes.equals(fake.expectedImage(item.json.predictionId as string, 0))).toBe(true);
	}
	// One prediction per item: no item reports another's.
	expect(new Set(items.map((item) => item.json.predictionId)).size).toBe(N);
}

/** Each item's warnings are only the duplicate-create kind; returns how many items carry one. */
function warnedItems(items: INodeExecutionData[]): number {
	let warned = 0;
	for (const item of items) {
		const warnings = item.json.warnings as string[] | undefined;
		if (!warnings) continue;
		warned++;
		expect(warnings.length).toBeGreaterThan(0);
		for (const warning of warnings) expect(warning).toMatch(DUPLICATE_WARNING);
	}
	return warned;
}

test('60 items with 10% 5xx and 3% resets under the 10-concurrent limit → 60 successes, 0 duplicate creates, ≤ 10 in flight', async () => {
	const fake = await startFake({ jobMs: 300, faults });
	const items = await run(fake, { parameters: editParams(), items: manyItems(N) });
	await expectSixtySuccesses(fake, items);

	const stats = fake.stats();
	// The soak really hit faults on every route.
	expect(stats.faultsInjected).toBeGreaterThanOrEqual(10);
	// A random reset drops the create before the fake creates anything, and a 5xx creates nothing:
	// every prediction is one an item got back.
	expect(stats.creates).toBe(N);
	expect(new Set(items.map((item) => item.json.predictionId))).toEqual(new Set(stats.predictions));
	expect(stats.maxInFlight).toBeLessThanOrEqual(10);
	expect(stats.rateLimited).toBe(0);
	// Warnings only where a create lost its answer: at most one per unanswered create request.
	const unanswered = stats.createRequests - stats.creates - stats.rateLimited;
	expect(warnedItems(items)).toBeLessThanOrEqual(unanswered);
	expectNoKeyLeak(fake, API_KEY, items);
}, 60_000);

test('soak with 3 creates whose answers are lost after creating: 63 predictions, exactly the 3 extra ones orphaned and their items warned', async () => {
	const fake = await startFake({ jobMs: 300, faults });
	fake.failNext('create', 'resetAfterCreate', 3);
	const items = await run(fake, { parameters: editParams(), items: manyItems(N) });
	await expectSixtySuccesses(fake, items);

	const stats = fake.stats();
	expect(stats.creates).toBe(N + 3);
	expect(stats.maxInFlight).toBeLessThanOrEqual(10);
	const delivered = new Set(items.map((item) => item.json.predictionId as string));
	const orphans = stats.predictions.filter((id) => !delivered.has(id));
	expect(orphans).toHaveLength(3);
	// The 3 orphans are the first 3 predictions (the scripted faults hit the first 3 creates).
	expect(orphans).toEqual(stats.predictions.slice(0, 3));
	// Every possible duplicate is announced on the item that was re-created.
	const warned = warnedItems(items);
	expect(warned).toBeGreaterThanOrEqual(3);
	expect(warned).toBeLessThanOrEqual(stats.createRequests - stats.creates - stats.rateLimited + 3);
}, 60_000);
