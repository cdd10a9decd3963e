import type { INodeProperties } from 'n8n-workflow';

/** Fields of Get Prediction. The ID goes into the request URL (see the operation's routing). */
export const getPredictionProperties: INodeProperties[] = [
	{
		displayName: 'Prediction ID',
		name: 'predictionId',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. 3f6c1a2e-…',
		description:
			'The ID that Edit Image returned (field predictionId), for example when it did not wait or timed out',
		displayOptions: { show: { operation: ['getPrediction'] } },
	},
	{
		displayName: 'Wait for Completion',
		name: 'waitForCompletion',
		type: 'boolean',
		default: true,
		description:
			'Whether to wait until the prediction has finished. Turn off to get its current state at once.',
		displayOptions: { show: { operation: ['getPrediction'] } },
	},
];
