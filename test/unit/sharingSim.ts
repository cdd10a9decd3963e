// A model of n8n workers sharing one API key, in simulated (jest fake) time, for sharing.test.ts.
// Each worker is its own ConcurrencyLimit (nothing shared but the API). The API allows 10 unfinished
// predictions per key and answers 429 with Retry-After 1 s; a job takes `jobMs` at the API and
// its end is seen one poll later. The numbers come from `node test/e2e/queue.js` runs: workers
// start their first create 0.3-1.7 s after the executions were posted, a create takes 10-40 ms,
// the node sees a job's end 20-170 ms after it, the item waits Retry-After plus up to a fifth
// more after a 429 (retry.ts), and an execution ends ~150 ms after its last item.
import { mulberry32 } from '../../dev/fake-eachlabs/faults';
import { ConcurrencyLimit } from '../../nodes/KlingO1/limiter';

const LIMIT = 10;
const RETRY_AFTER_MS = 1000;
const EXECUTION_TAIL_MS = 150;

const sleep = async (ms: number) => await new Promise((resolve) => setTimeout(resolve, ms));

function modelApi(jobMs: number) {
	const endsAt: number[] = [];
	const stats = { creates: 0, rateLimited: 0, maxRunning: 0 };
	return {
		stats,
		/** The job's end, or undefined for a 429. */
		create(): number | undefined {
			const now = Date.now();
			const running = endsAt.filter((end) => end > now).length;
			if (running >= LIMIT) {
				stats.rateLimited++;
				return undefined;
			}
			stats.creates++;
			stats.maxRunning = Math.max(stats.maxRunning, running + 1);
			endsAt.push(now + jobMs);
			return now + jobMs;
		},
	};
}

type Api = ReturnType<typeof modelApi>;

/** One item as the node runs it: slot, create (429 → Retry-After, then wait for room), poll. */
/** With SHARING_TRACE set, each create's time, worker and answer ('!' for a 429). */
const trace: string[] = [];

async function item(slots: ConcurrencyLimit, api: Api, random: () => number, worker = 0) {
	const release = await slots.acquire();
	for (;;) {
		await release.ready();
		const latency = 10 + 30 * random();
		await sleep(latency / 2);
		const end = api.create();
		if (process.env.SHARING_TRACE) trace.push(`${Date.now()}:${worker}${end ? '' : '!'}`);
		await sleep(latency / 2);
		if (end !== undefined) {
			release.accepted();
			await sleep(end - Date.now() + 20 + 150 * random());
			release();
			return;
		}
		release.rateLimited(RETRY_AFTER_MS);
		await sleep(RETRY_AFTER_MS * (1 + random() / 5));
	}
}

export interface SharingFigures {
	creates: number;
	rateLimited: number;
	maxRunning: number;
	/** Each execution's time from when all were posted to its end. */
	ends: number[];
	wallToFloor: number;
	slowestToFastest: number;
}

/**
 * `count` workers, one execution of `itemsEach` items each, all posted at time 0; worker w sends
 * its first create at `startsMs[w]` (default: 0.3-1.7 s, drawn from the seed).
 */
export async function simulate(
	count: number,
	itemsEach: number,
	options: { seed?: number; startsMs?: number[]; jobMs?: number } = {},
): Promise<SharingFigures> {
	const random = mulberry32(options.seed ?? 1);
	const jobMs = options.jobMs ?? 2000;
	const api = modelApi(jobMs);
	const starts = Array.from(
		{ length: count },
		(_, w) => options.startsMs?.[w] ?? 300 + 1400 * random(),
	);
	const ends: number[] = [];
	const runs = starts.map(async (start, w) => {
		const slots = new ConcurrencyLimit(LIMIT, Date.now, random);
		await sleep(start);
		await Promise.all(
			Array.from({ length: itemsEach }, async () => await item(slots, api, random, w)),
		);
		ends[w] = Date.now() + EXECUTION_TAIL_MS;
	});
	const t0 = Date.now();
	const all = Promise.all(runs);
	await jest.advanceTimersByTimeAsync(600_000);
	await all;
	const times = ends.map((end) => end - t0);
	if (process.env.SHARING_TRACE) {
		console.log(
			trace.map((x) => `${(Number(x.split(':')[0]) - t0) / 1000}:${x.split(':')[1]}`).join(' '),
		);
		trace.length = 0;
	}
	const floor = Math.ceil((count * itemsEach) / LIMIT) * jobMs;
	return {
		...api.stats,
		ends: times,
		wallToFloor: Math.max(...times) / floor,
		slowestToFastest: Math.max(...times) / Math.min(...times),
	};
}
