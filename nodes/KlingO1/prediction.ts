import type { DeclarativeRestApiSettings, IExecutePaginationFunctions } from 'n8n-workflow';

import { PREDICTION_PATH } from './constants';
import type { ErrorContext } from './errors';
import type { CreateFeedback } from './limiter';
import {
	apiAnswerError,
	asText,
	timeoutError,
	unexpectedAnswerError,
	unreachableError,
	unsendableError,
} from './errors';
import type { Failure } from './failure';
import { classify, hosts, retryOf } from './failure';
import type { JobTimes } from './pollSchedule';
import { PollTimer } from './pollSchedule';
import type { Attempt } from './retry';
import type { ItemDeadline } from './cancellation';
import { CancelledError } from './cancellation';
import { retryAfterMs, retryOrGiveUp } from './retry';
import type { CreateLedger } from './ledger';
import type { PredictionAnswer } from './schemas';
import { createAnswerSchema, predictionAnswerSchema } from './schemas';
import {
	ConnectionFailure,
	perRequestTimeout,
	requestTimeout,
	sendCreate,
	sendToApi,
} from './transport';

/*
 * Create and poll. Which answers are retried, re-sent with a warning or fail is decided in
 * failure.ts; here a create that may have been made is re-sent at most twice, each time with a
 * warning (a lost item is worse than a possible duplicate). A create that was sent is always
 * waited for: only its answer tells the ID of what may have been charged.
 */

interface PollDeadline extends ItemDeadline {
	/** Things worth knowing that did not stop the item (e.g. an unknown status): on the output. */
	warnings?: string[];
}

/** A create may hold a slot of the key's limiter (limiter.ts), which learns from its answers. */
type CreateDeadline = ItemDeadline & { slot?: CreateFeedback };

type RequestData = DeclarativeRestApiSettings.ResultOptions;

/** Re-sends of a create whose answer was lost: each may have made (and charged) a prediction. */
const MAX_AMBIGUOUS_RESENDS = 2;

function describeBody(body: unknown): string {
	if (typeof body === 'string') {
		return `a non-JSON answer (${asText(body.trim().slice(0, 80)) ?? 'empty'})`;
	}
	return asText(body) ?? 'an empty answer';
}

/** The error an API request ends with when its verdict is to fail. */
function apiFailure(
	ctx: IExecutePaginationFunctions,
	verdict: Failure<unknown>,
	context: ErrorContext,
) {
	if (verdict.kind === 'unsendable')
		return unsendableError(ctx.getNode(), verdict.message, context);
	if (verdict.kind === 'redirect') {
		return unexpectedAnswerError(ctx.getNode(), verdict.message, context);
	}
	const { statusCode, body } = verdict.response;
	return apiAnswerError(ctx.getNode(), statusCode, body, context);
}

export async function createPrediction(
	ctx: IExecutePaginationFunctions,
	requestData: RequestData,
	body: object,
	limits: CreateDeadline & {
		ledger: CreateLedger;
		warnings: string[];
		/** What a later try compares to resume this create (the body as the fields mapped it). */
		requestKey: string;
	},
): Promise<string> {
	const context = { itemIndex: limits.itemIndex };
	// The item's own list: the error or the output it ends with carries these.
	const { warnings } = limits;
	let ambiguous = 0;
	/** A create that reached Eachlabs without a clear answer: re-sent at most twice, with a warning. */
	const unclear = (what: string, problem: string): Attempt<never> => {
		const when = `At ${new Date().toISOString()} ${what}`;
		if (ambiguous++ >= MAX_AMBIGUOUS_RESENDS) {
			warnings.push(
				`${when}; the node did not send it again (it already had ${MAX_AMBIGUOUS_RESENDS} times), so a prediction may have been charged without the node learning its ID.`,
			);
			throw unreachableError(ctx.getNode(), problem, context);
		}
		warnings.push(
			`${when}; the node sent it again, so a duplicate prediction may have been charged.`,
		);
		return { retry: problem };
	};
	return await retryOrGiveUp(
		async () => {
			// Once the batch has halted (or was stopped) nothing new is created; a create already on
			// its way is never abandoned (below).
			if (limits.signal.aborted) throw new CancelledError();
			// After a 429 the slot waits for room; a create let go after the item's time is not sent.
			await limits.slot?.ready(limits.signal);
			if (Date.now() >= limits.deadline) return { retry: hosts.create.busy(429) };
			// A create that times out may still have been made: give it time to answer.
			const timeout = requestTimeout(perRequestTimeout(ctx, 60_000), limits.deadline, 15_000);
			const record = limits.ledger.sending(limits.itemIndex, limits.requestKey);
			const answer = await sendCreate(ctx, requestData, { body, timeout });
			if (!(answer instanceof ConnectionFailure) && answer.statusCode === 429) {
				limits.slot?.rateLimited(retryAfterMs(answer.headers));
			}
			const verdict = classify(answer, hosts.create);
			if (verdict.kind === 'retry' && verdict.mayHaveCreated) {
				limits.ledger.unknown(record, verdict.message);
				return unclear(verdict.mayHaveCreated, verdict.message);
			}
			if (verdict.kind !== 'success') limits.ledger.nothing(record);
			if (verdict.kind === 'retry') return retryOf(verdict);
			if (verdict.kind !== 'success') throw apiFailure(ctx, verdict, context);
			const { statusCode } = verdict.response;
			const created = createAnswerSchema.safeParse(verdict.response.body);
			if (!created.success) {
				limits.ledger.unknown(record, 'the answer gave no prediction ID');
				throw unexpectedAnswerError(
					ctx.getNode(),
					`the create request succeeded (HTTP ${statusCode}) but gave no prediction ID: ${describeBody(verdict.response.body)}`,
					context,
				);
			}
			limits.ledger.created(record, created.data.predictionID);
			limits.slot?.accepted();
			return { done: created.data.predictionID };
		},
		limits,
		(message) => unreachableError(ctx.getNode(), message, context),
	);
}

/** One look at a prediction; transient failures are retried, so polling survives them. */
export async function fetchPrediction(
	ctx: IExecutePaginationFunctions,
	requestData: RequestData,
	predictionId: string,
	limits: PollDeadline,
): Promise<PredictionAnswer> {
	const context = { itemIndex: limits.itemIndex, predictionId };
	const options = {
		method: 'GET' as const,
		url: `${PREDICTION_PATH}${encodeURIComponent(predictionId)}`,
		body: undefined,
	};
	return await retryOrGiveUp(
		async () => {
			const timeout = requestTimeout(perRequestTimeout(ctx, 30_000), limits.deadline);
			const answer = await sendToApi(ctx, requestData, { ...options, timeout }, limits.signal);
			const verdict = classify(answer, hosts.api);
			if (verdict.kind === 'retry') return retryOf(verdict);
			if (verdict.kind !== 'success') throw apiFailure(ctx, verdict, context);
			const { body } = verdict.response;
			const parsed = predictionAnswerSchema.safeParse(body);
			if (!parsed.success) {
				throw unexpectedAnswerError(
					ctx.getNode(),
					`the prediction's state could not be read: ${describeBody(body)}`,
					context,
				);
			}
			noteUnknownStatus(parsed.data, limits.warnings);
			return { done: parsed.data };
		},
		limits,
		(message) => unreachableError(ctx.getNode(), message, context),
	);
}

/** Says once per item which status the node did not know and treated as still running. */
function noteUnknownStatus(prediction: PredictionAnswer, warnings?: string[]) {
	if (prediction.unknownStatus === undefined || !warnings) return;
	const warning = `Eachlabs reported the status "${prediction.unknownStatus}", which this node does not know; it treated the prediction as still running.`;
	if (!warnings.includes(warning)) warnings.push(warning);
}

export const isRunning = (prediction: PredictionAnswer) => prediction.phase === 'running';

export async function waitForPrediction(
	ctx: IExecutePaginationFunctions,
	requestData: RequestData,
	predictionId: string,
	limits: PollDeadline & {
		since: number;
		timeoutSeconds: number;
		pollIntervalSeconds?: number;
		/** A prediction this item has just created: when it was, and the job times to learn from. */
		created?: { at: number; jobTimes: JobTimes };
	},
): Promise<PredictionAnswer> {
	// When to poll is decided in pollSchedule.ts; this loop only sends the polls.
	const timer = new PollTimer({
		since: limits.created?.at ?? limits.since,
		fixedIntervalMs:
			limits.pollIntervalSeconds !== undefined ? limits.pollIntervalSeconds * 1000 : undefined,
		jobTimes: limits.created?.jobTimes,
		pollAtOnce: !limits.created,
	});
	try {
		for (;;) {
			// The wait ends early when another prediction ends: the plan is then made again.
			const wait = Math.min(timer.delayMs(), limits.deadline - Date.now());
			if (wait > 0) {
				await timer.sleep(wait, limits.signal);
				continue;
			}
			const sentAt = Date.now();
			const prediction = await fetchPrediction(ctx, requestData, predictionId, limits);
			if (!isRunning(prediction)) {
				if (prediction.phase === 'succeeded') {
					timer.ended(Date.now(), prediction.metrics?.predict_time);
				}
				return prediction;
			}
			timer.running(sentAt);
			if (limits.deadline - Date.now() <= 0) {
				throw timeoutError(ctx.getNode(), limits.timeoutSeconds, {
					itemIndex: limits.itemIndex,
					predictionId,
				});
			}
		}
	} finally {
		timer.stop();
	}
}
