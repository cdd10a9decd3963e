import type { INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { properties } from './description';

/**
 * Kling O1 image editing on the Eachlabs prediction API. Declarative: the fields map to the
 * request in `description/`, and each operation's request cycle runs in `router.ts`.
 */
export class KlingO1 implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Kling O1',
		name: 'klingO1',
		icon: { light: 'file:klingO1.svg', dark: 'file:klingO1.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"] === "getPrediction" ? "Get prediction" : "Edit image"}}',
		description:
			'Edit images with Kling O1 on Eachlabs: prompt plus reference images in, images out',
		defaults: { name: 'Kling O1' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'eachlabsApi', required: true }],
		requestDefaults: {
			baseURL:
				'={{ String($credentials.baseUrl || "https://api.eachlabs.ai").trim().replace(/\\/+$/, "").replace(/\\/v1$/, "") }}',
			headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
		},
		properties,
	};
}
