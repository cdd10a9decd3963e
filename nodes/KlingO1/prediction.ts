import type { DeclarativeRestApiSettings, IExecutePaginationFunctions } from 'n8n-workflow';

import type { ErrorContext } from './errors';
import type { CreateFeedback } from './limiter';
import {
	apiAnswerError,
	asText,
	timeoutError,
	unexpectedAnswerError,
	unreachableError,
	unsendableError,
	withWarnings,
} from './errors';
import type { Attempt } from './retry';
import { pause, RetriesExhausted, retryAfterMs, retryUntil } from './retry';
import type { PredictionAnswer } from './schemas';
import { createAnswerSchema, predictionAnswerSchema, RUNNING_STATUSES } from './schemas';
import type { ApiAnswer } from './transport';
import { ConnectionFailure, requestTimeout, sendToApi } from './transport';

/*
 * Create and poll. The create rule (README, "Retries"): a 429, a 5xx or a refused connection
 * prove nothing was created, so they are retried; a reset or timeout after sending proves nothing
 * either way, so it is retried too (a lost item is worse), at most twice, and the item carries a
 * warning; an answer that says "created" is never retried.
 */

export interface Limits {
	itemIndex: number;
	deadline: number;
	signal: AbortSignal;
}

/** A create may hold a slot of the key's limiter (limiter.ts), which learns from its answers. */
type CreateLimits = Limits & { slot?: CreateFeedback };

type RequestData = DeclarativeRestApiSettings.ResultOptions;

const RATE_LIMITED = 'it kept answering that the rate limit was reached (HTTP 429)';

/** Re-sends of a create whose answer was lost: each may have made (and charged) a prediction. */
export const MAX_AMBIGUOUS_RESENDS = 2;

function describeBody(body: unknown): string {
	if (typeof body === 'string') {
		return `a non-JSON answer (${asText(body.trim().slice(0, 80)) ?? 'empty'})`;
	}
	return asText(body) ?? 'an empty answer';
}

/** What to do with an answer that is not a 2xx: retry it, or throw the error the user sees. */
function retryOrThrow(
	ctx: IExecutePaginationFunctions,
	answer: ApiAnswer,
	context: ErrorContext,
): Attempt<never> {
	const { statusCode, headers } = answer;
	if (statusCode === 429) {
		return {
			retry: RATE_LIMITED,
			waitMs: retryAfterMs(headers) ?? undefined,
		};
	}
	if (statusCode >= 500) return { retry: `it kept answering HTTP ${statusCode}` };
	if (statusCode >= 300 && statusCode < 400) {
		const target = asText(headers.location) ?? 'another address';
		throw unexpectedAnswerError(
			ctx.getNode(),
			`a redirect (HTTP ${statusCode}) to ${target}, which the node does not follow so that the API key is sent to Eachlabs only`,
			context,
		);
	}
	throw apiAnswerError(ctx.getNode(), statusCode, answer.body, context);
}

/** A failure to get any answer: retry it, or (when trying again cannot help) fail now. */
function retryConnection(
	ctx: IExecutePaginationFunctions,
	failure: ConnectionFailure,
	context: ErrorContext,
): Attempt<never> {
	if (!failure.retryable) throw unsendableError(ctx.getNode(), failure.problem, context);
	return { retry: failure.problem };
}

function finalOf<T>(
	ctx: IExecutePaginationFunctions,
	result: T | RetriesExhausted,
	context: ErrorContext,
): T {
	if (result instanceof RetriesExhausted) {
		throw unreachableError(ctx.getNode(), result.problem, context);
	}
	return result;
}

export async function createPrediction(
	ctx: IExecutePaginationFunctions,
	requestData: RequestData,
	body: object,
	limits: CreateLimits,
): Promise<{ predictionId: string; warnings: string[] }> {
	const context = { itemIndex: limits.itemIndex };
	const warnings: string[] = [];
	let ambiguous = 0;
	const result = await retryUntil(async () => {
		// After a 429 the slot waits for room; a create let go after the item's time is not sent.
		await limits.slot?.ready(limits.signal);
		if (Date.now() >= limits.deadline) return { retry: RATE_LIMITED };
		// A create that times out may still have been made: give it time to answer.
		const timeout = requestTimeout(60_000, limits.deadline, 15_000);
		const answer = await sendToApi(ctx, requestData, { body, timeout }, limits.signal);
		if (answer instanceof ConnectionFailure) {
			if (answer.sent && answer.retryable) {
				const when = `At ${new Date().toISOString()} the connection to Eachlabs failed after the create request was sent (${answer.problem})`;
				if (ambiguous++ >= MAX_AMBIGUOUS_RESENDS) {
					warnings.push(
						`${when}; the node did not send it again (it already had ${MAX_AMBIGUOUS_RESENDS} times), so a prediction may have been charged without the node learning its ID.`,
					);
					throw withWarnings(unreachableError(ctx.getNode(), answer.problem, context), warnings);
				}
				warnings.push(
					`${when}; the node sent it again, so a duplicate prediction may have been charged.`,
				);
			}
			return retryConnection(ctx, answer, context);
		}
		if (answer.statusCode === 429) limits.slot?.rateLimited(retryAfterMs(answer.headers));
		if (answer.statusCode < 200 || answer.statusCode >= 300) {
			return retryOrThrow(ctx, answer, context);
		}
		const created = createAnswerSchema.safeParse(answer.body);
		if (!created.success) {
			throw unexpectedAnswerError(
				ctx.getNode(),
				`the create request succeeded (HTTP ${answer.statusCode}) but gave no prediction ID: ${describeBody(answer.body)}`,
				context,
			);
		}
		limits.slot?.accepted();
		return { done: { predictionId: created.data.predictionID, warnings } };
	}, limits);
	if (result instanceof RetriesExhausted && warnings.length) {
		throw withWarnings(unreachableError(ctx.getNode(), result.problem, context), warnings);
	}
	return finalOf(ctx, result, context);
}

/** One look at a prediction; transient failures are retried, so polling survives them. */
export async function fetchPrediction(
	ctx: IExecutePaginationFunctions,
	requestData: RequestData,
	predictionId: string,
	limits: Limits,
): Promise<PredictionAnswer> {
	const context = { itemIndex: limits.itemIndex, predictionId };
	const options = {
		method: 'GET' as const,
		url: `/v1/prediction/${encodeURIComponent(predictionId)}`,
		body: undefined,
	};
	const result = await retryUntil(async () => {
		const timeout = requestTimeout(30_000, limits.deadline);
		const answer = await sendToApi(ctx, requestData, { ...options, timeout }, limits.signal);
		if (answer instanceof ConnectionFailure) return retryConnection(ctx, answer, context);
		if (answer.statusCode < 200 || answer.statusCode >= 300) {
			return retryOrThrow(ctx, answer, context);
		}
		const parsed = predictionAnswerSchema.safeParse(answer.body);
		if (!parsed.success) {
			const status = (answer.body as { status?: unknown } | undefined)?.status;
			throw unexpectedAnswerError(
				ctx.getNode(),
				typeof status === 'string'
					? `the prediction has the unknown status "${status}"`
					: `the prediction's state could not be read: ${describeBody(answer.body)}`,
				context,
			);
		}
		return { done: parsed.data };
	}, limits);
	return finalOf(ctx, result, context);
}

export const isRunning = (prediction: PredictionAnswer) =>
	(RUNNING_STATUSES as readonly string[]).includes(prediction.status);

/** Quick at first, slower on long jobs: most edits end within a minute. */
export function adaptiveIntervalMs(elapsedMs: number): number {
	if (elapsedMs < 10_000) return 1000;
	if (elapsedMs < 60_000) return 2000;
	if (elapsedMs < 180_000) return 5000;
	return 10_000;
}

export async function waitForPrediction(
	ctx: IExecutePaginationFunctions,
	requestData: RequestData,
	predictionId: string,
	limits: Limits & { since: number; timeoutSeconds: number; pollIntervalSeconds?: number },
): Promise<PredictionAnswer> {
	for (;;) {
		const prediction = await fetchPrediction(ctx, requestData, predictionId, limits);
		if (!isRunning(prediction)) return prediction;
		const left = limits.deadline - Date.now();
		if (left <= 0) {
			throw timeoutError(ctx.getNode(), limits.timeoutSeconds, {
				itemIndex: limits.itemIndex,
				predictionId,
			});
		}
		const interval =
			limits.pollIntervalSeconds !== undefined
				? limits.pollIntervalSeconds * 1000
				: adaptiveIntervalMs(Date.now() - limits.since);
		await pause(Math.min(interval, left), limits.signal);
	}
}
