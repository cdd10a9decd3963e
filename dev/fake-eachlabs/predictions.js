'use strict';
// The prediction model: how a job is set up at create time (options snapshot + prompt markers),
// what a poll shows at a given moment, and the webhook when the job ends. Status is computed from
// the clock rather than stored, so a poll and the concurrency count can never disagree.

const crypto = require('crypto');
const http = require('http');
const https = require('https');
const { TERMINAL_STATUSES } = require('./options');
const { FORMATS } = require('./images');

const COST_PER_IMAGE = 0.028;
const WEBHOOK_TIMEOUT_MS = 5000;

/** Per-prediction behaviour that an e2e workflow in another process asks for in the prompt. */
function parseMarkers(prompt) {
	const slow = /\[slow:(\d+)\]/i.exec(prompt);
	const answerDelay = /\[answer-delay:(\d+)\]/i.exec(prompt);
	const afterCreates = /\[answer-after-creates:(\d+)\]/i.exec(prompt);
	return {
		// A create answered 400 at once, nothing stored (e.g. an input Eachlabs cannot fetch).
		reject: /\[reject\]/i.test(prompt),
		// The prediction is stored at once; the create's answer leaves N ms later.
		answerDelayMs: answerDelay ? Number(answerDelay[1]) : undefined,
		// The answer waits until the fake has had N create requests (then any answer-delay runs):
		// a batch's whole first wave is on the wire before this one is answered.
		answerAfterCreates: afterCreates ? Number(afterCreates[1]) : undefined,
		fail: /\[fail\]/i.test(prompt),
		classified: /\[fail:classified\]/i.test(prompt),
		slowMs: slow ? Number(slow[1]) : undefined,
		expired: /\[expired\]/i.test(prompt),
		cancelled: /\[cancelled\]/i.test(prompt),
		singleUrl: /\[single-url\]/i.test(prompt),
	};
}

/**
 * Creates and stores a prediction. `inputsChecked` resolves once the job has fetched its inputs:
 * `{ url, problem }` for the first input that is not a reachable image (the job then fails), or
 * null. The job runs at least until then.
 */
function createPrediction(ctx, { key, input, webhookUrl, webhookSecret, inputsChecked }) {
	const { options } = ctx;
	const now = Date.now();
	const markers = parseMarkers(input.prompt);
	const sequence = options.statusSequence;
	const last = sequence[sequence.length - 1];
	// A sequence that ends in a non-terminal status describes a job that never finishes.
	let final = TERMINAL_STATUSES.includes(last) ? last : null;
	const steps = final ? sequence.slice(0, -1) : [...sequence];
	let failure = null;
	if (markers.classified) final = 'error';
	else if (markers.fail) final = 'error';
	else if (markers.cancelled) final = 'cancelled';
	if (final === 'error' || final === 'failed') {
		failure = markers.classified ? 'classified' : 'plain';
	}
	// Every create draws, so the Nth prediction gets the same time whatever came before it.
	const jitter = ctx.jobRandom() * options.jobJitterMs;
	const jobMs = markers.slowMs ?? Math.round(options.jobMs + jitter);
	const prediction = {
		id: crypto.randomUUID(),
		key,
		input,
		createdAt: now,
		jobMs,
		// Not before the inputs are fetched (see below).
		endAt: Infinity,
		steps: steps.length > 0 ? steps : ['processing'],
		final,
		failure,
		missingInput: undefined,
		inputProblem: undefined,
		expired: markers.expired,
		singleUrl: markers.singleUrl,
		imageBytes: options.imageBytes,
		webhookUrl,
		webhookSecret,
		// For timing figures: polls of this prediction, and when a poll first showed it ended.
		polls: 0,
		seenEndedAt: null,
	};
	ctx.predictions.set(prediction.id, prediction);
	const startRunning = (bad) => {
		if (ctx.closed || prediction.endAt !== Infinity) return;
		if (bad && !markers.fail && !markers.classified && !markers.cancelled) {
			prediction.final = 'error';
			prediction.failure = 'input';
			prediction.missingInput = bad.url;
			prediction.inputProblem = bad.problem;
		}
		if (prediction.final) prediction.endAt = Math.max(now + jobMs, Date.now());
		scheduleWebhook(ctx, prediction);
	};
	Promise.resolve(inputsChecked).then(startRunning, () => startRunning(null));
	return prediction;
}

function isRunning(prediction, now) {
	return now < prediction.endAt;
}

function statusAt(prediction, now) {
	if (!isRunning(prediction, now)) return prediction.final;
	const { steps, createdAt, jobMs } = prediction;
	// Intermediate statuses share the job time evenly: created, then processing, ...
	const share = jobMs > 0 && Number.isFinite(jobMs) ? (now - createdAt) / jobMs : 0;
	return steps[Math.min(steps.length - 1, Math.floor(share * steps.length))];
}

function outputUrls(ctx, prediction) {
	const { ext } = FORMATS[prediction.input.output_format];
	const urls = [];
	for (let i = 0; i < prediction.input.num_images; i++) {
		urls.push(`${ctx.filesUrl}/outputs/${prediction.id}/${i}.${ext}`);
	}
	return urls;
}

function round(value, digits) {
	const f = 10 ** digits;
	return Math.round(value * f) / f;
}

/** One prediction's timing, for benchmarks (detection lag = seenEndedAt - endedAt). */
function timingOf(prediction) {
	return {
		id: prediction.id,
		createdAt: prediction.createdAt,
		jobMs: prediction.jobMs,
		endedAt: Number.isFinite(prediction.endAt) ? prediction.endAt : null,
		seenEndedAt: prediction.seenEndedAt,
		polls: prediction.polls,
	};
}

/** The body of GET /v1/prediction/:id at time `now`. */
function predictionView(ctx, prediction, now) {
	const status = statusAt(prediction, now);
	const { id } = prediction;
	if (isRunning(prediction, now)) return { status, predictionID: id, output: null };
	const predictTime = round(prediction.jobMs / 1000, 3);
	const urls = {
		get: `${ctx.apiUrl}/v1/prediction/${id}`,
		cancel: `${ctx.apiUrl}/v1/prediction/${id}/cancel`,
	};
	if (status === 'success') {
		const all = outputUrls(ctx, prediction);
		const cost = round(COST_PER_IMAGE * prediction.input.num_images, 6);
		const { stringMetrics, sparseOutput } = ctx.options;
		return {
			status,
			predictionID: id,
			output: prediction.singleUrl ? all[0] : sparseOutput ? [null, ...all, ''] : all,
			metrics: stringMetrics
				? { predict_time: String(predictTime), cost: String(cost) }
				: { predict_time: predictTime, cost },
			urls,
		};
	}
	if (status === 'cancelled') return { status, predictionID: id, output: null, urls };
	if (prediction.failure === 'classified') {
		return {
			status,
			predictionID: id,
			output: {
				error_code: 'PROVIDER_RATE_LIMIT',
				error_message: 'The provider is busy, try again later',
			},
			metrics: { predict_time: predictTime },
			urls,
		};
	}
	const details =
		prediction.failure === 'input'
			? `Could not download ${prediction.missingInput}: ${prediction.inputProblem}`
			: 'The model could not generate an image for this input (simulated failure)';
	return {
		status,
		predictionID: id,
		output: null,
		message: 'Image generation failed',
		details,
		metrics: { predict_time: predictTime },
		urls,
	};
}

function webhookPayload(ctx, prediction) {
	const view = predictionView(ctx, prediction, prediction.endAt);
	if (view.status === 'success') {
		return { exec_id: prediction.id, status: 'succeeded', output: view.output, error: '' };
	}
	let error = 'Prediction cancelled';
	if (view.message) error = `${view.message}: ${view.details}`;
	else if (view.output && view.output.error_message) error = view.output.error_message;
	return { exec_id: prediction.id, status: 'failed', output: view.output ?? null, error };
}

/** Ends a running prediction as cancelled now; false when it had already finished. */
function cancelPrediction(ctx, prediction, now) {
	if (!isRunning(prediction, now)) return false;
	prediction.final = 'cancelled';
	prediction.failure = null;
	prediction.endAt = now;
	prediction.jobMs = now - prediction.createdAt;
	scheduleWebhook(ctx, prediction);
	return true;
}

function scheduleWebhook(ctx, prediction) {
	if (prediction.webhookTimer) {
		clearTimeout(prediction.webhookTimer);
		ctx.timers.delete(prediction.webhookTimer);
	}
	if (!prediction.webhookUrl || !Number.isFinite(prediction.endAt)) return;
	const timer = setTimeout(
		() => {
			ctx.timers.delete(timer);
			if (ctx.closed || !ctx.options.webhook) return;
			deliverWebhook(ctx, prediction);
		},
		Math.max(0, prediction.endAt - Date.now()),
	);
	ctx.timers.add(timer);
	prediction.webhookTimer = timer;
}

/** One delivery attempt; failures are ignored (the real service retries, tests do not need it). */
function deliverWebhook(ctx, prediction) {
	const body = JSON.stringify(webhookPayload(ctx, prediction));
	const headers = {
		'Content-Type': 'application/json',
		'Content-Length': String(Buffer.byteLength(body)),
		'User-Agent': 'fake-eachlabs-webhook',
	};
	if (prediction.webhookSecret) {
		// The public docs name the headers but not the scheme; HMAC-SHA256 of "timestamp.body".
		const timestamp = String(Math.floor(Date.now() / 1000));
		headers['X-Webhook-Timestamp'] = timestamp;
		headers['X-Webhook-Signature'] = crypto
			.createHmac('sha256', prediction.webhookSecret)
			.update(`${timestamp}.${body}`)
			.digest('hex');
	}
	let url;
	try {
		url = new URL(prediction.webhookUrl);
	} catch {
		return;
	}
	const client = url.protocol === 'https:' ? https : http;
	ctx.counters.webhooks += 1;
	try {
		// agent: false, so no keep-alive socket outlives the fake.
		const req = client.request(url, { method: 'POST', headers, agent: false });
		ctx.outgoing.add(req);
		const forget = () => ctx.outgoing.delete(req);
		req.setTimeout(WEBHOOK_TIMEOUT_MS, () => req.destroy());
		req.on('response', (res) => {
			res.resume();
			res.on('end', forget);
		});
		req.on('error', forget);
		req.on('close', forget);
		req.end(body);
	} catch {
		// Bad URL for this client (e.g. ftp:): the real service would just give up.
	}
}

module.exports = {
	createPrediction,
	cancelPrediction,
	predictionView,
	isRunning,
	statusAt,
	timingOf,
	parseMarkers,
	outputUrls,
	COST_PER_IMAGE,
};
