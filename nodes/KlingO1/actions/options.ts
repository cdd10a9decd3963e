import type { INodeProperties } from 'n8n-workflow';

import { DEFAULT_TIMEOUT_SECONDS } from '../constants';

/** Settings shared by both operations; none of them changes what the API is asked to make. */
export const optionsProperty: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add option',
	default: {},
	options: [
		{
			displayName: 'Download Images',
			name: 'downloadImages',
			type: 'boolean',
			default: true,
			description:
				'Whether to download the images into binary data. Turn off to get only their URLs (they expire after a while).',
		},
		{
			displayName: 'Output Mode',
			name: 'outputMode',
			type: 'options',
			options: [
				{
					name: 'One Item per Image',
					value: 'imagePerItem',
					description: 'Each image in its own item, ready for an upload node',
				},
				{
					name: 'All Images in One Item',
					value: 'allInOneItem',
					description:
						'One item per prediction, its images in binary fields data_0, data_1 and so on (the field name above plus a number)',
				},
			],
			default: 'imagePerItem',
		},
		{
			displayName: 'Poll Interval (Seconds)',
			name: 'pollIntervalSeconds',
			type: 'number',
			typeOptions: { minValue: 0.1, numberPrecision: 1 },
			default: 2,
			description:
				'How often to ask whether the images are ready, at a fixed interval. Usually best left out.',
			hint: 'Used while waiting for completion. Left out, the node chooses: it learns how long predictions take and asks around then (every second at first, while it knows nothing). Set, it asks at exactly this interval.',
		},
		{
			displayName: 'Put Output File in Field',
			name: 'binaryPropertyName',
			type: 'string',
			default: 'data',
			hint: 'The name of the output binary field to put the image in',
		},
		{
			displayName: 'Timeout (Seconds)',
			name: 'timeoutSeconds',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: DEFAULT_TIMEOUT_SECONDS,
			description:
				'How long to wait for one prediction, counted from its creation. On timeout, resume it with Get Prediction. (Settings → Request Options → Timeout is another limit: how long each single request may wait for an answer.)',
		},
		{
			displayName: 'Webhook URL',
			name: 'webhookUrl',
			type: 'string',
			default: '',
			placeholder: 'https://your-n8n.example.com/webhook/kling-o1',
			description: 'A URL Eachlabs calls when the prediction ends, for example an n8n Webhook node',
			displayOptions: { show: { '/operation': ['editImage'] } },
			routing: { send: { type: 'body', property: 'webhook_url' } },
		},
	],
};
