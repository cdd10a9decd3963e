/*
 * Cancellation: what stops an item before it is done. The user stops the execution, or the batch
 * halts because another item failed (its abort signal), or the item's time runs out (its deadline).
 */

export class CancelledError extends Error {
	constructor() {
		super('The execution was stopped');
		this.name = 'CancelledError';
	}
}

/** How long an item may still work (a time in ms since the epoch) and what stops it earlier. */
export interface ItemDeadline {
	itemIndex: number;
	deadline: number;
	signal: AbortSignal;
}

/** The item's deadline: `timeoutSeconds` counted from `since`. */
export const deadlineOf = (
	itemIndex: number,
	signal: AbortSignal,
	timeoutSeconds: number,
	since = Date.now(),
): ItemDeadline => ({ itemIndex, deadline: since + timeoutSeconds * 1000, signal });

/**
 * Settles with `work`, or rejects with CancelledError as soon as the signal fires; the work itself
 * is left to finish on its own (its outcome is ignored).
 */
export async function abortable<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
	if (!signal) return await work;
	let onAbort = () => {};
	const aborted = new Promise<never>((_, reject) => {
		onAbort = () => reject(new CancelledError());
		if (signal.aborted) onAbort();
		else signal.addEventListener('abort', onAbort, { once: true });
	});
	work.catch(() => {});
	try {
		return await Promise.race([work, aborted]);
	} finally {
		signal.removeEventListener('abort', onAbort);
	}
}
