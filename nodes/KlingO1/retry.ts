import { sleep } from 'n8n-workflow';

import { CancelledError } from './cancellation';

/**
 * How long to wait between attempts. A module object (not constants) so the tests can shrink the
 * delays without a second code path; n8n itself always runs with these values.
 */
export const retryPolicy = {
	baseDelayMs: 1000,
	maxDelayMs: 30_000,
	/** The least wait after a rate limit, even when the server says `Retry-After: 0`. */
	minServerWaitMs: 1000,
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

export type Attempt<T> =
	| { done: T }
	| {
			/** What went wrong, for the final error if no retry succeeds in time. */
			retry: string;
			/** The server's own wait (Retry-After), used instead of backoff. */
			waitMs?: number;
	  };

/** What the last attempt reported when no retry succeeded in time. */
export class RetriesExhausted {
	constructor(readonly message: string) {}
}

/**
 * Runs `attempt` until it is done or throws, or gives up (returns RetriesExhausted) when the next
 * wait would end after `deadline`: transient failures are retried for as long as the item's time
 * lasts. Waits are exponential with jitter, or what the server asked for (never less than
 * `minServerWaitMs`, plus up to a fifth more so that items do not return all at once).
 */
export async function retryUntil<T>(
	attempt: (round: number) => Promise<Attempt<T>>,
	limits: { deadline: number; signal: AbortSignal; minAttempts?: number },
): Promise<T | RetriesExhausted> {
	for (let round = 0; ; round++) {
		const outcome = await attempt(round);
		if ('done' in outcome) return outcome.done;
		const wait =
			outcome.waitMs === undefined
				? backoffDelay(Math.min(round, 10))
				: Math.max(outcome.waitMs, retryPolicy.minServerWaitMs) * (1 + Math.random() / 5);
		// `minAttempts` lets a download that starts late still try a few times.
		if (Date.now() + wait > limits.deadline && round + 1 >= (limits.minAttempts ?? 1)) {
			return new RetriesExhausted(outcome.retry);
		}
		await pause(wait, limits.signal);
	}
}

/** `retryUntil`, throwing the error `giveUp` builds from the last problem when no retry succeeded. */
export async function retryOrGiveUp<T>(
	attempt: (round: number) => Promise<Attempt<T>>,
	limits: { deadline: number; signal: AbortSignal; minAttempts?: number },
	giveUp: (message: string) => Error,
): Promise<T> {
	const result = await retryUntil(attempt, limits);
	if (result instanceof RetriesExhausted) throw giveUp(result.message);
	return result;
}
