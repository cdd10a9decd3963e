import { Slots, slotsFor } from '../../nodes/KlingO1/limiter';
import { CancelledError } from '../../nodes/KlingO1/retry';

const tick = async () => await new Promise((resolve) => setImmediate(resolve));

test('never more than capacity holders; waiters start in order as slots free', async () => {
	const slots = new Slots(2);
	const order: number[] = [];
	const releases = await Promise.all([slots.acquire(), slots.acquire()]);
	const waiting = [3, 4, 5].map(async (n) => {
		const release = await slots.acquire();
		order.push(n);
		return release;
	});
	await tick();
	expect(slots.inFlight).toBe(2);
	expect(slots.queued).toBe(3);
	releases[0]();
	await tick();
	expect(order).toEqual([3]);
	expect(slots.inFlight).toBe(2);
	releases[1]();
	releases[1](); // a second call must not free a second slot
	await tick();
	expect(order).toEqual([3, 4]);
	expect(slots.inFlight).toBe(2);
	(await waiting[0])();
	await tick();
	expect(order).toEqual([3, 4, 5]);
});

test('a waiter whose signal fires leaves the queue without taking a slot', async () => {
	const slots = new Slots(1);
	const release = await slots.acquire();
	const controller = new AbortController();
	const waiting = slots.acquire(controller.signal);
	controller.abort();
	await expect(waiting).rejects.toBeInstanceOf(CancelledError);
	expect(slots.queued).toBe(0);
	release();
	expect(slots.inFlight).toBe(0);
});

test('one limiter per API key and base URL, shared by every caller', () => {
	expect(slotsFor('key-a', 'https://api.eachlabs.ai')).toBe(
		slotsFor('key-a', 'https://api.eachlabs.ai'),
	);
	expect(slotsFor('key-a', 'https://api.eachlabs.ai')).not.toBe(
		slotsFor('key-b', 'https://api.eachlabs.ai'),
	);
	expect(slotsFor('key-c', 'x').capacity).toBe(10);
});
