'use strict';
// Input validation for kling-o1, from the reference's input schema and usage notes. Each error
// names the field and the reason, because the node surfaces `details` to users.

const net = require('net');

const MODEL = 'kling-o1';
const MODEL_VERSION = '0.0.1';
const MAX_PROMPT_CHARS = 2500;
const MAX_IMAGES = 10;
const RESOLUTIONS = ['1K', '2K'];
const ASPECT_RATIOS = ['auto', '16:9', '9:16', '1:1', '4:3', '3:4', '3:2', '2:3', '21:9'];
const OUTPUT_FORMATS = ['jpeg', 'png', 'webp'];
const DEFAULT_INPUT = Object.freeze({
	resolution: '1K',
	num_images: 1,
	aspect_ratio: 'auto',
	output_format: 'png',
});

function isObject(value) {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when the text is JSON of the given shape: the "stringified structure" mistake. */
function isStringified(value, test) {
	if (typeof value !== 'string') return false;
	try {
		return test(JSON.parse(value));
	} catch {
		return false;
	}
}

/**
 * Addresses the real API cannot (or will not) fetch from, written from the IANA special-purpose
 * registries (RFC 6890 and its updates) rather than from anything in the node: "this network",
 * private, shared (carrier-grade NAT), loopback and link-local ranges, IPv6's unspecified,
 * loopback, unique-local and link-local ones; and, in a list of its own, every IPv4-mapped IPv6
 * address (a BlockList checks an IPv4 address against its IPv6 rules too, so ::ffff:0:0/96 in
 * the first list would block every IPv4 address).
 */
const UNREACHABLE = new net.BlockList();
for (const [prefix, bits] of [
	['0.0.0.0', 8],
	['10.0.0.0', 8],
	['100.64.0.0', 10],
	['127.0.0.0', 8],
	['169.254.0.0', 16],
	['172.16.0.0', 12],
	['192.168.0.0', 16],
]) {
	UNREACHABLE.addSubnet(prefix, bits, 'ipv4');
}
for (const [prefix, bits] of [
	['::', 128],
	['::1', 128],
	['fc00::', 7],
	['fe80::', 10],
]) {
	UNREACHABLE.addSubnet(prefix, bits, 'ipv6');
}
const IPV4_MAPPED = new net.BlockList();
IPV4_MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');

/** Host names that are this machine by definition (RFC 6761), and the empty host. */
function isLocalName(host) {
	return host === '' || host === 'localhost' || host.endsWith('.localhost');
}

/** True for a URL host (as `new URL` writes it) the real API would not fetch from. */
function isPrivateHost(hostname) {
	const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
	if (isLocalName(host)) return true;
	const family = net.isIP(host);
	if (family === 4) return UNREACHABLE.check(host, 'ipv4');
	if (family === 6) return IPV4_MAPPED.check(host, 'ipv6') || UNREACHABLE.check(host, 'ipv6');
	return false;
}

function checkImageUrl(value, index, allowedOrigins) {
	const where = `image_urls[${index}]`;
	if (typeof value !== 'string' || value.trim() === '') return `${where} must be a URL string`;
	if (/^data:/i.test(value.trim())) {
		return `${where}: data URIs are not accepted, upload the file and pass its https URL`;
	}
	let url;
	try {
		url = new URL(value);
	} catch {
		return `${where} is not a valid URL`;
	}
	// The fake's own storage host is "public storage" for this test world, though it is plain
	// http on a loopback address: that is where /v1/upload/presign puts uploaded files.
	if (allowedOrigins.includes(url.origin)) return null;
	if (url.protocol !== 'https:') return `${where} must be a publicly reachable https URL`;
	if (isPrivateHost(url.hostname)) {
		return `${where} points to a local or private host, which cannot be fetched`;
	}
	return null;
}

/**
 * Validates `input` and fills defaults.
 * @returns {{ input: Record<string, unknown> } | { error: string }}
 */
function validateInput(input, allowedOrigins = []) {
	if (input === undefined || input === null) return { error: 'input is required' };
	if (isStringified(input, isObject)) {
		return { error: 'input must be a JSON object, not a string: send structured values as JSON' };
	}
	if (!isObject(input)) return { error: 'input must be a JSON object' };

	const { prompt, image_urls: imageUrls } = input;
	if (prompt === undefined || prompt === null) return { error: 'prompt is required' };
	if (typeof prompt !== 'string') return { error: 'prompt must be a string' };
	if (prompt.trim() === '') return { error: 'prompt must not be empty' };
	// Characters, not UTF-16 units: an emoji counts once.
	const chars = [...prompt].length;
	if (chars > MAX_PROMPT_CHARS) {
		return { error: `prompt must be at most ${MAX_PROMPT_CHARS} characters, got ${chars}` };
	}

	if (imageUrls === undefined || imageUrls === null) return { error: 'image_urls is required' };
	if (isStringified(imageUrls, Array.isArray)) {
		return {
			error:
				'image_urls must be a JSON array, not a stringified array: send structured values as JSON',
		};
	}
	if (!Array.isArray(imageUrls)) return { error: 'image_urls must be an array of https URLs' };
	if (imageUrls.length < 1 || imageUrls.length > MAX_IMAGES) {
		return { error: `image_urls must have 1 to ${MAX_IMAGES} items, got ${imageUrls.length}` };
	}
	for (let i = 0; i < imageUrls.length; i++) {
		const problem = checkImageUrl(imageUrls[i], i, allowedOrigins);
		if (problem) return { error: problem };
	}

	// Optional fields: absent or null means "use the default".
	const out = { ...DEFAULT_INPUT, ...input };
	for (const key of Object.keys(DEFAULT_INPUT)) {
		if (input[key] === undefined || input[key] === null) out[key] = DEFAULT_INPUT[key];
	}
	if (!RESOLUTIONS.includes(out.resolution)) {
		return { error: `resolution must be one of ${RESOLUTIONS.join(', ')}` };
	}
	if (typeof out.num_images !== 'number' || !Number.isInteger(out.num_images)) {
		return { error: 'num_images must be an integer' };
	}
	if (out.num_images < 1 || out.num_images > 9)
		return { error: 'num_images must be between 1 and 9' };
	if (!ASPECT_RATIOS.includes(out.aspect_ratio)) {
		return { error: `aspect_ratio must be one of ${ASPECT_RATIOS.join(', ')}` };
	}
	if (!OUTPUT_FORMATS.includes(out.output_format)) {
		return { error: `output_format must be one of ${OUTPUT_FORMATS.join(', ')}` };
	}
	return { input: out };
}

module.exports = {
	MODEL,
	MODEL_VERSION,
	DEFAULT_INPUT,
	ASPECT_RATIOS,
	OUTPUT_FORMATS,
	RESOLUTIONS,
	validateInput,
	isPrivateHost,
	isObject,
};
