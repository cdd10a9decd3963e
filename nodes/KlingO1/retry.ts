import { sleep } from 'n8n-workflow';

/**
 * How long to wait between attempts. A module object (not constants) so the tests can shrink the
 * delays without a second code path; n8n itself always runs with these values.
 */
export const retryPolicy = {
	baseDelayMs: 1000,
	maxDelayMs: 30_000,
	/** Attempts for 5xx and connection failures; 429s are retried for as long as time remains. */
	maxAttempts: 8,
	/** The longest single sleep; cancellation is checked at least this often. */
	sleepSliceMs: 200,
};

/** Exponential backoff with jitter, so that many items retrying together spread out. */
export function backoffDelay(attempt: number): number {
	const ceiling = Math.min(retryPolicy.maxDelayMs, retryPolicy.baseDelayMs * 2 ** attempt);
	return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** `Retry-After` as seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(headers: Record<string, unknown> | undefined): number | undefined {
	const raw = headers?.['retry-after'] ?? headers?.['Retry-After'];
	if (raw === undefined || raw === null || raw === '') return undefined;
	const text = String(Array.isArray(raw) ? raw[0] : raw).trim();
	if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
	const date = Date.parse(text);
	return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export class CancelledError extends Error {
	constructor() {
		super('The execution was stopped');
		this.name = 'CancelledError';
	}
}

/** Waits `ms`, but gives up at once when the signal fires (the user stopped the execution). */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
	const end = Date.now() + ms;
	for (;;) {
		if (signal?.aborted) throw new CancelledError();
		const left = end - Date.now();
		if (left <= 0) return;
		await sleep(Math.min(left, retryPolicy.sleepSliceMs));
	}
}
