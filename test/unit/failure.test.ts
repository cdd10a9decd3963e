import { classify, hosts } from '../../nodes/KlingO1/failure';
import { ConnectionFailure } from '../../nodes/KlingO1/transport';

/*
 * The one table of what an outcome calls for, host by host (README, "Retries"). The routing tests
 * show each rule end to end against the fake; this pins the table itself.
 */

const response = (
	statusCode: number,
	body: unknown = {},
	headers: Record<string, unknown> = {},
) => ({
	statusCode,
	headers,
	body,
});
const eachlabsError = { status: 'error', message: 'Internal error', details: 'try again' };

test('a 2xx is a success, with the response', () => {
	const verdict = classify(response(201, { predictionID: 'p1' }), hosts.create);
	expect(verdict).toEqual({ kind: 'success', response: response(201, { predictionID: 'p1' }) });
});

test('429 is retried at the pace of Retry-After on every host', () => {
	for (const host of Object.values(hosts)) {
		const verdict = classify(response(429, {}, { 'retry-after': '3' }), host);
		expect(verdict).toMatchObject({ kind: 'retry', waitMs: 3000 });
	}
	expect(classify(response(429), hosts.api)).toMatchObject({
		message: 'it kept answering that the rate limit was reached (HTTP 429)',
	});
});

test('a 5xx is retried; Retry-After paces it on the storage hosts, not on the API', () => {
	const busy = response(503, eachlabsError, { 'retry-after': '2' });
	expect(classify(busy, hosts.api)).toEqual({
		kind: 'retry',
		message: 'it kept answering HTTP 503',
		waitMs: undefined,
	});
	expect(classify(busy, hosts.images)).toEqual({
		kind: 'retry',
		message: 'the image host answered HTTP 503',
		waitMs: 2000,
	});
	expect(classify(busy, hosts.storage)).toMatchObject({ waitMs: 2000 });
	expect(classify(busy, hosts.presign)).toMatchObject({
		message: 'Eachlabs kept answering HTTP 503 to the upload request',
	});
});

test("a create's gateway 5xx may have made a prediction; Eachlabs' own 5xx did not", () => {
	expect(classify(response(504, '<html>Gateway Timeout</html>'), hosts.create)).toEqual({
		kind: 'retry',
		message: "a gateway answered HTTP 504 (an HTML page, not Eachlabs' own error)",
		mayHaveCreated:
			"a gateway answered HTTP 504 (an HTML page, not Eachlabs' own error) after the create request was sent",
	});
	expect(classify(response(500, eachlabsError), hosts.create)).not.toHaveProperty('mayHaveCreated');
	// A poll is not paid: the same gateway page is a plain retry there.
	expect(classify(response(504, '<html>Gateway Timeout</html>'), hosts.api)).not.toHaveProperty(
		'mayHaveCreated',
	);
});

test('a connection that broke after sending: a create may have been made, a poll is retried', () => {
	const reset = new ConnectionFailure('the connection was reset', true, true);
	expect(classify(reset, hosts.create)).toEqual({
		kind: 'retry',
		message: 'the connection was reset',
		mayHaveCreated:
			'the connection to Eachlabs failed after the create request was sent (the connection was reset)',
	});
	expect(classify(reset, hosts.api)).toEqual({
		kind: 'retry',
		message: 'the connection was reset',
	});
	const refused = new ConnectionFailure('the connection was refused', false, true);
	expect(classify(refused, hosts.create)).toEqual({
		kind: 'retry',
		message: 'the connection was refused',
	});
});

test('what cannot be sent, a redirect and any other status fail the item', () => {
	const unknownHost = new ConnectionFailure('the host name was not found', false, false);
	expect(classify(unknownHost, hosts.create)).toEqual({
		kind: 'unsendable',
		message: 'the host name was not found',
	});
	expect(classify(response(302, '', { location: 'https://elsewhere.example' }), hosts.api)).toEqual(
		expect.objectContaining({
			kind: 'redirect',
			message:
				'a redirect (HTTP 302) to https://elsewhere.example, which the node does not follow so that the API key is sent to Eachlabs only',
		}),
	);
	expect(classify(response(404, eachlabsError), hosts.api)).toEqual({
		kind: 'refused',
		response: response(404, eachlabsError),
	});
	expect(classify(response(403, '<Error/>'), hosts.storage)).toMatchObject({ kind: 'refused' });
});
