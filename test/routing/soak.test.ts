// Soak: 60 items through seeded 5xx and connection resets on every route, with the
// API's 10-concurrent limit → 60 successes, no duplicate prediction, never more than 10 in flight;
// and with gateway 504s after the create was stored, every prediction delivered or announced.
// Each item has its own prompt: the fake draws a create's faults from its body, so every item
// meets the same faults on every run, whatever order concurrent creates arrive in.
import type { INodeExecutionData } from 'n8n-workflow';

import type { FakeEachlabs } from '../../dev/fake-eachlabs';
import {
	expectNoKeyLeak,
	fakeLifecycle,
	fastRetries,
	manyItems,
	promptByItem,
	run,
	API_KEY,
} from '../helpers/faultKit';
import { editImage } from '../helpers/params';
import { binaryBuffer } from '../helpers/n8n';

const startFake = fakeLifecycle();
fastRetries();

const N = 60;
const parameters = editImage({ prompt: promptByItem({}) });
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
	const items = await run(fake, { parameters, items: manyItems(N) });
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
	// Eachlabs' own limit off: the 429s the orphans would cause shift each item's faults from run
	// to run (the first soak shows the node never provokes a 429 itself).
	const fake = await startFake({ jobMs: 300, faults, rateLimit: null });
	// A first run lets this process's limiter reach 10 at once (it starts with one create in the
	// air), so that the 3 lost answers hit 3 different items rather than one item's re-sends.
	await run(fake, { parameters: editImage(), items: manyItems(10) });
	fake.reset();
	// The 3 lost answers are held until the whole first wave of 10 creates has arrived: a re-send
	// that overtook a create of that wave could meet a lost answer again, on the same item.
	fake.failNext('create', 'resetAfterCreate', 3, { afterCreateRequests: 10 });
	const items = await run(fake, { parameters, items: manyItems(N) });
	await expectSixtySuccesses(fake, items);

	const stats = fake.stats();
	expect(stats.creates).toBe(N + 3);
	// The node's own 10, plus the 3 orphans it cannot know of.
	expect(stats.maxInFlight).toBeLessThanOrEqual(13);
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

test('soak with 3% gateway 504s after the create was stored: 60 successes; every prediction delivered, or announced on its item with its time', async () => {
	const fake = await startFake({
		jobMs: 300,
		// Seed 3 stores 5 predictions behind a 504, two of them for the same item.
		faults: { ...faults, seed: 3, create504AfterStoreRate: 0.03 },
		// The orphans run on Eachlabs' side too; with its 10-concurrent limit on, the 429s they
		// cause (waited out, see limits.test.ts) would shift each item's faults from run to run.
		rateLimit: null,
	});
	const items = await run(fake, { parameters, items: manyItems(N) });
	await expectSixtySuccesses(fake, items);

	const stats = fake.stats();
	const delivered = new Set(items.map((item) => item.json.predictionId as string));
	const orphans = stats.predictions.filter((id) => !delivered.has(id));
	// The node's own 10, plus the orphans it cannot know of.
	expect(stats.maxInFlight).toBeLessThanOrEqual(10 + orphans.length);
	// The seed really stored predictions behind a gateway's 504.
	expect(orphans.length).toBeGreaterThanOrEqual(1);
	expect(stats.creates).toBe(N + orphans.length);
	// Each orphan's item carries one 504 warning per orphan of its own.
	const byItem = new Map<number, string[]>();
	for (const id of orphans) {
		const item = Number(/table (\d+)/.exec(fake.inputOf(id).prompt)![1]);
		byItem.set(item, [...(byItem.get(item) ?? []), id]);
	}
	for (const [item, ids] of byItem) {
		const gateway = ((items[item].json.warnings as string[]) ?? []).filter((warning) =>
			/a gateway answered HTTP 504/.test(warning),
		);
		expect(gateway).toHaveLength(ids.length);
	}
	const warned504 = items.flatMap((item) =>
		((item.json.warnings as string[]) ?? []).filter((warning) => /HTTP 504/.test(warning)),
	);
	// And no 504 warning without an orphan behind it.
	expect(warned504).toHaveLength(orphans.length);
	expect(warnedItems(items)).toBeGreaterThanOrEqual(byItem.size);
	expectNoKeyLeak(fake, API_KEY, items);
	console.info(
		`soak 504-after-store: ${stats.createRequests} create requests, ${stats.creates} predictions, ${N} delivered, ${orphans.length} orphans announced by ${warned504.length} warnings on ${byItem.size} items`,
	);
}, 60_000);
