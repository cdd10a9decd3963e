/**
 * Speed benchmark (issue 12): the node run through n8n's routing engine (test/helpers/n8n.ts)
 * against the fake Eachlabs server (real HTTP, real image bytes, job times drawn with a seed), and
 * beside it, in the same run and on the same job times, a naive client and the hand-built loop's
 * strategy (scripts/bench/baselines.ts). Prints one table; the ratios compare each client with the
 * floor and the best 10-slot pool computed from the job times its fake actually drew, so that a
 * slow or busy machine changes the seconds more than the ratios.
 *
 *   npm run bench                               # every scenario, about 4 minutes
 *   BENCH_ONLY=n30,long npm run bench           # some scenarios (ids in the first column)
 *   BENCH_LONG_SCALE=0.5 npm run bench          # 20–40 s jobs (and the clients' 5 s) halved
 *   BENCH_DUMP=/tmp/run npm run bench           # also writes /tmp/run-<id>.json (every timing)
 *   BENCH_WARM=1 npm run bench                  # the node runs each scenario once before (other
 *                                               # job times, same key): what it learned is used
 *
 * Every prediction's created, ended and first-seen-ended time comes from the fake's clock
 * (detection lag = first seen ended - ended). Each scenario uses its own API key, so the node
 * starts it knowing no job time (the first predictions poll on the cold ladder of pollSchedule.ts
 * until one of them ends), unless BENCH_WARM=1.
 */
import type { ChildProcess } from 'child_process';
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import readline from 'readline';

const userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'kling-o1-bench-'));
process.env.N8N_USER_FOLDER = userFolder;
process.env.N8N_DEFAULT_BINARY_DATA_MODE = 'filesystem';

import type { INodeExecutionData } from 'n8n-workflow';

import { runNode } from '../test/helpers/n8n';
import { editImage, IMAGE_1, IMAGE_2, images } from '../test/helpers/params';
import type { BaselineResult, BaselineScenario } from './bench/baselines';
import type { Timing } from './bench/figures';
import { figuresOf, pollsByWave } from './bench/figures';

const longScale = Number(process.env.BENCH_LONG_SCALE ?? 1);
const warm = process.env.BENCH_WARM === '1';
const only = process.env.BENCH_ONLY?.split(',').map((id) => id.trim());

interface Scenario {
	id: string;
	label: string;
	n: number;
	jobMs: number;
	jitterMs: number;
	numImages?: number;
	resolution?: '1K' | '2K';
	imageBytes?: number;
	/** Scales job times and the baselines' fixed 5 s waits together. */
	scale?: number;
	memory?: boolean;
}

// "3 s jobs" are 3 s ± 5 %: real jobs never take the same time to the millisecond.
const threeSeconds = { jobMs: 2850, jitterMs: 300 };
const scenarios = [
	{ id: 'n1', label: '1 item, 3 s jobs', n: 1, ...threeSeconds },
	{ id: 'n10', label: '10 items, 3 s jobs', n: 10, ...threeSeconds },
	{ id: 'n30', label: '30 items, 3 s jobs', n: 30, ...threeSeconds },
	{ id: 'n100', label: '100 items, 3 s jobs', n: 100, ...threeSeconds },
	{ id: 'spread', label: '30 items, 3–6 s jobs', n: 30, jobMs: 3000, jitterMs: 3000 },
	{
		id: 'long',
		label: `30 items, 20–40 s jobs${longScale === 1 ? '' : ` × ${longScale}`}`,
		n: 30,
		jobMs: 20_000 * longScale,
		jitterMs: 20_000 * longScale,
		scale: longScale,
	},
	{
		id: 'mem',
		label: '30 items × 3 images, 2K, 7 MB each',
		n: 30,
		...threeSeconds,
		numImages: 3,
		resolution: '2K',
		imageBytes: 7_000_000,
		memory: true,
	},
] satisfies Scenario[];
const chosen: Scenario[] = scenarios.filter((scenario) => !only || only.includes(scenario.id));

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** A child process's first line of stdout. */
async function firstLine(child: ChildProcess): Promise<string> {
	const lines = readline.createInterface({ input: child.stdout! });
	const { value } = await lines[Symbol.asyncIterator]().next();
	return String(value ?? '');
}

/** The node's fake, in its own process so that its CPU and buffers are not counted as ours. */
async function startNodeFake() {
	const child = spawn(
		process.execPath,
		[path.join(__dirname, '..', 'dev', 'fake-eachlabs', 'cli.js'), '--api-key', 'bench-warmup'],
		{ stdio: ['ignore', 'pipe', 'inherit'] },
	);
	const { apiUrl, controlUrl } = JSON.parse(await firstLine(child)) as {
		apiUrl: string;
		controlUrl: string;
	};
	const control = async (action: string, body?: unknown) => {
		const response = await fetch(`${controlUrl}/${action}`, {
			method: body === undefined ? 'GET' : 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		if (!response.ok) throw new Error(`fake ${action}: HTTP ${response.status}`);
		return (await response.json()) as Record<string, unknown>;
	};
	return { apiUrl, control, close: () => child.kill('SIGTERM') };
}

type NodeFake = Awaited<ReturnType<typeof startNodeFake>>;

function baselineScenario(scenario: Scenario): BaselineScenario {
	return {
		n: scenario.n,
		jobMs: scenario.jobMs,
		jitterMs: scenario.jitterMs,
		seed: 1,
		imageBytes: scenario.imageBytes ?? 2048,
		numImages: scenario.numImages ?? 1,
		resolution: scenario.resolution ?? '1K',
		waitMs: 5000 * (scenario.scale ?? 1),
	};
}

async function startBaselines(scenario: Scenario) {
	const child = spawn(
		process.execPath,
		[
			'-r',
			'ts-node/register/transpile-only',
			path.join(__dirname, 'bench', 'baselines.ts'),
			JSON.stringify(baselineScenario(scenario)),
		],
		{ stdio: ['pipe', 'pipe', 'inherit'] },
	);
	const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
	const ready = await lines.next();
	if (ready.value !== 'ready') throw new Error(`baselines did not start: ${ready.value}`);
	return {
		go: async (): Promise<{ naive: BaselineResult; loop: BaselineResult }> => {
			child.stdin!.write('go\n');
			const { value } = await lines.next();
			return JSON.parse(String(value));
		},
	};
}

/** Runs the node over the scenario's items: wall time, CPU, peak RSS growth, outcome. */
async function runTheNode(fake: NodeFake, scenario: Scenario, jobSeed = 1) {
	const apiKey = `bench-${scenario.id}`;
	await fake.control('reset', {});
	await fake.control('configure', {
		apiKey,
		jobMs: scenario.jobMs,
		jobJitterMs: scenario.jitterMs,
		jobSeed,
		imageBytes: scenario.imageBytes ?? 2048,
		webhook: false,
	});
	const parameters = {
		operation: 'editImage',
		prompt: 'Put @Image1 on the horse in @Image2',
		images: images(IMAGE_1, IMAGE_2),
		numImages: scenario.numImages ?? 1,
		resolution: scenario.resolution ?? '1K',
		// No Poll Interval: the node plans its polls itself.
		options: {},
	};
	const items = Array.from({ length: scenario.n }, (_, index) => ({ json: { index } }));
	gc();
	const baseRss = process.memoryUsage().rss;
	let peakRss = 0;
	const sampler = scenario.memory
		? setInterval(() => {
				peakRss = Math.max(peakRss, process.memoryUsage().rss - baseRss);
			}, 5)
		: undefined;
	const cpu = process.cpuUsage();
	const started = Date.now();
	let output: INodeExecutionData[] = [];
	let error: string | undefined;
	try {
		output = await runNode({ parameters, items, credentials: { apiKey, baseUrl: fake.apiUrl } });
	} catch (caught) {
		error = (caught as Error).message;
	}
	const wallMs = Date.now() - started;
	const used = process.cpuUsage(cpu);
	if (sampler) clearInterval(sampler);
	const { timings } = (await fake.control('timings')) as unknown as { timings: Timing[] };
	const stats = await fake.control('stats');
	const delivered = output.filter((item) => item.binary).length;
	return {
		wallMs,
		started,
		timings,
		rateLimited: Number(stats.rateLimited),
		surfaced429: output.filter((item) => /429|rate limit/i.test(String(item.json.error ?? '')))
			.length,
		error,
		images: delivered,
		cpuMsPerImage: (used.user + used.system) / 1000 / Math.max(delivered, 1),
		peakRssMiB: scenario.memory ? peakRss / 2 ** 20 : undefined,
	};
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const times = (ratio: number) => `${ratio.toFixed(3)}×`;
const msOrDash = (ms: number) => (Number.isFinite(ms) ? `${Math.round(ms)}` : '–');

function row(cells: Array<string | number>) {
	return `| ${cells.join(' | ')} |`;
}

async function main() {
	const benchStarted = Date.now();
	const fake = await startNodeFake();
	const nodeRows: string[] = [];
	const compareRows: string[] = [];
	try {
		// Loads and compiles the node and n8n-core once, so that no scenario pays for it.
		await runNode({
			parameters: editImage({ options: { pollIntervalSeconds: 0.1 } }),
			items: [{ json: {} }, { json: {} }],
			credentials: { apiKey: 'bench-warmup', baseUrl: fake.apiUrl },
		});
		for (const scenario of chosen) {
			process.stderr.write(`[bench] ${scenario.label} …\n`);
			// Another seed: the node learns from other jobs of the same kind, not these.
			if (warm) await runTheNode(fake, scenario, 2);
			const baselines = await startBaselines(scenario);
			const [node, others] = await Promise.all([runTheNode(fake, scenario), baselines.go()]);
			if (process.env.BENCH_DUMP) {
				fs.writeFileSync(
					`${process.env.BENCH_DUMP}-${scenario.id}.json`,
					JSON.stringify({ scenario, node, others }),
				);
			}
			const ours = figuresOf(node.wallMs, node.timings);
			const waves = pollsByWave(node.timings);
			const firstCreate = Math.min(...node.timings.map((t) => t.createdAt)) - node.started;
			nodeRows.push(
				row([
					scenario.label,
					`${node.images}${node.error ? ` (error: ${node.error})` : ''}`,
					seconds(ours.wallMs),
					seconds(ours.floorMs),
					seconds(ours.poolMs),
					times(ours.toFloor),
					times(ours.toPool),
					`${msOrDash(ours.lagP50Ms)} / ${msOrDash(ours.lagP95Ms)}`,
					ours.pollsPerPrediction.toFixed(2),
					`${ours.pollsPerJobSecond.toFixed(2)} (${waves.first.toFixed(2)} / ${Number.isNaN(waves.rest) ? '–' : waves.rest.toFixed(2)})`,
					ours.maxInFlight,
					`${node.rateLimited} / ${node.surfaced429}`,
					node.cpuMsPerImage.toFixed(1),
					`${firstCreate}`,
					node.peakRssMiB === undefined ? '–' : node.peakRssMiB.toFixed(1),
				]),
			);
			const naive = figuresOf(others.naive.wallMs, others.naive.timings);
			const loop = figuresOf(others.loop.wallMs, others.loop.timings);
			const total = scenario.n * (scenario.numImages ?? 1);
			compareRows.push(
				row([
					scenario.label,
					seconds(ours.wallMs),
					`${seconds(naive.wallMs)} (${others.naive.delivered}/${total} images, ${others.naive.surfaced429} × 429, lag p50 ${msOrDash(naive.lagP50Ms)} ms, ${naive.pollsPerJobSecond.toFixed(2)} polls/job-s)`,
					`${seconds(loop.wallMs)} (${others.loop.delivered}/${total} images, lag p50 ${msOrDash(loop.lagP50Ms)} ms, ${loop.pollsPerJobSecond.toFixed(2)} polls/job-s)`,
					times(ours.wallMs / naive.wallMs),
					times(ours.wallMs / loop.wallMs),
				]),
			);
		}
	} finally {
		fake.close();
		fs.rmSync(userFolder, { recursive: true, force: true });
	}
	const cpus = os.cpus();
	console.log(
		`\nKling O1 node speed benchmark${warm ? ' (warm: each scenario run once before with the same key)' : ''}: ${os.type()} ${os.release()}, ${cpus.length} × ${cpus[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load ${os
			.loadavg()
			.map((load) => load.toFixed(1))
			.join(' ')}\n`,
	);
	console.log(
		row([
			'scenario',
			'images',
			'wall s',
			'floor s',
			'best pool s',
			'÷ floor',
			'÷ pool',
			'lag p50 / p95 ms',
			'polls / prediction',
			'polls / job-s (first 10 / rest)',
			'max in flight',
			'429 answered / surfaced',
			'CPU ms / image',
			'first create ms',
			'peak RSS growth MiB',
		]),
	);
	console.log(row(Array(15).fill('---')));
	for (const line of nodeRows) console.log(line);
	console.log('\nBeside it, in the same run, on the same job times (wall s):\n');
	console.log(
		row(['scenario', 'node', 'naive client', 'hand-built loop', 'node ÷ naive', 'node ÷ loop']),
	);
	console.log(row(Array(6).fill('---')));
	for (const line of compareRows) console.log(line);
	console.log(`\nbench took ${seconds(Date.now() - benchStarted)} s`);
}

main().then(
	() => process.exit(0),
	(error) => {
		console.error(error);
		process.exit(1);
	},
);
