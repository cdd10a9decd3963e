'use strict';
// The API host: /v1/prediction (create, poll), /v1/billing/balance, /v1/upload/presign, plus the
// unauthenticated /__control endpoints. Order per request mirrors a real gateway: route, faults
// (they hit before the app), auth, JSON parsing, then the handler.

const { readBody, BodyTooLarge, parseJson, sendJson, errorBody, destroy } = require('./http');
const { applyFault } = require('./faults');
const { validateInput, isObject, MODEL, MODEL_VERSION } = require('./validate');
const {
	createPrediction,
	predictionView,
	isRunning,
	cancelPrediction,
	parseMarkers,
} = require('./predictions');
const { presignUpload } = require('./uploads');
const { checkInputs } = require('./inputs');
const { handleControl } = require('./control');

const MAX_API_BODY_BYTES = 10 * 1024 * 1024;
const BALANCE_USD = 53.475;

const ROUTES = [
	{ name: 'create', method: 'POST', pattern: /^\/v1\/prediction\/?$/, stat: 'createRequests' },
	{ name: 'poll', method: 'GET', pattern: /^\/v1\/prediction\/([^/]+)\/?$/, stat: 'polls' },
	{ name: 'balance', method: 'GET', pattern: /^\/v1\/billing\/balance\/?$/, stat: 'balanceChecks' },
	{ name: 'presign', method: 'POST', pattern: /^\/v1\/upload\/presign\/?$/, stat: 'presigns' },
	// Not in the reference, but every poll answer advertises urls.cancel, so it should work.
	{
		name: 'cancel',
		method: 'POST',
		pattern: /^\/v1\/prediction\/([^/]+)\/cancel\/?$/,
		stat: 'cancels',
	},
];

function matchRoute(method, path) {
	let pathMatched = false;
	for (const route of ROUTES) {
		const m = route.pattern.exec(path);
		if (!m) continue;
		// HEAD is not a thing on this API; a matching path with another method is a 405.
		if (route.method === method) return { ...route, id: m[1] };
		pathMatched = true;
	}
	return { name: null, pathMatched };
}

function checkAuth(ctx, req) {
	const key = ctx.options.apiKey;
	const apiKey = req.headers['x-api-key'];
	const authorization = req.headers.authorization;
	const bearer =
		typeof authorization === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
	if (apiKey === key) return { ok: true, key: apiKey };
	if (bearer === key) return { ok: true, key: bearer };
	const provided = apiKey !== undefined || authorization !== undefined;
	return {
		ok: false,
		details: provided
			? 'The API key is not valid'
			: 'Send your API key in the X-API-Key header (or Authorization: Bearer)',
	};
}

function invalid(res, details) {
	sendJson(res, 400, errorBody('Invalid input', details));
}

/** Null when a create may go ahead, else the reason for a 429. */
function rateLimitReason(ctx, key, now) {
	const { concurrent, perMinute, windowMs } = ctx.options.rateLimit;
	if (concurrent > 0) {
		let running = 0;
		for (const p of ctx.predictions.values()) if (p.key === key && isRunning(p, now)) running += 1;
		if (running >= concurrent) {
			return `${running} predictions are still running; the limit is ${concurrent} concurrent per API key`;
		}
	}
	if (perMinute > 0) {
		const recent = (ctx.createTimes.get(key) || []).filter((t) => now - t < windowMs);
		ctx.createTimes.set(key, recent);
		if (recent.length >= perMinute) {
			return `${recent.length} predictions created in the last ${windowMs / 1000} s; the limit is ${perMinute}`;
		}
	}
	return null;
}

/** Eachlabs' docs: the balance allows 3 requests a second per key (burst 3), then 429. */
const BALANCE_PER_SECOND = 3;

function handleBalance(ctx, res, key) {
	const now = Date.now();
	const recent = (ctx.balanceTimes.get(key) || []).filter((t) => now - t < 1000);
	if (recent.length >= BALANCE_PER_SECOND) {
		ctx.balanceTimes.set(key, recent);
		ctx.counters.rateLimited += 1;
		sendJson(
			res,
			429,
			errorBody('Rate limit exceeded', `The balance allows ${BALANCE_PER_SECOND} requests a second`),
			{ 'Retry-After': '1' },
		);
		return;
	}
	recent.push(now);
	ctx.balanceTimes.set(key, recent);
	sendJson(res, 200, { balance_usd: BALANCE_USD });
}

function handleCreate(ctx, req, res, body, key) {
	if (!isObject(body)) return invalid(res, 'The request body must be a JSON object');
	if (body.model === undefined || body.model === null || body.model === '') {
		return invalid(res, 'model is required');
	}
	if (body.model !== MODEL) {
		return sendJson(
			res,
			404,
			errorBody('Model not found', `Model ${JSON.stringify(body.model)} does not exist`),
		);
	}
	// `version` is required by the general docs but absent from the seed's example: accept both.
	if (body.version !== undefined && body.version !== MODEL_VERSION) {
		return sendJson(
			res,
			404,
			errorBody(
				'Model version not found',
				`${MODEL} has no version ${JSON.stringify(body.version)} (current: ${MODEL_VERSION})`,
			),
		);
	}
	if (body.webhook_url !== undefined && body.webhook_url !== null) {
		let ok = typeof body.webhook_url === 'string';
		try {
			ok = ok && /^https?:$/.test(new URL(body.webhook_url).protocol);
		} catch {
			ok = false;
		}
		if (!ok) return invalid(res, 'webhook_url must be an http(s) URL');
	}
	if (body.webhook_secret !== undefined && typeof body.webhook_secret !== 'string') {
		return invalid(res, 'webhook_secret must be a string');
	}
	const checked = validateInput(body.input, [ctx.filesUrl, ctx.uploadsUrl]);
	if ('error' in checked) return invalid(res, checked.error);
	const markers = parseMarkers(checked.input.prompt);
	// The answer, whichever it is, may reach the client late.
	if (markers.answerDelayMs) res.fakeDelayMs = markers.answerDelayMs;
	if (markers.answerAfterCreates) {
		res.fakeHoldUntil = () =>
			ctx.closed || ctx.counters.createRequests >= markers.answerAfterCreates;
	}
	if (markers.reject) {
		return invalid(
			res,
			'Could not download image_urls[0]: the host refused (simulated by [reject])',
		);
	}

	const now = Date.now();
	const limited = rateLimitReason(ctx, key, now);
	if (limited) {
		ctx.counters.rateLimited += 1;
		return sendJson(res, 429, errorBody('Rate limit exceeded', limited), {
			'Retry-After': String(ctx.options.rateLimit.retryAfterSeconds || 1),
		});
	}

	// The job starts by fetching its inputs, as the real service does: a bad one fails it.
	const prediction = createPrediction(ctx, {
		key,
		input: checked.input,
		webhookUrl: body.webhook_url ?? undefined,
		webhookSecret: body.webhook_secret,
		inputsChecked: checkInputs(ctx, checked.input.image_urls),
	});
	ctx.counters.creates += 1;
	const times = ctx.createTimes.get(key) || [];
	times.push(now);
	ctx.createTimes.set(key, times);
	let inFlight = 0;
	for (const p of ctx.predictions.values()) if (isRunning(p, now)) inFlight += 1;
	ctx.counters.maxInFlight = Math.max(ctx.counters.maxInFlight, inFlight);

	return sendJson(res, 200, {
		status: 'success',
		message: 'Prediction created successfully',
		predictionID: prediction.id,
	});
}

function safeDecode(text) {
	try {
		return decodeURIComponent(text);
	} catch {
		return text;
	}
}

function handlePoll(ctx, req, res, id) {
	const prediction = ctx.predictions.get(id);
	if (!prediction) return sendJson(res, 404, { error: 'Prediction not found' });
	const now = Date.now();
	prediction.polls += 1;
	if (prediction.seenEndedAt === null && !isRunning(prediction, now)) prediction.seenEndedAt = now;
	return sendJson(res, 200, predictionView(ctx, prediction, now));
}

function handleCancel(ctx, req, res, id) {
	const prediction = ctx.predictions.get(id);
	if (!prediction) return sendJson(res, 404, { error: 'Prediction not found' });
	if (!cancelPrediction(ctx, prediction, Date.now())) {
		return sendJson(
			res,
			409,
			errorBody('Prediction already finished', `Prediction ${id} is ${prediction.final}`),
		);
	}
	return sendJson(res, 200, {
		status: 'success',
		message: 'Prediction cancelled',
		predictionID: id,
	});
}

function handlePresign(ctx, req, res, body) {
	if (!isObject(body)) return invalid(res, 'The request body must be a JSON object');
	const type = body.content_type;
	if (typeof type !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(type)) {
		return invalid(res, 'content_type is required, e.g. "image/png"');
	}
	if (body.file_type !== undefined && typeof body.file_type !== 'string') {
		return invalid(res, 'file_type must be a string');
	}
	return sendJson(res, 200, presignUpload(ctx, type, { expired: res.fakeExpiredUrl === true }));
}

async function handleApi(ctx, req, res) {
	const url = new URL(req.url, 'http://api.invalid');
	const path = url.pathname;
	let raw;
	try {
		raw = await readBody(req, MAX_API_BODY_BYTES);
	} catch (err) {
		if (err instanceof BodyTooLarge) {
			sendJson(res, 413, errorBody('Request body too large', err.message));
		} else destroy(res);
		return;
	}
	if (path.startsWith('/__control/')) {
		handleControl(ctx, req, res, path, raw);
		return;
	}
	ctx.log('api', req, raw);

	const route = matchRoute(req.method, path);
	if (route.stat) ctx.counters[route.stat] += 1;
	if (route.name) {
		// A create's random fate follows its body, not the order concurrent creates arrive in.
		const fault = ctx.takeFault(
			route.name,
			route.name === 'create' ? raw.toString('utf8') : undefined,
		);
		if (fault && applyFault(fault, ctx, route.name, req, res, route)) return;
	} else {
		const status = route.pathMatched ? 405 : 404;
		const message = route.pathMatched ? 'Method not allowed' : 'Not found';
		sendJson(res, status, errorBody(message, `No route for ${req.method} ${path}`));
		return;
	}

	const auth = checkAuth(ctx, req);
	if (!auth.ok) {
		sendJson(res, 401, errorBody('Invalid or missing API key', auth.details));
		return;
	}
	const parsed = parseJson(raw);
	if (!parsed.ok) {
		sendJson(res, 400, errorBody('Invalid JSON body'));
		return;
	}
	switch (route.name) {
		case 'create':
			handleCreate(ctx, req, res, parsed.value, auth.key);
			return;
		case 'poll':
			handlePoll(ctx, req, res, safeDecode(route.id));
			return;
		case 'balance':
			handleBalance(ctx, res, auth.key);
			return;
		case 'presign':
			handlePresign(ctx, req, res, parsed.value);
			return;
		case 'cancel':
			handleCancel(ctx, req, res, safeDecode(route.id));
			return;
	}
}

module.exports = { handleApi, BALANCE_USD };
