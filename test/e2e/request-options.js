'use strict';
/**
 * End-to-end: n8n's Request Options (Settings → Request Options, added by n8n to every declarative
 * node) in a real n8n. Two workflows beside the examples:
 *
 * - proxy: Request Options → Proxy points at a forwarding proxy on 127.0.0.1 that the runner
 *   starts (dev/forward-proxy); the API calls and the image downloads must all pass through it,
 *   request for request with what the fake saw.
 * - batching: 7 items, 3 per batch, 1.5 s apart; every item once, no prediction lost or repeated.
 *
 * The proxy URL is only known at run time: the workflow holds PROXY_URL, which the runner's
 * patchWorkflow replaces (`patch`).
 */
const { startForwardProxy } = require('../../dev/forward-proxy');

const PROXY_URL = '__E2E_PROXY_URL__';
const IMG1 = 'https://storage.googleapis.com/magicpoint/inputs/kling-o1-input-1.png';
const IMG2 = 'https://storage.googleapis.com/magicpoint/inputs/kling-o1-input-2.png';
const BATCH_SIZE = 3;
const BATCH_INTERVAL_MS = 1500;
const BATCH_ITEMS = 7;

function fail(message) {
	throw new Error(message);
}

function klingNode(id, requestOptions, extra = {}) {
	return {
		id,
		name: 'Kling O1',
		type: 'n8n-nodes-kling-o1.klingO1',
		typeVersion: 1,
		position: [440, 0],
		parameters: {
			operation: 'editImage',
			prompt: '={{ $json.prompt || "Put @Image1 on the horse in @Image2" }}',
			images: { image: [{ url: IMG1 }, { url: IMG2 }] },
			...extra,
			options: {},
			requestOptions,
		},
		credentials: { eachlabsApi: { id: 'eachlabsAccount1', name: 'Eachlabs account' } },
	};
}

const manual = (id) => ({
	id,
	name: 'Manual',
	type: 'n8n-nodes-base.manualTrigger',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
});

const PROXY_WORKFLOW = {
	id: 'E2eRequestOptProxy',
	name: 'Request Options: proxy for API calls and downloads',
	nodes: [
		manual('5f2b7c1d-8e3a-4b6f-9d2c-000000000101'),
		klingNode('5f2b7c1d-8e3a-4b6f-9d2c-000000000102', { proxy: PROXY_URL }, { numImages: 2 }),
	],
	connections: { Manual: { main: [[{ node: 'Kling O1', type: 'main', index: 0 }]] } },
	settings: { executionOrder: 'v1' },
	active: false,
};

const BATCHING_WORKFLOW = {
	id: 'E2eRequestOptBatch',
	name: 'Request Options: batching',
	nodes: [
		manual('5f2b7c1d-8e3a-4b6f-9d2c-000000000201'),
		{
			id: '5f2b7c1d-8e3a-4b6f-9d2c-000000000202',
			name: 'Prompts',
			type: 'n8n-nodes-base.code',
			typeVersion: 2,
			position: [220, 0],
			parameters: {
				jsCode: `return Array.from({ length: ${BATCH_ITEMS} }, (_, i) => ({ json: { i, prompt: 'Put @Image1 on the horse in @Image2, take ' + i } }));`,
			},
		},
		klingNode('5f2b7c1d-8e3a-4b6f-9d2c-000000000203', {
			batching: { batch: { batchSize: BATCH_SIZE, batchInterval: BATCH_INTERVAL_MS } },
		}),
	],
	connections: {
		Manual: { main: [[{ node: 'Prompts', type: 'main', index: 0 }]] },
		Prompts: { main: [[{ node: 'Kling O1', type: 'main', index: 0 }]] },
	},
	settings: { executionOrder: 'v1' },
	active: false,
};

function outputOf(runData, name) {
	const runs = runData[name];
	if (!runs || !runs.length) fail(`node "${name}" did not run`);
	const last = runs[runs.length - 1];
	if (last.error) fail(`node "${name}" failed: ${last.error.message}`);
	return (last.data && last.data.main && last.data.main[0]) || [];
}

const hostOf = (url) => new URL(url).host;

const checks = {
	[PROXY_WORKFLOW.id]: {
		fake: { imageBytes: 1717 },
		async check({ runData, stats, fake, proxy }) {
			const items = outputOf(runData, 'Kling O1');
			if (items.length !== 2) fail(`expected 2 items, got ${items.length}`);
			for (const item of items) {
				if (!item.binary || !item.binary.data) fail('an item has no binary "data"');
			}
			const seen = (stats.requests || []).map((r) => `${r.host} ${r.method} ${r.path}`);
			const api = seen.filter((r) => r.startsWith('api ')).length;
			const files = seen.filter((r) => r.startsWith('files ')).length;
			if (files !== 2) fail(`the files host served ${files} downloads, expected 2`);
			const counts = proxy.countsByHost();
			const expected = { [hostOf(fake.apiUrl)]: api, [hostOf(fake.filesUrl)]: files };
			if (JSON.stringify(counts) !== JSON.stringify(expected)) {
				fail(
					`the proxy forwarded ${JSON.stringify(counts)}, the fake saw ${JSON.stringify(expected)}`,
				);
			}
			for (const request of proxy.requests) {
				const toApi = request.host === hostOf(fake.apiUrl);
				if (toApi !== (request.headers['x-api-key'] === 'e2e-key'))
					fail(`the key went ${toApi ? 'missing from' : 'to'} ${request.host}${request.path}`);
			}
		},
	},
	[BATCHING_WORKFLOW.id]: {
		fake: { imageBytes: 1313 },
		async check({ runData, stats }) {
			const items = outputOf(runData, 'Kling O1');
			if (items.length !== BATCH_ITEMS) fail(`expected ${BATCH_ITEMS} items, got ${items.length}`);
			const paired = items.map((item) => item.pairedItem && item.pairedItem.item);
			if (JSON.stringify(paired) !== JSON.stringify([...Array(BATCH_ITEMS).keys()]))
				fail(`pairedItem ${JSON.stringify(paired)}`);
			const delivered = new Set(items.map((item) => item.json.predictionId));
			const created = new Set(stats.predictions);
			if (delivered.size !== BATCH_ITEMS || created.size !== BATCH_ITEMS)
				fail(`${delivered.size} ids delivered, ${created.size} created, expected ${BATCH_ITEMS}`);
			for (const id of created) if (!delivered.has(id)) fail(`prediction ${id} was not delivered`);
			const creates = (stats.requests || [])
				.filter((r) => r.host === 'api' && r.method === 'POST')
				.map((r) => r.time)
				.sort((a, b) => a - b);
			if (creates.length !== BATCH_ITEMS) fail(`${creates.length} creates sent`);
			// Item i starts with batch floor(i / size), that many intervals after the first.
			creates.forEach((time, i) => {
				const earliest = Math.floor(i / BATCH_SIZE) * BATCH_INTERVAL_MS - 100;
				if (time - creates[0] < earliest)
					fail(`create ${i} started ${time - creates[0]} ms in, expected ≥ ${earliest + 100}`);
			});
			if (stats.rateLimited) fail(`the node hit the rate limit ${stats.rateLimited} time(s)`);
		},
	},
};

const workflows = [
	{ file: 'request-options: proxy', workflow: PROXY_WORKFLOW },
	{ file: 'request-options: batching', workflow: BATCHING_WORKFLOW },
];

/** Puts the running proxy's URL into a workflow copy. */
function patch(node, proxy) {
	const options = node.parameters && node.parameters.requestOptions;
	if (options && options.proxy === PROXY_URL) options.proxy = proxy.url;
}

module.exports = { workflows, checks, patch, startForwardProxy };
