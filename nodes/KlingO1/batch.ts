import type { IExecuteSingleFunctions } from 'n8n-workflow';
import { sleep } from 'n8n-workflow';

import { CREDENTIAL_TYPE } from './constants';
import type { NodeError } from './errors';
import { fieldError } from './errors';
import { CreateLedger } from './ledger';
import type { ItemCheck } from './parameters';
import { checkItem } from './parameters';

/*
 * The execution batch state: what the items of one node run share. n8n's routing runs every
 * item's request function at once and knows nothing of the others; this state lets them agree that
 * - no paid create starts while any item's input is invalid (unless the node continues on fail),
 * - after the first failure (when the node stops on errors) no further prediction is created,
 * - the error the node stops with names the predictions already created, to resume them.
 * It is keyed by the run's execute-data object, which all items of one run share. n8n reuses that
 * object when it runs the node again (Retry On Fail): each try gets a fresh BatchState, but they
 * all share one CreateLedger, so a later try resumes what an earlier one paid for.
 */

export interface BatchState {
	/**
	 * Every item's check. Each item checks itself when n8n's routing hands it over (from what the
	 * routing resolved for it); the rest are checked once the routing's loop is over.
	 */
	checks: Array<Promise<ItemCheck>>;
	/** Every item's check, once all are in: right after n8n's routing has called every item. */
	checked: Promise<ItemCheck[]>;
	/** Items that have begun in this run: seeing one again means n8n runs the node anew. */
	started: Set<number>;
	/** One per unfinished item: stopping the batch aborts them all (one listener each, no more). */
	controllers: Set<AbortController>;
	/** Set the moment an item fails when the node stops on errors, before its slot is freed. */
	halted: boolean;
	stopListening?: () => void;
	failure?: NodeError;
	failureDescription?: string;
	/** Every create of this execution, across Retry On Fail tries. */
	ledger: CreateLedger;
	/** Whether the list of predictions went to n8n's log (once, after a manual stop). */
	logged?: boolean;
	/** Read once per run: in n8n every credential read is a database query and a decryption. */
	apiKey?: Promise<string>;
}

const batches = new WeakMap<object, BatchState>();

/**
 * Whether the execute data is this node's own. When n8n runs the node as an AI tool inside the
 * agent's step, it is the agent's, shared by every call the agent makes.
 */
const ownsExecuteData = (ctx: IExecuteSingleFunctions) =>
	ctx.getExecuteData()?.node?.name === ctx.getNode().name;

/**
 * How many items this run of the routing has. With Execute Once n8n runs only the first item, and
 * in the agent's execute data only this item is known.
 */
function itemCount(ctx: IExecuteSingleFunctions): number {
	const executeData = ctx.getExecuteData();
	const own = ctx.getItemIndex() + 1;
	if (ctx.getNode().executeOnce || !ownsExecuteData(ctx)) return own;
	return Math.max(executeData?.data?.main?.[0]?.length ?? 0, own);
}

/**
 * The batch state of the node run this item belongs to. n8n reuses the execute-data object when
 * it runs the node again ("Retry On Fail"), so an item index that has already begun starts a
 * fresh batch, with the same ledger. In an agent's execute data every call is a request of its
 * own: nothing is carried over.
 */
export function batchStateOf(
	ctx: IExecuteSingleFunctions,
	ownCheck: () => Promise<ItemCheck>,
): BatchState {
	const key = ctx.getExecuteData() as object;
	const itemIndex = ctx.getItemIndex();
	let batch = batches.get(key);
	if (!batch || batch.started.has(itemIndex)) {
		const count = itemCount(ctx);
		const checks: Array<Promise<ItemCheck>> = [];
		// n8n's routing calls every item in one synchronous loop, so each item checks itself with
		// what the routing resolved for it; the few it never called (its own mapping failed) are
		// checked here once the loop is over.
		const checked = sleep(0).then(
			async () =>
				await Promise.all(
					Array.from({ length: count }, (_, index) => (checks[index] ??= checkItem(ctx, index))),
				),
		);
		const ledger = batch && ownsExecuteData(ctx) ? batch.ledger : new CreateLedger();
		ledger.attempt++;
		batch = {
			checks,
			checked,
			started: new Set(),
			controllers: new Set(),
			halted: false,
			ledger,
		};
		batches.set(key, batch);
	}
	batch.started.add(itemIndex);
	batch.checks[itemIndex] ??= ownCheck();
	return batch;
}

/** The run's API key; the items of one run share the node's credential. */
export async function apiKeyOf(ctx: IExecuteSingleFunctions, batch: BatchState): Promise<string> {
	batch.apiKey ??= ctx
		.getCredentials<{ apiKey?: string }>(CREDENTIAL_TYPE)
		.then((credentials) => String(credentials.apiKey ?? ''));
	return await batch.apiKey;
}

function invalidItemError(ctx: IExecuteSingleFunctions, itemIndex: number, problems: string[]) {
	return fieldError(ctx.getNode(), itemIndex, problems);
}

/**
 * This item's checked parameters. Throws its own problem; when the node stops on errors and
 * another item is invalid, returns undefined: this item must not create anything either.
 */
export async function preflight(
	ctx: IExecuteSingleFunctions,
	batch: BatchState,
	continueOnFail: boolean,
) {
	const itemIndex = ctx.getItemIndex();
	const checks = await batch.checked;
	const own = checks[itemIndex] ?? (await checkItem(ctx, itemIndex));
	if (!own.ok) throw invalidItemError(ctx, itemIndex, own.problems);
	if (!continueOnFail && checks.some((check) => !check.ok)) return undefined;
	return own;
}

function abortAll(batch: BatchState) {
	for (const controller of batch.controllers) controller.abort();
}

/**
 * This item's abort signal: fired when the user stops the execution or when the batch halts. The
 * run listens once to n8n's cancel signal, and only while it has unfinished items.
 */
export function enterBatch(ctx: IExecuteSingleFunctions, batch: BatchState): AbortController {
	const controller = new AbortController();
	batch.controllers.add(controller);
	const cancel = ctx.getExecutionCancelSignal();
	if (batch.halted || cancel?.aborted) controller.abort();
	if (cancel && !batch.stopListening) {
		const onCancel = () => abortAll(batch);
		cancel.addEventListener('abort', onCancel, { once: true });
		batch.stopListening = () => cancel.removeEventListener('abort', onCancel);
	}
	return controller;
}

export function leaveBatch(batch: BatchState, controller: AbortController) {
	batch.controllers.delete(controller);
	if (batch.controllers.size === 0) {
		batch.stopListening?.();
		batch.stopListening = undefined;
	}
}

/** Stops every other item of the batch from queueing, creating or waiting any further. */
export function haltBatch(batch: BatchState) {
	batch.halted = true;
	abortAll(batch);
}

/** Records the batch's first failure and halts the batch. */
export function failBatch(batch: BatchState, error: NodeError): NodeError {
	if (!batch.failure) {
		batch.failure = error;
		batch.failureDescription = error.description ?? undefined;
	}
	haltBatch(batch);
	describeFailure(batch);
	return batch.failure;
}

/**
 * Adds every prediction created in this execution (and every create with no clear answer) to the
 * error, so the user can resume them instead of paying again. Called as each item settles: n8n
 * shows the error once all have, so by then the list is complete.
 */
export function describeFailure(batch: BatchState) {
	if (!batch.failure) return;
	const own = `${batch.failure.message} ${batch.failureDescription ?? ''}`;
	const ledger = batch.ledger.describe((predictionId) => own.includes(predictionId));
	if (!ledger.length) return;
	batch.failure.description = [batch.failureDescription, ...ledger].filter(Boolean).join(' ');
}
