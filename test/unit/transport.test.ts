import { retryPolicy } from '../../nodes/KlingO1/retry';
import { RetriesExhausted, retryUntil } from '../../nodes/KlingO1/transport';

const never = new AbortController().signal;

test('rate limits are waited out while time remains, then given up', async () => {
	let calls = 0;
	const started = Date.now();
	const result = await retryUntil(
		async () => {
			calls++;
			return { retry: 'HTTP 429', waitMs: 50, free: true };
		},
		{ deadline: Date.now() + 300, signal: never },
	);
	expect(result).toEqual(new RetriesExhausted('HTTP 429'));
	expect(calls).toBeGreaterThanOrEqual(5);
	expect(Date.now() - started).toBeLessThan(400);
});

test('counted failures stop at the attempt budget even with time left', async () => {
	const saved = { ...retryPolicy };
	Object.assign(retryPolicy, { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 4 });
	try {
		let calls = 0;
		const result = await retryUntil(
			async () => {
				calls++;
				return { retry: 'HTTP 503' };
			},
			{ deadline: Date.now() + 60_000, signal: never },
		);
		expect(result).toBeInstanceOf(RetriesExhausted);
		expect(calls).toBe(4);
	} finally {
		Object.assign(retryPolicy, saved);
	}
});

test('a late start still gets its minimum attempts', async () => {
	const saved = { ...retryPolicy };
	Object.assign(retryPolicy, { baseDelayMs: 1, maxDelayMs: 2 });
	try {
		let calls = 0;
		const result = await retryUntil(
			async () => (++calls < 3 ? { retry: 'reset' } : { done: 'ok' }),
			{ deadline: Date.now() - 1, signal: never, minAttempts: 3 },
		);
		expect(result).toBe('ok');
		expect(calls).toBe(3);
	} finally {
		Object.assign(retryPolicy, saved);
	}
});
