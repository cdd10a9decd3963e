#!/usr/bin/env node
'use strict';
/**
 * End-to-end suite: the example workflows of examples/*.json, run by a REAL n8n against the fake
 * Eachlabs server, with this package installed the way n8n's community-package installer does it.
 *
 *   npm run test:e2e                      # all examples
 *   node test/e2e/run.js --only 02        # examples whose file name contains "02"
 *   node test/e2e/run.js --smoke          # only a built-in-nodes workflow: proves the harness
 *   node test/e2e/run.js --keep           # keep the temporary run folder (also E2E_KEEP=1)
 *   node test/e2e/run.js --no-build       # never run `npm run build` (also E2E_NO_BUILD=1)
 *   node test/e2e/run.js --n8n 1.123.81   # another n8n (also N8N_E2E_N8N_VERSION; default 2.41.1)
 *
 * Runs on the machine's Node (20 is fine); n8n itself runs on the Node its line needs (24 for 2.x,
 * 22 for 1.x), which ensure-n8n.js installs next to n8n in a cache outside the clone. Everything else lives in one temporary folder
 * per run (n8n user folder, database, written files, logs) and free ports, so several runs can go
 * at once and nothing of a developer's own n8n (~/.n8n, port 5678, broker 5679) is touched.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const crypto = require('crypto');
const { spawn, spawnSync } = require('child_process');

const argv = process.argv.slice(2);
// Before ensure-n8n reads it: which n8n to run.
if (argv.includes('--n8n')) process.env.N8N_E2E_N8N_VERSION = argv[argv.indexOf('--n8n') + 1];

const { ensureN8n, N8N_VERSION } = require('./ensure-n8n');
const checks = { ...require('./checks').checks, ...require('./checks-binary').checks };
const requestOptions = require('./request-options');

const REPO = path.resolve(__dirname, '..', '..');
const EXAMPLES_DIR = path.join(REPO, 'examples');
const PKG = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const PKG_NAME = PKG.name;
const CREDENTIAL_TYPE = 'eachlabsApi';
const API_KEY = 'e2e-key';
const E2E_CREDENTIAL = { id: 'e2eEachlabsCred1', name: 'Eachlabs account (e2e)' };
/** The examples write where the official Docker image allows files (~/.n8n-files of user node). */
const EXAMPLE_FILES_ROOT = '/home/node/.n8n-files';
/** Examples that test/e2e/agent.js runs instead: an AI Agent needs the fake model too. */
const AGENT_EXAMPLE = /-ai-agent-/;
const EXECUTE_TIMEOUT_MS = Number(process.env.E2E_EXECUTE_TIMEOUT_MS || 240_000);
const N8N_COMMAND_TIMEOUT_MS = 180_000;

const flag = (name) => argv.includes(name);
const optionValue = (name) => {
	const i = argv.indexOf(name);
	return i >= 0 ? argv[i + 1] : undefined;
};
const KEEP = flag('--keep') || process.env.E2E_KEEP === '1';
const SMOKE = flag('--smoke');
const NO_BUILD = flag('--no-build') || process.env.E2E_NO_BUILD === '1';
const ONLY = optionValue('--only');
const VERBOSE = flag('--verbose') || process.env.E2E_VERBOSE === '1';

const children = new Set();
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const log = (...a) => console.log(...a);

// ---------------------------------------------------------------------------------------------
// small helpers

function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.once('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

async function freePorts(n) {
	const ports = new Set();
	while (ports.size < n) ports.add(await freePort());
	return [...ports];
}

/** Runs a command, capturing output; kills its whole process group on timeout. */
function runCommand(cmd, args, { cwd, env, timeoutMs = N8N_COMMAND_TIMEOUT_MS, input } = {}) {
	return new Promise((resolve) => {
		const started = Date.now();
		const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
		children.add(child);
		let stdout = '';
		let stderr = '';
		let timedOut = false;
		child.stdout.on('data', (d) => (stdout += d));
		child.stderr.on('data', (d) => (stderr += d));
		child.stdin.end(input ?? '');
		const timer = setTimeout(() => {
			timedOut = true;
			killGroup(child, 'SIGKILL');
		}, timeoutMs);
		child.on('error', (error) => {
			clearTimeout(timer);
			children.delete(child);
			resolve({
				code: -1,
				stdout,
				stderr: `${stderr}\n${error.message}`,
				timedOut,
				ms: Date.now() - started,
			});
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			children.delete(child);
			// The task runner is n8n's child: make sure nothing of this group outlives the command.
			killGroup(child, 'SIGKILL');
			resolve({ code: code ?? signal, stdout, stderr, timedOut, ms: Date.now() - started });
		});
	});
}

function killGroup(child, signal) {
	if (!child.pid) return;
	try {
		process.kill(-child.pid, signal);
	} catch {
		try {
			child.kill(signal);
		} catch {
			/* already gone */
		}
	}
}

function cleanupChildren() {
	for (const child of children) killGroup(child, 'SIGKILL');
	children.clear();
}

async function httpJson(method, url, body) {
	const res = await fetch(url, {
		method,
		headers: body === undefined ? {} : { 'content-type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	if (!res.ok) throw new Error(`${method} ${url} -> ${res.status} ${text.slice(0, 300)}`);
	return text ? JSON.parse(text) : {};
}

function newestMtime(dir, filter = () => true) {
	let newest = 0;
	if (!fs.existsSync(dir)) return 0;
	for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
		const p = path.join(dir, entry.name);
		if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, filter));
		else if (filter(p)) newest = Math.max(newest, fs.statSync(p).mtimeMs);
	}
	return newest;
}

// ---------------------------------------------------------------------------------------------
// build + install the package the way n8n's installer does

/** Builds dist/ when it is missing or older than the sources (unless --no-build). */
function ensureBuilt() {
	const entries = [...PKG.n8n.nodes, ...PKG.n8n.credentials].map((p) => path.join(REPO, p));
	const missing = entries.filter((p) => !fs.existsSync(p));
	const srcNewest = Math.max(
		newestMtime(path.join(REPO, 'nodes')),
		newestMtime(path.join(REPO, 'credentials')),
		fs.statSync(path.join(REPO, 'package.json')).mtimeMs,
	);
	const stale = !missing.length && srcNewest > newestMtime(path.join(REPO, 'dist')) + 1;
	if (!missing.length && !stale) return { built: false };
	if (NO_BUILD) {
		throw new Error(
			missing.length
				? `dist is missing (${missing.map((p) => path.relative(REPO, p)).join(', ')}); run \`npm run build\``
				: 'dist is older than the sources; run `npm run build`',
		);
	}
	log(
		`[build] ${missing.length ? 'dist missing' : 'dist older than sources'}: running npm run build`,
	);
	const r = spawnSync('npm', ['run', 'build'], { cwd: REPO, encoding: 'utf8' });
	if (r.status !== 0) {
		throw new Error(
			`npm run build failed:\n${(r.stdout + r.stderr).split('\n').slice(-30).join('\n')}`,
		);
	}
	for (const p of entries)
		if (!fs.existsSync(p)) throw new Error(`npm run build did not produce ${p}`);
	return { built: true };
}

/**
 * Mirrors n8n 2.41's CommunityPackagesService.downloadPackage: `npm pack`, untar into
 * <userFolder>/.n8n/nodes/node_modules/<name>, drop dev/peer/optional dependencies, `npm install`
 * the rest, and record the dependency in <userFolder>/.n8n/nodes/package.json.
 */
function installPackage(userFolder, runDir) {
	const packDir = path.join(runDir, 'pack');
	fs.mkdirSync(packDir, { recursive: true });
	const npmEnv = { ...process.env, npm_config_update_notifier: 'false' };
	const pack = spawnSync(
		'npm',
		['pack', '--json', '--ignore-scripts', '--pack-destination', packDir],
		{
			cwd: REPO,
			encoding: 'utf8',
			env: npmEnv,
		},
	);
	if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
	const packInfo = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')))[0];
	const tarball = path.join(packDir, packInfo.filename);
	const packed = packInfo.files.map((f) => f.path);
	const needed = [...PKG.n8n.nodes, ...PKG.n8n.credentials, 'package.json'];
	const notPacked = needed.filter((p) => !packed.includes(p));
	if (notPacked.length) throw new Error(`npm pack left out ${notPacked.join(', ')}`);
	// Shipped but useless to users (n8n does not care): worth a warning, not a failure.
	const junk = packInfo.files.filter((f) => /\.tsbuildinfo$|\.test\.[jt]s$/.test(f.path));
	if (junk.length) {
		const kb = Math.round(junk.reduce((n, f) => n + f.size, 0) / 1024);
		log(`[warn] the tarball ships ${junk.map((f) => f.path).join(', ')} (${kb} KB)`);
	}
	const strays = packed.filter(
		(p) => !/^(dist\/|package\.json$|README|LICENSE|index\.js$)/i.test(p),
	);

	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	const pkgDir = path.join(nodesDir, 'node_modules', PKG_NAME);
	fs.mkdirSync(pkgDir, { recursive: true });
	const untar = spawnSync('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1'], {
		encoding: 'utf8',
	});
	if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
	const pjPath = path.join(pkgDir, 'package.json');
	// eslint-disable-next-line no-unused-vars
	const { devDependencies, peerDependencies, optionalDependencies, ...pj } = JSON.parse(
		fs.readFileSync(pjPath, 'utf8'),
	);
	fs.writeFileSync(pjPath, JSON.stringify(pj, null, 2));
	const install = spawnSync(
		'npm',
		[
			'install',
			'--audit=false',
			'--fund=false',
			'--bin-links=false',
			'--install-strategy=shallow',
			'--ignore-scripts=true',
			'--package-lock=false',
			'--omit=dev',
		],
		{ cwd: pkgDir, encoding: 'utf8', env: npmEnv },
	);
	if (install.status !== 0)
		throw new Error(`npm install in the unpacked package failed: ${install.stderr}`);
	const nm = path.join(pkgDir, 'node_modules');
	const installedDeps = fs.existsSync(nm)
		? fs.readdirSync(nm).filter((d) => !d.startsWith('.'))
		: [];
	fs.writeFileSync(
		path.join(nodesDir, 'package.json'),
		JSON.stringify(
			{ name: 'installed-nodes', private: true, dependencies: { [PKG_NAME]: pj.version } },
			null,
			2,
		),
	);
	return {
		pkgDir,
		tarball: packInfo.filename,
		size: packInfo.size,
		files: packed.length,
		strays,
		installedDeps,
		dependencies: pj.dependencies || {},
	};
}

/**
 * Where the installed package's run-time imports come from. n8n puts its own module paths on
 * NODE_PATH before loading nodes (LoadNodesAndCredentials.init); a community package that lists
 * no dependencies must resolve zod / n8n-workflow only through that. Checked with Node 24 from the
 * installed node file: first with no NODE_PATH (must fail: nothing of ours to fall back on), then
 * with n8n's paths (must land in n8n's tree).
 */
function moduleResolution(n8n, pkgDir) {
	const from = path.join(pkgDir, PKG.n8n.nodes[0]);
	const n8nFile = path.join(n8n.n8nDir, 'dist', 'load-nodes-and-credentials.js');
	const script = `
		const Module = require('module');
		const path = require('path');
		const req = Module.createRequire(${JSON.stringify(from)});
		const out = {};
		for (const m of ['zod', 'n8n-workflow']) { try { out[m] = { alone: req.resolve(m) }; } catch { out[m] = { alone: null }; } }
		process.env.NODE_PATH = Module._nodeModulePaths(path.dirname(${JSON.stringify(n8nFile)})).join(path.delimiter);
		Module._initPaths();
		for (const m of Object.keys(out)) {
			try {
				const p = req.resolve(m);
				let dir = path.dirname(p);
				while (!require('fs').existsSync(path.join(dir, 'package.json')) || require(path.join(dir, 'package.json')).name !== m) dir = path.dirname(dir);
				out[m].withN8n = p; out[m].version = require(path.join(dir, 'package.json')).version;
			} catch (e) { out[m].withN8n = null; out[m].error = e.message; }
		}
		console.log(JSON.stringify(out));`;
	const env = { ...process.env };
	delete env.NODE_PATH;
	const r = spawnSync(n8n.nodeBin, ['-e', script], { encoding: 'utf8', env });
	if (r.status !== 0) throw new Error(`module resolution probe failed: ${r.stderr}`);
	const out = JSON.parse(r.stdout.trim().split('\n').pop());
	const problems = [];
	for (const [m, v] of Object.entries(out)) {
		if (v.alone) problems.push(`${m} resolves without n8n (${v.alone})`);
		if (!v.withN8n) problems.push(`${m} does not resolve through n8n's module path (${v.error})`);
		else if (!v.withN8n.startsWith(n8n.dir + path.sep))
			problems.push(`${m} resolves outside n8n (${v.withN8n})`);
	}
	return { out, problems };
}

// ---------------------------------------------------------------------------------------------
// fake Eachlabs server

function startFake(runDir) {
	return new Promise((resolve, reject) => {
		const cli = path.join(REPO, 'dev', 'fake-eachlabs', 'cli.js');
		if (!fs.existsSync(cli)) {
			reject(new Error(`${path.relative(REPO, cli)} does not exist (yet)`));
			return;
		}
		const logFile = path.join(runDir, 'fake-eachlabs.log');
		const child = spawn(process.execPath, [cli, '--api-key', API_KEY], {
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		children.add(child);
		let out = '';
		let err = '';
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`fake-eachlabs printed no JSON line within 15 s: ${out}${err}`));
		}, 15_000);
		child.stderr.on('data', (d) => {
			err += d;
			fs.appendFileSync(logFile, d);
		});
		child.stdout.on('data', (d) => {
			if (out.includes('\n')) return;
			out += d;
			const nl = out.indexOf('\n');
			if (nl < 0) return;
			clearTimeout(timer);
			try {
				const info = JSON.parse(out.slice(0, nl));
				resolve({
					...info,
					child,
					stop: () =>
						new Promise((res) => {
							if (child.exitCode !== null) return res();
							child.once('exit', () => res());
							child.kill('SIGTERM');
							setTimeout(() => child.kill('SIGKILL'), 3000).unref();
						}),
				});
			} catch (e) {
				reject(new Error(`fake-eachlabs printed no JSON: ${out.slice(0, nl)}`));
			}
		});
		child.once('exit', (code) => {
			children.delete(child);
			clearTimeout(timer);
			reject(new Error(`fake-eachlabs exited with ${code}: ${err}`));
		});
	});
}

// ---------------------------------------------------------------------------------------------
// n8n

/** The environment of every n8n command: nothing inherited that could change n8n's behaviour. */
function n8nEnv(n8n, { userFolder, homeDir, filesDir, ports, encryptionKey }) {
	const base = {};
	for (const [k, v] of Object.entries(process.env)) {
		// Drop the developer's n8n config, npm's run-script variables and anything that widens the
		// module path: the package must load with only what n8n itself provides.
		if (
			/^(N8N_|DB_|EXECUTIONS_|QUEUE_|GENERIC_|WEBHOOK_URL|npm_|NODE_OPTIONS$|NODE_PATH$|NODE_ENV$)/.test(
				k,
			)
		)
			continue;
		base[k] = v;
	}
	const [port, brokerPort, healthPort, runnerHealthPort, enginePort, engineCpPort] = ports;
	return n8n.env({
		...base,
		// Nothing of the developer's home: n8n and its task runner see a fresh one.
		HOME: homeDir,
		N8N_USER_FOLDER: userFolder,
		N8N_ENCRYPTION_KEY: encryptionKey,
		DB_TYPE: 'sqlite',
		EXECUTIONS_MODE: 'regular',
		// Free ports for everything n8n could open (execute itself only opens the task broker).
		N8N_PORT: String(port),
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_RUNNERS_MODE: 'internal',
		N8N_RUNNERS_BROKER_PORT: String(brokerPort),
		N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
		N8N_RUNNERS_HEALTH_CHECK_SERVER_ENABLED: 'false',
		N8N_RUNNERS_HEALTH_CHECK_SERVER_PORT: String(runnerHealthPort),
		QUEUE_HEALTH_CHECK_ACTIVE: 'false',
		QUEUE_HEALTH_CHECK_PORT: String(healthPort),
		N8N_ENGINE_PORT: String(enginePort),
		N8N_ENGINE_CONTROL_PLANE_PORT: String(engineCpPort),
		// Output: one JSON log record per line; `execute` prints the run data through the logger.
		N8N_LOG_FORMAT: 'json',
		N8N_LOG_LEVEL: 'info',
		N8N_LOG_OUTPUT: 'console',
		// Headless and offline.
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
		// Community packages: on (the default), loaded from <userFolder>/.n8n/nodes/node_modules.
		N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
		N8N_COMMUNITY_PACKAGES_PREVENT_LOADING: 'false',
		N8N_REINSTALL_MISSING_PACKAGES: 'false',
		// SSRF protection is off by default in 2.41; when on, its default block list includes
		// 127.0.0.0/8, where the fake listens (API 127.0.0.1, files 127.0.0.2). Run with it on and
		// only loopback allowed, so the node is proven to work under a protected n8n too.
		// (E2E_N8N_SSRF_PROTECTION_ENABLED=false turns it off.)
		N8N_SSRF_PROTECTION_ENABLED: 'true',
		N8N_SSRF_ALLOWED_IP_RANGES: '127.0.0.0/8',
		// n8n 2.x lets nodes touch files only below this folder (default ~/.n8n-files).
		N8N_RESTRICT_FILE_ACCESS_TO: filesDir,
		N8N_BLOCK_ENV_ACCESS_IN_NODE: 'true',
		N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '5',
		// E2E_N8N_FOO=bar in the runner's environment sets N8N_FOO=bar for n8n (to try a setting).
		...Object.fromEntries(
			Object.entries(process.env)
				.filter(([k]) => k.startsWith('E2E_N8N_'))
				.map(([k, v]) => [k.slice('E2E_'.length), v]),
		),
	});
}

function n8nCommand(n8n, env, args, opts = {}) {
	return runCommand(n8n.nodeBin, [n8n.n8nBin, ...args], {
		env,
		cwd: opts.cwd,
		timeoutMs: opts.timeoutMs,
	});
}

/** Log records (JSON lines) of an n8n command; non-JSON lines kept as plain messages. */
function logRecords(result) {
	const records = [];
	for (const line of `${result.stdout}\n${result.stderr}`.split('\n')) {
		if (!line.trim()) continue;
		try {
			const rec = JSON.parse(line);
			if (rec && typeof rec === 'object' && 'message' in rec) {
				records.push(rec);
				continue;
			}
		} catch {
			/* not JSON */
		}
		records.push({ level: 'raw', message: line });
	}
	return records;
}

/** `n8n execute --rawOutput` logs the full IRun as one pretty-printed JSON message. */
function runFromOutput(records) {
	let run;
	for (const rec of records) {
		if (typeof rec.message !== 'string' || !rec.message.startsWith('{')) continue;
		try {
			const parsed = JSON.parse(rec.message);
			if (parsed && parsed.data && parsed.data.resultData) run = parsed;
		} catch {
			/* some other message */
		}
	}
	return run;
}

function errorLines(records, max = 6) {
	const noise = /^(Error executing workflow|Execution error:|Execution was NOT successful|=+$)/;
	const lines = records
		.filter((r) => r.level === 'error' || r.level === 'raw')
		.map(
			(r) =>
				(typeof r.message === 'string' ? r.message : JSON.stringify(r.message))
					.trim()
					.split('\n')[0],
		)
		.filter((m) => m && !m.startsWith('{') && !noise.test(m));
	return [...new Set(lines)].slice(-max);
}

// ---------------------------------------------------------------------------------------------
// workflows

function loadExamples() {
	const examples = fs
		.readdirSync(EXAMPLES_DIR)
		.filter((f) => f.endsWith('.json') && !AGENT_EXAMPLE.test(f))
		.sort()
		.map((file) => ({
			file,
			workflow: JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')),
		}));
	// Beside the examples: the Request Options workflows (request-options.js).
	return [...examples, ...requestOptions.workflows].filter((ex) => !ONLY || ex.file.includes(ONLY));
}

/**
 * A temp copy of an example for this run: the Eachlabs credential reference points at the imported
 * e2e credential, and file paths under the Docker default folder point into the run's folder.
 * The example files themselves stay as users import them.
 */
function patchWorkflow(workflow, { filesDir, proxy }) {
	const copy = JSON.parse(JSON.stringify(workflow));
	let credentialRefs = 0;
	for (const node of copy.nodes) {
		if (proxy) requestOptions.patch(node, proxy);
		if (node.credentials && node.credentials[CREDENTIAL_TYPE]) {
			node.credentials[CREDENTIAL_TYPE] = { ...E2E_CREDENTIAL };
			credentialRefs += 1;
		}
		if (
			node.type === 'n8n-nodes-base.readWriteFile' &&
			typeof node.parameters.fileName === 'string'
		) {
			node.parameters.fileName = node.parameters.fileName.split(EXAMPLE_FILES_ROOT).join(filesDir);
		}
		if (
			node.type === 'n8n-nodes-base.readWriteFile' &&
			typeof node.parameters.fileSelector === 'string'
		) {
			node.parameters.fileSelector = node.parameters.fileSelector
				.split(EXAMPLE_FILES_ROOT)
				.join(filesDir);
		}
	}
	return { copy, credentialRefs };
}

/** Stand-in for --smoke: only built-in nodes (Code runs in n8n's task runner). */
const SMOKE_WORKFLOW = {
	id: 'e2eSmokeBuiltIns1',
	name: 'e2e smoke: built-in nodes only',
	nodes: [
		{
			id: '8c5a3a1e-0d1b-4c53-9b1e-000000000001',
			name: 'Manual',
			type: 'n8n-nodes-base.manualTrigger',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		},
		{
			id: '8c5a3a1e-0d1b-4c53-9b1e-000000000002',
			name: 'Code',
			type: 'n8n-nodes-base.code',
			typeVersion: 2,
			position: [200, 0],
			parameters: {
				jsCode: 'return Array.from({ length: 3 }, (_, i) => ({ json: { i, text: `line ${i}` } }));',
			},
		},
		{
			id: '8c5a3a1e-0d1b-4c53-9b1e-000000000003',
			name: 'To File',
			type: 'n8n-nodes-base.convertToFile',
			typeVersion: 1.1,
			position: [400, 0],
			parameters: {
				operation: 'toText',
				sourceProperty: 'text',
				options: { fileName: '={{ "smoke-" + $json.i + ".txt" }}' },
			},
		},
		{
			id: '8c5a3a1e-0d1b-4c53-9b1e-000000000004',
			name: 'Write Files to Disk',
			type: 'n8n-nodes-base.readWriteFile',
			typeVersion: 1.1,
			position: [600, 0],
			parameters: {
				operation: 'write',
				fileName: `=${EXAMPLE_FILES_ROOT}/{{ $binary.data.fileName }}`,
				dataPropertyName: 'data',
				options: {},
			},
		},
	],
	connections: {
		Manual: { main: [[{ node: 'Code', type: 'main', index: 0 }]] },
		Code: { main: [[{ node: 'To File', type: 'main', index: 0 }]] },
		'To File': { main: [[{ node: 'Write Files to Disk', type: 'main', index: 0 }]] },
	},
	settings: { executionOrder: 'v1' },
	active: false,
};

// ---------------------------------------------------------------------------------------------
// main

async function main() {
	const t0 = Date.now();
	const results = [];
	const timings = {};
	const record = (name, ok, reason, ms) => {
		results.push({ name, ok, reason, ms });
		log(
			`${ok ? 'PASS' : 'FAIL'} ${name}${ms !== undefined ? ` (${secs(ms)})` : ''}${ok ? '' : `: ${reason}`}`,
		);
	};

	// 1. n8n (cached between runs)
	const n8n = ensureN8n({ log });
	timings.install = `${n8n.cached ? 'cached' : 'first install'} ${secs(n8n.seconds * 1000)}`;

	const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kling-o1-e2e-'));
	const userFolder = path.join(runDir, 'user');
	const filesDir = path.join(runDir, 'n8n-files');
	const homeDir = path.join(runDir, 'home');
	fs.mkdirSync(path.join(userFolder, '.n8n'), { recursive: true });
	fs.mkdirSync(homeDir);
	fs.mkdirSync(filesDir, { recursive: true });
	log(`[run] folder ${runDir}`);

	let fake;
	let proxy;
	const onSignal = (sig) => {
		cleanupChildren();
		if (!KEEP) fs.rmSync(runDir, { recursive: true, force: true });
		process.exit(sig === 'SIGINT' ? 130 : 143);
	};
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);

	try {
		const ports = await freePorts(6);
		const env = n8nEnv(n8n, {
			userFolder,
			homeDir,
			filesDir,
			ports,
			encryptionKey: crypto.randomBytes(24).toString('hex'),
		});
		log(`[run] ports: n8n ${ports[0]}, task broker ${ports[1]}`);

		let examples;
		let ctx = { runDir, filesDir, userFolder };
		if (SMOKE) {
			examples = [{ file: '(smoke) built-in nodes', workflow: SMOKE_WORKFLOW, smoke: true }];
		} else {
			examples = loadExamples();
			if (!examples.length)
				throw new Error(`no examples match ${ONLY ? `"${ONLY}"` : ''} in ${EXAMPLES_DIR}`);

			// 2. build + install the package like n8n does
			const tb = Date.now();
			const build = ensureBuilt();
			const pkg = installPackage(userFolder, runDir);
			timings.package = `${build.built ? 'build + ' : ''}pack + install ${secs(Date.now() - tb)}`;
			const pkgProblems = [];
			if (pkg.installedDeps.length)
				pkgProblems.push(
					`npm install --omit=dev installed ${pkg.installedDeps.join(', ')} (runtime dependencies: ${JSON.stringify(pkg.dependencies)})`,
				);
			if (pkg.strays.length)
				pkgProblems.push(`unexpected files in the tarball: ${pkg.strays.slice(0, 5).join(', ')}`);
			const resolution = moduleResolution(n8n, pkg.pkgDir);
			const versions = Object.entries(resolution.out)
				.map(([m, v]) => `${m} ${v.version || '?'}`)
				.join(', ');
			record(
				`run-time imports come from n8n only (${versions} from ${path.relative(path.dirname(n8n.dir), n8n.dir)})`,
				!resolution.problems.length,
				resolution.problems.join('; '),
			);
			record(
				`package: ${pkg.tarball} (${pkg.files} files, ${pkg.size} B) installed into ${path.relative(runDir, pkg.pkgDir)}`,
				!pkgProblems.length,
				pkgProblems.join('; '),
			);

			// 3. fake Eachlabs
			fake = await startFake(runDir);
			log(`[run] fake Eachlabs: api ${fake.apiUrl}, files ${fake.filesUrl}`);
			proxy = await requestOptions.startForwardProxy();
			log(`[run] forwarding proxy ${proxy.url}`);
			ctx = { ...ctx, fake, proxy };

			// 4a. credential
			const credFile = path.join(runDir, 'credentials.json');
			fs.writeFileSync(
				credFile,
				JSON.stringify(
					[
						{
							...E2E_CREDENTIAL,
							type: CREDENTIAL_TYPE,
							data: { apiKey: API_KEY, baseUrl: fake.apiUrl },
						},
					],
					null,
					2,
				),
			);
			const ci = await n8nCommand(n8n, env, ['import:credentials', `--input=${credFile}`]);
			fs.writeFileSync(path.join(runDir, 'import-credentials.log'), ci.stdout + ci.stderr);
			const ciRecords = logRecords(ci);
			if (
				ci.code !== 0 ||
				!ciRecords.some((r) => /Successfully imported 1 credential/.test(r.message))
			) {
				throw new Error(
					`n8n import:credentials failed (exit ${ci.code}): ${errorLines(ciRecords).join(' | ')}`,
				);
			}
			timings.importCredentials = secs(ci.ms);
		}

		// 4b. workflows: patched temp copies, imported in one go (--separate); when that fails, one
		// by one, so a broken example fails alone.
		const wfDir = path.join(runDir, 'workflows');
		fs.mkdirSync(wfDir);
		const ti = Date.now();
		const prepared = [];
		for (const ex of examples) {
			const { copy, credentialRefs } = patchWorkflow(ex.workflow, ctx);
			if (!ex.smoke && credentialRefs === 0) {
				record(ex.file, false, `no node references a ${CREDENTIAL_TYPE} credential`);
				continue;
			}
			const file = path.join(
				wfDir,
				ex.file.replace(/[^\w.-]+/g, '_').replace(/(\.json)?$/, '.json'),
			);
			fs.writeFileSync(file, JSON.stringify(copy, null, 2));
			prepared.push({ ...ex, id: copy.id, workflow: copy, importFile: file });
		}
		const importOk = (r, n) => {
			const recs = logRecords(r);
			const skipped = recs.filter((x) => /^Skipped workflow/.test(x.message));
			const wanted = new RegExp(`Successfully imported ${n} workflows?\\.`);
			const ok = r.code === 0 && !skipped.length && recs.some((x) => wanted.test(x.message));
			return {
				ok,
				why: `exit ${r.code}: ${(skipped.length ? skipped.map((x) => x.message) : errorLines(recs)).join(' | ')}`,
			};
		};
		let toRun = [];
		if (prepared.length) {
			const r = await n8nCommand(n8n, env, ['import:workflow', '--separate', `--input=${wfDir}`]);
			fs.writeFileSync(path.join(runDir, 'import-workflows.log'), r.stdout + r.stderr);
			if (importOk(r, prepared.length).ok) {
				toRun = prepared;
			} else {
				for (const ex of prepared) {
					const one = await n8nCommand(n8n, env, ['import:workflow', `--input=${ex.importFile}`]);
					fs.writeFileSync(`${ex.importFile}.import.log`, one.stdout + one.stderr);
					const res = importOk(one, 1);
					if (res.ok) toRun.push(ex);
					else record(ex.file, false, `n8n import:workflow failed (${res.why})`);
				}
			}
		}
		timings.importWorkflows = secs(Date.now() - ti);

		// 5. execute + assert
		for (const ex of toRun) {
			const te = Date.now();
			let reason;
			try {
				if (fake) await httpJson('POST', `${fake.controlUrl}/reset`);
				if (proxy) proxy.reset();
				const spec = ex.smoke
					? checks.smoke
					: (checks[ex.workflow.id] ?? requestOptions.checks[ex.workflow.id]);
				if (!spec)
					throw new Error(`no checks for workflow ${ex.workflow.id} in test/e2e/checks.js`);
				if (fake && spec.fake) await httpJson('POST', `${fake.controlUrl}/configure`, spec.fake);
				// Files an example reads (e.g. the photo of example 08) are put in place first.
				if (spec.prepare) await spec.prepare(ctx);
				const r = await n8nCommand(n8n, env, ['execute', `--id=${ex.id}`, '--rawOutput'], {
					timeoutMs: EXECUTE_TIMEOUT_MS,
				});
				const logFile = path.join(wfDir, `${ex.id}.execute.log`);
				fs.writeFileSync(logFile, r.stdout + r.stderr);
				const stats = fake ? await httpJson('GET', `${fake.controlUrl}/stats`) : undefined;
				if (stats)
					fs.writeFileSync(
						path.join(wfDir, `${ex.id}.fake-stats.json`),
						JSON.stringify(stats, null, 2),
					);
				const recs = logRecords(r);
				const run = runFromOutput(recs);
				if (r.timedOut) throw new Error(`n8n execute timed out after ${secs(EXECUTE_TIMEOUT_MS)}`);
				if (!run)
					throw new Error(
						`no run data in the output of n8n execute (exit ${r.code}): ${errorLines(recs).join(' | ') || 'no error logged'}`,
					);
				const runError = run.data.resultData.error;
				if (runError) {
					throw new Error(
						`execution failed in node "${run.data.resultData.lastNodeExecuted}": ${runError.message}${runError.description ? ` (${runError.description})` : ''}`,
					);
				}
				if (r.code !== 0)
					throw new Error(`n8n execute exited with ${r.code}: ${errorLines(recs).join(' | ')}`);
				await spec.check({ run, runData: run.data.resultData.runData, stats, ...ctx });
				if (VERBOSE) log(`  log: ${logFile}`);
			} catch (error) {
				reason = error.message;
			}
			record(`${ex.file} — ${ex.workflow.name}`, !reason, reason, Date.now() - te);
		}
	} catch (error) {
		record('setup', false, error.message);
	} finally {
		if (fake) await fake.stop();
		if (proxy) await proxy.close();
		cleanupChildren();
		if (KEEP) log(`[run] kept ${runDir}`);
		else fs.rmSync(runDir, { recursive: true, force: true });
	}

	const passed = results.filter((r) => r.ok).length;
	const failed = results.length - passed;
	timings.total = secs(Date.now() - t0);
	log(
		`[timings] n8n ${timings.install}` +
			(timings.package ? `; package ${timings.package}` : '') +
			(timings.importCredentials ? `; import:credentials ${timings.importCredentials}` : '') +
			(timings.importWorkflows ? `; import:workflow ${timings.importWorkflows}` : '') +
			`; total ${timings.total}`,
	);
	writeCounts({ passed, failed });
	log(`[run] n8n ${N8N_VERSION}: ${results.length} checks`);
	log(`${passed} passed, ${failed} failed`);
	return failed === 0 && passed > 0 ? 0 : 1;
}

/** Counts for .ci/run's grand total (test-results/ beside jest's). */
function writeCounts(counts) {
	const folder = path.resolve(__dirname, '..', '..', 'test-results');
	fs.mkdirSync(folder, { recursive: true });
	// One file per n8n version (and binary mode), so that CI's runs of several add up.
	const mode = process.env.E2E_N8N_DEFAULT_BINARY_DATA_MODE;
	const name = `e2e-n8n-${N8N_VERSION}${mode ? `-binary-${mode}` : ''}.json`;
	fs.writeFileSync(path.join(folder, name), JSON.stringify(counts));
}

// The harness, for suites in their own files (test/e2e/agent.js, test/e2e/queue.js).
module.exports = {
	REPO,
	API_KEY,
	CREDENTIAL_TYPE,
	E2E_CREDENTIAL,
	EXAMPLES_DIR,
	KEEP,
	cleanupChildren,
	ensureBuilt,
	errorLines,
	freePorts,
	httpJson,
	installPackage,
	killGroup,
	children,
	logRecords,
	moduleResolution,
	n8nCommand,
	n8nEnv,
	patchWorkflow,
	runFromOutput,
	secs,
	startFake,
};

if (require.main === module)
	main().then(
		(code) => {
			process.exitCode = code;
		},
		(error) => {
			cleanupChildren();
			console.error(error && error.stack ? error.stack : error);
			writeCounts({ passed: 0, failed: 1 });
			console.log('0 passed, 1 failed');
			process.exitCode = 1;
		},
	);
