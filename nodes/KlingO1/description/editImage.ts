import type { INodeProperties } from 'n8n-workflow';

import {
	ASPECT_RATIOS,
	MAX_IMAGES,
	MAX_NUM_IMAGES,
	MAX_PROMPT_CHARACTERS,
	MIN_NUM_IMAGES,
	OUTPUT_FORMATS,
	RESOLUTIONS,
} from '../constants';

const showForEditImage = { show: { operation: ['editImage'] } };

// The values are the API's (constants.ts); a value added there without a name here fails to compile.
const resolutionNames: Record<(typeof RESOLUTIONS)[number], string> = {
	'1K': '1K (Standard)',
	'2K': '2K (High Resolution)',
};
const outputFormatNames: Record<(typeof OUTPUT_FORMATS)[number], string> = {
	png: 'PNG',
	jpeg: 'JPEG',
	webp: 'WebP',
};

/** Fields of Edit Image. Each `routing.send` names the key of the API's `input` it fills. */
export const editImageProperties: INodeProperties[] = [
	{
		displayName: 'Prompt',
		name: 'prompt',
		type: 'string',
		typeOptions: { rows: 4 },
		required: true,
		default: '',
		placeholder: 'e.g. Put @Image1 on a marble table, soft daylight',
		description: `What to change, in plain words (up to ${MAX_PROMPT_CHARACTERS} characters). Refer to the input images as @Image1, @Image2 … in the order of the Images list.`,
		hint: 'Refer to the images below as @Image1, @Image2 … in the order they are listed (or @Image when there is only one)',
		displayOptions: showForEditImage,
		routing: { send: { type: 'body', property: 'input.prompt' } },
	},
	{
		displayName: 'Images',
		name: 'images',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, maxAllowedFields: MAX_IMAGES },
		placeholder: 'Add Image',
		required: true,
		default: { image: [{ url: '' }] },
		description: `The input images (1 to ${MAX_IMAGES}): public https:// URLs of PNG, JPEG or WebP files, or such files the item holds`,
		displayOptions: showForEditImage,
		options: [
			{
				displayName: 'Image',
				name: 'image',
				values: [
					{
						displayName: 'Source',
						name: 'source',
						type: 'options',
						options: [
							{
								name: 'URL',
								value: 'url',
								description: 'A public https:// URL of the image',
							},
							{
								name: 'Binary File',
								value: 'binary',
								description:
									'A file the input item holds (e.g. from Google Drive, an e-mail or Read Files from Disk); the node uploads it to Eachlabs for you',
							},
						],
						default: 'url',
					},
					{
						displayName: 'Image URL',
						name: 'url',
						type: 'string',
						default: '',
						placeholder: 'https://example.com/product.png',
						description:
							'A public https:// URL of a PNG, JPEG or WebP image; the first image is @Image1 in the prompt. An expression that returns a list of URLs adds them all, in order.',
						// n8n shows no hint on the list itself: each row says how rows map to @ImageN.
						hint: 'Rows count from the top: the first image is @Image1, the next @Image2 … The URL must be public https:// (for a file the workflow holds, choose Source: Binary File).',
						displayOptions: { show: { source: ['url'] } },
					},
					{
						displayName: 'Input Binary Field',
						name: 'binaryPropertyName',
						type: 'string',
						default: 'data',
						typeOptions: { binaryDataProperty: true },
						placeholder: 'e.g. data',
						hint: 'The input binary field holding the image (PNG, JPEG or WebP, up to 100 MB); several, separated by commas, are one image each. Rows count from the top: the first image is @Image1, the next @Image2 …',
						displayOptions: { show: { source: ['binary'] } },
					},
				],
			},
		],
		// One entry can hold a list of URLs (an expression returning an array): flatten to one list.
		// A binary entry becomes a placeholder that the upload replaces with Eachlabs' public URLs.
		routing: {
			send: {
				type: 'body',
				property: 'input.image_urls',
				value:
					'={{ [].concat(...((($value || {}).image || []).map((entry) => entry.source === "binary" ? [{ binaryPropertyName: entry.binaryPropertyName }] : entry.url))) }}',
			},
		},
	},
	{
		displayName: 'Number of Images',
		name: 'numImages',
		type: 'number',
		typeOptions: { minValue: MIN_NUM_IMAGES, maxValue: MAX_NUM_IMAGES, numberPrecision: 0 },
		default: 1,
		description: `How many edited images to make, a whole number from ${MIN_NUM_IMAGES} to ${MAX_NUM_IMAGES}; each costs $0.028`,
		displayOptions: showForEditImage,
		routing: { send: { type: 'body', property: 'input.num_images' } },
	},
	{
		displayName: 'Resolution',
		name: 'resolution',
		type: 'options',
		options: RESOLUTIONS.map((value) => ({ name: resolutionNames[value], value })),
		default: '1K',
		displayOptions: showForEditImage,
		routing: { send: { type: 'body', property: 'input.resolution' } },
	},
	{
		displayName: 'Aspect Ratio',
		name: 'aspectRatio',
		type: 'options',
		options: ASPECT_RATIOS.map((ratio) => ({
			name: ratio === 'auto' ? 'Auto (From the Input Images)' : ratio,
			value: ratio,
		})),
		default: 'auto',
		displayOptions: showForEditImage,
		routing: { send: { type: 'body', property: 'input.aspect_ratio' } },
	},
	{
		displayName: 'Output Format',
		name: 'outputFormat',
		type: 'options',
		options: OUTPUT_FORMATS.map((value) => ({ name: outputFormatNames[value], value })),
		default: 'png',
		displayOptions: showForEditImage,
		routing: { send: { type: 'body', property: 'input.output_format' } },
	},
	{
		displayName: 'Wait for Completion',
		name: 'waitForCompletion',
		type: 'boolean',
		default: true,
		description:
			'Whether to wait until the images are ready. Turn off to get the prediction ID at once and fetch the result later with Get Prediction.',
		displayOptions: showForEditImage,
	},
];
