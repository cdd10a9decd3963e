import { execFileSync } from 'child_process';
import fs from 'fs';
import http from 'http';
import https from 'https';
import type { AddressInfo } from 'net';
import os from 'os';
import path from 'path';

import { DirectoryLoader } from 'n8n-core';
import type { INodeParameters, INodeType } from 'n8n-workflow';

import type { FakeEachlabs } from '../../dev/fake-eachlabs';
import { makeImage, startFakeEachlabs } from '../../dev/fake-eachlabs';
import type { ForwardProxy } from '../../dev/forward-proxy';
import { startForwardProxy } from '../../dev/forward-proxy';
import { binaryBuffer, runNode, storeBinary } from '../helpers/n8n';
import { editImage, getPrediction as getPredictionParameters } from '../helpers/params';

/*
 * n8n's Request Options, which n8n adds to every declarative node (Settings → Request Options):
 * the proxy and Ignore SSL Issues reach every request the node makes, the timeout limits each
 * single request, batching spaces the items out without losing or repeating any.
 */

/** The node as n8n loads it: with the Request Options n8n's loader adds to declarative nodes. */
function nodeAsLoaded(): INodeType {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const { KlingO1 } = require('../../nodes/KlingO1/KlingO1.node.ts') as {
		KlingO1: new () => INodeType;
	};
	const type = new KlingO1();
	type.description = { ...type.description, properties: [...type.description.properties] };
	DirectoryLoader.applyDeclarativeNodeOptionParameters(type);
	return type;
}

const nodeType = nodeAsLoaded();
let fake: FakeEachlabs;
let proxy: ForwardProxy;
beforeAll(async () => {
	fake = await startFakeEachlabs({ apiKey: 'test-key', jobMs: 200, imageBytes: 1200 });
	proxy = await startForwardProxy();
});
afterAll(async () => {
	await fake.close();
	await proxy.close();
});
beforeEach(() => {
	fake.reset();
	proxy.reset();
});

const credentials = () => ({ apiKey: 'test-key', baseUrl: fake.apiUrl });
const hostOf = (url: string) => new URL(url).host;

function run(parameters: INodeParameters, requestOptions: object, items = 1) {
	return runNode({
		parameters: { ...parameters, requestOptions } as INodeParameters,
		items: Array.from({ length: items }, (_, i) => ({ json: { i } })),
		credentials: credentials(),
		nodeType,
	});
}

test('n8n adds its Request Options to the node, and the node adds none of its own', () => {
	const requestOptions = nodeType.description.properties.find((p) => p.name === 'requestOptions');
	expect((requestOptions?.options ?? []).map((o) => o.name)).toEqual([
		'batching',
		'allowUnauthorizedCerts',
		'proxy',
		'timeout',
	]);
});

test('with a proxy, API calls and image downloads all go through it; the key only to the API', async () => {
	const items = await run(editImage({ numImages: 2 }), { proxy: proxy.url });
	expect(items).toHaveLength(2);
	const id = items[0].json.predictionId as string;
	expect((await binaryBuffer(items[1].binary!.data)).equals(fake.expectedImage(id, 1))).toBe(true);

	const api = fake.requests.filter((r) => r.host === 'api');
	const files = fake.requests.filter((r) => r.host === 'files');
	expect(files).toHaveLength(2);
	// Everything the fake saw came through the proxy, request for request.
	expect(proxy.countsByHost()).toEqual({
		[hostOf(fake.apiUrl)]: api.length,
		[hostOf(fake.filesUrl)]: files.length,
	});
	expect(proxy.requests.map((r) => `${r.method} ${r.path}`)).toEqual(
		fake.requests.map((r) => `${r.method} ${r.path}`),
	);
	for (const request of proxy.requests) {
		const toApi = request.host === hostOf(fake.apiUrl);
		expect(request.headers['x-api-key']).toBe(toApi ? 'test-key' : undefined);
		expect(request.headers.authorization).toBeUndefined();
	}
});

test('with a proxy, binary input uploads (presign and PUT) go through it too, without the key', async () => {
	const image = makeImage({ id: 'upload-1', index: 0, format: 'png', bytes: 2500 });
	const item = {
		json: {},
		binary: { data: await storeBinary(image, { fileName: 'in.png', mimeType: 'image/png' }) },
	};
	const items = await runNode({
		parameters: {
			...editImage({
				prompt: 'Put @Image1 on a table',
				images: { image: [{ source: 'binary', binaryPropertyName: 'data' }] },
				numImages: 1,
			}),
			requestOptions: { proxy: proxy.url },
		} as INodeParameters,
		items: [item],
		credentials: credentials(),
		nodeType,
	});
	expect(items).toHaveLength(1);
	const puts = proxy.requests.filter((r) => r.method === 'PUT');
	expect(puts).toHaveLength(1);
	expect(puts[0].host).toBe(hostOf(fake.uploadsUrl));
	expect(puts[0].headers['x-api-key']).toBeUndefined();
	expect(proxy.requests.filter((r) => r.path.startsWith('/v1/upload/presign'))).toHaveLength(1);
	// Every request the node made (the fake's own fetch of the input aside) came through the proxy.
	const byNode = fake.requests.filter((r) => !(r.host === 'uploads' && r.method === 'GET'));
	expect(proxy.requests.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
		byNode.map((r) => `${r.method} ${r.path}`).sort(),
	);
});

test('without a proxy nothing goes through it', async () => {
	const items = await run(editImage({ numImages: 1 }), {});
	expect(items).toHaveLength(1);
	expect(proxy.requests).toHaveLength(0);
	expect(fake.stats()).toMatchObject({ creates: 1, downloads: 1 });
});

test('Request Options → Timeout limits each single request: a hanging poll is given up and retried', async () => {
	fake.failNext('poll', 'hang');
	const started = Date.now();
	const items = await run(editImage({ numImages: 1 }), { timeout: 1000 });
	// The default for a poll is 30 s; with 1 s the hung poll ends early and the next one succeeds.
	expect(Date.now() - started).toBeLessThan(20_000);
	expect(items).toHaveLength(1);
	expect(items[0].json.status).toBe('success');
	expect(fake.stats()).toMatchObject({ creates: 1, faultsInjected: 1 });
});

test('batching: items per batch and the interval are respected, nothing lost or repeated', async () => {
	const items = await run(
		editImage({ numImages: 1 }),
		{ batching: { batch: { batchSize: 2, batchInterval: 400 } } },
		5,
	);
	expect(items).toHaveLength(5);
	expect(items.map((item) => item.pairedItem)).toEqual([0, 1, 2, 3, 4].map((item) => ({ item })));
	const creates = fake.requests.filter((r) => r.host === 'api' && r.method === 'POST');
	expect(creates).toHaveLength(5);
	// Batches of 2 start 400 ms apart: items 2-3 not before 400 ms, item 4 not before 800 ms.
	const first = creates[0].time;
	const starts = creates.map((c) => c.time - first).sort((a, b) => a - b);
	expect(starts[2]).toBeGreaterThanOrEqual(350);
	expect(starts[4]).toBeGreaterThanOrEqual(750);
	const delivered = new Set(items.map((item) => item.json.predictionId));
	expect(delivered).toEqual(new Set(fake.stats().predictions));
	expect(delivered.size).toBe(5);
});

test('batching does not lift the 10-slot limit', async () => {
	fake.configure({ jobMs: 800 });
	try {
		const items = await run(
			editImage({ numImages: 1 }),
			{ batching: { batch: { batchSize: 6, batchInterval: 50 } } },
			14,
		);
		expect(items).toHaveLength(14);
		const stats = fake.stats();
		expect(stats.creates).toBe(14);
		expect(stats.maxInFlight).toBeLessThanOrEqual(10);
		expect(stats.rateLimited).toBe(0);
		expect(new Set(items.map((item) => item.json.predictionId))).toEqual(
			new Set(stats.predictions),
		);
	} finally {
		fake.configure({ jobMs: 200 });
	}
});

test('a proxy with a user and password gets them on downloads as on API calls', async () => {
	const [scheme, rest] = proxy.url.split('//');
	const items = await run(editImage({ numImages: 1 }), {
		proxy: `${scheme}//kling:p%40ss@${rest}`,
	});
	expect(items).toHaveLength(1);
	const expected = `Basic ${Buffer.from('kling:p@ss').toString('base64')}`;
	expect(proxy.requests.length).toBeGreaterThanOrEqual(3);
	for (const request of proxy.requests) {
		expect(request.headers['proxy-authorization']).toBe(expected);
	}
	expect(new Set(proxy.requests.map((r) => r.host))).toEqual(
		new Set([hostOf(fake.apiUrl), hostOf(fake.filesUrl)]),
	);
});

/*
 * Ignore SSL Issues on downloads: an image host with a self-signed certificate (made with openssl
 * for the test) and an API stand-in whose finished prediction points at it. Eachlabs' storage has
 * valid certificates; this is the case of a proxy or gateway that re-signs TLS.
 */
describe('Ignore SSL Issues', () => {
	const png = Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		Buffer.alloc(900, 7),
	]);
	let folder: string;
	let imageHost: https.Server;
	let api: http.Server;
	let apiUrl: string;
	let tlsApi: https.Server;
	let tlsApiUrl: string;
	const imageRequests: http.IncomingHttpHeaders[] = [];

	beforeAll(async () => {
		folder = fs.mkdtempSync(path.join(os.tmpdir(), 'kling-o1-tls-'));
		execFileSync(
			'openssl',
			[
				'req',
				'-x509',
				'-newkey',
				'rsa:2048',
				'-nodes',
				'-days',
				'1',
				'-subj',
				'/CN=127.0.0.1',
				'-keyout',
				path.join(folder, 'key.pem'),
				'-out',
				path.join(folder, 'cert.pem'),
			],
			{ stdio: 'ignore' },
		);
		imageHost = https.createServer(
			{
				key: fs.readFileSync(path.join(folder, 'key.pem')),
				cert: fs.readFileSync(path.join(folder, 'cert.pem')),
			},
			(req, res) => {
				imageRequests.push(req.headers);
				res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
				res.end(png);
			},
		);
		await new Promise<void>((resolve) => imageHost.listen(0, '127.0.0.1', resolve));
		const imageUrl = `https://127.0.0.1:${(imageHost.address() as AddressInfo).port}/out/0.png`;
		api = http.createServer((_req, res) => {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ status: 'success', predictionID: 'tls-1', output: [imageUrl] }));
		});
		await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
		apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
		// The same API stand-in behind TLS with the self-signed certificate.
		tlsApi = https.createServer(
			{
				key: fs.readFileSync(path.join(folder, 'key.pem')),
				cert: fs.readFileSync(path.join(folder, 'cert.pem')),
			},
			(req, res) => api.emit('request', req, res),
		);
		await new Promise<void>((resolve) => tlsApi.listen(0, '127.0.0.1', resolve));
		tlsApiUrl = `https://127.0.0.1:${(tlsApi.address() as AddressInfo).port}`;
	});
	afterAll(async () => {
		await new Promise((resolve) => imageHost.close(resolve));
		await new Promise((resolve) => api.close(resolve));
		await new Promise((resolve) => tlsApi.close(resolve));
		fs.rmSync(folder, { recursive: true, force: true });
	});
	beforeEach(() => {
		imageRequests.length = 0;
	});

	const getPrediction = (requestOptions: object, baseUrl = apiUrl) =>
		runNode({
			parameters: {
				...getPredictionParameters('tls-1', { options: { timeoutSeconds: 20 } }),
				requestOptions,
			} as INodeParameters,
			credentials: { apiKey: 'test-key', baseUrl },
			nodeType,
		});

	test('off: a self-signed image host is refused at once, with the download error', async () => {
		await expect(getPrediction({})).rejects.toThrow(
			/^Edited image 0 of prediction tls-1 could not be downloaded: .*self[- ]signed/i,
		);
		expect(imageRequests).toHaveLength(0);
	});

	test('on: the image is downloaded, without the key', async () => {
		const items = await getPrediction({ allowUnauthorizedCerts: true });
		expect(items).toHaveLength(1);
		expect((await binaryBuffer(items[0].binary!.data)).equals(png)).toBe(true);
		expect(imageRequests).toHaveLength(1);
		expect(imageRequests[0]['x-api-key']).toBeUndefined();
	});

	test('API calls: refused off, accepted on, as n8n applies it to the routing', async () => {
		await expect(getPrediction({}, tlsApiUrl)).rejects.toThrow(/self[- ]signed/i);
		const items = await getPrediction({ allowUnauthorizedCerts: true }, tlsApiUrl);
		expect((await binaryBuffer(items[0].binary!.data)).equals(png)).toBe(true);
	});
});
