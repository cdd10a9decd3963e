import { requestTimeout } from '../../nodes/KlingO1/transport';

test('a request never outlives the item deadline, but gets its floor', () => {
	const now = Date.now();
	expect(requestTimeout(30_000, now + 60_000)).toBe(30_000);
	const bounded = requestTimeout(30_000, now + 5000);
	expect(bounded).toBeGreaterThan(4900);
	expect(bounded).toBeLessThanOrEqual(5000);
	expect(requestTimeout(30_000, now - 10_000)).toBe(1000);
	expect(requestTimeout(60_000, now + 2000, 15_000)).toBe(15_000);
});

test('a request timeout shorter than the floor is kept (Request Options → Timeout wins)', () => {
	const now = Date.now();
	expect(requestTimeout(2000, now + 60_000, 15_000)).toBe(2000);
	expect(requestTimeout(2000, now - 10_000, 15_000)).toBe(2000);
});
