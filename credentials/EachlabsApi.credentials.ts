import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

import { BASE_URL_EXPRESSION, CREDENTIAL_TYPE, DEFAULT_BASE_URL } from '../nodes/KlingO1/constants';

/**
 * The Eachlabs API key. It travels only in the `X-API-Key` header of requests to `baseUrl`:
 * the node downloads output images from their storage host with plain, unauthenticated requests.
 */
export class EachlabsApi implements ICredentialType {
	name = CREDENTIAL_TYPE;

	displayName = 'Eachlabs API';

	icon: Icon = {
		light: 'file:../nodes/KlingO1/klingO1.svg',
		dark: 'file:../nodes/KlingO1/klingO1.dark.svg',
	};

	documentationUrl = 'https://docs.eachlabs.ai';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description: 'Your Eachlabs API key, from the API Keys page of the Eachlabs dashboard',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: DEFAULT_BASE_URL,
			description:
				'Where the Eachlabs API lives. Change it only to go through a proxy or a local test server.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				'X-API-Key': '={{$credentials.apiKey}}',
			},
		},
	};

	/*
	 * The balance endpoint is free, so testing the credential never creates a paid prediction.
	 * It allows 3 requests a second (then 429) and answers 503 when the balance is unavailable:
	 * neither says anything about the key, so those read "try again", and only a 401 "wrong key".
	 */
	test: ICredentialTestRequest = {
		request: {
			baseURL: BASE_URL_EXPRESSION,
			url: '/v1/billing/balance',
			method: 'GET',
			// The key travels in X-API-Key: never follow a redirect to another host with it.
			disableFollowRedirect: true,
		},
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message:
						'Eachlabs did not accept this API key. Copy a key from the API Keys page of your Eachlabs dashboard (https://www.eachlabs.ai) and paste it here.',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 429,
					message:
						'Eachlabs allows only a few credential checks a second and asked to wait. This says nothing about the key: try again in a moment.',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 503,
					message:
						'Eachlabs could not check the key right now (HTTP 503, temporarily unavailable). This says nothing about the key: try again in a moment.',
				},
			},
		],
	};
}
