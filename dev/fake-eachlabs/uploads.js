'use strict';
// The upload storage host (a third loopback address, 127.0.0.3 when usable): presigned PUTs under
// /uploads/<name>?X-Goog-Signature=…, and the uploaded bytes served back at the same path, which
// is the `public_url` the presign answer hands out. Like a real bucket it checks what the
// signature covers: the signature itself, the expiry, the Content-Type and every required header.
// It never needs the API key, and counts any request that carries one.

const crypto = require('crypto');
const { readBody, BodyTooLarge, send, destroy, storageError } = require('./http');
const { applyFault } = require('./faults');
const { isJobFetch } = require('./inputs');

const MAX_UPLOAD_BYTES = 104_857_600;
const UPLOAD_LENGTH_RANGE = `0,${MAX_UPLOAD_BYTES}`;
const UPLOAD_TTL_MS = 15 * 60 * 1000;
const EXTENSIONS = {
	'image/png': 'png',
	'image/jpeg': 'jpg',
	'image/webp': 'webp',
	'image/gif': 'gif',
};

/**
 * A new upload slot, as POST /v1/upload/presign answers it. `expired` issues a URL whose
 * `expires_at` has already passed (a presign fault), to drive a client's "ask again" path.
 */
function presignUpload(ctx, contentType, { expired = false } = {}) {
	const id = crypto.randomUUID();
	const file = `${id}.${EXTENSIONS[contentType.toLowerCase()] || 'bin'}`;
	const expiresAt = expired ? Date.now() - 1000 : Date.now() + UPLOAD_TTL_MS;
	const signature = crypto.randomBytes(32).toString('hex');
	ctx.uploads.set(file, { id, file, contentType, signature, expiresAt, data: null });
	const publicUrl = `${ctx.uploadsUrl}/uploads/${file}`;
	const query = `X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Expires=900&X-Goog-Signature=${signature}`;
	return {
		id,
		presigned_url: `${publicUrl}?${query}`,
		public_url: publicUrl,
		expires_at: new Date(expiresAt).toISOString(),
		required_headers: { 'x-goog-content-length-range': UPLOAD_LENGTH_RANGE },
	};
}

function signatureMismatch(res, detail) {
	storageError(
		res,
		403,
		'SignatureDoesNotMatch',
		`The request signature does not match. ${detail}`,
	);
}

function receiveUpload(ctx, req, res, file, url, body) {
	const upload = ctx.uploads.get(file);
	const signature = url.searchParams.get('X-Goog-Signature');
	if (!upload || !signature || signature !== upload.signature) {
		signatureMismatch(res, 'Unknown object or signature.');
		return;
	}
	if (Date.now() > upload.expiresAt) {
		storageError(res, 403, 'AccessDenied', 'Request has expired.');
		return;
	}
	if (req.headers['content-type'] !== upload.contentType) {
		signatureMismatch(
			res,
			`Content-Type "${req.headers['content-type'] ?? ''}" is not the signed "${upload.contentType}".`,
		);
		return;
	}
	if (req.headers['x-goog-content-length-range'] !== UPLOAD_LENGTH_RANGE) {
		signatureMismatch(res, 'Signed header x-goog-content-length-range is missing or different.');
		return;
	}
	const declared = req.headers['content-length'];
	if (declared === undefined || Number(declared) !== body.length) {
		storageError(res, 400, 'MissingContentLength', 'A PUT needs its exact Content-Length.');
		return;
	}
	upload.data = body;
	upload.storedAt = Date.now();
	send(res, 200, '', 'text/plain');
}

function servePublic(ctx, req, res, file) {
	const upload = ctx.uploads.get(file);
	if (!upload || !upload.data) {
		storageError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
		return;
	}
	send(res, 200, upload.data, upload.contentType);
}

async function handleUploads(ctx, req, res) {
	const url = new URL(req.url, 'http://uploads.invalid');
	const match = /^\/uploads\/([^/]+)$/.exec(url.pathname);
	const route = !match
		? null
		: req.method === 'PUT'
			? 'upload'
			: req.method === 'GET' || req.method === 'HEAD'
				? 'public'
				: null;
	let body;
	try {
		body = await readBody(req, MAX_UPLOAD_BYTES);
	} catch (err) {
		ctx.log('uploads', req, null);
		if (err instanceof BodyTooLarge) {
			storageError(res, 400, 'EntityTooLarge', 'Your proposed upload is larger than allowed.');
		} else destroy(res);
		return;
	}
	if (isJobFetch(req)) {
		if (route === 'public') servePublic(ctx, req, res, match[1]);
		else storageError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
		return;
	}
	ctx.log('uploads', req, body);
	if (route === 'upload') {
		ctx.counters.uploads += 1;
		if (req.headers['x-api-key'] !== undefined || req.headers.authorization !== undefined) {
			ctx.counters.uploadsWithKey += 1;
		}
		const fault = ctx.takeFault('upload');
		if (fault && applyFault(fault, ctx, 'upload', req, res, {})) return;
		receiveUpload(ctx, req, res, match[1], url, body);
		return;
	}
	if (route === 'public') {
		servePublic(ctx, req, res, match[1]);
		return;
	}
	storageError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
}

module.exports = { handleUploads, presignUpload, UPLOAD_LENGTH_RANGE, MAX_UPLOAD_BYTES };
