import type {
	IExecutePaginationFunctions,
	INodeExecutionData,
	INodeProperties,
	INodePropertyOptions,
} from 'n8n-workflow';

import { NodeOperationError } from 'n8n-workflow';

import type { BinaryImage } from '../binaryInput';
import {
	ASPECT_RATIOS,
	MAX_IMAGES,
	MAX_NUM_IMAGES,
	MAX_PROMPT_CHARACTERS,
	MIN_NUM_IMAGES,
	MODEL,
	MODEL_VERSION,
	OUTPUT_FORMATS,
	PREDICTION_PATH,
	RESOLUTIONS,
} from '../constants';
import type { Release } from '../limiter';
import { concurrencyLimitFor } from '../limiter';
import { costOf } from '../output';
import { checkMappedEditItem } from '../ownCheck';
import { jobTimesFor } from '../pollSchedule';
import { createPrediction, waitForPrediction } from '../prediction';
import { haltBatch } from '../batch';
import type { EditImageParameters, PredictionAnswer } from '../schemas';
import { createBodySchema, problemsOf } from '../schemas';
import { queueDeadline, waitForSlot } from '../slotWait';
import { isToolCall } from '../toolCall';
import type { UploadedImage } from '../upload';
import { uploadBinaryImages, withUploadedUrls } from '../upload';
import { mapImageList } from './imageList';
import type { Checked, ItemState, RequestData } from './itemCycle';
import { ensureSucceeded, finish, itemDeadline, previousPredictions, runItem } from './itemCycle';

/*
 * Edit Image: a prompt and 1 to 10 images in, edited images out. Its fields map the create
 * request; `execute` uploads binary images, waits for a slot, creates, polls and downloads.
 */

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

/** Its fields. Each `routing.send` names the key of the API's `input` it fills. */
export const properties: INodeProperties[] = [
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
		// The rows as one list (a URL row may hold several URLs): see imageList.ts.
		routing: {
			send: { type: 'body', property: 'input.image_urls', preSend: [mapImageList] },
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

/**
 * The operation: the request its fields map (sent by `execute`, which n8n's routing calls for each
 * item, see itemCycle.ts).
 */
export const option: INodePropertyOptions = {
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
		operations: { pagination: execute },
	},
};

/**
 * The body the routing mapped from the fields, in the exact shape the API takes, with the
 * uploaded files' public URLs in place of the binary entries.
 */
function createBody(state: ItemState, images: BinaryImage[], uploaded: UploadedImage[]) {
	const mapped = state.requestData.options.body as { input?: { image_urls?: unknown } } | undefined;
	const body = createBodySchema.safeParse(
		mapped?.input
			? {
					...mapped,
					input: {
						...mapped.input,
						image_urls: withUploadedUrls(mapped.input.image_urls, images, uploaded),
					},
				}
			: mapped,
	);
	if (!body.success) {
		throw new NodeOperationError(
			state.ctx.getNode(),
			`The request could not be built: ${problemsOf(body.error).join('; ')}`,
			{
				itemIndex: state.itemIndex,
				description: 'Nothing was sent to Eachlabs. Check the node’s fields.',
			},
		);
	}
	return body.data;
}

/** The job times learned for this key and the settings that change how long a job runs. */
function jobTimesOf(state: ItemState, parameters: EditImageParameters) {
	const { resolution, numImages } = parameters;
	return jobTimesFor(state.apiKey, String(state.requestData.options.baseURL ?? ''), {
		resolution,
		numImages,
	});
}

/** A create with the item's deadline, and a slot when it holds one. */
type Create = (limits: {
	deadline: number;
	signal: AbortSignal;
	slot?: Release;
}) => Promise<string>;

/**
 * Everything before the create: the earlier try's prediction to resume (Retry On Fail), else the
 * uploads and the body; and the create itself, which names the prediction at once.
 */
async function prepareCreate(state: ItemState, check: Checked<'editImage'>) {
	const { ledger } = state.batch;
	// Retry On Fail: what an earlier try paid for is resumed by its ID, not created again. The
	// key is the request as the fields mapped it: uploads give new URLs on every try.
	const requestKey = JSON.stringify(state.requestData.options.body);
	const earlier = ledger.resumable(state.itemIndex, requestKey)?.predictionId;
	state.warnings.push(...ledger.unclearBefore(state.itemIndex));
	if (earlier) {
		const resume: Create = async () => (state.predictionId = earlier);
		return { uploaded: [], create: resume, resumed: true };
	}
	// Before the item queues for a slot: its uploads overlap the predictions ahead of it.
	const images = check.binaryImages;
	const uploaded = await uploadBinaryImages(
		state.ctx,
		state.requestData,
		images,
		itemDeadline(state, check.parameters.options.timeoutSeconds),
	);
	const body = createBody(state, images, uploaded);
	const create: Create = async (limits) => {
		state.predictionId = await createPrediction(state.ctx, state.requestData, body, {
			...limits,
			itemIndex: state.itemIndex,
			ledger,
			warnings: state.warnings,
			requestKey,
		});
		return state.predictionId;
	};
	return { uploaded, create, resumed: false };
}

/** Wait for Completion off: the prediction's ID at once. */
async function createWithoutWaiting(
	state: ItemState,
	parameters: EditImageParameters,
	create: Create,
): Promise<INodeExecutionData[]> {
	// Nothing to hold a slot for: creates beyond the API's limit wait out its 429s.
	const predictionId = await create(itemDeadline(state, parameters.options.timeoutSeconds));
	return [
		{
			json: {
				predictionId,
				status: 'processing',
				estimatedCostUsd: costOf(parameters.numImages),
				...previousPredictions(state),
				...(state.warnings.length ? { warnings: state.warnings } : {}),
			},
			pairedItem: { item: state.itemIndex },
		},
	];
}

/** Wait for Completion on: a slot, the create, the polls (the slot freed), the images. */
async function createAndWait(
	state: ItemState,
	parameters: EditImageParameters,
	prepared: { create: Create; resumed: boolean; startedAt: number },
): Promise<INodeExecutionData[]> {
	const { timeoutSeconds, pollIntervalSeconds } = parameters.options;
	const { startedAt } = prepared;
	const toolCall = isToolCall(state.ctx.getNode());
	const slots = concurrencyLimitFor(state.apiKey, String(state.requestData.options.baseURL ?? ''));
	const release = await waitForSlot(slots, state.signal, {
		node: state.ctx.getNode(),
		itemIndex: state.itemIndex,
		startedAt,
		deadline: queueDeadline(startedAt, timeoutSeconds, state.itemIndex, toolCall),
		toolCall,
	});
	let prediction: PredictionAnswer;
	let predictionId: string;
	// A batch item's timeout counts from here (its time queued is bounded on its own); an AI
	// Agent's tool call has someone waiting, so all its time counts.
	const since = Date.now();
	const limits = itemDeadline(state, timeoutSeconds, toolCall ? startedAt : since);
	let succeeded = false;
	try {
		predictionId = await prepared.create({ ...limits, slot: release });
		prediction = await waitForPrediction(state.ctx, state.requestData, predictionId, {
			...limits,
			since,
			timeoutSeconds,
			pollIntervalSeconds,
			warnings: state.warnings,
			// A prediction resumed from an earlier try is polled at once and teaches nothing.
			created: prepared.resumed
				? undefined
				: { at: Date.now(), jobTimes: jobTimesOf(state, parameters) },
		});
		ensureSucceeded(state, prediction, predictionId);
		succeeded = true;
	} finally {
		// When the node stops on errors, halt the batch BEFORE the slot is freed: otherwise the
		// next queued item would take it and create one more paid prediction.
		const stoppedByUser = state.ctx.getExecutionCancelSignal()?.aborted === true;
		if (!succeeded && !state.continueOnFail && !stoppedByUser) haltBatch(state.batch);
		release();
	}
	return await finish(state, prediction, predictionId, parameters, {
		deadline: limits.deadline,
		requestedFormat: parameters.outputFormat,
	});
}

async function execute(
	this: IExecutePaginationFunctions,
	requestData: RequestData,
): Promise<INodeExecutionData[]> {
	const ownCheck = () => checkMappedEditItem(this, requestData.options.body, properties);
	return await runItem(this, requestData, 'editImage', ownCheck, async (state, check) => {
		const { parameters } = check;
		const startedAt = Date.now();
		const { uploaded, create, resumed } = await prepareCreate(state, check);
		const items = parameters.waitForCompletion
			? await createAndWait(state, parameters, { create, resumed, startedAt })
			: await createWithoutWaiting(state, parameters, create);
		// The uploaded files' public URLs: a run with these URLs skips the upload.
		return uploaded.length
			? items.map((item) => ({ ...item, json: { ...item.json, uploadedImages: uploaded } }))
			: items;
	});
}
