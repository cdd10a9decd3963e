/**
 * Benchmark: memory held while the node downloads big images, against a reference measured in
 * the same run. The node streams each image into n8n's binary store (on disk); the reference
 * downloads the same files into Buffers, as a node that buffers whole files would.
 *
 *   npm run bench:memory     (nine 7 MB images, about a 2K PNG each)
 *   BENCH_IMAGES=3 BENCH_MB=20 npm run bench:memory
 *
 * Prints the peak growth of the process's memory (RSS and arrayBuffers) for both, and their ratio.
 */
import { spawn } from 'child_process';
import os from 'os';
import path from 'path';
import readline from 'readline';

import { runNode } from '../test/helpers/n8n';
import { editImage } from '../test/helpers/params';

process.env.N8N_USER_FOLDER ??= path.join(os.tmpdir(), 'n8n-nodes-kling-o1-bench');

const images = Number(process.env.BENCH_IMAGES ?? 9);
const imageBytes = Math.round(Number(process.env.BENCH_MB ?? 7) * 1_000_000);

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** Peak growth of rss and arrayBuffers over a baseline, sampled every 2 ms while `work` runs. */
async function peakGrowth<T>(work: () => Promise<T>) {
	gc();
	await new Promise((resolve) => setTimeout(resolve, 50));
	const base = process.memoryUsage();
	let rss = 0;
	let buffers = 0;
	const sampler = setInterval(() => {
		const now = process.memoryUsage();
		rss = Math.max(rss, now.rss - base.rss);
		buffers = Math.max(buffers, now.arrayBuffers - base.arrayBuffers);
	}, 2);
	const started = Date.now();
	const result = await work();
	const seconds = (Date.now() - started) / 1000;
	clearInterval(sampler);
	return { rss, buffers, seconds, result };
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** The fake server in its own process, so that its image buffers do not count as ours. */
async function startFakeProcess() {
	const child = spawn(
		process.execPath,
		[
			path.join(__dirname, '..', 'dev', 'fake-eachlabs', 'cli.js'),
			'--api-key',
			'bench-key',
			'--job-ms',
			'50',
			'--image-bytes',
			String(imageBytes),
		],
		{ stdio: ['ignore', 'pipe', 'inherit'] },
	);
	const [line] = await readline
		.createInterface({ input: child.stdout! })
		[Symbol.asyncIterator]()
		.next()
		.then((r) => [r.value as string]);
	const { apiUrl, filesUrl } = JSON.parse(line) as { apiUrl: string; filesUrl: string };
	return { apiUrl, filesUrl, close: () => child.kill('SIGTERM') };
}

async function main() {
	const fake = await startFakeProcess();
	try {
		const credentials = { apiKey: 'bench-key', baseUrl: fake.apiUrl };
		// Warm up module loading and the binary store so neither run pays for it.
		await runNode({ parameters: editImage({ numImages: 1 }), credentials });

		const node = await peakGrowth(
			async () => await runNode({ parameters: editImage({ numImages: images }), credentials }),
		);
		const urls = node.result.map((item) => String(item.json.imageUrl));
		const reference = await peakGrowth(async () => {
			const held: Buffer[] = [];
			for (const url of urls) held.push(Buffer.from(await (await fetch(url)).arrayBuffer()));
			return held.reduce((sum, buffer) => sum + buffer.length, 0);
		});

		const total = images * imageBytes;
		console.log(`images: ${images} × ${mb(imageBytes)} = ${mb(total)} downloaded by each`);
		console.log(
			`node (streams to the binary store): peak rss +${mb(node.rss)}, arrayBuffers +${mb(node.buffers)}, ${node.seconds.toFixed(2)} s`,
		);
		console.log(
			`reference (whole files in memory):   peak rss +${mb(reference.rss)}, arrayBuffers +${mb(reference.buffers)}, ${reference.seconds.toFixed(2)} s`,
		);
		console.log(
			`ratio node/reference: arrayBuffers ${(node.buffers / reference.buffers).toFixed(3)}, rss ${(node.rss / Math.max(reference.rss, 1)).toFixed(3)}`,
		);
	} finally {
		fake.close();
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
