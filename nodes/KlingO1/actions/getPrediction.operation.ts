import type {
	IExecutePaginationFunctions,
	INodeExecutionData,
	INodeProperties,
	INodePropertyOptions,
} from 'n8n-workflow';

import { PREDICTION_PATH } from '../constants';
import { checkItem } from '../parameters';
import { fetchPrediction, waitForPrediction } from '../prediction';
import type { RequestData } from './itemCycle';
import { finish, itemDeadline, runItem } from './itemCycle';

/*
 * Get Prediction: a prediction made earlier (one that timed out, or was not waited for), looked
 * at once or waited for, and delivered like Edit Image's.
 */

const showForGetPrediction = (versions: number[]) => ({
	show: { operation: ['getPrediction'], '@version': versions },
});

const waitDescription =
	'Whether to wait until the prediction has finished. Turn off to get its current state at once.';

/** Its fields. The ID goes into the request URL (see the routing below). */
export const properties: INodeProperties[] = [
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

/** The operation: the request its fields map, sent by `execute` (see itemCycle.ts). */
export const option: INodePropertyOptions = {
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
		operations: { pagination: execute },
	},
};

async function execute(
	this: IExecutePaginationFunctions,
	requestData: RequestData,
): Promise<INodeExecutionData[]> {
	const ownCheck = () => checkItem(this, this.getItemIndex());
	return await runItem(this, requestData, 'getPrediction', ownCheck, async (state, check) => {
		const { parameters } = check;
		const { predictionId, options } = parameters;
		state.predictionId = predictionId;
		const since = Date.now();
		const limits = itemDeadline(state, options.timeoutSeconds, since);
		const prediction = parameters.waitForCompletion
			? await waitForPrediction(state.ctx, state.requestData, predictionId, {
					...limits,
					since,
					timeoutSeconds: options.timeoutSeconds,
					pollIntervalSeconds: options.pollIntervalSeconds,
					warnings: state.warnings,
				})
			: await fetchPrediction(state.ctx, state.requestData, predictionId, {
					...limits,
					warnings: state.warnings,
				});
		return await finish(state, prediction, predictionId, parameters, {
			deadline: limits.deadline,
		});
	});
}
