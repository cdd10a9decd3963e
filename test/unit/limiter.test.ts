import {
	quietPolicy,
	ConcurrencyLimit,
	concurrencyLimitFor,
	type Release,
} from '../../nodes/KlingO1/limiter';
import { CancelledError } from '../../nodes/KlingO1/cancellation';

const tick = async () => await new Promise((resolve) => setImmediate(resolve));

/** Takes a slot and reports its create as accepted, as the create path does. */
async function acceptedSlot(slots: ConcurrencyLimit, signal?: AbortSignal): Promise<Release> {
	const release = await slots.acquire(signal);
	await release.ready(signal);
	release.accepted();
	return release;
}

describe('slots of one key in one process', () => {
	test('one create in the air at first; a process alone reaches 10 at once and never more', async () => {
		const slots = new ConcurrencyLimit(10);
		expect(slots.capacity).toBe(10);
		const waiting = Array.from({ length: 12 }, async () => await acceptedSlot(slots));
		await tick();
		// Each accepted create lets the next one go: 10 hold a slot, 2 wait.
		expect(slots.inFlight).toBe(10);
		const releases = await Promise.all(waiting.slice(0, 10));
		expect(slots.limit).toBe(10);
		expect(slots.queued).toBe(2);
		releases[0]();
		releases[0](); // a second call must not free a second slot
		await tick();
		expect(slots.inFlight).toBe(10);
		expect(slots.queued).toBe(1);
	});

	test('the first create goes alone; each accepted create lets one more go', async () => {
		const slots = new ConcurrencyLimit(10);
		const first = await slots.acquire();
		let second: Release | undefined;
		void slots.acquire().then((release) => (second = release));
		await tick();
		expect(second).toBeUndefined();
		first.accepted();
		await tick();
		expect(second).toBeDefined();
		expect(slots.inFlight).toBe(2);
	});

	test('waiters start in order as slots free', async () => {
		const slots = new ConcurrencyLimit(2);
		const order: number[] = [];
		const held = [await acceptedSlot(slots), await acceptedSlot(slots)];
		expect(slots.limit).toBe(2);
		const waiting = [3, 4, 5].map(async (n) => {
			const release = await acceptedSlot(slots);
			order.push(n);
			return release;
		});
		await tick();
		expect(slots.queued).toBe(3);
		held[0]();
		await tick();
		expect(order).toEqual([3]);
		held[1]();
		await tick();
		expect(order).toEqual([3, 4]);
		expect(slots.inFlight).toBe(2);
		(await waiting[0])();
		await tick();
		expect(order).toEqual([3, 4, 5]);
	});

	test('a waiter whose signal fires leaves the queue without taking a slot', async () => {
		const slots = new ConcurrencyLimit(1);
		const release = await slots.acquire();
		const controller = new AbortController();
		const waiting = slots.acquire(controller.signal);
		controller.abort();
		await expect(waiting).rejects.toBeInstanceOf(CancelledError);
		expect(slots.queued).toBe(0);
		release();
		expect(slots.inFlight).toBe(0);
	});
});

describe('a create answered 429', () => {
	async function fullWindowOf(slots: ConcurrencyLimit, n: number) {
		const held: Release[] = [];
		for (let i = 0; i < n; i++) held.push(await acceptedSlot(slots));
		return held;
	}

	test('lowers the window to half of the others still running and waits for one of them to end', async () => {
		const slots = new ConcurrencyLimit(10);
		const held = await fullWindowOf(slots, 8);
		const limited = await slots.acquire();
		limited.rateLimited();
		// 8 others run: the window is 4, so the 429'd create waits until only 3 run.
		expect(slots.limit).toBe(4);
		let resent = false;
		void limited.ready().then(() => (resent = true));
		const queued = slots.acquire();
		for (let i = 0; i < 4; i++) held[i]();
		await tick();
		expect(resent).toBe(false);
		held[4]();
		await tick();
		expect(resent).toBe(true);
		// The parked create went first; the queued item still waits (4 hold: 3 running, 1 resent).
		expect(slots.inFlight).toBe(4);
		expect(slots.queued).toBe(1);
		limited.accepted();
		held[5]();
		await expect(queued).resolves.toEqual(expect.any(Function));
	});

	test('with nothing else running, it goes again once Retry-After has passed (no deadlock)', async () => {
		jest.useFakeTimers();
		try {
			// The random share added to Retry-After is 0 here; the next test covers it.
			const slots = new ConcurrencyLimit(10, Date.now, () => 0);
			const release = await slots.acquire();
			release.rateLimited(2000);
			expect(slots.limit).toBe(1);
			let resent = false;
			void release.ready().then(() => (resent = true));
			await jest.advanceTimersByTimeAsync(1900);
			expect(resent).toBe(false);
			await jest.advanceTimersByTimeAsync(200);
			expect(resent).toBe(true);
			release.accepted();
			expect(slots.inFlight).toBe(1);
		} finally {
			jest.useRealTimers();
		}
	});

	test('after a 429 it asks again at a random moment between 1 and 2 × Retry-After', async () => {
		jest.useFakeTimers();
		try {
			expect(quietPolicy.spread).toBe(1);
			for (const [draw, waitMs] of [
				[0.5, 1500],
				[0.999, 1998],
			]) {
				const slots = new ConcurrencyLimit(10, Date.now, () => draw);
				const release = await slots.acquire();
				release.rateLimited(1000);
				let resent = false;
				void release.ready().then(() => (resent = true));
				await jest.advanceTimersByTimeAsync(waitMs - 10);
				expect(resent).toBe(false);
				await jest.advanceTimersByTimeAsync(20);
				expect(resent).toBe(true);
			}
		} finally {
			jest.useRealTimers();
		}
	});

	test('a 429 for a parked create does not let the next parked one ask at once', async () => {
		jest.useFakeTimers();
		try {
			const slots = new ConcurrencyLimit(10, Date.now, () => 0);
			const running = await fullWindowOf(slots, 3);
			const first = await slots.acquire();
			running.shift()?.();
			const second = await slots.acquire();
			first.rateLimited(1000);
			second.rateLimited(1000);
			const resent: string[] = [];
			void first.ready().then(() => resent.push('first'));
			void second.ready().then(() => resent.push('second'));
			// Both parked; one of this process's own predictions ends, then the last one.
			running.forEach((release) => release());
			await jest.advanceTimersByTimeAsync(0);
			expect(resent).toEqual(['first']);
			// Another 429: the second waits out the Retry-After instead of asking right away.
			first.rateLimited(1000);
			await jest.advanceTimersByTimeAsync(900);
			expect(resent).toEqual(['first']);
			await jest.advanceTimersByTimeAsync(100);
			expect(resent).toEqual(['first', 'second']);
		} finally {
			jest.useRealTimers();
		}
	});

	test('a parked create whose item stops leaves without taking anything', async () => {
		const slots = new ConcurrencyLimit(10);
		const held = await fullWindowOf(slots, 2);
		const limited = await slots.acquire();
		limited.rateLimited();
		const controller = new AbortController();
		const waiting = limited.ready(controller.signal);
		controller.abort();
		await expect(waiting).rejects.toBeInstanceOf(CancelledError);
		limited();
		expect(slots.inFlight).toBe(2);
		held.forEach((release) => release());
		expect(slots.inFlight).toBe(0);
		// A released slot ignores late reports.
		limited.accepted();
		limited.rateLimited();
		expect(slots.inFlight).toBe(0);
	});
});

test('one limiter per API key and base URL, shared by every caller', () => {
	expect(concurrencyLimitFor('key-a', 'https://api.eachlabs.ai')).toBe(
		concurrencyLimitFor('key-a', 'https://api.eachlabs.ai'),
	);
	expect(concurrencyLimitFor('key-a', 'https://api.eachlabs.ai')).not.toBe(
		concurrencyLimitFor('key-b', 'https://api.eachlabs.ai'),
	);
	expect(concurrencyLimitFor('key-c', 'x').capacity).toBe(10);
});
