// First: in an n8n older than the minimum, stop with a clear message before anything else loads.
import './compat';

import type { INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { BASE_URL_EXPRESSION, CREDENTIAL_TYPE } from './constants';
import { properties } from './actions';

/**
 * Kling O1 image editing on the Eachlabs prediction API. Declarative: the fields map to the
 * request in `actions/<operation>.operation.ts`, and the item cycle both share is
 * `actions/itemCycle.ts`.
 */
export class KlingO1 implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Kling O1',
		name: 'klingO1',
		icon: { light: 'file:klingO1.svg', dark: 'file:klingO1.dark.svg' },
		group: ['transform'],
		// 1.1: Get Prediction's Wait for Completion has a field of its own (see actions/getPrediction.operation.ts).
		version: [1, 1.1],
		defaultVersion: 1.1,
		subtitle: '={{$parameter["operation"] === "getPrediction" ? "Get prediction" : "Edit image"}}',
		// Also what an AI Agent's model reads about the tool: n8n hands it this text, as no resource
		// and operation can name the action (see README, "Use it as an AI Agent tool").
		description:
			'Edits images with Kling O1 on Eachlabs: give a prompt that refers to the input images as @Image1, @Image2 … and 1 to 10 public https:// image URLs. Waits for the result and returns the edited images; each costs $0.028.',
		// Not "Kling O1": n8n numbers a second node by appending a digit ("Kling O11"), which reads
		// as another model version. A name that ends in a word stays clear ("Kling O1 Image Edit1").
		defaults: { name: 'Kling O1 Image Edit' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: CREDENTIAL_TYPE, required: true }],
		requestDefaults: {
			baseURL: BASE_URL_EXPRESSION,
			headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
		},
		properties,
	};
}
