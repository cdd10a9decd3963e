// When the node polls (pollSchedule.ts): pure functions of the job times it has seen, so these
// tests need no clock. The "targets" block replays the schedule against job times drawn from a
// seeded generator and checks the figures the benchmark must reach (polls per job-second and
// median lag), without any timing.
import {
	adaptiveIntervalMs,
	jobTimesFor,
	JobTimes,
	learnedDelayMs,
	observedJobMs,
	pollDelayMs,
	pollPolicy,
	PollTimer,
} from '../../nodes/KlingO1/pollSchedule';
// Repeatable job times from the fake server's own seeded generator.
import { mulberry32 } from '../../dev/fake-eachlabs/faults';

const uniform = (random: () => number, low: number, high: number) => () =>
	low + (high - low) * random();

/** The times at which a job that never ends is polled, up to `untilMs`. */
function pollTimes(samples: number[], untilMs: number) {
	const times: number[] = [];
	let t = 0;
	while (t < untilMs) {
		t += pollDelayMs(t, samples);
		times.push(t);
	}
	return times;
}

/** Polls and detection lag of a job of `jobMs` under the schedule (requests take no time). */
function replay(samples: number[], jobMs: number) {
	let t = 0;
	let polls = 0;
	do {
		t += pollDelayMs(t, samples);
		polls++;
	} while (t < jobMs);
	return { polls, lag: t - jobMs };
}

const medianOf = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

test('before any job ended: every second at first (short jobs found as before), then sparser', () => {
	const cold = pollTimes([], 40_000).map((t) => Math.round(t));
	expect(cold.slice(0, 4)).toEqual([1000, 2000, 3000, 4000]);
	// A 30 s job: 12 polls in all (the old ladder, 1 s to 10 s then 2 s: 21), found at most 30 % late.
	const upTo30 = cold.filter((t) => t < 30_000);
	expect(upTo30.length + 1).toBe(12);
	for (let i = 1; i < cold.length; i++) {
		expect(cold[i] - cold[i - 1]).toBeLessThanOrEqual(Math.max(1000, 0.3 * cold[i - 1]) + 1);
	}
	expect(adaptiveIntervalMs(0)).toBe(1000);
	expect(adaptiveIntervalMs(400_000)).toBe(10_000);
});

test('an explicit Poll Interval is used as it is, whatever was learned', () => {
	const samples = [3000, 3100, 2900];
	for (const elapsed of [0, 1000, 2900, 3000, 60_000]) {
		expect(pollDelayMs(elapsed, samples, 2000)).toBe(2000);
		expect(pollDelayMs(elapsed, [], 500)).toBe(500);
	}
});

test('learned: sparse before the known job times, dense around them, sparser after', () => {
	const random = uniform(mulberry32(1), 2850, 3150);
	const samples = Array.from({ length: 20 }, random);
	const times = pollTimes(samples, 8000);
	// No poll in the first two seconds: no 3 s job has ended that early.
	expect(times[0]).toBeGreaterThan(2000);
	// Around 3 s the polls are at most 300 ms apart ... ...
	const around = times.filter((t) => t >= 2800 && t <= 3400);
	expect(around.length).toBeGreaterThanOrEqual(3);
	for (let i = 1; i < around.length; i++) {
		expect(around[i] - around[i - 1]).toBeLessThanOrEqual(300);
	}
	// ... and a job that runs far longer than any seen is polled ever less often.
	const late = times.filter((t) => t > 4000);
	expect(late[late.length - 1] - late[late.length - 2]).toBeGreaterThan(500);
});

test('never more often than the floor, never less often than the ceiling', () => {
	const random = mulberry32(2);
	for (let i = 0; i < 200; i++) {
		const scale = 100 + random() * 100_000;
		const samples = Array.from({ length: 1 + Math.floor(random() * 40) }, () => scale * random());
		const elapsed = random() * scale * 3;
		const delay = learnedDelayMs(elapsed, samples);
		expect(delay).toBeGreaterThanOrEqual(pollPolicy.floorMs);
		expect(delay).toBeLessThanOrEqual(pollPolicy.ceilingMs);
	}
	// Identical times (a perfectly steady service) still keep the smallest floor.
	expect(learnedDelayMs(2990, Array(40).fill(3000))).toBeGreaterThanOrEqual(pollPolicy.minFloorMs);
});

test('tight job times: close polls around their end, never closer than the smallest floor', () => {
	// 3 s ± 5 %: every job ends within 300 ms, so polls 200 ms apart would leave ~100 ms of lag.
	const history = Array.from({ length: 40 }, uniform(mulberry32(3), 2850, 3150));
	const jobs = Array.from({ length: 300 }, uniform(mulberry32(4), 2850, 3150));
	const waits: number[] = [];
	const lags = jobs.map((jobMs) => {
		let t = 0;
		do {
			const wait = pollDelayMs(t, history);
			waits.push(wait);
			t += wait;
		} while (t < jobMs);
		return t - jobMs;
	});
	expect(Math.min(...waits)).toBeLessThan(pollPolicy.floorMs);
	expect(Math.min(...waits)).toBeGreaterThanOrEqual(pollPolicy.minFloorMs);
	expect(medianOf(lags)).toBeLessThanOrEqual(50);
	expect(waits.length / (jobs.reduce((sum, ms) => sum + ms, 0) / 1000)).toBeLessThanOrEqual(1);
	// Wide job times (3–6 s) keep the floor: the close polls are only for a narrow window.
	const wide = Array.from({ length: 40 }, uniform(mulberry32(3), 3000, 6000));
	for (let t = 0; t < 8000; t += 50) {
		expect(learnedDelayMs(t, wide)).toBeGreaterThanOrEqual(pollPolicy.floorMs);
	}
});

test('one known time is enough to stop polling early', () => {
	expect(pollDelayMs(0, [30_000])).toBeGreaterThan(10_000);
});

test('jobs still running count: a batch’s slower jobs are not polled as if overdue', () => {
	// One job of a batch ended at 20 s; nine others were seen running at 22 s.
	const nineRunning = Array(9).fill(22_000);
	const withThem = learnedDelayMs(22_000, [20_000], pollPolicy, nineRunning);
	const without = learnedDelayMs(22_000, [20_000]);
	expect(withThem).toBeGreaterThan(1.5 * without);
	// A job seen running before the known time says nothing new: the plan is the same.
	expect(learnedDelayMs(22_000, [20_000], pollPolicy, Array(9).fill(10_000))).toBe(without);
});

/**
 * A cold batch in simulated time: `n` jobs drawn like the fake's (seeded), 10 at once, each
 * freed slot refilled at once, every prediction with its own PollTimer on shared JobTimes that
 * start empty; requests take no time. Returns the figures the benchmark prints.
 */
function coldBatch(n: number, low: number, high: number, seed: number) {
	const random = uniform(mulberry32(seed), low, high);
	const jobs = Array.from({ length: n }, random);
	const jobTimes = new JobTimes();
	let now = 1_000_000;
	const running: Array<{ job: number; since: number; timer: PollTimer; polls: number }> = [];
	const start = (job: number) =>
		running.push({ job, since: now, timer: new PollTimer({ since: now, jobTimes }), polls: 0 });
	let created = 0;
	while (created < Math.min(10, n)) start(created++);
	let polls = 0;
	const lags: number[] = [];
	while (running.length) {
		const due = running.map((p) => now + p.timer.delayMs(now));
		const next = due.indexOf(Math.min(...due));
		const prediction = running[next];
		now = due[next];
		polls++;
		const endedAt = prediction.since + jobs[prediction.job];
		if (endedAt > now) {
			prediction.timer.running(now);
			continue;
		}
		lags.push(now - endedAt);
		prediction.timer.ended(now, jobs[prediction.job] / 1000);
		running.splice(next, 1);
		if (created < n) start(created++);
	}
	const jobSeconds = jobs.reduce((sum, ms) => sum + ms, 0) / 1000;
	return {
		pollsPerJobSecond: polls / jobSeconds,
		lagP50: medianOf(lags),
		medianJob: medianOf(jobs),
	};
}

describe('a cold batch of 30 (nothing learned before), simulated', () => {
	// What `npm run bench` measures through n8n, without the machine's noise: its targets, with a
	// little room for the requests' own time on 20–40 s jobs.
	const cases = [
		// name, low, high, most polls per job-second, largest median lag as a share of the median job
		['3 s (±5 %)', 2850, 3150, 1, 0.05],
		['3–6 s', 3000, 6000, 1, 0.08],
		['20–40 s', 20_000, 40_000, 0.33, 0.05],
	] as const;
	test.each(cases)('%s jobs', (_name, low, high, pollsPerJobSecond, lagShare) => {
		for (const seed of [1, 2, 3]) {
			const figures = coldBatch(30, low, high, seed);
			expect(figures.pollsPerJobSecond).toBeLessThanOrEqual(pollsPerJobSecond);
			expect(figures.lagP50).toBeLessThanOrEqual(lagShare * figures.medianJob);
		}
	});
});

describe('targets for learned polling: polls per job-second and median lag, with 40 learned times', () => {
	const cases = [
		// name, low, high, most polls per job-second, largest median lag as a share of the median job
		['3 s (±5 %)', 2850, 3150, 1, 0.05],
		['3–6 s', 3000, 6000, 1, 0.08],
		['20–40 s', 20_000, 40_000, 0.3, 0.05],
	] as const;
	test.each(cases)('%s jobs', (_name, low, high, pollsPerJobSecond, lagShare) => {
		const history = Array.from({ length: 40 }, uniform(mulberry32(3), low, high));
		const jobs = Array.from({ length: 300 }, uniform(mulberry32(4), low, high));
		const runs = jobs.map((jobMs) => replay(history, jobMs));
		const polls = runs.reduce((sum, run) => sum + run.polls, 0);
		const jobSeconds = jobs.reduce((sum, ms) => sum + ms, 0) / 1000;
		expect(polls / jobSeconds).toBeLessThanOrEqual(pollsPerJobSecond);
		expect(medianOf(runs.map((run) => run.lag))).toBeLessThanOrEqual(lagShare * medianOf(jobs));
	});
});

test('the job time learned: the API’s predict_time when it fits what the polls saw', () => {
	expect(observedJobMs(2800, 3100, 3.0)).toBe(3000);
	// A predict_time that leaves out queueing is raised to the last poll that saw it running.
	expect(observedJobMs(2800, 3100, 1.2)).toBe(2800);
	expect(observedJobMs(2800, 3100, 9)).toBe(3100);
	expect(observedJobMs(2800, 3100, undefined)).toBe(2950);
	expect(observedJobMs(2800, 3100, Number.NaN)).toBe(2950);
});

describe('the job times the process remembers', () => {
	test('the newest ones, at most maxSamples, forgotten after maxAgeMs', () => {
		const times = new JobTimes();
		const start = 1_000_000;
		for (let i = 0; i < pollPolicy.maxSamples + 5; i++) times.add(i, start + i);
		const recent = times.recent(start + 100);
		expect(recent).toHaveLength(pollPolicy.maxSamples);
		expect(recent[0]).toBe(pollPolicy.maxSamples + 4);
		expect(times.recent(start + pollPolicy.maxAgeMs + 1000)).toEqual([]);
	});

	test('shared by key and settings; another resolution, image count or key learns apart', () => {
		const settings = { resolution: '1K', numImages: 1 };
		const a = jobTimesFor('key-a', 'https://api.eachlabs.ai', settings);
		expect(jobTimesFor('key-a', 'https://api.eachlabs.ai', { ...settings })).toBe(a);
		expect(
			jobTimesFor('key-a', 'https://api.eachlabs.ai', { ...settings, resolution: '2K' }),
		).not.toBe(a);
		expect(jobTimesFor('key-a', 'https://api.eachlabs.ai', { ...settings, numImages: 3 })).not.toBe(
			a,
		);
		expect(jobTimesFor('key-b', 'https://api.eachlabs.ai', settings)).not.toBe(a);
	});
});

describe('one prediction’s poll clock', () => {
	const since = 5_000_000;

	test('Get Prediction polls at once; a fresh create waits first', () => {
		expect(new PollTimer({ since, pollAtOnce: true }).delayMs(since)).toBe(0);
		expect(new PollTimer({ since }).delayMs(since)).toBe(1000);
		expect(new PollTimer({ since, fixedIntervalMs: 100 }).delayMs(since)).toBe(100);
	});

	test('counts from the last poll sent', () => {
		const timer = new PollTimer({ since, fixedIntervalMs: 2000 });
		timer.running(since + 2000);
		expect(timer.delayMs(since + 2050)).toBe(1950);
		expect(timer.delayMs(since + 5000)).toBe(0);
	});

	test('what another prediction learns meanwhile brings the next poll forward', () => {
		const jobTimes = new JobTimes();
		const timer = new PollTimer({ since, jobTimes });
		timer.running(since + 1000);
		// Nothing known: the next poll is a second later.
		expect(timer.delayMs(since + 1000)).toBe(1000);
		// Another job is seen to end at 1.3 s: this one is now due sooner than planned.
		jobTimes.add(1300, since + 1100);
		expect(timer.delayMs(since + 1100)).toBeLessThan(900);
	});

	test('a waiting prediction wakes up as soon as another one of its key and settings ends', async () => {
		const jobTimes = new JobTimes();
		const timer = new PollTimer({ since: Date.now(), jobTimes });
		const started = Date.now();
		const sleeping = timer.sleep(60_000, new AbortController().signal);
		jobTimes.add(1000);
		await sleeping;
		expect(Date.now() - started).toBeLessThan(30_000);
	});

	test('a stopped run ends the wait at once; a stopped timer no longer counts as running', async () => {
		const jobTimes = new JobTimes();
		const timer = new PollTimer({ since, jobTimes });
		timer.running(since + 5000);
		expect(jobTimes.stillRunning(since + 5000)).toEqual([5000]);
		const controller = new AbortController();
		const sleeping = timer.sleep(60_000, controller.signal);
		controller.abort();
		await expect(sleeping).rejects.toThrow('The execution was stopped');
		timer.stop();
		expect(jobTimes.stillRunning(since + 5000)).toEqual([]);
	});

	test('a job no poll has touched for twice the longest wait is forgotten', () => {
		const jobTimes = new JobTimes();
		new PollTimer({ since, jobTimes }).running(since + 1000);
		expect(jobTimes.stillRunning(since + 1000 + 2 * pollPolicy.ceilingMs)).toEqual([1000]);
		expect(jobTimes.stillRunning(since + 1001 + 2 * pollPolicy.ceilingMs)).toEqual([]);
	});

	test('a finished job teaches its time, from the create', () => {
		const jobTimes = new JobTimes();
		const timer = new PollTimer({ since, jobTimes });
		timer.running(since + 2000);
		timer.ended(since + 3100, 2.5);
		expect(jobTimes.recent(since + 3100)).toEqual([2500]);
		const other = new PollTimer({ since, jobTimes });
		other.ended(since + 1000);
		expect(jobTimes.recent(since + 3100)).toEqual([500, 2500]);
	});
});
