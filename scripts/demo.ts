/**
 * The main job, end to end: one sample item through the BUILT Kling O1 node, run by n8n-core's
 * declarative routing exactly as n8n runs it, and the edited images written to demo-output/.
 *
 * Without EACHLABS_API_KEY it talks to the bundled fake Eachlabs server on 127.0.0.1 (free);
 * with it, to the real API (https://api.eachlabs.ai, or EACHLABS_BASE_URL), same code path.
 */
import { promises as fs } from 'fs';
import os from 'os';
import path from 'path';

import type { INodeType } from 'n8n-workflow';

import { startFakeEachlabs } from '../dev/fake-eachlabs';
import { binaryBuffer, runNode } from '../test/helpers/n8n';

const root = path.resolve(__dirname, '..');
const outputFolder = path.join(root, 'demo-output');

async function main() {
	// n8n-core keeps its config and binary data under N8N_USER_FOLDER: not in the user's ~/.n8n.
	process.env.N8N_USER_FOLDER ??= path.join(os.tmpdir(), 'n8n-nodes-kling-o1-demo');
	const built = path.join(root, 'dist', 'nodes', 'KlingO1', 'KlingO1.node.js');
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const { KlingO1 } = require(built) as { KlingO1: new () => INodeType };

	const realKey = process.env.EACHLABS_API_KEY;
	const fake = realKey ? undefined : await startFakeEachlabs({ apiKey: 'demo-key', jobMs: 1500 });
	const credentials = realKey
		? { apiKey: realKey, baseUrl: process.env.EACHLABS_BASE_URL ?? 'https://api.eachlabs.ai' }
		: { apiKey: 'demo-key', baseUrl: fake!.apiUrl };
	console.log(
		`Kling O1 demo against ${realKey ? credentials.baseUrl : `the fake Eachlabs server at ${credentials.baseUrl}`}`,
	);

	const started = Date.now();
	try {
		const items = await runNode({
			nodeType: new KlingO1(),
			credentials,
			items: [
				{
					json: {
						product: 'Horse figurine',
						photos: [
							'https://storage.googleapis.com/magicpoint/inputs/kling-o1-input-1.png',
							'https://storage.googleapis.com/magicpoint/inputs/kling-o1-input-2.png',
						],
					},
				},
			],
			parameters: {
				operation: 'editImage',
				prompt: 'Put @Image1 on the horse in @Image2',
				images: { image: [{ url: '={{ $json.photos }}' }] },
				numImages: 2,
				resolution: '1K',
				outputFormat: 'png',
			},
		});
		await fs.mkdir(outputFolder, { recursive: true });
		for (const item of items) {
			const binary = item.binary!.data;
			const file = path.join(outputFolder, binary.fileName!);
			await fs.writeFile(file, await binaryBuffer(binary));
			console.log(
				`wrote ${path.relative(root, file)} (${binary.mimeType}, ${binary.fileSize}) ` +
					`from prediction ${item.json.predictionId}, image ${item.json.imageIndex}`,
			);
		}
		const cost = items.reduce((sum, item) => sum + Number(item.json.estimatedCostUsd), 0);
		console.log(
			`${items.length} images in ${((Date.now() - started) / 1000).toFixed(1)} s, estimated cost $${cost.toFixed(3)}`,
		);
		if (fake) {
			console.log(
				'These are placeholders: the fake server answers every prompt with colour-gradient PNGs and charges nothing. ' +
					'Set EACHLABS_API_KEY to run the same node against the real Kling O1.',
			);
		}
	} finally {
		await fake?.close();
	}
}

main().catch((error: Error & { description?: string }) => {
	console.error(
		`Demo failed: ${error.message}${error.description ? `\n${error.description}` : ''}`,
	);
	process.exit(1);
});
