'use strict';
/**
 * What each example workflow must produce in a real n8n against the fake Eachlabs server.
 * Keyed by workflow id (examples/*.json). Each entry may configure the fake before the run
 * (`fake`, sent to POST /__control/configure after a reset) and checks the run data of
 * `n8n execute --rawOutput` plus GET /__control/stats.
 */
const fs = require('fs');
const path = require('path');

const IMG1 = 'https://storage.googleapis.com/magicpoint/inputs/kling-o1-input-1.png';
const IMG2 = 'https://storage.googleapis.com/magicpoint/inputs/kling-o1-input-2.png';
const MIME = { png: 'image/png', jpeg: 'image/jpeg', jpg: 'image/jpeg', webp: 'image/webp' };
const EXTENSIONS = { png: ['png'], jpeg: ['jpg', 'jpeg'], webp: ['webp'] };
const MAGIC = {
	png: (b) =>
		b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
	jpeg: (b) => b[0] === 0xff && b[1] === 0xd8,
	webp: (b) => b.subarray(0, 4).toString() === 'RIFF' && b.subarray(8, 12).toString() === 'WEBP',
};

/** The run told n8n to store binary data on disk (what the README advises n8n 1.x users). */
const STORED_BINARY = process.env.E2E_N8N_DEFAULT_BINARY_DATA_MODE === 'filesystem';

function fail(message) {
	throw new Error(message);
}

function sameJson(actual, expected, message) {
	if (JSON.stringify(actual) !== JSON.stringify(expected)) fail(message);
}

/** Output items of a node's last run: outputs[outputIndex]. */
function outputOf(runData, nodeName, outputIndex = 0) {
	const runs = runData[nodeName];
	if (!runs || !runs.length)
		fail(`node "${nodeName}" did not run (ran: ${Object.keys(runData).join(', ')})`);
	const last = runs[runs.length - 1];
	if (last.error) fail(`node "${nodeName}" failed: ${last.error.message}`);
	const main = (last.data && last.data.main) || [];
	return main[outputIndex] || [];
}

function expectCount(items, n, what) {
	if (items.length !== n) {
		const sample = items.slice(0, 2).map((i) => JSON.stringify(i.json).slice(0, 200));
		fail(
			`${what}: expected ${n} item(s), got ${items.length}${sample.length ? ` (first: ${sample.join(' ; ')})` : ''}`,
		);
	}
}

function pairedIndexes(item) {
	const p = item.pairedItem;
	if (p === undefined || p === null) return undefined;
	if (typeof p === 'number') return [p];
	return (Array.isArray(p) ? p : [p]).map((x) => (typeof x === 'number' ? x : x.item));
}

function expectPaired(item, index, what) {
	const got = pairedIndexes(item);
	if (!got) fail(`${what}: no pairedItem`);
	if (got.length !== 1 || got[0] !== index)
		fail(`${what}: pairedItem ${JSON.stringify(item.pairedItem)}, expected item ${index}`);
}

/** A binary property produced by the node: mime, extension, name, exact size. */
function expectBinary(bin, { format, bytes, predictionId, imageIndex }, what) {
	if (!bin) fail(`${what}: binary missing`);
	if (bin.mimeType !== MIME[format])
		fail(`${what}: mimeType ${bin.mimeType}, expected ${MIME[format]}`);
	if (!EXTENSIONS[format].includes(bin.fileExtension)) {
		fail(
			`${what}: fileExtension ${bin.fileExtension}, expected ${EXTENSIONS[format].join(' or ')}`,
		);
	}
	const name = `kling-o1-${predictionId}-${imageIndex}.${bin.fileExtension}`;
	if (bin.fileName !== name) fail(`${what}: fileName ${bin.fileName}, expected ${name}`);
	// n8n 2.x stores binary data and gives its size; n8n 1.x keeps it in the item (base64) by
	// default, and stores it only with N8N_DEFAULT_BINARY_DATA_MODE=filesystem, without the size
	// (then example 02, which writes the files to disk and compares them, checks the bytes).
	const size = bin.bytes ?? (bin.id ? undefined : Buffer.from(bin.data || '', 'base64').length);
	if (bytes !== undefined && !(bin.id && size === undefined) && size !== bytes)
		fail(`${what}: ${size} bytes, expected ${bytes} (fileSize ${bin.fileSize})`);
	if (!bin.id && !bin.data) fail(`${what}: neither binary data nor a stored binary id`);
	if (STORED_BINARY && !bin.id)
		fail(`${what}: kept in the item, though n8n was told to store binary data on disk`);
}

/** One item of `imagePerItem` output. */
function expectImageItem(
	item,
	{ format, bytes, imageIndex, imageCount, predictionId, fake },
	what,
) {
	const j = item.json;
	if (typeof j.predictionId !== 'string' || !j.predictionId)
		fail(`${what}: no predictionId in ${JSON.stringify(j)}`);
	if (predictionId !== undefined && j.predictionId !== predictionId)
		fail(`${what}: predictionId ${j.predictionId}, expected ${predictionId}`);
	if (j.status !== 'success') fail(`${what}: status ${j.status}`);
	if (j.imageIndex !== imageIndex)
		fail(`${what}: imageIndex ${j.imageIndex}, expected ${imageIndex}`);
	if (j.imageCount !== imageCount)
		fail(`${what}: imageCount ${j.imageCount}, expected ${imageCount}`);
	if (typeof j.imageUrl !== 'string' || !j.imageUrl.startsWith(fake.filesUrl)) {
		fail(`${what}: imageUrl ${j.imageUrl} is not on the fake's files host ${fake.filesUrl}`);
	}
	if (typeof j.predictTime !== 'number')
		fail(`${what}: predictTime ${JSON.stringify(j.predictTime)} is not a number`);
	if (typeof j.estimatedCostUsd !== 'number' || !(j.estimatedCostUsd > 0)) {
		fail(`${what}: estimatedCostUsd ${JSON.stringify(j.estimatedCostUsd)}`);
	}
	expectBinary(
		item.binary && item.binary.data,
		{ format, bytes, predictionId: j.predictionId, imageIndex },
		`${what} binary "data"`,
	);
	const keys = Object.keys(item.binary || {});
	if (keys.length !== 1)
		fail(`${what}: binary properties ${keys.join(', ')}, expected only "data"`);
}

/** Stats of the fake: auth went only to the API host; counts of what the node did. */
function expectTraffic(stats, { creates, downloads, maxInFlight }, what = 'fake server') {
	const requests = stats.requests || [];
	const files = requests.filter((r) => r.host === 'files');
	const leaked = files.filter((r) =>
		Object.keys(r.headers || {}).some((h) =>
			['x-api-key', 'authorization'].includes(h.toLowerCase()),
		),
	);
	if (leaked.length) {
		fail(
			`${what}: the files host received credentials (${leaked.map((r) => `${r.method} ${r.path}`).join(', ')})`,
		);
	}
	const api = requests.filter((r) => r.host === 'api');
	const unauth = api.filter(
		(r) =>
			(r.headers || {})['x-api-key'] !== 'e2e-key' &&
			(r.headers || {}).authorization !== 'Bearer e2e-key',
	);
	if (unauth.length)
		fail(
			`${what}: API requests without the key: ${unauth.map((r) => `${r.method} ${r.path}`).join(', ')}`,
		);
	if (creates !== undefined && stats.creates !== creates)
		fail(`${what}: ${stats.creates} predictions created, expected ${creates}`);
	if (downloads !== undefined && stats.downloads !== downloads)
		fail(`${what}: ${stats.downloads} downloads, expected ${downloads}`);
	if (maxInFlight !== undefined && stats.maxInFlight > maxInFlight)
		fail(`${what}: ${stats.maxInFlight} predictions in flight at once, limit ${maxInFlight}`);
	if (stats.rateLimited) fail(`${what}: the node hit the rate limit ${stats.rateLimited} time(s)`);
	return { api, files };
}

/** The create requests' bodies, in order. */
function createBodies(stats) {
	return (stats.requests || [])
		.filter(
			(r) => r.host === 'api' && r.method === 'POST' && /^\/v1\/prediction\/?(\?|$)/.test(r.path),
		)
		.map((r) => (typeof r.body === 'string' ? JSON.parse(r.body) : r.body));
}

function expectCreateInput(body, expected, what) {
	if (!body) fail(`${what}: no create request logged`);
	if (body.model !== 'kling-o1') fail(`${what}: model ${body.model}`);
	const input = body.input || {};
	for (const [k, v] of Object.entries(expected)) {
		sameJson(
			input[k],
			v,
			`${what}: input.${k} = ${JSON.stringify(input[k])}, expected ${JSON.stringify(v)}`,
		);
	}
}

async function download(url) {
	const res = await fetch(url);
	if (!res.ok) fail(`GET ${url} -> ${res.status}`);
	return Buffer.from(await res.arrayBuffer());
}

const checks = {
	// a) one edit, two references
	KlingO1Example01: {
		fake: { imageBytes: 3001 },
		async check({ runData, stats, fake }) {
			const items = outputOf(runData, 'Kling O1');
			expectCount(items, 1, 'Kling O1');
			expectImageItem(
				items[0],
				{ format: 'png', bytes: 3001, imageIndex: 0, imageCount: 1, fake },
				'item 0',
			);
			expectPaired(items[0], 0, 'item 0');
			expectTraffic(stats, { creates: 1, downloads: 1 });
			expectCreateInput(
				createBodies(stats)[0],
				{ prompt: 'Put @Image1 on the horse in @Image2', image_urls: [IMG1, IMG2] },
				'create',
			);
		},
	},

	// b) 2K x3, one item per image, written to disk
	KlingO1Example02: {
		fake: { imageBytes: 5003 },
		async check({ runData, stats, fake, filesDir }) {
			const items = outputOf(runData, 'Kling O1');
			expectCount(items, 3, 'Kling O1');
			const id = items[0].json.predictionId;
			items.forEach((item, i) => {
				expectImageItem(
					item,
					{ format: 'png', bytes: 5003, imageIndex: i, imageCount: 3, predictionId: id, fake },
					`item ${i}`,
				);
				expectPaired(item, 0, `item ${i}`);
			});
			expectTraffic(stats, { creates: 1, downloads: 3 });
			expectCreateInput(
				createBodies(stats)[0],
				{
					resolution: '2K',
					num_images: 3,
					aspect_ratio: '16:9',
					output_format: 'png',
					image_urls: [IMG1, IMG2],
				},
				'create',
			);
			const written = outputOf(runData, 'Write Files to Disk');
			expectCount(written, 3, 'Write Files to Disk');
			for (let i = 0; i < 3; i++) {
				const file = path.join(filesDir, items[i].binary.data.fileName);
				if (written[i].json.fileName !== file)
					fail(
						`Write Files to Disk item ${i}: fileName ${written[i].json.fileName}, expected ${file}`,
					);
				if (!fs.existsSync(file)) fail(`file ${file} was not written`);
				const content = fs.readFileSync(file);
				if (content.length !== 5003)
					fail(`${path.basename(file)}: ${content.length} bytes on disk, expected 5003`);
				if (!MAGIC.png(content)) fail(`${path.basename(file)}: not a PNG`);
				const original = await download(items[i].json.imageUrl);
				if (!content.equals(original))
					fail(`${path.basename(file)}: differs from ${items[i].json.imageUrl}`);
			}
			const onDisk = fs.readdirSync(filesDir).filter((f) => f.startsWith('kling-o1-'));
			if (onDisk.length !== 3) fail(`expected 3 files on disk, found ${onDisk.join(', ')}`);
		},
	},

	// c) all images in one item
	KlingO1Example03: {
		fake: { imageBytes: 4007 },
		async check({ runData, stats }) {
			const items = outputOf(runData, 'Kling O1');
			expectCount(items, 1, 'Kling O1');
			const item = items[0];
			const j = item.json;
			if (typeof j.predictionId !== 'string' || !j.predictionId)
				fail(`no predictionId in ${JSON.stringify(j)}`);
			if (j.status !== 'success') fail(`status ${j.status}`);
			const keys = Object.keys(item.binary || {}).sort();
			sameJson(
				keys,
				['data_0', 'data_1'],
				`binary properties ${keys.join(', ')}, expected data_0, data_1`,
			);
			keys.forEach((k, i) =>
				expectBinary(
					item.binary[k],
					{ format: 'webp', bytes: 4007, predictionId: j.predictionId, imageIndex: i },
					`binary "${k}"`,
				),
			);
			expectPaired(item, 0, 'item 0');
			expectTraffic(stats, { creates: 1, downloads: 2 });
			expectCreateInput(
				createBodies(stats)[0],
				{ num_images: 2, output_format: 'webp', aspect_ratio: '1:1' },
				'create',
			);
		},
	},

	// d) start without waiting, then Get Prediction
	KlingO1Example04: {
		fake: { imageBytes: 2500 },
		async check({ runData, stats, fake }) {
			const started = outputOf(runData, 'Start Edit');
			expectCount(started, 1, 'Start Edit');
			const s = started[0].json;
			if (typeof s.predictionId !== 'string' || !s.predictionId)
				fail(`Start Edit: no predictionId in ${JSON.stringify(s)}`);
			if (s.status !== 'processing') fail(`Start Edit: status ${s.status}, expected processing`);
			if (started[0].binary && Object.keys(started[0].binary).length)
				fail('Start Edit: has binary data');
			expectPaired(started[0], 0, 'Start Edit item 0');
			const got = outputOf(runData, 'Get Prediction');
			expectCount(got, 1, 'Get Prediction');
			expectImageItem(
				got[0],
				{
					format: 'jpeg',
					bytes: 2500,
					imageIndex: 0,
					imageCount: 1,
					predictionId: s.predictionId,
					fake,
				},
				'Get Prediction item 0',
			);
			expectPaired(got[0], 0, 'Get Prediction item 0');
			expectTraffic(stats, { creates: 1, downloads: 1 });
		},
	},

	// e) error output: good item on output 0, failed one on output 1
	KlingO1Example05: {
		fake: { imageBytes: 2222 },
		async check({ runData, stats, fake }) {
			const ok = outputOf(runData, 'Kling O1', 0);
			const bad = outputOf(runData, 'Kling O1', 1);
			expectCount(ok, 1, 'Kling O1 success output');
			expectCount(bad, 1, 'Kling O1 error output');
			expectImageItem(
				ok[0],
				{ format: 'png', bytes: 2222, imageIndex: 0, imageCount: 1, fake },
				'success item',
			);
			expectPaired(ok[0], 0, 'success item');
			expectPaired(bad[0], 1, 'error item');
			const e = bad[0].json;
			if (!e.error) fail(`error item has no "error": ${JSON.stringify(e)}`);
			if (bad[0].binary && Object.keys(bad[0].binary).length) fail('error item has binary data');
			expectCount(outputOf(runData, 'Edited Images'), 1, 'Edited Images');
			expectCount(outputOf(runData, 'Failed Edits'), 1, 'Failed Edits');
			expectTraffic(stats, { creates: 2, downloads: 1 });
		},
	},

	// f) twelve items at once
	KlingO1Example06: {
		fake: { imageBytes: 1500 },
		async check({ runData, stats, fake }) {
			const items = outputOf(runData, 'Kling O1');
			expectCount(items, 12, 'Kling O1');
			const ids = new Set();
			items.forEach((item, i) => {
				expectImageItem(
					item,
					{ format: 'png', bytes: 1500, imageIndex: 0, imageCount: 1, fake },
					`item ${i}`,
				);
				ids.add(item.json.predictionId);
			});
			// Output order may differ from input order; pairing must cover every input exactly once.
			const paired = items.map((item, i) => {
				const p = pairedIndexes(item);
				if (!p || p.length !== 1) fail(`item ${i}: pairedItem ${JSON.stringify(item.pairedItem)}`);
				return p[0];
			});
			sameJson(
				[...paired].sort((a, b) => a - b),
				[...Array(12).keys()],
				`pairedItem indexes ${paired.join(',')}`,
			);
			if (ids.size !== 12) fail(`${ids.size} distinct predictionIds, expected 12`);
			expectTraffic(stats, { creates: 12, downloads: 12, maxInFlight: 10 });
			const prompts = createBodies(stats).map((b) => b.input && b.input.prompt);
			const code = outputOf(runData, 'Twelve Prompts');
			const wanted = code.map((c) => c.json.prompt).sort();
			sameJson([...prompts].sort(), wanted, 'the 12 create requests do not carry the 12 prompts');
		},
	},

	// --smoke: built-in nodes only
	smoke: {
		async check({ runData, filesDir }) {
			expectCount(outputOf(runData, 'Code'), 3, 'Code');
			const written = outputOf(runData, 'Write Files to Disk');
			expectCount(written, 3, 'Write Files to Disk');
			for (let i = 0; i < 3; i++) {
				const file = path.join(filesDir, `smoke-${i}.txt`);
				if (!fs.existsSync(file)) fail(`${file} was not written`);
				if (fs.readFileSync(file, 'utf8') !== `line ${i}`) fail(`${file}: unexpected content`);
			}
		},
	},
};

module.exports = {
	checks,
	helpers: { fail, outputOf, expectCount, expectImageItem, expectPaired, expectTraffic, download },
};
