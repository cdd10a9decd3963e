import {
	backoffDelay,
	CancelledError,
	pause,
	retryAfterMs,
	retryPolicy,
} from '../../nodes/KlingO1/retry';
import { adaptiveIntervalMs } from '../../nodes/KlingO1/prediction';

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
	const controller = new AbortController();
	const started = Date.now();
	setTimeout(() => controller.abort(), 50);
	await expect(pause(10_000, controller.signal)).rejects.toBeInstanceOf(CancelledError);
	expect(Date.now() - started).toBeLessThan(retryPolicy.sleepSliceMs + 200);
});

test('adaptive polling: quick first, slower on long jobs', () => {
	expect([0, 9_000, 30_000, 100_000, 400_000].map(adaptiveIntervalMs)).toEqual([
		1000, 1000, 2000, 5000, 10_000,
	]);
});
