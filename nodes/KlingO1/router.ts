import type {
	DeclarativeRestApiSettings,
	IExecutePaginationFunctions,
	INodeExecutionData,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { BinaryImage } from './binaryInput';
import type { NodeError } from './errors';
import { cancelledError, errorItem, predictionFailedError, redact, withWarnings } from './errors';
import type { Release } from './limiter';
import { slotsFor } from './limiter';
import { costOf, successItems } from './output';
import { jobTimesFor } from './pollSchedule';
import { createPrediction, fetchPrediction, isRunning, waitForPrediction } from './prediction';
import { CancelledError, deadlineOf } from './cancellation';
import { checkMappedEditItem } from './ownCheck';
import { queueDeadline, waitForSlot } from './slotWait';
import { asToolCall, toolFailureAnswer } from './toolAnswer';
import { isToolCall } from './toolCall';
import type { ItemCheck } from './parameters';
import { checkItem } from './parameters';
import type { RunState } from './run';
import {
	apiKeyOf,
	describeFailure,
	enterRun,
	failRun,
	haltRun,
	leaveRun,
	preflight,
	runStateOf,
} from './run';
import type { UploadedImage } from './upload';
import { uploadBinaryImages, withUploadedUrls } from './upload';
import type { EditImageParameters, GetPredictionParameters, PredictionAnswer } from './schemas';
import { createBodySchema, problemsOf } from './schemas';

/*
 * One item's whole way through the node, called by n8n's routing for each input item:
 * check → (wait for a slot) → create → poll → (release the slot) → download → output items.
 * Failures become an error item with `pairedItem` when the node continues on fail, and are
 * thrown otherwise.
 */

type RequestData = DeclarativeRestApiSettings.ResultOptions;

interface Job {
	ctx: IExecutePaginationFunctions;
	requestData: RequestData;
	run: RunState;
	itemIndex: number;
	continueOnFail: boolean;
	signal: AbortSignal;
	apiKey: string;
	/** Set as soon as a prediction exists, so an error item can name it. */
	predictionId?: string;
	/** Things worth knowing (a possible duplicate, an unknown status): on the output or the error. */
	warnings: string[];
}

/**
 * Another item failed first and the node stops: this item ends quietly, so that the routing engine
 * (which reports the first rejected item and stamps that item's index on the error) reports the
 * item that really failed.
 */
class StoppedByOtherItem extends Error {}

function toNodeError(job: Job, error: unknown): NodeError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	if (error instanceof CancelledError) return cancelledError(job.ctx.getNode(), job);
	return new NodeOperationError(job.ctx.getNode(), error as Error, { itemIndex: job.itemIndex });
}

async function runItem(
	ctx: IExecutePaginationFunctions,
	requestData: RequestData,
	ownCheck: () => Promise<ItemCheck>,
	work: (job: Job, check: ItemCheck & { ok: true }) => Promise<INodeExecutionData[]>,
): Promise<INodeExecutionData[]> {
	const itemIndex = ctx.getItemIndex();
	const continueOnFail = ctx.continueOnFail();
	const run = runStateOf(ctx, ownCheck);
	const controller = enterRun(ctx, run);
	const job: Job = {
		ctx,
		requestData,
		run,
		itemIndex,
		continueOnFail,
		signal: controller.signal,
		apiKey: '',
		warnings: [],
	};
	try {
		const check = await preflight(ctx, run, continueOnFail);
		if (!check || (run.halted && !continueOnFail)) throw new StoppedByOtherItem();
		job.apiKey = await apiKeyOf(ctx, run);
		return await work(job, asToolCall(ctx.getNode(), check));
	} catch (error) {
		// Another item failed first (or is invalid) and the node stops: end quietly.
		if (error instanceof StoppedByOtherItem) return [];
		if (error instanceof CancelledError && run.halted) return [];
		const nodeError = redact(withWarnings(toNodeError(job, error), job.warnings), job.apiKey);
		const answer = toolFailureAnswer(ctx, nodeError, { itemIndex, predictionId: job.predictionId });
		if (answer) return [answer];
		if (continueOnFail) {
			return [
				errorItem(nodeError, itemIndex, {
					...(job.predictionId ? { predictionId: job.predictionId } : {}),
					...previousPredictions(job),
				}),
			];
		}
		if (run.failure) return [];
		throw failRun(run, nodeError);
	} finally {
		leaveRun(run, controller);
		// Whichever item settles last completes the list of predictions the error names.
		if (run.failure) describeFailure(run);
		if (run.controllers.size === 0) logAfterStop(ctx, run);
	}
}

/**
 * After the user stops an execution n8n no longer shows what the node reports, so the
 * predictions created in it (creates already sent are allowed to finish) go to n8n's log too.
 */
function logAfterStop(ctx: IExecutePaginationFunctions, run: RunState) {
	if (run.logged || ctx.getExecutionCancelSignal()?.aborted !== true) return;
	const lines = run.ledger.describe();
	if (!lines.length) return;
	run.logged = true;
	ctx.logger.warn(`Kling O1 (node "${ctx.getNode().name}"), execution stopped: ${lines.join(' ')}`);
}

/** Predictions of this item from earlier tries (Retry On Fail), named beside the one delivered. */
function previousPredictions(job: Job) {
	const ids = job.run.ledger.othersOf(job.itemIndex, job.predictionId);
	return ids.length ? { previousPredictionIds: ids } : {};
}

/**
 * The body the routing mapped from the fields, in the exact shape the API takes, with the
 * uploaded files' public URLs in place of the binary entries.
 */
function createBody(job: Job, images: BinaryImage[] = [], uploaded: UploadedImage[] = []) {
	const mapped = job.requestData.options.body as { input?: { image_urls?: unknown } } | undefined;
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
			job.ctx.getNode(),
			`The request could not be built: ${problemsOf(body.error).join('; ')}`,
			{
				itemIndex: job.itemIndex,
				description: 'Nothing was sent to Eachlabs. Check the node’s fields.',
			},
		);
	}
	return body.data;
}

/** The item's deadline: `timeoutSeconds` counted from `since`. */
const limitsOf = (job: Job, timeoutSeconds: number, since = Date.now()) =>
	deadlineOf(job.itemIndex, job.signal, timeoutSeconds, since);

/** The job times learned for this key and the settings that change how long a job runs. */
function jobTimesOf(job: Job, parameters: EditImageParameters) {
	const { resolution, numImages } = parameters;
	return jobTimesFor(job.apiKey, String(job.requestData.options.baseURL ?? ''), {
		resolution,
		numImages,
	});
}

/** A prediction that ended in `error`, `failed` or `cancelled` fails the item. */
function ensureSucceeded(job: Job, prediction: PredictionAnswer, predictionId: string) {
	job.run.ledger.seen(predictionId, prediction.phase);
	if (prediction.phase === 'running' || prediction.phase === 'succeeded') return;
	throw predictionFailedError(job.ctx.getNode(), prediction, {
		itemIndex: job.itemIndex,
		predictionId,
	});
}

async function finish(
	job: Job,
	prediction: PredictionAnswer,
	predictionId: string,
	parameters: EditImageParameters | GetPredictionParameters,
	extra: { deadline: number; requestedFormat?: string },
): Promise<INodeExecutionData[]> {
	if (isRunning(prediction)) {
		return [
			{
				json: {
					predictionId,
					status: prediction.status,
					...previousPredictions(job),
					...(job.warnings.length ? { warnings: job.warnings } : {}),
				},
				pairedItem: { item: job.itemIndex },
			},
		];
	}
	ensureSucceeded(job, prediction, predictionId);
	return await successItems(job.ctx, prediction, {
		itemIndex: job.itemIndex,
		predictionId,
		options: parameters.options,
		requestedFormat: extra.requestedFormat,
		warnings: job.warnings,
		extra: previousPredictions(job),
		deadline: extra.deadline,
		signal: job.signal,
	});
}

export async function runEditImage(
	this: IExecutePaginationFunctions,
	requestData: RequestData,
): Promise<INodeExecutionData[]> {
	const ownCheck = () => checkMappedEditItem(this, requestData.options.body);
	return await runItem(this, requestData, ownCheck, async (job, check) => {
		const parameters = check.parameters as EditImageParameters;
		const { timeoutSeconds, pollIntervalSeconds } = parameters.options;
		const startedAt = Date.now();
		const toolCall = isToolCall(job.ctx.getNode());
		const { ledger } = job.run;
		// Retry On Fail: what an earlier try paid for is resumed by its ID, not created again. The
		// key is the request as the fields mapped it: uploads give new URLs on every try.
		const requestKey = JSON.stringify(job.requestData.options.body);
		const earlier = ledger.resumable(job.itemIndex, requestKey)?.predictionId;
		job.warnings.push(...ledger.unclearBefore(job.itemIndex));
		// Before the item queues for a slot: its uploads overlap the predictions ahead of it. A
		// prediction resumed from an earlier try needs none.
		const images = check.operation === 'editImage' && !earlier ? check.binaryImages : [];
		const uploaded = await uploadBinaryImages(
			job.ctx,
			job.requestData,
			images,
			limitsOf(job, timeoutSeconds),
		);
		const recorded = (items: INodeExecutionData[]) =>
			uploaded.length
				? items.map((item) => ({ ...item, json: { ...item.json, uploadedImages: uploaded } }))
				: items;
		const body = earlier ? undefined : createBody(job, images, uploaded);
		/** Creates the prediction (or takes the earlier try's) and names it at once. */
		const create = async (limits: { deadline: number; signal: AbortSignal; slot?: Release }) => {
			job.predictionId = body
				? await createPrediction(job.ctx, job.requestData, body, {
						...limits,
						itemIndex: job.itemIndex,
						ledger,
						warnings: job.warnings,
						requestKey,
					})
				: (earlier as string);
			return job.predictionId;
		};

		if (!parameters.waitForCompletion) {
			// Nothing to hold a slot for: creates beyond the API's limit wait out its 429s.
			const predictionId = await create(limitsOf(job, timeoutSeconds));
			return recorded([
				{
					json: {
						predictionId,
						status: 'processing',
						estimatedCostUsd: costOf(parameters.numImages),
						...previousPredictions(job),
						...(job.warnings.length ? { warnings: job.warnings } : {}),
					},
					pairedItem: { item: job.itemIndex },
				},
			]);
		}

		const slots = slotsFor(job.apiKey, String(job.requestData.options.baseURL ?? ''));
		const release = await waitForSlot(slots, job.signal, {
			node: job.ctx.getNode(),
			itemIndex: job.itemIndex,
			startedAt,
			deadline: queueDeadline(startedAt, timeoutSeconds, job.itemIndex, toolCall),
			toolCall,
		});
		let prediction: PredictionAnswer;
		let predictionId: string;
		// A batch item's timeout counts from here (its time queued is bounded on its own); an AI
		// Agent's tool call has someone waiting, so all its time counts.
		const since = Date.now();
		const limits = limitsOf(job, timeoutSeconds, toolCall ? startedAt : since);
		let succeeded = false;
		try {
			predictionId = await create({ ...limits, slot: release });
			prediction = await waitForPrediction(job.ctx, job.requestData, predictionId, {
				...limits,
				since,
				timeoutSeconds,
				pollIntervalSeconds,
				warnings: job.warnings,
				// A prediction resumed from an earlier try is polled at once and teaches nothing.
				created: body ? { at: Date.now(), jobTimes: jobTimesOf(job, parameters) } : undefined,
			});
			ensureSucceeded(job, prediction, predictionId);
			succeeded = true;
		} finally {
			// When the node stops on errors, halt the run BEFORE the slot is freed: otherwise the
			// next queued item would take it and create one more paid prediction.
			const stoppedByUser = job.ctx.getExecutionCancelSignal()?.aborted === true;
			if (!succeeded && !job.continueOnFail && !stoppedByUser) haltRun(job.run);
			release();
		}
		return recorded(
			await finish(job, prediction, predictionId, parameters, {
				deadline: limits.deadline,
				requestedFormat: parameters.outputFormat,
			}),
		);
	});
}

export async function runGetPrediction(
	this: IExecutePaginationFunctions,
	requestData: RequestData,
): Promise<INodeExecutionData[]> {
	const ownCheck = () => checkItem(this, this.getItemIndex());
	return await runItem(this, requestData, ownCheck, async (job, check) => {
		const parameters = check.parameters as GetPredictionParameters;
		const { predictionId, options } = parameters;
		job.predictionId = predictionId;
		const since = Date.now();
		const limits = limitsOf(job, options.timeoutSeconds, since);
		const prediction = parameters.waitForCompletion
			? await waitForPrediction(job.ctx, job.requestData, predictionId, {
					...limits,
					since,
					timeoutSeconds: options.timeoutSeconds,
					pollIntervalSeconds: options.pollIntervalSeconds,
					warnings: job.warnings,
				})
			: await fetchPrediction(job.ctx, job.requestData, predictionId, {
					...limits,
					warnings: job.warnings,
				});
		return await finish(job, prediction, predictionId, parameters, {
			deadline: limits.deadline,
		});
	});
}
