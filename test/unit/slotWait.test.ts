import type { INode } from 'n8n-workflow';

import { ConcurrencyLimit } from '../../nodes/KlingO1/limiter';
import { CancelledError } from '../../nodes/KlingO1/cancellation';
import { queueDeadline, waitForSlot } from '../../nodes/KlingO1/slotWait';

const node = { name: 'Kling O1' } as INode;

test('a batch item may wait one Timeout per 10 items ahead of it in its run, plus one', () => {
	expect(queueDeadline(0, 2, 0, false)).toBe(2000);
	expect(queueDeadline(0, 2, 9, false)).toBe(2000);
	expect(queueDeadline(0, 2, 10, false)).toBe(4000);
	expect(queueDeadline(0, 2, 19, false)).toBe(4000);
	expect(queueDeadline(1000, 600, 45, false)).toBe(1000 + 600_000 * 5);
});

test('an AI Agent tool call waits at most its Timeout, whatever its item index', () => {
	expect(queueDeadline(0, 5, 0, true)).toBe(5000);
	expect(queueDeadline(0, 5, 30, true)).toBe(5000);
});

test('a free slot is taken at once; a full queue gives up at the deadline with the message', async () => {
	const slots = new ConcurrencyLimit(1);
	const signal = new AbortController().signal;
	const limits = { node, itemIndex: 4, startedAt: Date.now(), toolCall: false };
	const release = await waitForSlot(slots, signal, { ...limits, deadline: Date.now() + 5000 });
	const started = Date.now();
	await expect(
		waitForSlot(slots, signal, { ...limits, deadline: Date.now() + 300 }),
	).rejects.toMatchObject({
		message: 'Gave up after waiting 0 seconds for a free slot: nothing was created',
		context: { itemIndex: 4 },
	});
	expect(Date.now() - started).toBeGreaterThanOrEqual(250);
	expect(slots.queued).toBe(0);
	release();
	expect(slots.inFlight).toBe(0);
});

test('a halted or stopped run ends the wait with CancelledError, not the queue message', async () => {
	const slots = new ConcurrencyLimit(1);
	const release = await slots.acquire();
	const controller = new AbortController();
	const waiting = waitForSlot(slots, controller.signal, {
		node,
		itemIndex: 0,
		startedAt: Date.now(),
		deadline: Date.now() + 5000,
		toolCall: true,
	});
	controller.abort();
	await expect(waiting).rejects.toBeInstanceOf(CancelledError);
	expect(slots.queued).toBe(0);
	release();
});
