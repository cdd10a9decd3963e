/**
 * The two clients the node is compared with, each against its own fake Eachlabs (same options and
 * job-time seed as the node's, so the Nth prediction of each gets the same job time). Runs as a
 * child process of scripts/bench.ts, so that neither the clients nor their fakes count towards the
 * node's CPU and memory:
 *
 * - naive: every create at once, then a poll every 5 s, no 429 handling (a refused create is a
 *   failed item), then the downloads;
 * - hand-built loop (HTTP Request + Wait + IF, as users build it today): batches of 10 creates,
 *   wait 5 s, check the whole batch, wait again until all 10 are done, download, next batch.
 *
 * Protocol: argv[2] is the scenario as JSON; prints `ready`, waits for a line on stdin, runs both
 * clients side by side, prints one line of JSON with their results, exits.
 */
import readline from 'readline';

import type { FakeEachlabs } from '../../dev/fake-eachlabs';
import { startFakeEachlabs } from '../../dev/fake-eachlabs';

export interface BaselineScenario {
	n: number;
	jobMs: number;
	jitterMs: number;
	seed: number;
	imageBytes: number;
	numImages: number;
	resolution: '1K' | '2K';
	/** The fixed wait of both clients (5 s, times the scenario's time scale). */
	waitMs: number;
}

const KEY = 'bench-baseline';
const IMAGE_URLS = [
	'https://storage.googleapis.com/magicpoint/inputs/kling-o1-input-1.png',
	'https://storage.googleapis.com/magicpoint/inputs/kling-o1-input-2.png',
];
const RUNNING = ['created', 'starting', 'processing', 'queued'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Client {
	surfaced429 = 0;

	failed = 0;

	delivered = 0;

	bytes = 0;

	constructor(
		private readonly fake: FakeEachlabs,
		private readonly scenario: BaselineScenario,
	) {}

	private async api(method: string, path: string, body?: unknown) {
		const response = await fetch(`${this.fake.apiUrl}${path}`, {
			method,
			headers: { 'X-API-Key': KEY, 'Content-Type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		return { status: response.status, body: (await response.json()) as Record<string, unknown> };
	}

	/** The prediction's id, or undefined when the create was refused (counted, not retried). */
	async create(): Promise<string | undefined> {
		const { status, body } = await this.api('POST', '/v1/prediction/', {
			model: 'kling-o1',
			version: '0.0.1',
			input: {
				prompt: 'Put @Image1 on the horse in @Image2',
				image_urls: IMAGE_URLS,
				num_images: this.scenario.numImages,
				resolution: this.scenario.resolution,
				aspect_ratio: 'auto',
				output_format: 'png',
			},
		});
		if (status === 429) this.surfaced429++;
		if (status !== 200) {
			this.failed++;
			return undefined;
		}
		return String(body.predictionID);
	}

	/** The output URLs once the prediction ended, else undefined. */
	async poll(id: string): Promise<string[] | undefined> {
		const { body } = await this.api('GET', `/v1/prediction/${id}`);
		if (RUNNING.includes(String(body.status))) return undefined;
		if (body.status !== 'success') {
			this.failed++;
			return [];
		}
		return Array.isArray(body.output) ? body.output.map(String) : [String(body.output)];
	}

	async download(urls: string[]) {
		await Promise.all(
			urls.map(async (url) => {
				const response = await fetch(url);
				for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
					this.bytes += chunk.length;
				}
				this.delivered++;
			}),
		);
	}
}

async function naive(client: Client, scenario: BaselineScenario) {
	await Promise.all(
		Array.from({ length: scenario.n }, async () => {
			const id = await client.create();
			if (!id) return;
			for (;;) {
				await sleep(scenario.waitMs);
				const urls = await client.poll(id);
				if (urls) return await client.download(urls);
			}
		}),
	);
}

async function handBuiltLoop(client: Client, scenario: BaselineScenario) {
	for (let start = 0; start < scenario.n; start += 10) {
		const size = Math.min(10, scenario.n - start);
		const ids = (await Promise.all(Array.from({ length: size }, () => client.create()))).filter(
			(id): id is string => id !== undefined,
		);
		for (;;) {
			await sleep(scenario.waitMs);
			const outputs = await Promise.all(ids.map((id) => client.poll(id)));
			if (outputs.every((urls) => urls !== undefined)) {
				await client.download(outputs.flatMap((urls) => urls ?? []));
				break;
			}
		}
	}
}

async function measure(
	fake: FakeEachlabs,
	scenario: BaselineScenario,
	strategy: (client: Client, scenario: BaselineScenario) => Promise<void>,
) {
	const client = new Client(fake, scenario);
	const started = Date.now();
	await strategy(client, scenario);
	const wallMs = Date.now() - started;
	return {
		wallMs,
		started,
		timings: fake.timings(),
		rateLimited: fake.stats().rateLimited,
		surfaced429: client.surfaced429,
		failed: client.failed,
		delivered: client.delivered,
		bytes: client.bytes,
	};
}

export type BaselineResult = Awaited<ReturnType<typeof measure>>;

async function main() {
	const scenario = JSON.parse(process.argv[2]) as BaselineScenario;
	const options = {
		apiKey: KEY,
		jobMs: scenario.jobMs,
		jobJitterMs: scenario.jitterMs,
		jobSeed: scenario.seed,
		imageBytes: scenario.imageBytes,
		webhook: false,
	};
	const fakes = [await startFakeEachlabs(options), await startFakeEachlabs(options)];
	try {
		process.stdout.write('ready\n');
		await readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]().next();
		const [naiveResult, loopResult] = await Promise.all([
			measure(fakes[0], scenario, naive),
			measure(fakes[1], scenario, handBuiltLoop),
		]);
		process.stdout.write(`${JSON.stringify({ naive: naiveResult, loop: loopResult })}\n`);
	} finally {
		await Promise.all(fakes.map((fake) => fake.close()));
	}
}

if (require.main === module) {
	main().then(
		() => process.exit(0),
		(error) => {
			console.error(error);
			process.exit(1);
		},
	);
}
