import type { IDataObject, IExecuteSingleFunctions, INode, INodeExecutionData } from 'n8n-workflow';

import type { NodeError } from './errors';
import { warningsOf } from './errors';
import type { ItemCheck } from './parameters';
import { isToolCall } from './toolCall';

/*
 * What the node answers when an AI Agent calls it as a tool. The agent reads only the JSON of the
 * items: binary data returned by a tool does not reach the model (n8n issue #38357). So a tool call
 * downloads no images unless the user turned Download Images on explicitly, and answers with the
 * prediction's ID, status, image URLs and cost, or, when it fails, what went wrong and what to
 * change, as JSON the model can read.
 */

/** Download Images as the user set it under Options; undefined when the option was not added. */
function downloadImagesSetting(node: INode): unknown {
	const options = node.parameters.options;
	if (!options || typeof options !== 'object' || Array.isArray(options)) return undefined;
	return (options as IDataObject).downloadImages;
}

/**
 * The item's checked parameters as a tool call uses them: Download Images is off unless the user
 * added the option. Runs outside a tool call unchanged.
 */
export function asToolCall(node: INode, check: ItemCheck & { ok: true }): ItemCheck & { ok: true } {
	if (!isToolCall(node) || downloadImagesSetting(node) !== undefined) return check;
	const options = { ...check.parameters.options, downloadImages: false };
	// One branch per operation, so that each keeps its own parameters' type.
	if (check.operation === 'editImage') {
		return { ...check, parameters: { ...check.parameters, options } };
	}
	return { ...check, parameters: { ...check.parameters, options } };
}

/**
 * The answer a failed tool call gives the agent, or undefined when the failure must stop the
 * workflow instead: outside a tool call, when the user set the tool's On Error to "Stop
 * Workflow", or when the execution was stopped. n8n would otherwise hand the model only the
 * error's message, without the description that says what to change.
 */
export function toolFailureAnswer(
	ctx: IExecuteSingleFunctions,
	error: NodeError,
	extra: { itemIndex: number; predictionId?: string },
): INodeExecutionData | undefined {
	const node = ctx.getNode();
	if (!isToolCall(node) || node.onError === 'stopWorkflow') return undefined;
	if (ctx.getExecutionCancelSignal()?.aborted) return undefined;
	const warnings = warningsOf(error);
	return {
		json: {
			status: 'failed',
			...(extra.predictionId ? { predictionId: extra.predictionId } : {}),
			error: error.message,
			...(error.description ? { whatToChange: error.description } : {}),
			...(warnings.length ? { warnings } : {}),
		},
		pairedItem: { item: extra.itemIndex },
	};
}
