// Shared pieces of the fault, limit and soak tests: many items, a fake per test, fast retries,
// and the checks every one of those tests repeats (no key anywhere, error items). Node parameters
// come from params.ts, the one builder of them.
import type { INodeExecutionData } from 'n8n-workflow';

import { retryPolicy } from '../../nodes/KlingO1/retry';
import {
	startFakeEachlabs,
	type FakeEachlabs,
	type FakeEachlabsOptions,
} from '../../dev/fake-eachlabs';
import { binaryBuffer, runNode, type RunOptions } from './n8n';

export const API_KEY = 'test-key';

/** A prompt expression whose text depends on the item: `marks[i]` is appended to item i. */
export function promptByItem(marks: Record<number, string>): string {
	return `={{ "Put @Image1 on table " + $json.i + ({${Object.entries(marks)
		.map(([i, mark]) => `${i}: ${JSON.stringify(' ' + mark)}`)
		.join(', ')}}[$json.i] || "") }}`;
}

export const manyItems = (n: number): INodeExecutionData[] =>
	Array.from({ length: n }, (_, i) => ({ json: { i } }));

/** Starts fakes for the current test and closes them all in afterEach. */
export function fakeLifecycle() {
	const open: FakeEachlabs[] = [];
	afterEach(async () => {
		await Promise.all(open.splice(0).map((fake) => fake.close()));
	});
	return async (options?: FakeEachlabsOptions) => {
		const fake = await startFakeEachlabs(options);
		open.push(fake);
		return fake;
	};
}

/** Shrinks the retry delays for the whole file and restores them afterwards. */
export function fastRetries(patch: Partial<typeof retryPolicy> = {}) {
	const saved = { ...retryPolicy };
	beforeAll(() => {
		Object.assign(retryPolicy, { baseDelayMs: 20, maxDelayMs: 200, ...patch });
	});
	afterAll(() => {
		Object.assign(retryPolicy, saved);
	});
}

export function credentialsFor(fake: FakeEachlabs, apiKey = API_KEY) {
	return { apiKey, baseUrl: fake.apiUrl };
}

export function run(
	fake: FakeEachlabs,
	options: Omit<RunOptions, 'credentials'> & { apiKey?: string },
) {
	const { apiKey, ...rest } = options;
	return runNode({ credentials: credentialsFor(fake, apiKey), ...rest });
}

/** The rejection of `promise`, failing the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<any> {
	try {
		await promise;
	} catch (error) {
		return error;
	}
	throw new Error('expected the node to fail, but it succeeded');
}

/**
 * Everything of a value as text, own non-enumerable properties included (an Error's message,
 * description, stack, cause), cycles cut: what a key scan must look through.
 */
export function deepText(value: unknown): string {
	const seen = new WeakSet<object>();
	const walk = (current: unknown, depth: number): unknown => {
		if (current === null || typeof current !== 'object') {
			return typeof current === 'bigint' ? String(current) : current;
		}
		if (Buffer.isBuffer(current)) return `<buffer ${current.length}>`;
		if (seen.has(current) || depth > 12) return '[seen]';
		seen.add(current);
		if (Array.isArray(current)) return current.map((entry) => walk(entry, depth + 1));
		const out: Record<string, unknown> = {};
		for (const key of Object.getOwnPropertyNames(current)) {
			let entry: unknown;
			try {
				entry = (current as Record<string, unknown>)[key];
			} catch {
				continue;
			}
			if (typeof entry === 'function') continue;
			out[key] = walk(entry, depth + 1);
		}
		return out;
	};
	return JSON.stringify(walk(value, 0)) ?? '';
}

/** Asserts the API key is nowhere in what the node gave back, and never went to the files host. */
export function expectNoKeyLeak(fake: FakeEachlabs, key: string, ...values: unknown[]) {
	for (const value of values) {
		expect(JSON.stringify(value) ?? '').not.toContain(key);
		expect(deepText(value)).not.toContain(key);
	}
	for (const request of fake.requests.filter((r) => r.host === 'files')) {
		expect(request.headers['x-api-key']).toBeUndefined();
		expect(request.headers.authorization).toBeUndefined();
		expect(JSON.stringify(request.headers)).not.toContain(key);
		expect(request.path).not.toContain(key);
	}
}

/** The item is a success whose binary data is exactly image `index` the fake made for it. */
export async function expectImage(fake: FakeEachlabs, item: INodeExecutionData, index = 0) {
	expect(item.json.status).toBe('success');
	expect(item.binary?.data).toBeDefined();
	const bytes = await binaryBuffer(item.binary!.data);
	expect(bytes.equals(fake.expectedImage(item.json.predictionId as string, index))).toBe(true);
}

/** Items are one per image by default; the prediction ids behind them, in item order. */
export const predictionIdsOf = (items: INodeExecutionData[]) =>
	items.map((item) => item.json.predictionId as string);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 10 ms until it is true or `ms` pass. */
export async function until(condition: () => boolean, ms = 10_000): Promise<void> {
	const end = Date.now() + ms;
	while (!condition()) {
		if (Date.now() > end) throw new Error('condition not met in time');
		await sleep(10);
	}
}

export const createRequests = (fake: FakeEachlabs) =>
	fake.requests.filter(
		(r) => r.host === 'api' && r.method === 'POST' && /^\/v1\/prediction\/?$/.test(r.path),
	);

export const pollRequests = (fake: FakeEachlabs) =>
	fake.requests.filter(
		(r) => r.host === 'api' && r.method === 'GET' && /^\/v1\/prediction\/[^/]+/.test(r.path),
	);

export const downloadRequests = (fake: FakeEachlabs) =>
	fake.requests.filter((r) => r.host === 'files' && r.path.startsWith('/outputs/'));

/**
 * Runs the node and reports how it ended within `ms`: its error (or 'resolved'), else
 * 'still running'. The run is stopped either way, so nothing outlives the test.
 */
export async function outcomeWithin(
	fake: FakeEachlabs,
	options: Omit<RunOptions, 'credentials' | 'signal'>,
	ms: number,
): Promise<any> {
	const controller = new AbortController();
	const outcome = run(fake, { ...options, signal: controller.signal }).then(
		() => 'resolved',
		(error) => error,
	);
	const settled = await Promise.race([outcome, sleep(ms).then(() => 'still running')]);
	controller.abort();
	await outcome;
	return settled;
}
