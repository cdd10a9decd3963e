import type { INodeProperties } from 'n8n-workflow';

import { editImageProperties } from './editImage';
import { getPredictionProperties } from './getPrediction';
import { operationProperty } from './operation';
import { optionsProperty } from './options';

export const properties: INodeProperties[] = [
	operationProperty,
	...editImageProperties,
	...getPredictionProperties,
	optionsProperty,
];
