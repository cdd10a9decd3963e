'use strict';
// /__control/* on the API host: the same knobs as the JS object, for an e2e runner that talks to
// the fake from another process. No auth (it is a test fixture) and not recorded in `requests`,
// so the log holds only what the client under test sent.

const { parseJson, sendJson, errorBody } = require('./http');
const { isObject } = require('./validate');

function handleControl(ctx, req, res, path, raw) {
	const action = path.slice('/__control/'.length).replace(/\/$/, '');
	const parsed = parseJson(raw);
	if (!parsed.ok) {
		sendJson(res, 400, errorBody('Invalid JSON body'));
		return;
	}
	const body = parsed.value ?? {};
	const wanted = {
		configure: 'POST',
		'fail-next': 'POST',
		reset: 'POST',
		stats: 'GET',
		timings: 'GET',
	}[action];
	if (!wanted) {
		sendJson(res, 404, errorBody('Not found', `No control action "${action}"`));
		return;
	}
	if (req.method !== wanted) {
		sendJson(res, 405, errorBody('Method not allowed', `Use ${wanted} /__control/${action}`));
		return;
	}
	try {
		switch (action) {
			case 'configure':
				if (!isObject(body)) throw new TypeError('body must be a JSON object of options');
				sendJson(res, 200, { status: 'ok', options: ctx.fake.configure(body) });
				return;
			case 'fail-next': {
				if (!isObject(body)) throw new TypeError('body must be {route, kind, count}');
				const opts = {};
				if (body.retryAfter !== undefined) opts.retryAfter = body.retryAfter;
				if (body.delayMs !== undefined) opts.delayMs = body.delayMs;
				ctx.fake.failNext(body.route, body.kind, body.count ?? 1, opts);
				sendJson(res, 200, { status: 'ok' });
				return;
			}
			case 'reset':
				ctx.fake.reset();
				sendJson(res, 200, { status: 'ok' });
				return;
			case 'stats':
				sendJson(res, 200, { ...ctx.fake.stats(), requests: ctx.requests });
				return;
			case 'timings':
				sendJson(res, 200, { timings: ctx.fake.timings() });
				return;
		}
	} catch (err) {
		if (!(err instanceof TypeError)) throw err;
		sendJson(res, 400, errorBody('Invalid control request', err.message));
	}
}

module.exports = { handleControl };
