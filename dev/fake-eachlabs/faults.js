'use strict';
// Injected faults: a FIFO of scripted ones per route (deterministic tests) and seeded random ones
// (soak tests that must replay the same way). Scripted faults win over random ones.

const { send, sendJson, errorBody, storageError, destroy, GATEWAY_HTML } = require('./http');

const ROUTES = ['create', 'poll', 'download', 'balance', 'presign', 'upload'];
const FILE_ROUTES = ['download', 'upload'];

// kind -> routes it makes sense on (null = every route).
const KINDS = {
	500: null,
	'502html': null,
	503: null,
	429: null,
	reset: null,
	hang: null,
	401: null,
	404: null,
	nonJson: null,
	resetAfterCreate: ['create'],
	// The prediction is stored, then a gateway answers 504 with its HTML page instead of the app.
	gateway504AfterCreate: ['create'],
	// The app answers, but only after `opts.delayMs` (default 1000).
	delayAnswer: null,
	noPredictionId: ['create'],
	unknownStatus: ['poll'],
	successNoOutput: ['poll'],
	// Headers and half the body, then the socket dies: a broken CDN transfer.
	truncate: ['download'],
	// A presign whose URL has already expired (expires_at in the past): its PUT gets a 403.
	expiredUrl: ['presign'],
	403: null,
};

// Fault rates per route; resetRate applies to the same three routes.
const RANDOM_RATE = { create: 'create5xxRate', poll: 'poll5xxRate', download: 'download5xxRate' };

/** mulberry32: tiny, fast, and the same sequence on every Node version for a given seed. */
function mulberry32(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function checkFault(route, kind, count) {
	if (!ROUTES.includes(route)) {
		throw new TypeError(`failNext: unknown route "${route}" (one of ${ROUTES.join(', ')})`);
	}
	if (!Object.prototype.hasOwnProperty.call(KINDS, kind)) {
		throw new TypeError(
			`failNext: unknown kind "${kind}" (one of ${Object.keys(KINDS).join(', ')})`,
		);
	}
	const routes = KINDS[kind];
	if (routes && !routes.includes(route)) {
		throw new TypeError(`failNext: kind "${kind}" only applies to route ${routes.join(', ')}`);
	}
	if (!Number.isInteger(count) || count < 1) {
		throw new TypeError('failNext: count must be a positive integer');
	}
}

class FaultPlan {
	constructor(seed) {
		this.queues = new Map();
		this.reseed(seed);
	}

	reseed(seed) {
		this.seed = seed;
		this.random = mulberry32(seed);
		this.keyCounts = new Map();
	}

	/**
	 * Draws for the n-th request with this key (e.g. a create body): the same fate whatever order
	 * concurrent requests arrive in, so a seeded soak replays the same way.
	 */
	keyed(key) {
		const n = this.keyCounts.get(key) || 0;
		this.keyCounts.set(key, n + 1);
		let hash = 2166136261 ^ this.seed;
		for (const char of `${key}\u0000${n}`) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
		return mulberry32(hash >>> 0);
	}

	clearScripted() {
		this.queues.clear();
	}

	script(route, kind, count = 1, opts = {}) {
		checkFault(route, kind, count);
		const queue = this.queues.get(route) || [];
		queue.push({ kind, remaining: count, opts: opts || {} });
		this.queues.set(route, queue);
	}

	/**
	 * The next fault for this request, or null. Consumes one scripted use or one random draw.
	 * Creates draw from their body's own sequence (`key`), other routes from the shared one.
	 */
	take(route, faultOptions, key) {
		const queue = this.queues.get(route);
		if (queue && queue.length > 0) {
			const head = queue[0];
			head.remaining -= 1;
			if (head.remaining <= 0) queue.shift();
			return { kind: head.kind, opts: head.opts };
		}
		const rateKey = RANDOM_RATE[route];
		if (!rateKey) return null;
		const rate5xx = faultOptions[rateKey];
		const { resetRate, htmlRate, create504AfterStoreRate } = faultOptions;
		const afterStore = route === 'create' ? create504AfterStoreRate : 0;
		if (!(rate5xx > 0) && !(resetRate > 0) && !(afterStore > 0)) return null;
		const random = route === 'create' && key !== undefined ? this.keyed(key) : this.random;
		// Always three draws per request (four for creates), so request N sees the same fate
		// whatever the rates.
		const r1 = random();
		const r2 = random();
		const r3 = random();
		const r4 = route === 'create' ? random() : 1;
		if (r1 < resetRate) return { kind: 'reset', opts: {} };
		if (r2 < rate5xx) return { kind: r3 < htmlRate ? '502html' : '500', opts: {} };
		if (r4 < afterStore) return { kind: 'gateway504AfterCreate', opts: {} };
		return null;
	}
}

/**
 * Answers (or refuses to answer) a request with a fault. Returns true when the request is done,
 * false when the route handler must still run (faults that only change how it answers).
 */
function applyFault(fault, ctx, route, req, res, ids) {
	const { kind, opts } = fault;
	const files = FILE_ROUTES.includes(route);
	switch (kind) {
		case 'reset':
			destroy(res);
			return true;
		case 'hang':
			// The socket stays open until the client gives up or close() destroys it.
			return true;
		case 'resetAfterCreate':
			res.fakeDestroyInsteadOfAnswer = true;
			// Held until this many creates have arrived (a batch's whole first wave, say), so that
			// no re-send of a lost answer can reach the fake before a create of that wave.
			if (opts.afterCreateRequests) {
				res.fakeHoldUntil = () =>
					ctx.closed || ctx.counters.createRequests >= opts.afterCreateRequests;
			}
			return false;
		case 'gateway504AfterCreate':
			res.fakeGatewayInsteadOfAnswer = 504;
			return false;
		case 'delayAnswer':
			res.fakeDelayMs = opts.delayMs ?? 1000;
			return false;
		case 'truncate':
			res.fakeTruncate = true;
			return false;
		case 'expiredUrl':
			res.fakeExpiredUrl = true;
			return false;
		case '403':
			if (files) {
				storageError(res, 403, 'SignatureDoesNotMatch', 'The request signature does not match.');
			} else sendJson(res, 403, errorBody('Forbidden', 'This API key may not do this'));
			return true;
		case '500':
			sendJson(res, 500, errorBody('Internal server error'));
			return true;
		case '502html':
			send(res, 502, GATEWAY_HTML, 'text/html');
			return true;
		case '503': {
			const headers =
				opts.retryAfter !== undefined ? { 'Retry-After': String(opts.retryAfter) } : {};
			sendJson(res, 503, errorBody('Service unavailable'), headers);
			return true;
		}
		case '429': {
			const retryAfter = opts.retryAfter ?? (ctx.options.rateLimit.retryAfterSeconds || 1);
			sendJson(
				res,
				429,
				errorBody('Rate limit exceeded', 'Too many requests, retry later (scripted fault)'),
				{ 'Retry-After': String(retryAfter) },
			);
			return true;
		}
		case '401':
			if (files) storageError(res, 401, 'AccessDenied', 'Anonymous caller does not have access');
			else sendJson(res, 401, errorBody('Invalid or missing API key', 'The API key is not valid'));
			return true;
		case '404':
			if (files) storageError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
			else if (route === 'poll') sendJson(res, 404, { error: 'Prediction not found' });
			else if (route === 'create') {
				sendJson(res, 404, errorBody('Model not found', 'Model "kling-o1" does not exist'));
			} else sendJson(res, 404, errorBody('Not found'));
			return true;
		case 'nonJson':
			send(res, 200, '<!doctype html><html><body><h1>Welcome</h1></body></html>', 'text/html');
			return true;
		case 'noPredictionId':
			sendJson(res, 200, { status: 'success', message: 'Prediction created successfully' });
			return true;
		case 'unknownStatus':
			sendJson(res, 200, { status: 'weird', predictionID: ids.id, output: null });
			return true;
		case 'successNoOutput':
			sendJson(res, 200, { status: 'success', predictionID: ids.id, metrics: { predict_time: 1 } });
			return true;
		default:
			throw new Error(`unhandled fault kind ${kind}`);
	}
}

module.exports = { FaultPlan, applyFault, mulberry32, ROUTES, KINDS };
