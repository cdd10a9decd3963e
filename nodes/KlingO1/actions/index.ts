import type { INodeProperties } from 'n8n-workflow';

import * as editImage from './editImage.operation';
import * as getPrediction from './getPrediction.operation';
import { optionsProperty } from './options';

/**
 * Each operation hands its whole request cycle to a function of ours (`operations.pagination` with
 * `send.paginate`): n8n's routing fires every item's request at once with no retry, while an
 * edit has to queue for a slot, survive 429s and 5xx, poll and download. The function receives
 * the request its fields mapped. Each operation is one module: its option, fields and function.
 */
const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	options: [editImage.option, getPrediction.option],
	default: 'editImage',
};

/** The node's properties, in the order the editor shows them. */
export const properties: INodeProperties[] = [
	operationProperty,
	...editImage.properties,
	...getPrediction.properties,
	optionsProperty,
];
