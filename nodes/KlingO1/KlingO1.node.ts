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
		// 1.1: Get Prediction's Wait for Completion has a field of its own (see description/).
		version: [1, 1.1],
		defaultVersion: 1.1,
		subtitle: '={{$parameter["operation"] === "getPrediction" ? "Get prediction" : "Edit image"}}',
		description:
			'Edit images with Kling O1 on Eachlabs: prompt plus reference images in, images out',
		// Not "Kling O1": n8n numbers a second node by appending a digit ("Kling O11"), which reads
		// as another model version. A name that ends in a word stays clear ("Kling O1 Image Edit1").
		defaults: { name: 'Kling O1 Image Edit' },
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
