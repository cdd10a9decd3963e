#!/usr/bin/env node
'use strict';
/**
 * Queue mode end to end: n8n's main process and several `n8n worker`s (EXECUTIONS_MODE=queue),
 * Redis, Postgres, and binary data in the database (queue mode's default), against the fake
 * Eachlabs server with its 10-predictions-at-once limit. A webhook workflow is started several
 * times at once; each worker keeps its own limiter, so the only thing they share is the key.
 *
 *   node test/e2e/queue.js                       # 3 workers × 3 executions × 20 items, 2 s jobs
 *   node test/e2e/queue.js --workers 2 --executions 4 --items 10 --job-ms 1500
 *   node test/e2e/queue.js --workers 1           # reference: one process runs every execution
 *   node test/e2e/queue.js --keep                # keep the run folder (logs, fake stats)
 *   E2E_QUEUE_DB=sqlite node test/e2e/queue.js   # without Postgres (n8n warns: not supported)
 *
 * Needs `redis-server` and Postgres' server binaries (Debian: apt-get install redis-server
 * postgresql; .ci/run installs them when missing). Asserts that every item of every execution
 * got its own image (the image's prediction was created from that item's prompt), no duplicate
 * prediction, no error, and more than one worker ran executions; prints the 429 count, the wall
 * time against the floor (rounds of jobs the API's limit allows) and the per-worker split.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawn, spawnSync } = require('child_process');
const { ensureN8n } = require('./ensure-n8n');
const harness = require('./run');
const { makeImage } = require('../../dev/fake-eachlabs');

const argv = process.argv.slice(2);
const option = (name, fallback) => {
	const i = argv.indexOf(name);
	return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const WORKERS = option('--workers', 3);
const EXECUTIONS = option('--executions', 3);
const ITEMS = option('--items', 20);
const JOB_MS = option('--job-ms', 2000);
const API_LIMIT = 10;
const IMAGE_BYTES = 1500;
const KEEP = argv.includes('--keep') || process.env.E2E_KEEP === '1';
const DB = process.env.E2E_QUEUE_DB === 'sqlite' ? 'sqlite' : 'postgres';
const WEBHOOK_PATH = 'kling-o1-queue-e2e';
const STARTUP_TIMEOUT_MS = 240_000;
const RUN_TIMEOUT_MS = 300_000;

const log = (...a) => console.log(...a);
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function fail(message) {
	throw new Error(message);
}

// ---------------------------------------------------------------------------------------------
// services: Redis and Postgres on free loopback ports, in folders of this run

/** A long-running child whose output goes to a log file; `waitFor` watches that output. */
function service(name, cmd, args, { env, logFile }) {
	const child = spawn(cmd, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
	harness.children.add(child);
	let output = '';
	const watchers = new Set();
	const onData = (d) => {
		output += d;
		fs.appendFileSync(logFile, d);
		for (const w of watchers) w();
	};
	child.stdout.on('data', onData);
	child.stderr.on('data', onData);
	let exited = null;
	child.once('exit', (code, signal) => {
		exited = code ?? signal;
		harness.children.delete(child);
		for (const w of watchers) w();
	});
	return {
		name,
		child,
		logFile,
		output: () => output,
		waitFor(pattern, timeoutMs = STARTUP_TIMEOUT_MS) {
			return new Promise((resolve, reject) => {
				const timer = setTimeout(() => {
					watchers.delete(check);
					reject(new Error(`${name} did not print ${pattern} within ${secs(timeoutMs)}`));
				}, timeoutMs);
				const check = () => {
					if (pattern.test(output)) {
						clearTimeout(timer);
						watchers.delete(check);
						resolve();
					} else if (exited !== null) {
						clearTimeout(timer);
						watchers.delete(check);
						reject(new Error(`${name} exited (${exited}): ${output.slice(-800)}`));
					}
				};
				watchers.add(check);
				check();
			});
		},
		async stop(signal = 'SIGTERM', graceMs = 10_000) {
			if (exited !== null) return;
			const gone = new Promise((resolve) => child.once('exit', resolve));
			harness.killGroup(child, signal);
			const timer = setTimeout(() => harness.killGroup(child, 'SIGKILL'), graceMs);
			await gone;
			clearTimeout(timer);
			// n8n's task runner is in the same group.
			harness.killGroup(child, 'SIGKILL');
		},
	};
}

function startRedis(runDir, port) {
	const redis = service(
		'redis',
		'redis-server',
		['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
		{ env: process.env, logFile: path.join(runDir, 'redis.log') },
	);
	return redis;
}

function postgresBin() {
	const root = '/usr/lib/postgresql';
	const versions = fs.existsSync(root)
		? fs
				.readdirSync(root)
				.filter((v) => fs.existsSync(path.join(root, v, 'bin', 'postgres')))
				.sort((a, b) => Number(b) - Number(a))
		: [];
	if (!versions.length)
		fail('Postgres server binaries not found (Debian: apt-get install postgresql)');
	return path.join(root, versions[0], 'bin');
}

/** Postgres refuses to run as root: then it runs as the `postgres` user the package creates. */
function asPostgresUser(cmd, args) {
	return process.getuid && process.getuid() === 0
		? ['runuser', ['-u', 'postgres', '--', cmd, ...args]]
		: [cmd, args];
}

async function startPostgres(runDir, port) {
	const bin = postgresBin();
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kling-o1-queue-pg-'));
	if (process.getuid && process.getuid() === 0) {
		const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
		const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
		fs.chownSync(dataDir, uid, gid);
	}
	const [initCmd, initArgs] = asPostgresUser(path.join(bin, 'initdb'), [
		'-D',
		dataDir,
		'-U',
		'n8n',
		'--auth=trust',
		'--no-sync',
		'-E',
		'UTF8',
		'--locale=C',
	]);
	const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
	if (init.status !== 0) fail(`initdb failed: ${init.stderr || init.stdout}`);
	const [cmd, args] = asPostgresUser(path.join(bin, 'postgres'), [
		'-D',
		dataDir,
		'-p',
		String(port),
		'-c',
		'listen_addresses=127.0.0.1',
		'-c',
		'unix_socket_directories=',
		// A throw-away database: durability only costs time here.
		'-c',
		'fsync=off',
		'-c',
		'synchronous_commit=off',
		'-c',
		'full_page_writes=off',
	]);
	const pg = service('postgres', cmd, args, {
		env: process.env,
		logFile: path.join(runDir, 'postgres.log'),
	});
	await pg.waitFor(/ready to accept connections/);
	return { ...pg, dataDir };
}

// ---------------------------------------------------------------------------------------------
// the workflow: Webhook → Split Out → Kling O1 → Crypto (SHA-256 of the image) → Set

const node = (n, name, type, typeVersion, parameters, extra = {}) => ({
	id: `7d1c0b7e-0f5e-4d6b-a000-00000000000${n}`,
	name,
	type,
	typeVersion,
	position: [n * 220, 0],
	parameters,
	...extra,
});

const field = (n, name, value) => ({ id: `f${n}`, name, value, type: 'string' });

function queueWorkflow() {
	return {
		id: 'KlingO1QueueE2E1',
		name: 'e2e queue mode: one key shared by workers',
		nodes: [
			node(
				1,
				'Webhook',
				'n8n-nodes-base.webhook',
				2,
				{
					httpMethod: 'POST',
					path: WEBHOOK_PATH,
					responseMode: 'lastNode',
					responseData: 'allEntries',
					options: {},
				},
				{ webhookId: '5b0b7f4e-2f0c-4d8e-9a51-6a1f2c3d4e5f' },
			),
			node(2, 'Split Out', 'n8n-nodes-base.splitOut', 1, {
				fieldToSplitOut: 'body.items',
				options: {},
			}),
			node(
				3,
				'Kling O1',
				'n8n-nodes-kling-o1.klingO1',
				1,
				{
					operation: 'editImage',
					prompt: '={{ $json.prompt }}',
					images: {
						image: [
							{ url: 'https://storage.googleapis.com/magicpoint/inputs/kling-o1-input-1.png' },
						],
					},
					options: {},
				},
				{ credentials: { [harness.CREDENTIAL_TYPE]: { ...harness.E2E_CREDENTIAL } } },
			),
			node(4, 'SHA-256', 'n8n-nodes-base.crypto', 2, {
				action: 'hash',
				type: 'SHA256',
				binaryData: true,
				binaryPropertyName: 'data',
				dataPropertyName: 'sha256',
				encoding: 'hex',
			}),
			node(5, 'Result', 'n8n-nodes-base.set', 3.4, {
				mode: 'manual',
				assignments: {
					assignments: [
						field(1, 'prompt', "={{ $('Split Out').item.json.prompt }}"),
						field(2, 'predictionId', '={{ $json.predictionId }}'),
						field(3, 'sha256', '={{ $json.sha256 }}'),
						field(4, 'executionId', '={{ $execution.id }}'),
					],
				},
				options: {},
			}),
		],
		connections: {
			Webhook: { main: [[{ node: 'Split Out', type: 'main', index: 0 }]] },
			'Split Out': { main: [[{ node: 'Kling O1', type: 'main', index: 0 }]] },
			'Kling O1': { main: [[{ node: 'SHA-256', type: 'main', index: 0 }]] },
			'SHA-256': { main: [[{ node: 'Result', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
		active: false,
	};
}

const promptOf = (execution, item) =>
	`Execution ${execution}, item ${item}: put @Image1 on the horse, style ${execution * 100 + item}`;

// ---------------------------------------------------------------------------------------------
// n8n: import, publish, main + workers

async function n8nStep(n8n, env, args, wanted) {
	const r = await harness.n8nCommand(n8n, env, args);
	const records = harness.logRecords(r);
	if (r.code !== 0 || (wanted && !records.some((x) => wanted.test(String(x.message))))) {
		fail(
			`n8n ${args[0]} failed (exit ${r.code}): ${harness.errorLines(records).join(' | ') || r.stderr.slice(-500)}`,
		);
	}
	return r;
}

/** Execution id → worker, from each worker's "Worker started/finished execution" log lines. */
function executionsByWorker(workers) {
	const byExecution = new Map();
	workers.forEach((worker, index) => {
		for (const line of worker.output().split('\n')) {
			const match = /Worker started execution (\S+)/.exec(line);
			if (match) byExecution.set(match[1], index + 1);
		}
	});
	return byExecution;
}

/** n8n answers a GET on a POST-only webhook with its own "not registered for GET" message. */
async function webhookRegistered(url) {
	const until = Date.now() + 60_000;
	for (;;) {
		const text = await fetch(url).then(
			(res) => res.text(),
			() => '',
		);
		if (/POST/.test(text) && !/Cannot GET/.test(text)) return;
		if (Date.now() > until) fail(`the webhook ${url} was not registered within 60 s: ${text}`);
		await sleep(250);
	}
}

async function postExecution(url, execution) {
	const items = Array.from({ length: ITEMS }, (_, i) => ({ prompt: promptOf(execution, i) }));
	const started = Date.now();
	const res = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ items }),
		signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
	});
	const text = await res.text();
	const ended = Date.now();
	let body;
	try {
		body = JSON.parse(text);
	} catch {
		body = text;
	}
	return { execution, status: res.status, body, started, ended, items };
}

// ---------------------------------------------------------------------------------------------
// checks

function check(results, stats, byWorker, startedAll) {
	const problems = [];
	const seen = new Map();
	for (const r of results) {
		const what = `execution ${r.execution}`;
		if (r.status !== 200) {
			problems.push(`${what}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
			continue;
		}
		const out = Array.isArray(r.body) ? r.body : [r.body];
		if (out.length !== ITEMS) problems.push(`${what}: ${out.length} items, expected ${ITEMS}`);
		const prompts = new Set(r.items.map((i) => i.prompt));
		for (const [i, item] of out.entries()) {
			const id = item.predictionId;
			if (item.error || !id) {
				problems.push(`${what} item ${i}: no image (${JSON.stringify(item).slice(0, 200)})`);
				continue;
			}
			if (!prompts.delete(item.prompt)) {
				problems.push(`${what} item ${i}: prompt "${item.prompt}" is not one of its own, or twice`);
			}
			if (stats.prompts[id] !== item.prompt) {
				problems.push(
					`${what} item ${i}: its image comes from prediction ${id}, made from "${stats.prompts[id]}", not from "${item.prompt}"`,
				);
			}
			const expected = crypto
				.createHash('sha256')
				.update(makeImage({ id, index: 0, format: 'png', bytes: IMAGE_BYTES }))
				.digest('hex');
			if (item.sha256 !== expected) {
				problems.push(`${what} item ${i}: the image bytes are not prediction ${id}'s image`);
			}
			if (seen.has(id)) problems.push(`prediction ${id} delivered twice`);
			seen.set(id, r.execution);
		}
		if (prompts.size) problems.push(`${what}: ${prompts.size} prompts got no image`);
	}
	const total = EXECUTIONS * ITEMS;
	if (stats.creates !== total) {
		problems.push(`the fake created ${stats.creates} predictions for ${total} items (duplicates)`);
	}
	if (stats.maxInFlight > API_LIMIT)
		problems.push(`${stats.maxInFlight} predictions ran at once, limit ${API_LIMIT}`);
	const workersUsed = new Set(byWorker.values());
	// `--workers 1` is the reference: one process sees every item, so it shares the key perfectly.
	if (WORKERS > 1 && workersUsed.size < 2) {
		problems.push(`only ${workersUsed.size} worker ran executions`);
	}

	const floor = Math.ceil(total / API_LIMIT) * JOB_MS;
	const wall = Math.max(...results.map((r) => r.ended)) - startedAll;
	const times = results.map((r) => r.ended - r.started);
	return {
		problems,
		figures: {
			images: `${seen.size}/${total}`,
			rateLimited: stats.rateLimited,
			rateLimitedShare: stats.rateLimited / total,
			createRequests: stats.createRequests,
			floorMs: floor,
			wallMs: wall,
			wallToFloor: wall / floor,
			executionMs: times,
			slowestToFastest: Math.max(...times) / Math.min(...times),
			maxInFlight: stats.maxInFlight,
		},
	};
}

// ---------------------------------------------------------------------------------------------
// main

async function main() {
	const t0 = Date.now();
	const timings = {};
	const n8n = ensureN8n({ log });
	timings.install = `${n8n.cached ? 'cached' : 'first install'} ${secs(n8n.seconds * 1000)}`;
	const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kling-o1-queue-e2e-'));
	log(`[queue] folder ${runDir}; ${WORKERS} workers, ${EXECUTIONS} executions × ${ITEMS} items`);
	const userFolder = path.join(runDir, 'user');
	const homeDir = path.join(runDir, 'home');
	const filesDir = path.join(runDir, 'n8n-files');
	for (const dir of [path.join(userFolder, '.n8n'), homeDir, filesDir])
		fs.mkdirSync(dir, { recursive: true });

	const services = [];
	let fake;
	let postgres;
	let passed = false;
	const onSignal = () => {
		harness.cleanupChildren();
		process.exit(130);
	};
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);
	try {
		const build = harness.ensureBuilt();
		harness.installPackage(userFolder, runDir);
		timings.package = `${build.built ? 'build + ' : ''}pack + install`;

		const [redisPort, pgPort, mainPort, ...more] = await harness.freePorts(3 + 6 * (WORKERS + 1));
		const ts = Date.now();
		const redis = startRedis(runDir, redisPort);
		services.push(redis);
		await redis.waitFor(/Ready to accept connections/i, 30_000);
		if (DB === 'postgres') {
			postgres = await startPostgres(runDir, pgPort);
			services.push(postgres);
		}
		timings.services = secs(Date.now() - ts);

		fake = await harness.startFake(runDir);
		await harness.httpJson('POST', `${fake.controlUrl}/configure`, {
			jobMs: JOB_MS,
			imageBytes: IMAGE_BYTES,
			rateLimit: { concurrent: API_LIMIT, retryAfterSeconds: 1 },
		});
		log(`[queue] redis :${redisPort}, ${DB}${postgres ? ` :${pgPort}` : ''}, fake ${fake.apiUrl}`);

		const encryptionKey = crypto.randomBytes(24).toString('hex');
		const envFor = (ports) => ({
			...harness.n8nEnv(n8n, { userFolder, homeDir, filesDir, ports, encryptionKey }),
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(redisPort),
			...(DB === 'postgres'
				? {
						DB_TYPE: 'postgresdb',
						DB_POSTGRESDB_HOST: '127.0.0.1',
						DB_POSTGRESDB_PORT: String(pgPort),
						DB_POSTGRESDB_USER: 'n8n',
						DB_POSTGRESDB_DATABASE: 'postgres',
					}
				: {}),
			// Binary data: not set, so n8n uses queue mode's default (the database).
		});
		const mainEnv = envFor([mainPort, ...more.slice(0, 5)]);

		// Credential and workflow, published so that the main process registers the webhook.
		const ti = Date.now();
		const credFile = path.join(runDir, 'credentials.json');
		fs.writeFileSync(
			credFile,
			JSON.stringify([
				{
					...harness.E2E_CREDENTIAL,
					type: harness.CREDENTIAL_TYPE,
					data: { apiKey: harness.API_KEY, baseUrl: fake.apiUrl },
				},
			]),
		);
		await n8nStep(n8n, mainEnv, ['import:credentials', `--input=${credFile}`], /imported 1/);
		const wfFile = path.join(runDir, 'workflow.json');
		const workflow = queueWorkflow();
		fs.writeFileSync(wfFile, JSON.stringify(workflow));
		await n8nStep(n8n, mainEnv, ['import:workflow', `--input=${wfFile}`], /imported 1/);
		await n8nStep(n8n, mainEnv, ['publish:workflow', `--id=${workflow.id}`]);
		timings.import = secs(Date.now() - ti);

		const tn = Date.now();
		const main = service('n8n main', n8n.nodeBin, [n8n.n8nBin, 'start'], {
			env: mainEnv,
			logFile: path.join(runDir, 'main.log'),
		});
		services.push(main);
		const workers = [];
		for (let w = 0; w < WORKERS; w++) {
			const ports = more.slice(5 + w * 6, 11 + w * 6);
			const worker = service(`n8n worker ${w + 1}`, n8n.nodeBin, [n8n.n8nBin, 'worker'], {
				env: envFor(ports),
				logFile: path.join(runDir, `worker-${w + 1}.log`),
			});
			services.push(worker);
			workers.push(worker);
		}
		await main.waitFor(/Editor is now accessible/);
		await Promise.all(workers.map((w) => w.waitFor(/n8n worker is now ready/)));
		const url = `http://127.0.0.1:${mainPort}/webhook/${WEBHOOK_PATH}`;
		await webhookRegistered(url);
		timings.n8nStart = secs(Date.now() - tn);
		log(
			`[queue] main and ${WORKERS} workers up in ${timings.n8nStart}; POST ${url} × ${EXECUTIONS}`,
		);

		await harness.httpJson('POST', `${fake.controlUrl}/reset`);
		const startedAll = Date.now();
		const results = await Promise.all(
			Array.from({ length: EXECUTIONS }, async (_, e) => await postExecution(url, e + 1)),
		);
		await sleep(300); // the workers' last log lines
		const stats = await harness.httpJson('GET', `${fake.controlUrl}/stats`);
		fs.writeFileSync(path.join(runDir, 'fake-stats.json'), JSON.stringify(stats, null, 2));
		fs.writeFileSync(path.join(runDir, 'responses.json'), JSON.stringify(results, null, 2));

		const byWorker = executionsByWorker(workers);
		const { problems, figures } = check(results, stats, byWorker, startedAll);
		const split = results.map((r) => {
			const id = Array.isArray(r.body) && r.body[0] ? String(r.body[0].executionId) : '?';
			return `execution ${r.execution} (n8n #${id}) on worker ${byWorker.get(id) ?? '?'}: ${secs(r.ended - r.started)}`;
		});
		const perWorker = Array.from({ length: WORKERS }, (_, w) => {
			const n = [...byWorker.values()].filter((x) => x === w + 1).length;
			return `worker ${w + 1}: ${n}`;
		});
		log(`[queue] ${split.join('; ')}`);
		log(`[queue] executions per worker: ${perWorker.join(', ')}`);
		log(
			`[queue] images ${figures.images}; rate-limited creates ${figures.rateLimited} ` +
				`(${(100 * figures.rateLimitedShare).toFixed(0)} % of predictions); create requests ` +
				`${figures.createRequests}; most at once ${figures.maxInFlight}`,
		);
		log(
			`[queue] wall ${secs(figures.wallMs)} ÷ floor ${secs(figures.floorMs)} = ${figures.wallToFloor.toFixed(2)}; ` +
				`slowest ÷ fastest execution = ${figures.slowestToFastest.toFixed(2)}`,
		);
		fs.writeFileSync(path.join(runDir, 'figures.json'), JSON.stringify(figures, null, 2));
		for (const p of problems) log(`FAIL ${p}`);
		passed = problems.length === 0;
		log(
			`${passed ? 'PASS' : 'FAIL'} queue mode: ${WORKERS} workers, ${EXECUTIONS} × ${ITEMS} items`,
		);
	} catch (error) {
		log(`FAIL queue mode setup: ${error.message}`);
	} finally {
		const tstop = Date.now();
		if (fake) await fake.stop();
		// Workers and main first (they hold connections), then the services they used.
		for (const s of services.reverse()) await s.stop(s.name === 'postgres' ? 'SIGINT' : 'SIGTERM');
		harness.cleanupChildren();
		timings.stop = secs(Date.now() - tstop);
		if (postgres) fs.rmSync(postgres.dataDir, { recursive: true, force: true });
		if (KEEP) log(`[queue] kept ${runDir}`);
		else fs.rmSync(runDir, { recursive: true, force: true });
	}
	timings.total = secs(Date.now() - t0);
	log(
		`[timings] ${Object.entries(timings)
			.map(([k, v]) => `${k} ${v}`)
			.join('; ')}`,
	);
	writeCounts({ passed: passed ? 1 : 0, failed: passed ? 0 : 1 });
	log(`${passed ? 1 : 0} passed, ${passed ? 0 : 1} failed`);
	return passed ? 0 : 1;
}

/** Counts for .ci/run's grand total (test-results/ beside jest's and the other e2e suite's). */
function writeCounts(counts) {
	const folder = path.join(harness.REPO, 'test-results');
	fs.mkdirSync(folder, { recursive: true });
	fs.writeFileSync(path.join(folder, 'e2e-queue.json'), JSON.stringify(counts));
}

main().then(
	(code) => {
		process.exitCode = code;
	},
	(error) => {
		harness.cleanupChildren();
		console.error(error && error.stack ? error.stack : error);
		writeCounts({ passed: 0, failed: 1 });
		process.exitCode = 1;
	},
);
