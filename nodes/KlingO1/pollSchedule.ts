import { createHash } from 'crypto';

/*
 * When to ask whether a prediction has finished. A poll costs a request; asking late costs the
 * time between the job's end and the node noticing it (the detection lag), during which the
 * prediction's slot stays taken and the queued item waits. So the node polls where jobs end:
 *
 * - it remembers, per API key and per settings that change the work (resolution, number of
 *   images), how long recent predictions of this process took;
 * - from those times it models when a running job will end (a smoothed distribution of the recent
 *   times, plus a small share of "could be anything" so that an unusually slow or fast job is
 *   still found) and spaces polls by the square-root law: a density of polls proportional to
 *   √(hazard / 2·pollCost), which minimises detection lag plus pollCost per poll. Few polls while
 *   no job has ever ended, dense ones where most end, fewer again once the job runs long;
 * - before any prediction has ended it polls as it always did (quick at first, slower later);
 * - an explicit Poll Interval is a fixed interval, always;
 * - never more often than `floorMs`.
 * Everything here but the remembered times is a pure function of its arguments.
 */

/** How often a waiting prediction looks again at its plan, which what others learn may move. */
export const REPLAN_MS = 250;

export const pollPolicy = {
	/** The shortest wait between two polls of one prediction. */
	floorMs: 200,
	/** The longest wait between two polls, whatever the model says. */
	ceilingMs: 30_000,
	/** What one poll is worth, in milliseconds of detection lag: the trade-off of the model. */
	pollCostMs: 150,
	/** Share of the model that is not learned: a job may always end earlier or later. */
	unknownShare: 0.02,
	/** Times remembered per key and settings, newest first; older ones are forgotten. */
	maxSamples: 40,
	/** Times older than this are forgotten: the service's speed changes over a day. */
	maxAgeMs: 60 * 60 * 1000,
};

/** Quick at first, slower on long jobs: what the node does before it knows any job time. */
export function adaptiveIntervalMs(elapsedMs: number): number {
	if (elapsedMs < 10_000) return 1000;
	if (elapsedMs < 60_000) return 2000;
	if (elapsedMs < 180_000) return 5000;
	return 10_000;
}

// ---- the model: recent job times → when to poll next ----

/** erf by Abramowitz & Stegun 7.1.26 (error below 1.5e-7): enough to place a poll. */
function erf(x: number): number {
	const t = 1 / (1 + 0.3275911 * Math.abs(x));
	const y =
		1 -
		((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
			t *
			Math.exp(-x * x);
	return x >= 0 ? y : -y;
}

const median = (sorted: readonly number[]) => {
	const mid = sorted.length >> 1;
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * The smoothing width for `sorted` job times (Silverman's rule), never narrower than 3 % of the
 * median, and 10 % while fewer than three times are known.
 */
function bandwidthMs(sorted: readonly number[]): number {
	const m = median(sorted);
	if (sorted.length < 3) return Math.max(0.1 * m, 1);
	const mean = sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
	const sd = Math.sqrt(sorted.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (sorted.length - 1));
	return Math.max(0.03 * m, 1.06 * sd * sorted.length ** -0.2, 1);
}

/**
 * The chance per millisecond that a job still running at `t` ends right then (the hazard), under
 * the model: recent times smoothed by `width`, mixed with an exponential of twice their median.
 */
function hazardAt(
	t: number,
	sorted: readonly number[],
	width: number,
	unknownShare = pollPolicy.unknownShare,
): number {
	let density = 0;
	let survival = 0;
	for (const x of sorted) {
		const z = (t - x) / width;
		density += Math.exp((-z * z) / 2) / (width * Math.sqrt(2 * Math.PI));
		survival += 0.5 * (1 - erf(z / Math.SQRT2));
	}
	const mean = 2 * median(sorted);
	const learned = 1 - unknownShare;
	const f = (learned * density) / sorted.length + (unknownShare * Math.exp(-t / mean)) / mean;
	const s = (learned * survival) / sorted.length + unknownShare * Math.exp(-t / mean);
	return s > 0 ? f / s : 1 / mean;
}

/**
 * How long to wait after a poll at `elapsedMs` (counted from the create) that found the job still
 * running, knowing the recent job times `samples`: the time over which the square-root law's
 * poll density adds up to one poll, within [floorMs, ceilingMs].
 */
export function learnedDelayMs(
	elapsedMs: number,
	samples: readonly number[],
	policy = pollPolicy,
): number {
	const sorted = [...samples].sort((a, b) => a - b);
	const width = bandwidthMs(sorted);
	const step = Math.max(policy.floorMs / 4, width / 8);
	let polls = 0;
	let t = elapsedMs;
	while (t - elapsedMs < policy.ceilingMs) {
		const rate = Math.sqrt(
			hazardAt(t + step / 2, sorted, width, policy.unknownShare) / (2 * policy.pollCostMs),
		);
		if (polls + rate * step >= 1) {
			t += (1 - polls) / rate;
			break;
		}
		polls += rate * step;
		t += step;
	}
	return Math.min(policy.ceilingMs, Math.max(policy.floorMs, Math.round(t - elapsedMs)));
}

/** The wait after a poll at `elapsedMs`: fixed, as before any job ended, or learned. */
export function pollDelayMs(
	elapsedMs: number,
	samples: readonly number[],
	fixedIntervalMs?: number,
	policy = pollPolicy,
): number {
	if (fixedIntervalMs !== undefined) return fixedIntervalMs;
	if (samples.length === 0) return adaptiveIntervalMs(elapsedMs);
	return learnedDelayMs(elapsedMs, samples, policy);
}

/**
 * The job time to learn from one prediction, in ms from the create: the API's own
 * `predict_time` when it fits what the polls saw (the job was still running at `runningMs` and
 * had ended by `endedMs`), else the nearest end of that window, else its middle.
 */
export function observedJobMs(runningMs: number, endedMs: number, predictTimeSeconds?: number) {
	const reported = predictTimeSeconds != null ? predictTimeSeconds * 1000 : undefined;
	if (reported === undefined || !Number.isFinite(reported)) return (runningMs + endedMs) / 2;
	return Math.min(endedMs, Math.max(runningMs, reported));
}

// ---- what the process remembers ----

/** Recent job times of one API key and settings, shared by every item of the process. */
export class JobTimes {
	private samples: Array<{ ms: number; at: number }> = [];

	/** Bumped on every change, so a waiting prediction can tell the plan has moved. */
	version = 0;

	add(ms: number, now = Date.now(), policy = pollPolicy) {
		this.samples.unshift({ ms, at: now });
		this.samples.length = Math.min(this.samples.length, policy.maxSamples);
		this.version++;
	}

	/** The job times still remembered at `now`. */
	recent(now = Date.now(), policy = pollPolicy): number[] {
		return this.samples.filter((s) => now - s.at <= policy.maxAgeMs).map((s) => s.ms);
	}
}

const jobTimesById = new Map<string, JobTimes>();

/**
 * The shared job times for this key and the settings that change how long a job runs. The key
 * is hashed: the raw API key is never kept.
 */
export function jobTimesFor(
	apiKey: string,
	baseUrl: string,
	settings: { resolution: string; numImages: number },
): JobTimes {
	const id = createHash('sha256')
		.update(`${baseUrl}\n${apiKey}\n${settings.resolution}\n${settings.numImages}`)
		.digest('hex');
	let times = jobTimesById.get(id);
	if (!times) {
		times = new JobTimes();
		jobTimesById.set(id, times);
	}
	return times;
}

// ---- one prediction's polls ----

/**
 * The poll clock of one prediction. `delayMs()` is how long to wait before the next poll; it is
 * planned again whenever the shared times change, so a job that another one has just taught
 * something may be polled sooner than first planned.
 */
export class PollTimer {
	private lastPollAt?: number;

	private runningMs = 0;

	private planned?: { version: number; at: number };

	constructor(
		private readonly options: {
			/** When the prediction was created (or, for Get Prediction, when waiting began). */
			since: number;
			/** The user's Poll Interval: polls are then exactly this far apart. */
			fixedIntervalMs?: number;
			/** Shared times to plan with and to learn into; absent for Get Prediction. */
			jobTimes?: JobTimes;
			/** Poll at once (Get Prediction: the job may be long done) or after a first wait. */
			pollAtOnce?: boolean;
		},
	) {}

	/** How long to wait from `now` before the next poll (0: poll now). */
	delayMs(now = Date.now()): number {
		const { since, fixedIntervalMs, jobTimes, pollAtOnce } = this.options;
		if (this.lastPollAt === undefined && pollAtOnce) return 0;
		const from = this.lastPollAt ?? since;
		const version = jobTimes?.version ?? 0;
		if (!this.planned || this.planned.version !== version) {
			const samples = jobTimes?.recent(now) ?? [];
			this.planned = {
				version,
				at: from + pollDelayMs(from - since, samples, fixedIntervalMs),
			};
		}
		return Math.max(0, this.planned.at - now);
	}

	/** A poll sent at `sentAt` found the job still running. */
	running(sentAt: number) {
		this.lastPollAt = sentAt;
		this.runningMs = sentAt - this.options.since;
		this.planned = undefined;
	}

	/** A poll sent at `sentAt` and answered at `answeredAt` found the job ended. */
	ended(answeredAt: number, predictTimeSeconds?: number | null) {
		const { since, jobTimes } = this.options;
		jobTimes?.add(
			observedJobMs(this.runningMs, answeredAt - since, predictTimeSeconds ?? undefined),
		);
	}
}
