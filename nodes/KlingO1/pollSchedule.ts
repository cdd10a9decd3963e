import { createHash } from 'crypto';
import { sleep } from 'n8n-workflow';

import { abortable } from './cancellation';
import { retryPolicy } from './retry';

/*
 * When to ask whether a prediction has finished. A poll costs a request; asking late costs the
 * time between the job's end and the node noticing it (the detection lag), during which the
 * prediction's slot stays taken and the queued item waits. So the node polls where jobs end:
 *
 * - it remembers, per API key and per settings that change the work (resolution, number of
 *   images), how long recent predictions of this process took, and how long those still running
 *   have been seen running (a job still running says "longer than that": without it, the jobs
 *   that ended first would be the whole picture and a batch's slower jobs would look overdue);
 * - from those it models when a running job will end (a smoothed distribution of the recent
 *   times, weighted by Kaplan and Meier, the share still running past them all expected soon
 *   after, plus a small share of "could be anything") and spaces polls by the square-root law: a
 *   density of polls proportional to √(hazard / 2·pollCost), which minimises detection lag plus
 *   pollCost per poll. Few polls while no job has ever ended, dense ones where most end;
 * - the moment a job ends, the others of its key and settings plan again (`sleep` wakes up);
 * - before any job has ended it polls every second for the first seconds, then ever sparser;
 * - an explicit Poll Interval is a fixed interval, always;
 * - never more often than `floorMs` (less where the learned times are tight: jobs that all end
 *   within a few hundred ms are worth a few close polls there), never right after the create.
 * Everything here but the remembered and running times and the wake-ups is a pure function of
 * its arguments.
 */

export const pollPolicy = {
	/** The shortest wait between two polls of one prediction... */
	floorMs: 200,
	/**
	 * ... unless the learned job times are tight: then a quarter of their smoothing width, at
	 * least `minFloorMs`. Jobs that all end within a few hundred ms are worth a few close polls
	 * there (3 s ± 5 %: polls 40–150 ms apart around the end instead of 200).
	 */
	floorWidthShare: 0.25,
	minFloorMs: 40,
	/** The longest wait between two polls, whatever the model says. */
	ceilingMs: 30_000,
	/**
	 * What one poll is worth, in milliseconds of detection lag: the trade-off of the model. At
	 * most one smoothing width: where jobs end within a narrow window, a lag of 150 ms is most of
	 * the window, and a poll that shortens it is worth more.
	 */
	pollCostMs: 150,
	/** The smoothing width is never narrower than this share of the median job time. */
	minWidthShare: 0.015,
	/**
	 * ... and at least this share of the median job time: on long jobs a second of lag weighs
	 * less, so a poll is worth more of it (20–40 s jobs: about 360 ms).
	 */
	pollCostShare: 0.012,
	/** Share of the model that is not learned: a job may always end earlier or later. */
	unknownShare: 0.02,
	/**
	 * Jobs still running past every known time are expected to end within about this many
	 * smoothing widths (an exponential of that mean): soon, but not all at once.
	 */
	tailWidths: 1.5,
	/** Before any job ended: polls at most this share of the time waited so far apart. */
	coldShare: 0.3,
	/** ... and at least this far apart (a short job is still found within about a second). */
	coldMinMs: 1000,
	/** ... and at most this far apart. */
	coldMaxMs: 10_000,
	/** Times remembered per key and settings, newest first; older ones are forgotten. */
	maxSamples: 40,
	/** Times older than this are forgotten: the service's speed changes over a day. */
	maxAgeMs: 60 * 60 * 1000,
};

/**
 * Before any job of the key and settings ended: every second for the first few seconds (a short
 * job is found as quickly as before), then ever sparser, 30 % of the time waited so far (at most
 * 10 s): a 30 s job is polled 11 times before it ends instead of 20, for a first detection at most
 * 30 % late. The first job that ends teaches the others when to poll.
 */
export function adaptiveIntervalMs(elapsedMs: number, policy = pollPolicy): number {
	return Math.min(policy.coldMaxMs, Math.max(policy.coldMinMs, policy.coldShare * elapsedMs));
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
 * The smoothing width for `sorted` job times (Silverman's rule), never narrower than 1.5 % of the
 * median, and 10 % while fewer than three times are known.
 */
function bandwidthMs(sorted: readonly number[], policy = pollPolicy): number {
	const m = median(sorted);
	if (sorted.length < 3) return Math.max(0.1 * m, 1);
	const mean = sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
	const sd = Math.sqrt(sorted.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (sorted.length - 1));
	return Math.max(policy.minWidthShare * m, 1.06 * sd * sorted.length ** -0.2, 1);
}

/**
 * The share of the model each known time carries, and the share left beyond them all (`tail`),
 * by Kaplan and Meier: a job still running is a time known only to be longer than its last poll
 * that saw it running. Without them the jobs that ended first would be the whole picture, and a
 * batch's slower jobs, all still running, would look overdue and be polled as if ending any moment.
 */
function sharesOf(sorted: readonly number[], running: readonly number[]) {
	const events = [
		...sorted.map((ms, index) => ({ ms, index })),
		...running.map((ms) => ({ ms, index: -1 })),
	].sort((a, b) => a.ms - b.ms || b.index - a.index);
	const weights = Array<number>(sorted.length).fill(0);
	let atRisk = events.length;
	let left = 1;
	for (const { index } of events) {
		if (index >= 0) {
			weights[index] = left / atRisk;
			left -= weights[index];
		}
		atRisk--;
	}
	// The tail starts where the last job known to be still running was last seen running.
	return { weights, tail: left, from: Math.max(0, ...running) };
}

/**
 * The chance per millisecond that a job still running at `t` ends right then (the hazard), under
 * the model: recent times smoothed by `width`, each with its share; the share still running past
 * every known time, ending at a pace set by `width`; and an exponential of twice their median for
 * the unknown share.
 */
function hazardAt(
	t: number,
	sorted: readonly number[],
	width: number,
	shares: ReturnType<typeof sharesOf>,
	policy = pollPolicy,
): number {
	const { unknownShare } = policy;
	let density = 0;
	let survival = 0;
	sorted.forEach((x, index) => {
		const z = (t - x) / width;
		const weight = shares.weights[index];
		density += (weight * Math.exp((-z * z) / 2)) / (width * Math.sqrt(2 * Math.PI));
		survival += weight * 0.5 * (1 - erf(z / Math.SQRT2));
	});
	const mean = 2 * median(sorted);
	const learned = 1 - unknownShare;
	// Past the last time known, the running jobs end at a pace set by the spread of the known ones.
	const tailMean = policy.tailWidths * width;
	const tail = learned * shares.tail * Math.exp(-Math.max(0, t - shares.from) / tailMean);
	const f = learned * density + (unknownShare * Math.exp(-t / mean)) / mean + tail / tailMean;
	const s = learned * survival + unknownShare * Math.exp(-t / mean) + tail;
	return s > 0 ? f / s : 1 / mean;
}

/**
 * How long to wait after a poll at `elapsedMs` (counted from the create) that found the job still
 * running, knowing the recent job times `samples` and how long the jobs still running have been
 * seen running (`running`): the time over which the square-root law's poll density adds up to one
 * poll, within [floorMs, ceilingMs].
 */
export function learnedDelayMs(
	elapsedMs: number,
	samples: readonly number[],
	policy = pollPolicy,
	running: readonly number[] = [],
): number {
	const sorted = [...samples].sort((a, b) => a - b);
	const width = bandwidthMs(sorted, policy);
	const shares = sharesOf(sorted, running);
	const floor = Math.min(
		policy.floorMs,
		Math.max(policy.minFloorMs, policy.floorWidthShare * width),
	);
	const step = Math.max(floor / 4, width / 8);
	const pollCost = Math.max(
		Math.min(policy.pollCostMs, width),
		policy.pollCostShare * median(sorted),
	);
	let polls = 0;
	let t = elapsedMs;
	while (t - elapsedMs < policy.ceilingMs) {
		const rate = Math.sqrt(hazardAt(t + step / 2, sorted, width, shares, policy) / (2 * pollCost));
		if (polls + rate * step >= 1) {
			t += (1 - polls) / rate;
			break;
		}
		polls += rate * step;
		t += step;
	}
	return Math.min(policy.ceilingMs, Math.max(floor, Math.round(t - elapsedMs)));
}

/** The wait after a poll at `elapsedMs`: fixed, as before any job ended, or learned. */
export function pollDelayMs(
	elapsedMs: number,
	samples: readonly number[],
	fixedIntervalMs?: number,
	policy = pollPolicy,
	running: readonly number[] = [],
): number {
	if (fixedIntervalMs !== undefined) return fixedIntervalMs;
	if (samples.length === 0) return adaptiveIntervalMs(elapsedMs, policy);
	return learnedDelayMs(elapsedMs, samples, policy, running);
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

	/** Waiting predictions, woken by every change: a job that just ended may move their plans. */
	private readonly listeners = new Set<() => void>();

	/** Jobs of this process still running: how long each was last seen running, and when. */
	private readonly unfinished = new Set<{ ms: number; at: number }>();

	add(ms: number, now = Date.now(), policy = pollPolicy) {
		this.samples.unshift({ ms, at: now });
		this.samples.length = Math.min(this.samples.length, policy.maxSamples);
		this.version++;
		for (const listener of [...this.listeners]) listener();
	}

	/** Calls `listener` on every change until the returned function is called. */
	onChange(listener: () => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/** The job times still remembered at `now`. */
	recent(now = Date.now(), policy = pollPolicy): number[] {
		return this.samples.filter((s) => now - s.at <= policy.maxAgeMs).map((s) => s.ms);
	}

	/**
	 * A job starts: `seen(ms)` says a poll found it still running `ms` after its create; `stop()`
	 * when it ended or is no longer waited for.
	 */
	track(now = Date.now()) {
		const entry = { ms: 0, at: now };
		this.unfinished.add(entry);
		return {
			seen: (ms: number, at = Date.now()) => Object.assign(entry, { ms, at }),
			stop: () => this.unfinished.delete(entry),
		};
	}

	/**
	 * How long each unfinished job has been seen running. One that no poll has touched for twice
	 * the longest wait between polls is no longer waited for (its waiter stopped without saying).
	 */
	stillRunning(now = Date.now(), policy = pollPolicy): number[] {
		const running: number[] = [];
		for (const entry of this.unfinished) {
			if (now - entry.at > 2 * policy.ceilingMs) this.unfinished.delete(entry);
			else running.push(entry.ms);
		}
		return running;
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

	/** This job among the unfinished ones of the shared times, while it is waited for. */
	private readonly tracked?: ReturnType<JobTimes['track']>;

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
	) {
		this.tracked = options.jobTimes?.track(options.since);
	}

	/** How long to wait from `now` before the next poll (0: poll now). */
	delayMs(now = Date.now()): number {
		const { since, fixedIntervalMs, jobTimes, pollAtOnce } = this.options;
		if (this.lastPollAt === undefined && pollAtOnce) return 0;
		const from = this.lastPollAt ?? since;
		const version = jobTimes?.version ?? 0;
		if (!this.planned || this.planned.version !== version) {
			const samples = jobTimes?.recent(now) ?? [];
			const running = jobTimes?.stillRunning(now) ?? [];
			this.planned = {
				version,
				at: from + pollDelayMs(from - since, samples, fixedIntervalMs, pollPolicy, running),
			};
		}
		return Math.max(0, this.planned.at - now);
	}

	/**
	 * Waits `ms`, or less: as soon as another prediction of the same key and settings ends, since
	 * its time may bring this one's next poll forward (the job that ended first is the first sign
	 * of when the others, created with it, will end). Rejects with CancelledError on `signal`.
	 */
	async sleep(ms: number, signal: AbortSignal): Promise<void> {
		let stopListening: (() => void) | undefined;
		let isWoken = false;
		const woken = new Promise<void>((resolve) => {
			stopListening = this.options.jobTimes?.onChange(() => {
				isWoken = true;
				resolve();
			});
		});
		const end = Date.now() + ms;
		try {
			// In slices, as `pause` does: a timer never outlives the wait by more than one slice.
			while (!isWoken && Date.now() < end) {
				const slice = sleep(Math.min(end - Date.now(), retryPolicy.sleepSliceMs));
				await abortable(Promise.race([slice, woken]), signal);
			}
		} finally {
			stopListening?.();
		}
	}

	/** A poll sent at `sentAt` found the job still running. */
	running(sentAt: number) {
		this.lastPollAt = sentAt;
		this.runningMs = sentAt - this.options.since;
		this.tracked?.seen(this.runningMs, sentAt);
		this.planned = undefined;
	}

	/** The job is no longer waited for (it ended, failed, timed out or the run stopped). */
	stop() {
		this.tracked?.stop();
	}

	/** A poll sent at `sentAt` and answered at `answeredAt` found the job ended. */
	ended(answeredAt: number, predictTimeSeconds?: number | null) {
		const { since, jobTimes } = this.options;
		this.stop();
		jobTimes?.add(
			observedJobMs(this.runningMs, answeredAt - since, predictTimeSeconds ?? undefined),
		);
	}
}
