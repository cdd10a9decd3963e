import { abortable, CancelledError } from '../../nodes/KlingO1/cancellation';
import {
	backoffDelay,
	pause,
	RetriesExhausted,
	retryAfterMs,
	retryPolicy,
	retryUntil,
} from '../../nodes/KlingO1/retry';
import { settleOnFakeTime } from '../helpers/fakeTime';

test('backoff grows exponentially, with jitter, up to the cap', () => {
	for (let attempt = 0; attempt < 12; attempt++) {
		const ceiling = Math.min(retryPolicy.maxDelayMs, retryPolicy.baseDelayMs * 2 ** attempt);
		for (let i = 0; i < 20; i++) {
			const delay = backoffDelay(attempt);
			expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
			expect(delay).toBeLessThanOrEqual(ceiling);
		}
	}
	expect(new Set(Array.from({ length: 20 }, () => backoffDelay(5))).size).toBeGreaterThan(1);
});

test('Retry-After in seconds or as a date', () => {
	expect(retryAfterMs({ 'retry-after': '3' })).toBe(3000);
	expect(retryAfterMs({ 'retry-after': '0.5' })).toBe(500);
	const inTwoSeconds = new Date(Date.now() + 2000).toUTCString();
	expect(retryAfterMs({ 'retry-after': inTwoSeconds })).toBeGreaterThan(900);
	expect(retryAfterMs({ 'retry-after': 'soon' })).toBeUndefined();
	expect(retryAfterMs({})).toBeUndefined();
});

test('pause ends at once when the execution is stopped', async () => {
	// Time is the subject: a simulated clock, so a loaded machine cannot stretch "at once".
	jest.useFakeTimers();
	try {
		const controller = new AbortController();
		const started = Date.now();
		setTimeout(() => controller.abort(), 50);
		await expect(settleOnFakeTime(pause(10_000, controller.signal))).rejects.toBeInstanceOf(
			CancelledError,
		);
		expect(Date.now() - started).toBeLessThan(retryPolicy.sleepSliceMs + 200);
	} finally {
		jest.useRealTimers();
	}
});

const never = new AbortController().signal;

describe('retryUntil', () => {
	const saved = { ...retryPolicy };
	beforeEach(() =>
		Object.assign(retryPolicy, { baseDelayMs: 1, maxDelayMs: 5, minServerWaitMs: 40 }),
	);
	afterEach(() => Object.assign(retryPolicy, saved));

	test('retries for as long as time remains, then reports the last problem', async () => {
		// Time is the subject: a simulated clock, so a loaded machine cannot starve the loop.
		jest.useFakeTimers();
		try {
			let calls = 0;
			const outcome = retryUntil(
				async () => {
					calls++;
					return { retry: 'HTTP 503' };
				},
				{ deadline: Date.now() + 200, signal: never },
			);
			await jest.advanceTimersByTimeAsync(300);
			expect(await outcome).toEqual(new RetriesExhausted('HTTP 503'));
			// Waits of at most 5 ms (the policy above): 200 ms of the item's time hold 40 or more.
			expect(calls).toBeGreaterThanOrEqual(40);
		} finally {
			jest.useRealTimers();
		}
	});

	test("a server's wait is honoured, but never below the floor", async () => {
		const times: number[] = [];
		await retryUntil(
			async () => {
				times.push(Date.now());
				return times.length < 3 ? { retry: 'HTTP 429', waitMs: 0 } : { done: true };
			},
			{ deadline: Date.now() + 5000, signal: never },
		);
		expect(times[1] - times[0]).toBeGreaterThanOrEqual(39);
		expect(times[2] - times[1]).toBeGreaterThanOrEqual(39);
	});

	test('a wait that would end after the deadline is not started', async () => {
		// On a simulated clock: a wait that was started would move it past the deadline.
		jest.useFakeTimers();
		try {
			const started = Date.now();
			const result = await settleOnFakeTime(
				retryUntil(async () => ({ retry: 'HTTP 429', waitMs: 10_000 }), {
					deadline: Date.now() + 1000,
					signal: never,
				}),
			);
			expect(result).toBeInstanceOf(RetriesExhausted);
			expect(Date.now() - started).toBeLessThan(100);
		} finally {
			jest.useRealTimers();
		}
	});

	test('a late start still gets its minimum attempts', async () => {
		let calls = 0;
		const result = await retryUntil(
			async () => (++calls < 3 ? { retry: 'reset' } : { done: 'ok' }),
			{
				deadline: Date.now() - 1,
				signal: never,
				minAttempts: 3,
			},
		);
		expect(result).toBe('ok');
		expect(calls).toBe(3);
	});
});

test('abortable gives up at once when the signal fires, and leaves no unhandled rejection', async () => {
	const controller = new AbortController();
	const slow = new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 100));
	setTimeout(() => controller.abort(), 10);
	await expect(abortable(slow, controller.signal)).rejects.toBeInstanceOf(CancelledError);
	await new Promise((resolve) => setTimeout(resolve, 150));
});
