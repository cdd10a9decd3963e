import type { DeclarativeRestApiSettings, IExecutePaginationFunctions } from 'n8n-workflow';

import {
	apiAnswerError,
	asText,
	timeoutError,
	unexpectedAnswerError,
	unreachableError,
} from './errors';
import { pause, retryAfterMs } from './retry';
import type { PredictionAnswer } from './schemas';
import { createAnswerSchema, predictionAnswerSchema, RUNNING_STATUSES } from './schemas';
import type { ApiAnswer, Attempt } from './transport';
import {
	ConnectionFailure,
	requestTimeout,
	RetriesExhausted,
	retryUntil,
	sendToApi,
} from './transport';

/*
 * Create and poll. The create rule (README, "Retries"): a 429, a 5xx or a refused connection
 * prove nothing was created, so they are retried; a reset or timeout after sending proves nothing
 * either way, so it is retried too (a lost item is worse) and the item carries a warning; an
 * answer that says "created" is never retried.
 */

export interface Limits {
	itemIndex: number;
	deadline: number;
	signal: AbortSignal;
}

type RequestData = DeclarativeRestApiSettings.ResultOptions;

function describeBody(body: unknown): string {
	if (typeof body === 'string')
		return `a non-JSON answer (${asText(body.trim().slice(0, 80)) ?? 'empty'})`;
	return asText(body) ?? 'an empty answer';
}

/** Classifies an answer that is not a success: retry it, or throw the error the user sees. */
function transientOrThrow(
	ctx: IExecutePaginationFunctions,
	answer: ApiAnswer,
	limits: Limits,
	predictionId?: string,
): Attempt<never> {
	if (answer.statusCode === 429) {
		return {
			retry: 'Eachlabs kept answering that the rate limit was reached (HTTP 429)',
			waitMs: retryAfterMs(answer.headers),
			free: true,
		};
	}
	if (answer.statusCode >= 500) {
		return { retry: `Eachlabs answered HTTP ${answer.statusCode}` };
	}
	throw apiAnswerError(ctx.getNode(), answer.statusCode, answer.body, {
		itemIndex: limits.itemIndex,
		predictionId,
	});
}

async function withApiRetries<T>(
	ctx: IExecutePaginationFunctions,
	attempt: () => Promise<Attempt<T>>,
	limits: Limits,
	predictionId?: string,
): Promise<T> {
	const result = await retryUntil(attempt, limits);
	if (result instanceof RetriesExhausted) {
		throw unreachableError(ctx.getNode(), result.problem, {
			itemIndex: limits.itemIndex,
			predictionId,
		});
	}
	return result;
}

export async function createPrediction(
	ctx: IExecutePaginationFunctions,
	requestData: RequestData,
	body: object,
	limits: Limits,
): Promise<{ predictionId: string; warnings: string[] }> {
	const warnings: string[] = [];
	return await withApiRetries(
		ctx,
		async () => {
			const answer = await sendToApi(
				ctx,
				requestData,
				{ body, timeout: requestTimeout(60_000, limits.deadline) },
				limits.signal,
			);
			if (answer instanceof ConnectionFailure) {
				if (answer.sent) {
					warnings.push(
						`At ${new Date().toISOString()} the connection to Eachlabs failed after the create request was sent (${answer.problem}); the node sent it again, so a duplicate prediction may have been charged.`,
					);
				}
				return { retry: `Eachlabs could not be reached: ${answer.problem}` };
			}
			if (answer.statusCode < 200 || answer.statusCode >= 300) {
				return transientOrThrow(ctx, answer, limits);
			}
			const created = createAnswerSchema.safeParse(answer.body);
			if (!created.success) {
				throw unexpectedAnswerError(
					ctx.getNode(),
					`the create request succeeded (HTTP ${answer.statusCode}) but gave no prediction ID: ${describeBody(answer.body)}`,
					{ itemIndex: limits.itemIndex },
				);
			}
			return { done: { predictionId: created.data.predictionID, warnings } };
		},
		limits,
	);
}

/** One look at a prediction; transient failures are retried, so polling survives them. */
export async function fetchPrediction(
	ctx: IExecutePaginationFunctions,
	requestData: RequestData,
	predictionId: string,
	limits: Limits,
): Promise<PredictionAnswer> {
	return await withApiRetries(
		ctx,
		async () => {
			const answer = await sendToApi(
				ctx,
				requestData,
				{
					method: 'GET',
					url: `/v1/prediction/${encodeURIComponent(predictionId)}`,
					body: undefined,
					timeout: requestTimeout(30_000, limits.deadline),
				},
				limits.signal,
			);
			if (answer instanceof ConnectionFailure) {
				return { retry: `Eachlabs could not be reached: ${answer.problem}` };
			}
			if (answer.statusCode < 200 || answer.statusCode >= 300) {
				return transientOrThrow(ctx, answer, limits, predictionId);
			}
			const parsed = predictionAnswerSchema.safeParse(answer.body);
			if (!parsed.success) {
				const status = (answer.body as { status?: unknown } | undefined)?.status;
				throw unexpectedAnswerError(
					ctx.getNode(),
					typeof status === 'string'
						? `the prediction has the unknown status "${status}"`
						: `the prediction's state could not be read: ${describeBody(answer.body)}`,
					{ itemIndex: limits.itemIndex, predictionId },
				);
			}
			return { done: parsed.data };
		},
		limits,
		predictionId,
	);
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
