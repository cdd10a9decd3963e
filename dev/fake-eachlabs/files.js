'use strict';
// The storage/CDN host of output images: /outputs/<id>/<i>.<ext>. It is a different host than
// the API on purpose: a client must not send the API key here, and everything it receives is
// logged so tests can check that. Presigned uploads live on their own host (uploads.js).

const { Readable } = require('stream');
const { readBody, BodyTooLarge, send, destroy, storageError } = require('./http');
const { applyFault } = require('./faults');
const { isJobFetch } = require('./inputs');
const { makeImage, FORMATS, EXT_TO_FORMAT } = require('./images');
const { statusAt } = require('./predictions');

const MAX_REQUEST_BYTES = 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;

function matchFilesRoute(method, path) {
	const output = /^\/outputs\/([^/]+)\/(\d+)\.([a-z]+)$/.exec(path);
	if (output && (method === 'GET' || method === 'HEAD')) {
		return { name: 'download', id: output[1], index: Number(output[2]), ext: output[3] };
	}
	return { name: null };
}

/** The output image at this address, or null when it does not exist (yet) or has expired. */
function findOutput(ctx, id, index, ext, now) {
	const prediction = ctx.predictions.get(id);
	if (!prediction || statusAt(prediction, now) !== 'success') return null;
	if (prediction.expired || ctx.options.expireOutputs) return null;
	const format = prediction.input.output_format;
	if (EXT_TO_FORMAT[ext] !== format || index >= prediction.input.num_images) return null;
	return { prediction, format, mime: FORMATS[format].mime };
}

function* chunks(buf) {
	for (let offset = 0; offset < buf.length; offset += CHUNK_BYTES) {
		yield buf.subarray(offset, offset + CHUNK_BYTES);
	}
}

function serveOutput(ctx, req, res, route) {
	const found = findOutput(ctx, route.id, route.index, route.ext, Date.now());
	if (!found) {
		storageError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
		return;
	}
	const body = makeImage({
		id: route.id,
		index: route.index,
		format: found.format,
		bytes: found.prediction.imageBytes,
	});
	res.writeHead(200, {
		'Content-Type': found.mime,
		'Content-Length': String(body.length),
		'Cache-Control': 'public, max-age=3600',
	});
	if (req.method === 'HEAD') {
		res.end();
		return;
	}
	if (res.fakeTruncate) {
		// Announce the full length, deliver half, then drop the connection.
		res.write(body.subarray(0, Math.floor(body.length / 2)), () => destroy(res));
		return;
	}
	// Chunked writes with backpressure, like a CDN streaming a large object.
	Readable.from(chunks(body)).pipe(res);
}

async function handleFiles(ctx, req, res) {
	const url = new URL(req.url, 'http://files.invalid');
	const route = matchFilesRoute(req.method, url.pathname);
	let body;
	try {
		body = await readBody(req, MAX_REQUEST_BYTES);
	} catch (err) {
		ctx.log('files', req, null);
		if (err instanceof BodyTooLarge) {
			storageError(res, 400, 'EntityTooLarge', 'Your proposed upload is larger than allowed.');
		} else destroy(res);
		return;
	}
	if (isJobFetch(req)) {
		if (route.name === 'download') serveOutput(ctx, req, res, route);
		else storageError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
		return;
	}
	ctx.log('files', req, body);
	if (route.name === 'download') ctx.counters.downloads += 1;
	if (route.name === 'download') {
		const fault = ctx.takeFault(route.name);
		if (fault && applyFault(fault, ctx, route.name, req, res, route)) return;
	}
	switch (route.name) {
		case 'download':
			serveOutput(ctx, req, res, route);
			return;
		default:
			storageError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
	}
}

module.exports = { handleFiles };
