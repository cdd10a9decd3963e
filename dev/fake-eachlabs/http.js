'use strict';
// Small HTTP helpers shared by both hosts. Every answer goes through `send`, so a scripted
// "destroy instead of answering" (resetAfterCreate) works the same for every route.

const MAX_LOGGED_TEXT = 64 * 1024;

class BodyTooLarge extends Error {}

/** Reads the whole request body; rejects with BodyTooLarge past `limit` bytes. */
function readBody(req, limit) {
	return new Promise((resolve, reject) => {
		const chunks = [];
		let size = 0;
		let done = false;
		req.on('data', (chunk) => {
			if (done) return;
			size += chunk.length;
			if (size > limit) {
				done = true;
				// Keep draining so the client can read the error answer instead of a write error.
				req.resume();
				reject(new BodyTooLarge(`body larger than ${limit} bytes`));
				return;
			}
			chunks.push(chunk);
		});
		req.on('end', () => {
			if (!done) resolve(Buffer.concat(chunks));
		});
		req.on('error', (err) => {
			if (!done) reject(err);
			done = true;
		});
	});
}

/** Parses a JSON body: `{ ok: true, value }` (value null when empty) or `{ ok: false }`. */
function parseJson(buf) {
	if (!buf || buf.length === 0) return { ok: true, value: null };
	try {
		return { ok: true, value: JSON.parse(buf.toString('utf8')) };
	} catch {
		return { ok: false, value: undefined };
	}
}

/** What the request log keeps: parsed JSON, else text, else a size note for binary uploads. */
function bodyForLog(buf, contentType) {
	if (!buf || buf.length === 0) return null;
	const type = String(contentType || '').toLowerCase();
	// A file upload is not parsed (a 7 MB image would cost the fake more than the upload).
	if (/^(image|video|audio)\//.test(type)) return `<${buf.length} bytes ${type}>`;
	const parsed = parseJson(buf);
	if (parsed.ok) return parsed.value;
	const textual = type === '' || type.startsWith('text/') || type.includes('json');
	if (textual && buf.length <= MAX_LOGGED_TEXT) return buf.toString('utf8');
	return `<${buf.length} bytes${type ? ` ${type}` : ''}>`;
}

function destroy(res) {
	const socket = res.socket || res.req?.socket;
	if (socket) socket.destroy();
}

/** Sends a complete answer, or destroys the socket when a fault asked for that. */
function send(res, status, body, contentType, headers = {}) {
	if (res.fakeHoldUntil) {
		const ready = res.fakeHoldUntil;
		res.fakeHoldUntil = undefined;
		if (!ready()) {
			const timer = setInterval(() => {
				if (!ready()) return;
				clearInterval(timer);
				send(res, status, body, contentType, headers);
			}, 5);
			res.on('close', () => clearInterval(timer));
			return;
		}
	}
	if (res.fakeDestroyInsteadOfAnswer) {
		destroy(res);
		return;
	}
	if (res.fakeDelayMs) {
		// The answer is ready (a create has stored its prediction) but reaches the client late.
		const ms = res.fakeDelayMs;
		res.fakeDelayMs = undefined;
		const timer = setTimeout(() => send(res, status, body, contentType, headers), ms);
		res.on('close', () => clearTimeout(timer));
		return;
	}
	if (res.fakeGatewayInsteadOfAnswer) {
		// The app did its work (e.g. stored a prediction), but the gateway in front timed out.
		const gateway = res.fakeGatewayInsteadOfAnswer;
		res.fakeGatewayInsteadOfAnswer = undefined;
		send(res, gateway, gatewayHtml(gateway), 'text/html');
		return;
	}
	const buf = Buffer.isBuffer(body) ? body : Buffer.from(String(body), 'utf8');
	res.writeHead(status, {
		'Content-Type': contentType,
		'Content-Length': String(buf.length),
		...headers,
	});
	res.end(res.req?.method === 'HEAD' ? undefined : buf);
}

function sendJson(res, status, body, headers) {
	send(res, status, JSON.stringify(body), 'application/json; charset=utf-8', headers);
}

function errorBody(message, details) {
	return details === undefined
		? { status: 'error', message }
		: { status: 'error', message, details };
}

// What a cloud load balancer answers when the app behind it is down or slow: HTML, not JSON.
function gatewayHtml(status) {
	const title =
		{
			502: '502 Bad Gateway',
			503: '503 Service Temporarily Unavailable',
			504: '504 Gateway Time-out',
		}[status] || `${status} Error`;
	return (
		`<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n` +
		`<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
	);
}
const GATEWAY_HTML = gatewayHtml(502);

// Storage-style XML error, as GCS answers for missing objects and bad signatures.
function storageError(res, status, code, message) {
	const xml =
		"<?xml version='1.0' encoding='UTF-8'?>" +
		`<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
	send(res, status, xml, 'application/xml; charset=UTF-8');
}

module.exports = {
	BodyTooLarge,
	readBody,
	parseJson,
	bodyForLog,
	destroy,
	send,
	sendJson,
	errorBody,
	storageError,
	GATEWAY_HTML,
	gatewayHtml,
};
