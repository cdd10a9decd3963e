/**
 * Benchmark: binary input images. A batch of items, each holding one big PNG in n8n's filesystem
 * binary store, is edited through the node; the same batch given typed URLs is the reference.
 *
 *   npm run bench:upload                       (30 items × one 7 MB PNG, 2 s predictions)
 *   BENCH_ITEMS=12 BENCH_MB=20 BENCH_JOB_MS=3000 BENCH_ROUNDS=3 npm run bench:upload
 *
 * Prints: the peak RSS growth of a 1-item and an N-item run (the uploads stream from disk, so
 * memory must not grow with the batch), the wall time of the binary batch against the URL batch
 * (uploads overlap the predictions), and what the fake's upload host counted (one presign and
 * one PUT per distinct image, none with the API key). The fake runs in its own process.
 */
import { spawn, spawnSync } from 'child_process';
import fs from 'fs';
import type { INodeExecutionData } from 'n8n-workflow';
import os from 'os';
import path from 'path';
import readline from 'readline';

import { binaryBuffer, runNode, storeBinary } from '../test/helpers/n8n';
import { editImage } from '../test/helpers/params';

process.env.N8N_USER_FOLDER ??= path.join(os.tmpdir(), 'n8n-nodes-kling-o1-bench');

const ITEMS = Number(process.env.BENCH_ITEMS ?? 30);
const INPUT_BYTES = Math.round(Number(process.env.BENCH_MB ?? 7) * 1024 * 1024);
const JOB_MS = Number(process.env.BENCH_JOB_MS ?? 2000);
/** Each batch runs this many times, alternating; the best wall time of each counts (less noise). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const API_KEY = 'bench-key';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Peak RSS growth over a baseline, sampled every 2 ms while `work` runs, and its wall time. */
async function measure<T>(work: () => Promise<T>) {
	gc();
	await new Promise((resolve) => setTimeout(resolve, 100));
	const base = process.memoryUsage().rss;
	let peak = 0;
	const sampler = setInterval(() => {
		peak = Math.max(peak, process.memoryUsage().rss - base);
	}, 2);
	const started = process.hrtime.bigint();
	const result = await work();
	const seconds = Number(process.hrtime.bigint() - started) / 1e9;
	clearInterval(sampler);
	return { rss: peak, seconds, result };
}

async function startFakeProcess() {
	const child = spawn(
		process.execPath,
		[
			path.join(__dirname, '..', 'dev', 'fake-eachlabs', 'cli.js'),
			'--api-key',
			API_KEY,
			'--job-ms',
			String(JOB_MS),
			'--image-bytes',
			'200000',
		],
		{ stdio: ['ignore', 'pipe', 'inherit'] },
	);
	const first = await readline
		.createInterface({ input: child.stdout! })
		[Symbol.asyncIterator]()
		.next();
	const { apiUrl, controlUrl } = JSON.parse(first.value as string) as {
		apiUrl: string;
		controlUrl: string;
	};
	const control = async (action: string, body?: object) =>
		(await (
			await fetch(`${controlUrl}/${action}`, {
				method: body ? 'POST' : 'GET',
				headers: body ? { 'content-type': 'application/json' } : {},
				body: body ? JSON.stringify(body) : undefined,
			})
		).json()) as Record<string, unknown>;
	return { apiUrl, control, close: () => child.kill('SIGTERM') };
}

/**
 * N items, each with its own PNG in n8n's filesystem binary store. The PNGs are made by another
 * process and streamed into the store, so this process never holds one whole: its memory before
 * the runs is not inflated by freed image buffers that could hide growth during them.
 */
async function binaryItems(count: number, tag: string): Promise<INodeExecutionData[]> {
	const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'kling-o1-bench-upload-'));
	const fake = path.join(__dirname, '..', 'dev', 'fake-eachlabs');
	const script = `const { makeImage } = require(${JSON.stringify(fake)}); const fs = require('fs');
		for (let i = 0; i < ${count}; i++) fs.writeFileSync(${JSON.stringify(folder)} + '/' + i + '.png',
			makeImage({ id: ${JSON.stringify(tag)} + '-' + i, index: 0, format: 'png', bytes: ${INPUT_BYTES} }));`;
	const made = spawnSync(process.execPath, ['-e', script], { stdio: 'inherit' });
	if (made.status !== 0) throw new Error('could not write the input PNGs');
	const items: INodeExecutionData[] = [];
	try {
		for (let i = 0; i < count; i++) {
			const data = await storeBinary(fs.createReadStream(path.join(folder, `${i}.png`)), {
				fileName: `product-${i}.png`,
				mimeType: 'image/png',
			});
			items.push({ json: { i }, binary: { data } });
		}
	} finally {
		fs.rmSync(folder, { recursive: true, force: true });
	}
	return items;
}

async function main() {
	const fake = await startFakeProcess();
	try {
		const credentials = { apiKey: API_KEY, baseUrl: fake.apiUrl };
		const binaryParameters = editImage({
			prompt: 'Put @Image1 on a marble table',
			images: { image: [{ source: 'binary', binaryPropertyName: 'data' }] },
			options: { pollIntervalSeconds: 0.25, timeoutSeconds: 300 },
		});
		const urlParameters = editImage({
			prompt: 'Put @Image1 on a marble table',
			images: { image: [{ url: '={{ "https://example.com/product-" + $json.i + ".png" }}' }] },
			options: { pollIntervalSeconds: 0.25, timeoutSeconds: 300 },
		});
		const one = await binaryItems(1, 'one');
		const batch = await binaryItems(ITEMS, 'batch');
		const urlItems = Array.from({ length: ITEMS }, (_, i) => ({ json: { i } }));

		// Warm-up: module loading, the binary store and sockets are paid for before any figure.
		await runNode({
			parameters: binaryParameters,
			items: await binaryItems(1, 'warm'),
			credentials,
		});

		await fake.control('reset', {});
		const single = await measure(
			async () => await runNode({ parameters: binaryParameters, items: one, credentials }),
		);
		type Run = Awaited<ReturnType<typeof measure<INodeExecutionData[]>>>;
		const urlRuns: Run[] = [];
		const binaryRuns: Run[] = [];
		let stats: Record<string, unknown> = {};
		for (let round = 0; round < ROUNDS; round++) {
			await fake.control('reset', {});
			urlRuns.push(
				await measure(
					async () => await runNode({ parameters: urlParameters, items: urlItems, credentials }),
				),
			);
			await fake.control('reset', {});
			binaryRuns.push(
				await measure(
					async () => await runNode({ parameters: binaryParameters, items: batch, credentials }),
				),
			);
			stats = await fake.control('stats');
		}
		const best = (runs: Run[]) => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
		const urls = best(urlRuns);
		const binary = best(binaryRuns);
		const seconds = (runs: Run[]) => runs.map((r) => r.seconds.toFixed(2)).join(', ');
		const peakRss = Math.max(...binaryRuns.map((r) => r.rss));
		// What the sampler sees when the files are held whole: proof it would catch a buffering upload.
		const held = await measure(async () => {
			const buffers = await Promise.all(
				batch.map(async (item) => await binaryBuffer(item.binary!.data)),
			);
			return buffers.reduce((sum, buffer) => sum + buffer.length, 0);
		});
		const succeeded = binary.result.filter((item) => item.json.status === 'success').length;

		console.log(
			`batch: ${ITEMS} items × one ${mib(INPUT_BYTES)} PNG from the filesystem binary store; predictions take ${JOB_MS} ms; 10 prediction slots`,
		);
		console.log(`edited: ${succeeded} of ${ITEMS} items succeeded`);
		console.log(
			`peak RSS growth: 1 item +${mib(single.rss)}, ${ITEMS} items +${mib(peakRss)} (highest of ${ROUNDS} runs); growth beyond the 1-item run: ${mib(peakRss - single.rss)} (limit 100 MiB)`,
		);
		console.log(
			`reference: the same ${ITEMS} files read whole into Buffers: peak RSS growth +${mib(held.rss)} (${mib(held.result)} of files)`,
		);
		console.log(
			`wall time (best of ${ROUNDS}): binary batch ${binary.seconds.toFixed(2)} s [${seconds(binaryRuns)}], URL batch ${urls.seconds.toFixed(2)} s [${seconds(urlRuns)}]; ratio ${(binary.seconds / urls.seconds).toFixed(3)} (limit 1.15)`,
		);
		console.log(
			`upload requests on the fake (last binary run): ${stats.presigns} presigns, ${stats.uploads} PUTs, ${stats.uploadsWithKey} PUTs with the API key, for ${ITEMS} distinct images; ${stats.creates} predictions; ${stats.inputFetches} inputs fetched by the jobs`,
		);
	} finally {
		fake.close();
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
