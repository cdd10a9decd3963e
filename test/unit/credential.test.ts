import type { IAuthenticateGeneric } from 'n8n-workflow';

import type { FakeEachlabs } from '../fake-eachlabs';
import { startFakeEachlabs } from '../fake-eachlabs';
import { credentialType, resolveWithCredentials } from '../helpers/n8n';

/*
 * The credential's Test button: n8n sends `test.request` with the credential's `authenticate`.
 * It must tell a wrong key from a right one without creating a paid prediction.
 */

let fake: FakeEachlabs;
beforeAll(async () => {
	fake = await startFakeEachlabs({ apiKey: 'right-key' });
});
afterAll(async () => await fake.close());
beforeEach(() => fake.reset());

async function testCredential(apiKey: string, baseUrl = fake.apiUrl) {
	const credentials = { apiKey, baseUrl };
	const { request } = credentialType.test;
	const headers = (credentialType.authenticate as IAuthenticateGeneric).properties.headers!;
	const url = `${resolveWithCredentials(request.baseURL as string, credentials)}${request.url}`;
	const response = await fetch(url, {
		method: request.method,
		headers: Object.fromEntries(
			Object.entries(headers).map(([name, value]) => [
				name,
				String(resolveWithCredentials(String(value), credentials)),
			]),
		),
	});
	return { status: response.status, url };
}

test('a right key passes, through the free balance endpoint', async () => {
	const { status, url } = await testCredential('right-key');
	expect(status).toBe(200);
	expect(url).toBe(`${fake.apiUrl}/v1/billing/balance`);
	expect(fake.stats()).toMatchObject({ balanceChecks: 1, createRequests: 0 });
});

test('a wrong key fails with 401 and creates nothing', async () => {
	expect((await testCredential('wrong-key')).status).toBe(401);
	expect(fake.stats().createRequests).toBe(0);
});

test('a base URL ending in / or /v1 still reaches the balance endpoint', async () => {
	expect((await testCredential('right-key', `${fake.apiUrl}/`)).status).toBe(200);
	expect((await testCredential('right-key', `${fake.apiUrl}/v1`)).status).toBe(200);
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
});
