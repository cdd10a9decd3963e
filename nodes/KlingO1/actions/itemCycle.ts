import type {
	DeclarativeRestApiSettings,
	IExecutePaginationFunctions,
	INodeExecutionData,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { CancelledError, deadlineOf } from '../cancellation';
import type { NodeError } from '../errors';
import { cancelledError, errorItem, predictionFailedError, redact, withWarnings } from '../errors';
import { successItems } from '../output';
import type { ItemCheck } from '../parameters';
import { isRunning } from '../prediction';
import type { BatchState } from '../batch';
import {
	apiKeyOf,
	describeFailure,
	enterBatch,
	failBatch,
	leaveBatch,
	preflight,
	batchStateOf,
} from '../batch';
import type { EditImageParameters, GetPredictionParameters, PredictionAnswer } from '../schemas';
import { asToolCall, toolFailureAnswer } from '../toolAnswer';

/*
 * The item cycle both operations share, around the operation's own work: n8n's routing calls the
 * operation's function for each input item, which runs here as check → (the operation's work:
 * create, poll, download) → output items. Failures become an error item with `pairedItem` when
 * the node continues on fail, and are thrown otherwise.
 */

export type RequestData = DeclarativeRestApiSettings.ResultOptions;

/** The operations, each with the item check its parameters passed. */
export type Checked<Operation> = Extract<ItemCheck, { ok: true; operation: Operation }>;

/** One item on its way through the node: what its steps share. */
export interface ItemState {
	ctx: IExecutePaginationFunctions;
	requestData: RequestData;
	batch: BatchState;
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

const isFor = <Operation>(
	check: ItemCheck & { ok: true },
	operation: Operation,
): check is Checked<Operation> => check.operation === operation;

function toNodeError(state: ItemState, error: unknown): NodeError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	if (error instanceof CancelledError) return cancelledError(state.ctx.getNode(), state);
	return new NodeOperationError(state.ctx.getNode(), error as Error, {
		itemIndex: state.itemIndex,
	});
}

export async function runItem<Operation extends 'editImage' | 'getPrediction'>(
	ctx: IExecutePaginationFunctions,
	requestData: RequestData,
	operation: Operation,
	ownCheck: () => Promise<ItemCheck>,
	work: (state: ItemState, check: Checked<Operation>) => Promise<INodeExecutionData[]>,
): Promise<INodeExecutionData[]> {
	const itemIndex = ctx.getItemIndex();
	const continueOnFail = ctx.continueOnFail();
	const batch = batchStateOf(ctx, ownCheck);
	const controller = enterBatch(ctx, batch);
	const state: ItemState = {
		ctx,
		requestData,
		batch,
		itemIndex,
		continueOnFail,
		signal: controller.signal,
		apiKey: '',
		warnings: [],
	};
	try {
		const check = await preflight(ctx, batch, continueOnFail);
		if (!check || (batch.halted && !continueOnFail)) throw new StoppedByOtherItem();
		state.apiKey = await apiKeyOf(ctx, batch);
		const checked = asToolCall(ctx.getNode(), check);
		// The operation parameter takes no expression: the item's check is this operation's.
		if (!isFor(checked, operation)) {
			throw new NodeOperationError(ctx.getNode(), `The item was checked for ${checked.operation}`, {
				itemIndex,
				description:
					'An internal error of the Kling O1 node, not of your settings: nothing was sent to Eachlabs for this item. Please report it with the node version.',
			});
		}
		return await work(state, checked);
	} catch (error) {
		// Another item failed first (or is invalid) and the node stops: end quietly.
		if (error instanceof StoppedByOtherItem) return [];
		if (error instanceof CancelledError && batch.halted) return [];
		const nodeError = redact(withWarnings(toNodeError(state, error), state.warnings), state.apiKey);
		const answer = toolFailureAnswer(ctx, nodeError, {
			itemIndex,
			predictionId: state.predictionId,
		});
		if (answer) return [answer];
		if (continueOnFail) {
			return [
				errorItem(nodeError, itemIndex, {
					...(state.predictionId ? { predictionId: state.predictionId } : {}),
					...previousPredictions(state),
				}),
			];
		}
		if (batch.failure) return [];
		throw failBatch(batch, nodeError);
	} finally {
		leaveBatch(batch, controller);
		// Whichever item settles last completes the list of predictions the error names.
		if (batch.failure) describeFailure(batch);
		if (batch.controllers.size === 0) logAfterStop(ctx, batch);
	}
}

/**
 * After the user stops an execution n8n no longer shows what the node reports, so the
 * predictions created in it (creates already sent are allowed to finish) go to n8n's log too.
 */
function logAfterStop(ctx: IExecutePaginationFunctions, batch: BatchState) {
	if (batch.logged || ctx.getExecutionCancelSignal()?.aborted !== true) return;
	const lines = batch.ledger.describe();
	if (!lines.length) return;
	batch.logged = true;
	ctx.logger.warn(`Kling O1 (node "${ctx.getNode().name}"), execution stopped: ${lines.join(' ')}`);
}

/** Predictions of this item from earlier tries (Retry On Fail), named beside the one delivered. */
export function previousPredictions(state: ItemState) {
	const ids = state.batch.ledger.othersOf(state.itemIndex, state.predictionId);
	return ids.length ? { previousPredictionIds: ids } : {};
}

/** The item's deadline: `timeoutSeconds` counted from `since`. */
export const itemDeadline = (state: ItemState, timeoutSeconds: number, since = Date.now()) =>
	deadlineOf(state.itemIndex, state.signal, timeoutSeconds, since);

/** A prediction that ended in `error`, `failed` or `cancelled` fails the item. */
export function ensureSucceeded(
	state: ItemState,
	prediction: PredictionAnswer,
	predictionId: string,
) {
	state.batch.ledger.seen(predictionId, prediction.phase);
	if (prediction.phase === 'running' || prediction.phase === 'succeeded') return;
	throw predictionFailedError(state.ctx.getNode(), prediction, {
		itemIndex: state.itemIndex,
		predictionId,
	});
}

export async function finish(
	state: ItemState,
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
					...previousPredictions(state),
					...(state.warnings.length ? { warnings: state.warnings } : {}),
				},
				pairedItem: { item: state.itemIndex },
			},
		];
	}
	ensureSucceeded(state, prediction, predictionId);
	return await successItems(state.ctx, prediction, {
		itemIndex: state.itemIndex,
		predictionId,
		options: parameters.options,
		requestedFormat: extra.requestedFormat,
		warnings: state.warnings,
		extra: previousPredictions(state),
		deadline: extra.deadline,
		signal: state.signal,
	});
}
