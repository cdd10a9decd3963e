/*
 * The arithmetic of the speed benchmark: what no client can beat, given the job times the fake
 * drew, and the figures per run. Pure functions, unit-tested in test/unit/benchFigures.test.ts.
 */

/** Eachlabs runs at most this many predictions per API key at once. */
export const SLOTS = 10;

/**
 * No client finishes the jobs sooner than this: the longest job, or all job time spread evenly
 * over the slots (for N equal jobs of T: ceil(N / 10) × T when N is a multiple of 10).
 */
export function floorMs(jobMs: readonly number[], slots = SLOTS): number {
	if (jobMs.length === 0) return 0;
	const total = jobMs.reduce((sum, ms) => sum + ms, 0);
	return Math.max(Math.max(...jobMs), total / slots);
}

/**
 * The best 10-slot pool fed the same job times in creation order: each job starts the moment a
 * slot frees (no request, poll or detection time), and the last one ends at the returned time.
 */
export function bestPoolMs(jobMs: readonly number[], slots = SLOTS): number {
	const free = Array<number>(Math.min(slots, jobMs.length)).fill(0);
	for (const ms of jobMs) {
		let earliest = 0;
		for (let i = 1; i < free.length; i++) if (free[i] < free[earliest]) earliest = i;
		free[earliest] += ms;
	}
	return free.length ? Math.max(...free) : 0;
}

/** The q-quantile (0…1) by the nearest-rank method; NaN for no values. */
export function quantile(values: readonly number[], q: number): number {
	if (values.length === 0) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
	return sorted[rank - 1];
}

/** What the fake recorded for one prediction (see dev/fake-eachlabs, `timings()`). */
export interface Timing {
	createdAt: number;
	jobMs: number;
	endedAt: number | null;
	seenEndedAt: number | null;
	polls: number;
}

/** The most predictions unfinished at once, from their created and ended times. */
export function maxInFlight(timings: readonly Timing[]): number {
	const events = timings.flatMap((t) => [
		{ at: t.createdAt, step: 1 },
		{ at: t.endedAt ?? Number.POSITIVE_INFINITY, step: -1 },
	]);
	// An end and a start at the same millisecond: the end first, as the API counts it.
	events.sort((a, b) => a.at - b.at || a.step - b.step);
	let now = 0;
	let most = 0;
	for (const event of events) {
		now += event.step;
		most = Math.max(most, now);
	}
	return most;
}

/** Polls per second of job time of these predictions. */
export function pollsPerJobSecond(timings: readonly Timing[]): number {
	const polls = timings.reduce((sum, t) => sum + t.polls, 0);
	const jobSeconds = timings.reduce((sum, t) => sum + t.jobMs, 0) / 1000;
	return jobSeconds ? polls / jobSeconds : Number.NaN;
}

/**
 * Polls per job-second of the first `slots` predictions (created before any had ended, so they
 * poll knowing nothing) and of the rest.
 */
export function pollsByWave(timings: readonly Timing[], slots = SLOTS) {
	const byCreation = [...timings].sort((a, b) => a.createdAt - b.createdAt);
	return {
		first: pollsPerJobSecond(byCreation.slice(0, slots)),
		rest: pollsPerJobSecond(byCreation.slice(slots)),
	};
}

/** The figures of one client's run, from its wall time and what its fake recorded. */
export function figuresOf(wallMs: number, timings: readonly Timing[]) {
	const jobs = timings.map((t) => t.jobMs);
	const lags = timings
		.filter((t) => t.endedAt !== null && t.seenEndedAt !== null)
		.map((t) => (t.seenEndedAt as number) - (t.endedAt as number));
	const polls = timings.reduce((sum, t) => sum + t.polls, 0);
	const floor = floorMs(jobs);
	const pool = bestPoolMs(jobs);
	return {
		wallMs,
		floorMs: floor,
		poolMs: pool,
		toFloor: wallMs / floor,
		toPool: wallMs / pool,
		lagP50Ms: quantile(lags, 0.5),
		lagP95Ms: quantile(lags, 0.95),
		medianJobMs: quantile(jobs, 0.5),
		pollsPerPrediction: timings.length ? polls / timings.length : Number.NaN,
		pollsPerJobSecond: pollsPerJobSecond(timings),
		maxInFlight: maxInFlight(timings),
	};
}
