import type { INodeProperties } from 'n8n-workflow';

const showForGetPrediction = (versions: number[]) => ({
	show: { operation: ['getPrediction'], '@version': versions },
});

const waitDescription =
	'Whether to wait until the prediction has finished. Turn off to get its current state at once.';

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
		description: waitDescription,
		// Version 1 shared this name with Edit Image's field, so n8n carried "off" over when the
		// operation was switched. Kept for saved version-1 nodes only.
		displayOptions: showForGetPrediction([1]),
	},
	{
		displayName: 'Wait for Completion',
		name: 'waitForResult',
		type: 'boolean',
		default: true,
		description: waitDescription,
		// Its own name: n8n keeps a value across operations only for fields of the same name, so
		// switching from an Edit Image that does not wait shows this field at its default (on).
		displayOptions: showForGetPrediction([1.1]),
	},
];
