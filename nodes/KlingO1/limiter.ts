import { createHash } from 'crypto';

import { MAX_IN_FLIGHT_PER_KEY } from './constants';
import { CancelledError } from './retry';

/**
 * A counting semaphore: at most `capacity` holders, the rest wait in order. One per API key and
 * process, so every item of every execution that shares a key shares its 10 slots.
 */
export class Slots {
	private held = 0;

	private readonly waiting: Array<() => void> = [];

	constructor(readonly capacity: number) {}

	get inFlight() {
		return this.held;
	}

	get queued() {
		return this.waiting.length;
	}

	/** Resolves with a release function once a slot is free; rejects if the signal fires first. */
	async acquire(signal?: AbortSignal): Promise<() => void> {
		if (signal?.aborted) throw new CancelledError();
		if (this.held < this.capacity) {
			this.held++;
			return this.releaser();
		}
		return await new Promise((resolve, reject) => {
			const grant = () => {
				signal?.removeEventListener('abort', onAbort);
				this.held++;
				resolve(this.releaser());
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

	private releaser() {
		let released = false;
		return () => {
			if (released) return;
			released = true;
			this.held--;
			this.waiting.shift()?.();
		};
	}
}

const slotsByKey = new Map<string, Slots>();

/** The key is hashed so that the raw API key is never kept as a map key. */
export function slotsFor(apiKey: string, baseUrl: string): Slots {
	const id = createHash('sha256').update(`${baseUrl}\n${apiKey}`).digest('hex');
	let slots = slotsByKey.get(id);
	if (!slots) {
		slots = new Slots(MAX_IN_FLIGHT_PER_KEY);
		slotsByKey.set(id, slots);
	}
	return slots;
}
