import type { INodeProperties } from 'n8n-workflow';

import { MODEL, MODEL_VERSION, PREDICTION_PATH } from '../constants';
import { runEditImage, runGetPrediction } from '../router';
import { keepFullResponse } from '../transport';

/**
 * Each operation hands its whole request cycle to a function of ours (`operations.pagination` with
 * `send.paginate`): n8n's routing fires every item's request at once with no retry, while an
 * edit has to queue for a slot, survive 429s and 5xx, poll and download. The function receives
 * the request the fields below mapped, and sends it through `makeRoutingRequest`.
 */
export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	options: [
		{
			name: 'Edit Image',
			value: 'editImage',
			action: 'Edit an image',
			description: 'Edit images from a prompt and up to 10 reference images',
			routing: {
				request: {
					method: 'POST',
					url: PREDICTION_PATH,
					body: { model: MODEL, version: MODEL_VERSION, input: {} },
				},
				send: { paginate: true },
				output: { postReceive: [keepFullResponse] },
				operations: { pagination: runEditImage },
			},
		},
		{
			name: 'Get Prediction',
			value: 'getPrediction',
			action: 'Get a prediction',
			description:
				'Get the result of a prediction made earlier, for example one that timed out or was not waited for',
			routing: {
				request: {
					method: 'GET',
					url: `=${PREDICTION_PATH}{{ encodeURIComponent(String($parameter.predictionId || "").trim()) }}`,
				},
				send: { paginate: true },
				output: { postReceive: [keepFullResponse] },
				operations: { pagination: runGetPrediction },
			},
		},
	],
	default: 'editImage',
};
