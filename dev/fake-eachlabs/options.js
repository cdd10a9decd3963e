'use strict';
// Options of the fake: defaults, validation and merging. Unknown keys throw, because a typo in an
// e2e runner's configure call would otherwise silently test the defaults.

/** @typedef {import('./index').FakeEachlabsOptions} FakeEachlabsOptions */

const TERMINAL_STATUSES = ['success', 'error', 'cancelled', 'failed'];

const DEFAULT_RATE_LIMIT = Object.freeze({
	concurrent: 10,
	perMinute: 100,
	retryAfterSeconds: 1,
	windowMs: 60_000,
});

const DEFAULT_FAULTS = Object.freeze({
	seed: 1,
	create5xxRate: 0,
	poll5xxRate: 0,
	download5xxRate: 0,
	resetRate: 0,
	htmlRate: 0,
	create504AfterStoreRate: 0,
});

const DEFAULTS = Object.freeze({
	apiKey: 'test-key',
	port: 0,
	filesPort: 0,
	filesHost: undefined,
	jobMs: 300,
	jobJitterMs: 0,
	jobSeed: 1,
	statusSequence: Object.freeze(['created', 'processing', 'success']),
	imageBytes: 2048,
	rateLimit: DEFAULT_RATE_LIMIT,
	faults: DEFAULT_FAULTS,
	expireOutputs: false,
	webhook: true,
	stringMetrics: false,
	sparseOutput: false,
});

// Only these can change after start; ports and hosts are fixed once the servers listen.
const START_ONLY = ['port', 'filesPort', 'filesHost'];

function fail(message) {
	throw new TypeError(`fake-eachlabs options: ${message}`);
}

function isObject(value) {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonNegative(name, value) {
	if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
		fail(`${name} must be a non-negative number, got ${JSON.stringify(value)}`);
	}
	return value;
}

function mergeRateLimit(base, patch) {
	// null / false / 0 switch every limit off, so a load test does not have to name each one.
	if (patch === null || patch === false || patch === 0) {
		return { ...base, concurrent: 0, perMinute: 0 };
	}
	if (!isObject(patch)) fail('rateLimit must be an object or null');
	const out = { ...base };
	for (const [key, value] of Object.entries(patch)) {
		if (!(key in DEFAULT_RATE_LIMIT)) fail(`unknown rateLimit option "${key}"`);
		// null / 0 disables that one limit, as documented.
		out[key] = value === null ? 0 : nonNegative(`rateLimit.${key}`, value);
	}
	return out;
}

function mergeFaults(base, patch) {
	if (patch === null || patch === false) return { ...DEFAULT_FAULTS, seed: base.seed };
	if (!isObject(patch)) fail('faults must be an object or null');
	const out = { ...base };
	for (const [key, value] of Object.entries(patch)) {
		if (!(key in DEFAULT_FAULTS)) fail(`unknown faults option "${key}"`);
		if (key === 'seed') {
			if (!Number.isInteger(value)) fail('faults.seed must be an integer');
		} else if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
			fail(`faults.${key} must be a number between 0 and 1`);
		}
		out[key] = value;
	}
	return out;
}

/**
 * Returns a new options object: `base` with `patch` applied. Throws TypeError on bad input.
 * @param {Required<FakeEachlabsOptions>} base
 * @param {FakeEachlabsOptions} patch
 * @param {boolean} atStart
 */
function mergeOptions(base, patch, atStart) {
	if (patch === undefined || patch === null) return base;
	if (!isObject(patch)) fail('options must be an object');
	const out = { ...base };
	for (const [key, value] of Object.entries(patch)) {
		if (!(key in DEFAULTS)) fail(`unknown option "${key}"`);
		if (value === undefined) continue;
		if (!atStart && START_ONLY.includes(key) && value !== base[key]) {
			fail(`${key} can only be set when the fake starts`);
		}
		switch (key) {
			case 'apiKey':
				if (typeof value !== 'string' || value === '') fail('apiKey must be a non-empty string');
				out.apiKey = value;
				break;
			case 'port':
			case 'filesPort':
				if (!Number.isInteger(value) || value < 0 || value > 65535) fail(`${key} must be a port`);
				out[key] = value;
				break;
			case 'filesHost':
				if (typeof value !== 'string') fail('filesHost must be a string');
				out.filesHost = value;
				break;
			case 'jobMs':
			case 'jobJitterMs':
				out[key] = nonNegative(key, value);
				break;
			case 'jobSeed':
				if (!Number.isInteger(value)) fail('jobSeed must be an integer');
				out.jobSeed = value;
				break;
			case 'imageBytes':
				if (!Number.isInteger(value) || value < 1) fail('imageBytes must be a positive integer');
				out.imageBytes = value;
				break;
			case 'statusSequence':
				if (
					!Array.isArray(value) ||
					value.length === 0 ||
					!value.every((s) => typeof s === 'string' && s !== '')
				) {
					fail('statusSequence must be a non-empty array of status strings');
				}
				out.statusSequence = [...value];
				break;
			case 'rateLimit':
				out.rateLimit = mergeRateLimit(base.rateLimit, value);
				break;
			case 'faults':
				out.faults = mergeFaults(base.faults, value);
				break;
			case 'expireOutputs':
			case 'webhook':
			case 'stringMetrics':
			case 'sparseOutput':
				out[key] = Boolean(value);
				break;
		}
	}
	return out;
}

module.exports = { DEFAULTS, TERMINAL_STATUSES, mergeOptions, isObject };
