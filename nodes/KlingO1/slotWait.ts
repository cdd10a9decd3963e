import type { INode } from 'n8n-workflow';

import { MAX_IN_FLIGHT_PER_KEY } from './constants';
import { queuedTooLongError } from './errors';
import type { Release, ConcurrencyLimit } from './limiter';
import { CancelledError } from './cancellation';

/*
 * How long an item may wait for one of the 10 slots (README, "Cost and limits"). A queued item
 * must never wait forever, e.g. behind another workflow's long batch:
 * - an AI Agent tool call has someone waiting for it: its queue time counts against its Timeout;
 * - a batch item waits at most Timeout × (1 + ⌊item index ÷ 10⌋): enough for every item of its
 *   own run ahead of it to use its full Timeout, ten at a time, plus one Timeout for other work.
 */

/** The moment a queued item gives up, counted from when it started waiting. */
export function queueDeadline(
	startedAt: number,
	timeoutSeconds: number,
	itemIndex: number,
	toolCall: boolean,
): number {
	const rounds = toolCall ? 1 : 1 + Math.floor(itemIndex / MAX_IN_FLIGHT_PER_KEY);
	return startedAt + timeoutSeconds * 1000 * rounds;
}

/**
 * A slot, or (when `deadline` passes first) the error that says nothing was created. Rejects
 * with CancelledError when `signal` fires (the run halted or was stopped).
 */
export async function waitForSlot(
	slots: ConcurrencyLimit,
	signal: AbortSignal,
	limits: {
		node: INode;
		itemIndex: number;
		startedAt: number;
		deadline: number;
		toolCall: boolean;
	},
): Promise<Release> {
	const patience = AbortSignal.timeout(Math.max(1, limits.deadline - Date.now()));
	// `acquire` only ever rejects because one of the two signals fired.
	const release = await slots.acquire(AbortSignal.any([signal, patience])).catch(() => undefined);
	if (release) return release;
	if (signal.aborted) throw new CancelledError();
	throw queuedTooLongError(limits.node, {
		itemIndex: limits.itemIndex,
		waitedSeconds: Math.round((Date.now() - limits.startedAt) / 1000),
		toolCall: limits.toolCall,
	});
}
