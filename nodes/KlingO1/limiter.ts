import { createHash } from 'crypto';
import { sleep } from 'n8n-workflow';

import { MAX_IN_FLIGHT_PER_KEY } from './constants';
import { CancelledError } from './cancellation';
import { retryPolicy } from './retry';
import { KeyWindow } from './window';

/** What the create path tells the slot it holds, and waits on before each send. */
export interface CreateFeedback {
	/** Resolves at once, or after a 429 once this process has room for the create again. */
	ready(signal?: AbortSignal): Promise<void>;
	/** The API created the prediction. */
	accepted(): void;
	/** The API answered 429 (asking to wait `retryAfterMs`): this process holds fewer predictions. */
	rateLimited(retryAfterMs?: number): void;
}

/** Frees the slot when called (at most once counts); also the create path's feedback. */
export type Release = (() => void) & CreateFeedback;

interface Lease {
	released: boolean;
	/** Its create got a 429 and it waits for room; it keeps its place among the holders. */
	parked: boolean;
	/** The window's epoch when its create was last let go. */
	sentEpoch: number;
	/** Set while it waits in `ready`. */
	resume?: () => void;
}

/**
 * After a 429 this process asks again no sooner than Retry-After times 1 to 1 + `spread`, at
 * random. Workers that found the key full at the same moment would otherwise ask again in step,
 * once per Retry-After, and keep missing the short moments when a holder's prediction has ended
 * but its process has not yet seen it (the only time another worker can get in): at random
 * moments they ask less often and land in those gaps sooner (README, "Queue mode", has the
 * figures). A process alone gets a 429 only from the 100-creates-a-minute limit, so this rarely
 * slows it.
 */
export const quietPolicy = {
	spread: 1,
};

/**
 * The slots of one API key in this process: at most `window.limit` holders, the rest wait in
 * order. The limit follows the API's answers (window.ts): 10 for a process alone, about its share
 * when several n8n workers use the key. A holder whose create got a 429 is "parked": after its
 * Retry-After it waits for room, which one of this process's own predictions ending gives (a place
 * freed at the API), instead of asking again blindly; it goes before any item still queued. With
 * none of its own running, parked creates ask one at a time, once per Retry-After.
 */
export class ConcurrencyLimit {
	private held = 0;

	private parked = 0;

	private readonly waiting: Array<() => void> = [];

	private readonly parkedWaiting: Lease[] = [];

	/**
	 * After a 429 and until then (or until an own prediction ends or is accepted), parked creates
	 * stay parked: a 429 for one of them must not let the next one ask at once (a burst of 429s).
	 * It lasts Retry-After plus a random share of it (quietPolicy).
	 */
	private quietUntil = 0;

	private wakeScheduled = false;

	readonly window: KeyWindow;

	constructor(
		readonly capacity: number,
		private readonly clock: () => number = Date.now,
		private readonly random: () => number = Math.random,
	) {
		this.window = new KeyWindow(capacity);
	}

	/** Holders: items whose create is being sent, whose prediction runs, or that are parked. */
	get inFlight() {
		return this.held;
	}

	get queued() {
		return this.waiting.length;
	}

	get limit() {
		return this.window.limit;
	}

	/** Holders whose create is being sent or whose prediction runs. */
	private get active() {
		return this.held - this.parked;
	}

	/** Resolves with a release function once a slot is free; rejects if the signal fires first. */
	async acquire(signal?: AbortSignal): Promise<Release> {
		if (signal?.aborted) throw new CancelledError();
		if (this.held < this.limit && this.waiting.length === 0) return this.take();
		return await new Promise((resolve, reject) => {
			const grant = () => {
				signal?.removeEventListener('abort', onAbort);
				resolve(this.take());
			};
			const onAbort = () => {
				const index = this.waiting.indexOf(grant);
				if (index >= 0) this.waiting.splice(index, 1);
				reject(new CancelledError());
			};
			signal?.addEventListener('abort', onAbort, { once: true });
			this.waiting.push(grant);
		});
	}

	private take(): Release {
		this.held++;
		this.window.inFlightChanged(this.active, this.clock());
		const lease: Lease = { released: false, parked: false, sentEpoch: this.window.epoch };
		return Object.assign(() => this.release(lease), {
			ready: async (signal?: AbortSignal) => await this.ready(lease, signal),
			accepted: () => this.accepted(lease),
			rateLimited: (retryAfterMs?: number) => this.rateLimited(lease, retryAfterMs),
		});
	}

	private async ready(lease: Lease, signal?: AbortSignal) {
		if (signal?.aborted) throw new CancelledError();
		if (!lease.parked || lease.released) return;
		await new Promise<void>((resolve, reject) => {
			const onAbort = () => {
				const index = this.parkedWaiting.indexOf(lease);
				if (index >= 0) this.parkedWaiting.splice(index, 1);
				lease.resume = undefined;
				reject(new CancelledError());
			};
			lease.resume = () => {
				signal?.removeEventListener('abort', onAbort);
				lease.resume = undefined;
				resolve();
			};
			signal?.addEventListener('abort', onAbort, { once: true });
			this.parkedWaiting.push(lease);
			this.pump();
		});
	}

	private accepted(lease: Lease) {
		if (lease.released || lease.parked) return;
		this.quietUntil = 0;
		this.window.accepted(this.active);
		this.pump();
	}

	private rateLimited(lease: Lease, retryAfterMs = 0) {
		if (lease.released || lease.parked) return;
		const wait = Math.max(retryAfterMs, retryPolicy.minServerWaitMs);
		this.quietUntil = this.clock() + wait * (1 + quietPolicy.spread * this.random());
		lease.parked = true;
		this.parked++;
		this.window.rateLimited(this.active, lease.sentEpoch);
		this.window.inFlightChanged(this.active, this.clock());
		this.pump();
	}

	private release(lease: Lease) {
		if (lease.released) return;
		lease.released = true;
		if (lease.parked) {
			lease.parked = false;
			this.parked--;
			const index = this.parkedWaiting.indexOf(lease);
			if (index >= 0) this.parkedWaiting.splice(index, 1);
		} else this.quietUntil = 0;
		this.held--;
		this.window.inFlightChanged(this.active, this.clock());
		this.pump();
	}

	/**
	 * Lets holders and waiters go while the window has room. Parked holders first: they already
	 * hold their place, and an own prediction that just ended is a slot free at the API.
	 */
	private pump() {
		while (
			this.parkedWaiting.length > 0 &&
			this.active < this.limit &&
			this.clock() >= this.quietUntil
		) {
			const lease = this.parkedWaiting.shift() as Lease;
			lease.parked = false;
			this.parked--;
			lease.sentEpoch = this.window.epoch;
			this.window.inFlightChanged(this.active, this.clock());
			lease.resume?.();
			// One at a time until the API has answered it.
			if (this.active > 0 && this.quietUntil > 0) this.quietUntil = Number.POSITIVE_INFINITY;
		}
		while (this.waiting.length > 0 && this.held < this.limit) {
			(this.waiting.shift() as () => void)();
		}
		this.wakeWhenQuietEnds();
	}

	/** Parked creates held back only by the quiet time go when it ends, even if nothing else moves. */
	private wakeWhenQuietEnds() {
		const wait = this.quietUntil - this.clock();
		if (this.wakeScheduled || this.parkedWaiting.length === 0 || this.active >= this.limit) return;
		if (wait <= 0 || !Number.isFinite(wait)) return;
		this.wakeScheduled = true;
		void sleep(wait).then(() => {
			this.wakeScheduled = false;
			this.pump();
		});
	}
}

const limitsByKey = new Map<string, ConcurrencyLimit>();

/** The key is hashed so that the raw API key is never kept as a map key. */
export function concurrencyLimitFor(apiKey: string, baseUrl: string): ConcurrencyLimit {
	const id = createHash('sha256').update(`${baseUrl}\n${apiKey}`).digest('hex');
	let slots = limitsByKey.get(id);
	if (!slots) {
		slots = new ConcurrencyLimit(MAX_IN_FLIGHT_PER_KEY);
		limitsByKey.set(id, slots);
	}
	return slots;
}
