/**
 * How many predictions this process may have unfinished for one API key, learnt from the API's
 * answers the way TCP learns its congestion window. The API's limit (10 per key) is global, but
 * n8n's queue mode runs several worker processes that share nothing: each one listens to its own
 * creates instead.
 *
 * - Start at 1 and add 1 for every create accepted while the window was full ("slow start"): a
 *   process alone reaches 10 after 10 accepted creates, one create in the air at a time, so a
 *   crowded key answers 429 to at most one create per process.
 * - A 429 halves the window (never below 1), once per window: the 429s of creates sent before the
 *   window was lowered say nothing new.
 * - After a window's worth of creates accepted without a 429, try one more, and keep growing while
 *   the API keeps accepting: capacity freed by another worker is found within one round of jobs.
 * - After a long idle stretch, start again from 1: what the API said an hour ago is stale.
 *
 * Pure: no timers and no I/O; the caller passes the clock.
 */

/** Tuning of the window; one object so the unit tests can name the values they rely on. */
export const windowPolicy = {
	/** The window after a 429: this share of the creates still running (rounded down, at least 1). */
	decrease: 0.5,
	/** Nothing in flight for this long: the next burst starts from 1 again. */
	idleRestartMs: 60_000,
	/** After a successful probe, keep adding one per accepted create (else one per window). */
	keepGrowing: true,
};

export class KeyWindow {
	private current = 1;

	/** True while growing by one per accepted create (after start, idle, or a successful probe). */
	private growing = true;

	/** Creates accepted at a full window since the last change. */
	private streak = 0;

	/** Bumped on every decrease; a 429 for a create sent in an older epoch is not counted again. */
	private epochValue = 0;

	private idleSince: number | undefined;

	constructor(readonly max: number) {}

	get limit() {
		return this.current;
	}

	get epoch() {
		return this.epochValue;
	}

	/**
	 * The API accepted a create; `active` counts this process's creates being sent or running for
	 * the key, this one included. Only a full window is evidence that a larger one would be used.
	 */
	accepted(active: number) {
		if (active < this.current) return;
		if (this.growing) {
			this.grow();
			return;
		}
		this.streak++;
		if (this.streak >= this.current) {
			this.grow();
			this.growing = windowPolicy.keepGrowing;
		}
	}

	/**
	 * The API answered 429 to a create sent in `sentEpoch`; `active` counts the creates of this
	 * process still being sent or running (the rate-limited one excluded).
	 */
	rateLimited(active: number, sentEpoch: number) {
		this.growing = false;
		this.streak = 0;
		if (sentEpoch < this.epochValue) return;
		const lowered = Math.max(1, Math.floor(active * windowPolicy.decrease));
		this.current = Math.min(this.current, lowered);
		this.epochValue++;
	}

	/** Called whenever the count of creates sent or running changes; `now` is the caller's clock. */
	inFlightChanged(inFlight: number, now: number) {
		if (inFlight > 0) {
			if (this.idleSince !== undefined && now - this.idleSince >= windowPolicy.idleRestartMs) {
				this.restart();
			}
			this.idleSince = undefined;
			return;
		}
		this.idleSince ??= now;
	}

	private grow() {
		this.current = Math.min(this.max, this.current + 1);
		this.streak = 0;
	}

	private restart() {
		this.current = 1;
		this.growing = true;
		this.streak = 0;
	}
}
