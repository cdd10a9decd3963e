import type { IAuthenticateGeneric, IAuthenticateRuleResponseCode, INodeType } from 'n8n-workflow';

import type { FakeEachlabs } from '../../dev/fake-eachlabs';
import { startFakeEachlabs } from '../../dev/fake-eachlabs';
import { credentialType, resolveWithCredentials, runNode } from '../helpers/n8n';

/*
 * The credential's Test button: n8n sends `test.request` with the credential's `authenticate`.
 * It must tell a wrong key from a right one without creating a paid prediction, and must not call
 * a key wrong when the balance endpoint only asks to wait (429) or is unavailable (503).
 */

let fake: FakeEachlabs;
beforeAll(async () => {
	fake = await startFakeEachlabs({ apiKey: 'right-key' });
});
afterAll(async () => await fake.close());
beforeEach(() => fake.reset());

/**
 * What n8n's CredentialsTester (packages/cli, `runRequestTest`) does with a credential's test: a
 * temporary node whose one property routes `test.request`, run by n8n-core's RoutingNode with
 * the credential applied; an HTTP error answer is matched against `test.rules` (responseCode),
 * else reported as its status. Returns what the Test button shows.
 */
async function testButton(apiKey: string, baseUrl = fake.apiUrl) {
	const tester: INodeType = {
		description: {
			displayName: 'Temp',
			name: 'temp',
			group: ['transform'],
			version: 1,
			description: '',
			defaults: { name: 'Temp' },
			inputs: ['main'],
			outputs: ['main'],
			credentials: [{ name: 'eachlabsApi', required: true }],
			properties: [
				{
					displayName: 'Temp',
					name: 'temp',
					type: 'string',
					routing: { request: credentialType.test.request },
					default: '',
				},
			],
		},
	};
	try {
		await runNode({ parameters: {}, credentials: { apiKey, baseUrl }, nodeType: tester });
	} catch (error) {
		const response = (error as { cause?: { response?: { status: number; statusText?: string } } })
			.cause?.response;
		if (!response) return { status: 'Error', message: (error as Error).message };
		const rule = (credentialType.test.rules as IAuthenticateRuleResponseCode[] | undefined)?.find(
			(candidate) =>
				candidate.type === 'responseCode' && candidate.properties.value === response.status,
		);
		return {
			status: 'Error',
			message:
				rule?.properties.message ??
				(response.statusText || `Received HTTP status code: ${response.status}`),
		};
	}
	return { status: 'OK', message: 'Connection successful!' };
}

const TRY_AGAIN = /This says nothing about the key: try again in a moment\.$/;

test('a right key passes, through the free balance endpoint', async () => {
	expect(await testButton('right-key')).toEqual({
		status: 'OK',
		message: 'Connection successful!',
	});
	expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.headers['x-api-key']}`)).toEqual([
		'GET /v1/billing/balance right-key',
	]);
	expect(fake.stats()).toMatchObject({ balanceChecks: 1, createRequests: 0 });
});

test('a wrong key: "not accepted", with where to get one; nothing created', async () => {
	expect(await testButton('wrong-key')).toEqual({
		status: 'Error',
		message:
			'Eachlabs did not accept this API key. Copy a key from the API Keys page of your Eachlabs dashboard (https://www.eachlabs.ai) and paste it here.',
	});
	// (n8n's request helper may send a request answered 401 once more; both are balance checks.)
	expect(fake.requests.every((r) => r.path === '/v1/billing/balance')).toBe(true);
	expect(fake.stats()).toMatchObject({ createRequests: 0, presigns: 0 });
});

test('past 3 checks a second the balance answers 429 (Retry-After: 1): "try again", not a wrong key', async () => {
	const results = [];
	for (let i = 0; i < 4; i++) results.push(await testButton('right-key'));
	expect(results.slice(0, 3).map((r) => r.status)).toEqual(['OK', 'OK', 'OK']);
	expect(results[3].status).toBe('Error');
	expect(results[3].message).toMatch(/^Eachlabs allows only a few credential checks a second/);
	expect(results[3].message).toMatch(TRY_AGAIN);
	expect(fake.stats()).toMatchObject({ balanceChecks: 4, rateLimited: 1, createRequests: 0 });
});

test('the fake limits the balance to 3 requests a second with Retry-After: 1', async () => {
	const answers = await Promise.all(
		Array.from({ length: 5 }, () =>
			fetch(`${fake.apiUrl}/v1/billing/balance`, { headers: { 'X-API-Key': 'right-key' } }),
		),
	);
	expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 429, 429]);
	expect(answers.find((a) => a.status === 429)?.headers.get('retry-after')).toBe('1');
	await new Promise((resolve) => setTimeout(resolve, 1100));
	expect(await testButton('right-key')).toMatchObject({ status: 'OK' });
});

test('a 503 of the balance endpoint: "try again", not a wrong key', async () => {
	fake.failNext('balance', '503');
	const result = await testButton('right-key');
	expect(result.status).toBe('Error');
	expect(result.message).toMatch(/^Eachlabs could not check the key right now \(HTTP 503/);
	expect(result.message).toMatch(TRY_AGAIN);
	expect(await testButton('right-key')).toMatchObject({ status: 'OK' });
});

test('a base URL ending in / or /v1 still reaches the balance endpoint', async () => {
	expect(await testButton('right-key', `${fake.apiUrl}/`)).toMatchObject({ status: 'OK' });
	expect(await testButton('right-key', `${fake.apiUrl}/v1`)).toMatchObject({ status: 'OK' });
	expect(fake.requests.map((r) => r.path)).toEqual(['/v1/billing/balance', '/v1/billing/balance']);
});

test('the key is a password field and the header is X-API-Key', () => {
	const apiKey = credentialType.properties.find((property) => property.name === 'apiKey');
	expect(apiKey?.typeOptions?.password).toBe(true);
	expect(
		Object.keys((credentialType.authenticate as IAuthenticateGeneric).properties.headers!),
	).toEqual(['X-API-Key']);
	expect(credentialType.properties.find((property) => property.name === 'baseUrl')?.default).toBe(
		'https://api.eachlabs.ai',
	);
	// The base URL expression resolves as the node's does.
	expect(
		resolveWithCredentials(String(credentialType.test.request.baseURL), {
			baseUrl: ' https://api.eachlabs.ai/v1/ ',
		}),
	).toBe('https://api.eachlabs.ai');
});
