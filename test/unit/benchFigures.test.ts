// The benchmark's arithmetic (scripts/bench/figures.ts): the floor and the best pool it compares
// every client with must be right, or every ratio it prints is wrong.
import {
	bestPoolMs,
	figuresOf,
	floorMs,
	maxInFlight,
	pollsByWave,
	quantile,
} from '../../scripts/bench/figures';

test('equal jobs: floor and best pool are ceil(N / 10) × T', () => {
	for (const n of [1, 10, 30, 100]) {
		const jobs = Array(n).fill(3000);
		expect(floorMs(jobs)).toBe(Math.ceil(n / 10) * 3000);
		expect(bestPoolMs(jobs)).toBe(Math.ceil(n / 10) * 3000);
	}
	expect(bestPoolMs(Array(15).fill(1000))).toBe(2000);
});

test('unequal jobs: the pool takes them in creation order, the floor bounds it below', () => {
	// Slots free at 5,1,1,…: job 11 (4 s) goes to a slot free at 1 s, ending at 5 s.
	const jobs = [5000, ...Array(9).fill(1000), 4000];
	expect(bestPoolMs(jobs)).toBe(5000);
	expect(floorMs(jobs)).toBe(5000);
	const spread = Array.from({ length: 30 }, (_, i) => 3000 + ((i * 97) % 3000));
	expect(bestPoolMs(spread)).toBeGreaterThanOrEqual(floorMs(spread));
	expect(bestPoolMs([])).toBe(0);
});

test('quantiles by nearest rank', () => {
	expect(quantile([5, 1, 3, 2, 4], 0.5)).toBe(3);
	expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
	expect(quantile([], 0.5)).toBeNaN();
});

test('in flight: the most predictions unfinished at once', () => {
	const t = (createdAt: number, endedAt: number | null) => ({
		createdAt,
		endedAt,
		jobMs: 0,
		seenEndedAt: null,
		polls: 0,
	});
	expect(maxInFlight([t(0, 10), t(5, 15), t(10, 20)])).toBe(2);
	expect(maxInFlight([t(0, null), t(1, 2), t(3, 4)])).toBe(2);
});

test('figures of a run: lag from the fake’s clock, polls per prediction and per job-second', () => {
	const timings = [
		{ createdAt: 0, jobMs: 2000, endedAt: 2000, seenEndedAt: 2100, polls: 2 },
		{ createdAt: 0, jobMs: 4000, endedAt: 4000, seenEndedAt: 4300, polls: 4 },
	];
	const figures = figuresOf(4400, timings);
	expect(figures).toMatchObject({
		floorMs: 4000,
		poolMs: 4000,
		toFloor: 1.1,
		lagP50Ms: 100,
		lagP95Ms: 300,
		pollsPerPrediction: 3,
		pollsPerJobSecond: 1,
		maxInFlight: 2,
	});
});

test('polls per job-second of the first wave and of the rest', () => {
	const timing = (createdAt: number, jobMs: number, polls: number) => ({
		createdAt,
		jobMs,
		polls,
		endedAt: createdAt + jobMs,
		seenEndedAt: createdAt + jobMs,
	});
	const timings = [
		...Array.from({ length: 10 }, (_, i) => timing(i, 2000, 4)),
		timing(3000, 4000, 2),
	];
	expect(pollsByWave(timings)).toEqual({ first: 2, rest: 0.5 });
	expect(pollsByWave(timings.slice(0, 3)).rest).toBeNaN();
});
