'use strict';
// A fake Eachlabs prediction API for the Kling O1 node: real HTTP on loopback, three hosts (API,
// output storage, upload storage), scripted and seeded faults. Plain CommonJS so jest (ts-jest),
// the demo script and an e2e runner on another Node version all load it without a build step.
// Types: ./index.d.ts.

const http = require('http');
const net = require('net');
const { DEFAULTS, mergeOptions } = require('./options');
const { FaultPlan, mulberry32 } = require('./faults');
const { handleApi } = require('./api');
const { handleFiles } = require('./files');
const { handleUploads } = require('./uploads');
const { bodyForLog, sendJson, errorBody, destroy } = require('./http');
const { makeImage } = require('./images');
const { timingOf } = require('./predictions');

/** @typedef {import('./index').FakeEachlabsOptions} FakeEachlabsOptions */
/** @typedef {import('./index').FakeEachlabs} FakeEachlabs */

function emptyCounters() {
	return {
		createRequests: 0,
		creates: 0,
		polls: 0,
		downloads: 0,
		balanceChecks: 0,
		presigns: 0,
		uploads: 0,
		uploadsWithKey: 0,
		inputFetches: 0,
		cancels: 0,
		webhooks: 0,
		maxInFlight: 0,
		rateLimited: 0,
		faultsInjected: 0,
	};
}

function listen(server, port, host) {
	return new Promise((resolve, reject) => {
		const onError = (err) => {
			server.off('listening', onListening);
			reject(err);
		};
		const onListening = () => {
			server.off('error', onError);
			resolve(server.address().port);
		};
		server.once('error', onError);
		server.once('listening', onListening);
		server.listen(port, host);
	});
}

function canConnect(host, port) {
	return new Promise((resolve) => {
		const socket = net.connect({ host, port });
		const timer = setTimeout(() => {
			socket.destroy();
			resolve(false);
		}, 1000);
		socket.once('connect', () => {
			clearTimeout(timer);
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => {
			clearTimeout(timer);
			resolve(false);
		});
	});
}

function closeServer(server, sockets) {
	return new Promise((resolve) => {
		if (!server.listening) {
			resolve();
			return;
		}
		server.close(() => resolve());
		// Keep-alive and hanging sockets would otherwise hold close() (and jest) open.
		server.closeAllConnections?.();
		for (const socket of sockets) socket.destroy();
	});
}

function createServer(ctx, handler, sockets) {
	const server = http.createServer((req, res) => {
		Promise.resolve()
			.then(() => handler(ctx, req, res))
			.catch((err) => {
				// A bug in the fake must look different from an injected 500.
				if (!res.headersSent) {
					sendJson(res, 500, errorBody('Fake server bug', String(err && err.stack)));
				} else destroy(res);
			});
	});
	server.on('connection', (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	// A stray client error (bad request line, reset mid-request) must not crash the process.
	server.on('clientError', (err, socket) => socket.destroy());
	return server;
}

/**
 * Listens on `preferred` (127.0.0.2, 127.0.0.3) when this machine routes it (Linux does), so
 * storage is another host than the API.
 */
async function listenFiles(server, port, forcedHost, preferred = '127.0.0.2') {
	if (forcedHost) return { host: forcedHost, port: await listen(server, port, forcedHost) };
	try {
		const bound = await listen(server, port, preferred);
		if (await canConnect(preferred, bound)) return { host: preferred, port: bound };
		await new Promise((resolve) => server.close(() => resolve()));
	} catch {
		// EADDRNOTAVAIL on macOS and some containers: fall back to another port on 127.0.0.1.
	}
	return { host: '127.0.0.1', port: await listen(server, port, '127.0.0.1') };
}

/**
 * Starts the fake API and storage hosts.
 * @param {FakeEachlabsOptions} [options]
 * @returns {Promise<FakeEachlabs>}
 */
async function startFakeEachlabs(options = {}) {
	const ctx = {
		options: mergeOptions(/** @type {any} */ (DEFAULTS), options, true),
		apiUrl: '',
		filesUrl: '',
		uploadsUrl: '',
		predictions: new Map(),
		uploads: new Map(),
		createTimes: new Map(),
		balanceTimes: new Map(),
		counters: emptyCounters(),
		requests: [],
		timers: new Set(),
		outgoing: new Set(),
		closed: false,
		faultPlan: null,
		fake: null,
		log(host, req, raw) {
			ctx.requests.push({
				host,
				method: req.method,
				path: req.url,
				headers: { ...req.headers },
				body: bodyForLog(raw, req.headers['content-type']),
				time: Date.now(),
			});
		},
		takeFault(route, key) {
			const fault = ctx.faultPlan.take(route, ctx.options.faults, key);
			if (fault) ctx.counters.faultsInjected += 1;
			return fault;
		},
	};
	ctx.faultPlan = new FaultPlan(ctx.options.faults.seed);
	ctx.jobRandom = mulberry32(ctx.options.jobSeed);

	const apiSockets = new Set();
	const filesSockets = new Set();
	const apiServer = createServer(ctx, handleApi, apiSockets);
	const filesServer = createServer(ctx, handleFiles, filesSockets);
	const uploadsSockets = new Set();
	const uploadsServer = createServer(ctx, handleUploads, uploadsSockets);
	const apiPort = await listen(apiServer, ctx.options.port, '127.0.0.1');
	let files;
	let uploads;
	try {
		files = await listenFiles(filesServer, ctx.options.filesPort, ctx.options.filesHost);
		uploads = await listenFiles(uploadsServer, 0, ctx.options.filesHost, '127.0.0.3');
	} catch (err) {
		await closeServer(apiServer, apiSockets);
		await closeServer(filesServer, filesSockets);
		throw err;
	}
	ctx.apiUrl = `http://127.0.0.1:${apiPort}`;
	ctx.filesUrl = `http://${files.host}:${files.port}`;
	ctx.uploadsUrl = `http://${uploads.host}:${uploads.port}`;

	let closing;
	/** @type {FakeEachlabs} */
	const fake = {
		apiUrl: ctx.apiUrl,
		filesUrl: ctx.filesUrl,
		uploadsUrl: ctx.uploadsUrl,
		controlUrl: `${ctx.apiUrl}/__control`,
		filesHostDistinct: files.host !== '127.0.0.1',
		requests: ctx.requests,
		get options() {
			return ctx.options;
		},
		configure(partial) {
			ctx.options = mergeOptions(ctx.options, partial, false);
			if (partial && 'faults' in partial) ctx.faultPlan.reseed(ctx.options.faults.seed);
			if (partial && 'jobSeed' in partial) ctx.jobRandom = mulberry32(ctx.options.jobSeed);
			return ctx.options;
		},
		reset() {
			for (const timer of ctx.timers) clearTimeout(timer);
			ctx.timers.clear();
			ctx.predictions.clear();
			ctx.uploads.clear();
			ctx.createTimes.clear();
			ctx.balanceTimes.clear();
			// In place, so a test holding `fake.requests` keeps seeing the live log.
			ctx.requests.length = 0;
			ctx.counters = emptyCounters();
			ctx.faultPlan.clearScripted();
			ctx.faultPlan.reseed(ctx.options.faults.seed);
			ctx.jobRandom = mulberry32(ctx.options.jobSeed);
		},
		stats() {
			const now = Date.now();
			let inFlight = 0;
			for (const p of ctx.predictions.values()) if (now < p.endAt) inFlight += 1;
			const prompts = {};
			for (const p of ctx.predictions.values()) prompts[p.id] = p.input.prompt;
			return { ...ctx.counters, inFlight, predictions: [...ctx.predictions.keys()], prompts };
		},
		timings() {
			return [...ctx.predictions.values()].map(timingOf);
		},
		failNext(route, kind, count = 1, opts = {}) {
			ctx.faultPlan.script(route, kind, count, opts);
		},
		outputUrl(predictionId, index = 0, format = 'png') {
			const ext = { png: 'png', jpeg: 'jpg', webp: 'webp' }[format];
			return `${ctx.filesUrl}/outputs/${predictionId}/${index}.${ext}`;
		},
		inputOf(predictionId) {
			const prediction = ctx.predictions.get(predictionId);
			if (!prediction) throw new Error(`unknown prediction ${predictionId}`);
			return { ...prediction.input };
		},
		uploadedFile(publicUrl) {
			const upload = ctx.uploads.get(String(publicUrl).split('/uploads/')[1] ?? '');
			return upload && upload.data ? Buffer.from(upload.data) : undefined;
		},
		expectedImage(predictionId, index = 0) {
			const prediction = ctx.predictions.get(predictionId);
			if (!prediction) throw new Error(`unknown prediction ${predictionId}`);
			return makeImage({
				id: predictionId,
				index,
				format: prediction.input.output_format,
				bytes: prediction.imageBytes,
			});
		},
		close() {
			if (!closing) {
				ctx.closed = true;
				for (const timer of ctx.timers) clearTimeout(timer);
				ctx.timers.clear();
				for (const req of ctx.outgoing) req.destroy();
				ctx.outgoing.clear();
				closing = Promise.all([
					closeServer(apiServer, apiSockets),
					closeServer(filesServer, filesSockets),
					closeServer(uploadsServer, uploadsSockets),
				]).then(() => undefined);
			}
			return closing;
		},
	};
	ctx.fake = fake;
	return fake;
}

module.exports = { startFakeEachlabs, makeImage, DEFAULT_OPTIONS: DEFAULTS };
