import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { retryPolicy } from '../../nodes/KlingO1/retry';
import type { FakeEachlabs } from '../fake-eachlabs';
import { startFakeEachlabs } from '../fake-eachlabs';
import { runNode } from '../helpers/n8n';
import { editImage, getPrediction } from '../helpers/params';
import { json, startStub } from '../helpers/stubApi';

/*
 * The rules that keep a paid, unattended run safe at the edges: the key never follows a redirect,
 * servers that say "retry now" are not hammered, polling outlasts long outages, lost create
 * answers are re-sent at most twice, and a failing item stops the others at once.
 */

const KEY = 'sk-hardening-7d2e';
const saved = { ...retryPolicy };
beforeAll(() => Object.assign(retryPolicy, { baseDelayMs: 20, maxDelayMs: 100 }));
afterAll(() => Object.assign(retryPolicy, saved));

let fake: FakeEachlabs;
beforeEach(async () => {
	fake = await startFakeEachlabs({ apiKey: KEY, jobMs: 100 });
});
afterEach(async () => await fake.close());

const rejection = async (promise: Promise<unknown>) =>
	(await promise.then(
		() => undefined,
		(error: unknown) => error,
	)) as NodeApiError;

test('a redirect from the API is not followed: the key stays with the API host', async () => {
	const stub = await startStub((request, response) => {
		response.writeHead(302, { location: `${fake.filesUrl}/elsewhere${request.path}` });
		response.end();
	});
	try {
		const error = await rejection(
			runNode({
				parameters: getPrediction('abc'),
				credentials: { apiKey: KEY, baseUrl: stub.url },
			}),
		);
		expect(error.message).toBe(
			`Eachlabs answered something unexpected: a redirect (HTTP 302) to ${fake.filesUrl}/elsewhere/v1/prediction/abc, which the node does not follow so that the API key is sent to Eachlabs only`,
		);
		expect(stub.requests).toHaveLength(1);
		expect(fake.requests).toHaveLength(0);
	} finally {
		await stub.close();
	}
});

test('Retry-After: 0 is not a licence to hammer: at least a second between tries', async () => {
	fake.failNext('create', '429', 1000, { retryAfter: 0 });
	const started = Date.now();
	const error = await rejection(
		runNode({
			parameters: editImage({ options: { timeoutSeconds: 2.5 } }),
			credentials: { apiKey: KEY, baseUrl: fake.apiUrl },
		}),
	);
	expect(error.message).toBe(
		'Could not reach Eachlabs: it kept answering that the rate limit was reached (HTTP 429)',
	);
	expect(fake.stats().createRequests).toBeLessThanOrEqual(3);
	expect(Date.now() - started).toBeLessThan(4000);
});

test('polling outlasts a long run of failures: retried for as long as the item has time', async () => {
	fake.failNext('poll', '503', 25);
	const items = await runNode({
		parameters: editImage({}),
		credentials: { apiKey: KEY, baseUrl: fake.apiUrl },
	});
	expect(items).toHaveLength(1);
	expect(fake.stats()).toMatchObject({ creates: 1 });
	expect(fake.stats().polls).toBeGreaterThan(25);
});

test('a create whose answer keeps getting lost is re-sent at most twice, and the error says so', async () => {
	fake.failNext('create', 'resetAfterCreate', 100);
	const items = await runNode({
		parameters: editImage({}),
		credentials: { apiKey: KEY, baseUrl: fake.apiUrl },
		onError: 'continueErrorOutput',
	});
	expect(fake.stats().creates).toBe(3);
	expect(items).toHaveLength(1);
	expect(items[0].json.error).toBe('Could not reach Eachlabs: the connection was reset');
	const warnings = items[0].json.warnings as string[];
	expect(warnings).toHaveLength(3);
	expect(warnings[0]).toMatch(
		/the node sent it again, so a duplicate prediction may have been charged\.$/,
	);
	expect(warnings[2]).toMatch(/the node did not send it again \(it already had 2 times\)/);
	expect(items[0].json.description).toContain(warnings[2]);
	expect(items[0].pairedItem).toEqual({ item: 0 });
});

test('a failing item stops the others at once, even mid-request', async () => {
	// Item 0's poll never answers; item 1's prediction fails: the node must not wait for item 0.
	const stub = await startStub((request, response) => {
		if (request.method === 'POST') {
			const id = String(request.body.input.prompt).includes('hang') ? 'hang-id' : 'fail-id';
			return json(response, 200, { status: 'success', predictionID: id });
		}
		if (request.path.endsWith('/fail-id')) {
			return json(response, 200, { status: 'error', message: 'The model failed' });
		}
		// hang-id: never answer
	});
	try {
		const started = Date.now();
		const error = await rejection(
			runNode({
				parameters: editImage({
					prompt: '={{ $json.p }}',
					images: { image: [{ url: 'https://example.com/a.png' }] },
				}),
				items: [{ json: { p: 'hang @Image1' } }, { json: { p: 'fail @Image1' } }],
				credentials: { apiKey: KEY, baseUrl: stub.url },
			}),
		);
		expect(error.message).toBe('Kling O1 could not edit the image: The model failed');
		expect(error.context.itemIndex).toBe(1);
		expect(Date.now() - started).toBeLessThan(5000);
		expect(error.description).toContain('hang-id (item 0)');
	} finally {
		await stub.close();
	}
});

test('an answer that echoes the key leaves no trace of it in the error', async () => {
	const stub = await startStub((_request, response) =>
		json(response, 400, { status: 'error', message: `Bad request for key ${KEY}`, details: KEY }),
	);
	try {
		const error = await rejection(
			runNode({ parameters: editImage({}), credentials: { apiKey: KEY, baseUrl: stub.url } }),
		);
		expect(error.message).toBe(
			'Eachlabs answered with an error (HTTP 400): Bad request for key [redacted]',
		);
		const everything = JSON.stringify(error, Object.getOwnPropertyNames(error));
		expect(everything).not.toContain(KEY);
		const items = await runNode({
			parameters: editImage({}),
			credentials: { apiKey: KEY, baseUrl: stub.url },
			onError: 'continueRegularOutput',
		});
		expect(JSON.stringify(items[0], Object.getOwnPropertyNames(items[0].error))).not.toContain(KEY);
		expect(
			JSON.stringify(items[0].error, Object.getOwnPropertyNames(items[0].error)),
		).not.toContain(KEY);
	} finally {
		await stub.close();
	}
});

test('a base URL without https:// fails at once with advice, without retrying', async () => {
	const started = Date.now();
	const error = await rejection(
		runNode({
			parameters: editImage({}),
			credentials: { apiKey: KEY, baseUrl: 'api.eachlabs.ai' },
		}),
	);
	expect(error.message).toMatch(/^Could not send the request to Eachlabs: /);
	expect(error.description).toContain('Check the Base URL of the Eachlabs API credential');
	expect((error as unknown as { cause: unknown }).cause).toBeInstanceOf(NodeOperationError);
	expect(Date.now() - started).toBeLessThan(2000);
});
