import { asText } from './errors';
import type { Attempt } from './retry';
import { retryAfterMs } from './retry';
import { eachlabsErrorSchema } from './schemas';
import type { HttpResponse } from './transport';
import { ConnectionFailure } from './transport';

/*
 * What a request's outcome calls for, for every host the node talks to: the Eachlabs API, the
 * image host it downloads from and the storage it uploads to. One table of rules (README,
 * "Retries"):
 * - a 2xx is a success;
 * - a 429 or a 5xx, and a connection failure that may pass (refused, reset, timed out), are
 *   retried while the item's time lasts, at the pace of `Retry-After` where the host sends it (on
 *   the API, a 429's only);
 * - a create that reached Eachlabs and got no clear answer (the connection broke after sending, or
 *   a gateway's 5xx, which is not Eachlabs' own error) may have made a paid prediction: it is sent
 *   again with a warning, never silently;
 * - anything else fails the item: a request that cannot be sent (unknown host, bad certificate),
 *   a redirect (never followed, so the API key goes to Eachlabs only) or a refusal (other 4xx).
 * The caller turns a failure into the error its host's user needs (errors.ts).
 */

type Verdict<Body> =
	| { kind: 'success'; response: HttpResponse<Body> }
	| {
			kind: 'retry';
			/** What went wrong, quoted by the final error when no retry succeeds in time. */
			message: string;
			/** The host's own pace (`Retry-After`), used instead of backoff. */
			waitMs?: number;
			/** A create that may have been made: the warning's start, saying what happened. */
			mayHaveCreated?: string;
	  }
	| { kind: 'unsendable'; message: string }
	| { kind: 'redirect'; message: string; response: HttpResponse<Body> }
	| { kind: 'refused'; response: HttpResponse<Body> };

/** A verdict that fails the item: its host's error says why. */
export type Failure<Body> = Exclude<Verdict<Body>, { kind: 'success' | 'retry' }>;

/** A retry verdict as `retryUntil` takes it. */
export const retryOf = (verdict: { message: string; waitMs?: number }): Attempt<never> => ({
	retry: verdict.message,
	waitMs: verdict.waitMs,
});

interface Host {
	/** The message of a retried status, which the final error quotes when no retry succeeds. */
	busy: (statusCode: number) => string;
	/** Whether `Retry-After` paces 5xx retries too (on the API, only a 429's is honoured). */
	retryAfterOn5xx: boolean;
	/** A create: an answer lost after sending may hide a paid prediction. */
	mayHaveCreated?: boolean;
}

const api: Host = {
	busy: (statusCode) =>
		statusCode === 429
			? 'it kept answering that the rate limit was reached (HTTP 429)'
			: `it kept answering HTTP ${statusCode}`,
	retryAfterOn5xx: false,
};

export const hosts = {
	/** Eachlabs' prediction requests (poll, Get Prediction). */
	api,
	/** Eachlabs' create request: paid, so an unclear answer is sent again only with a warning. */
	create: { ...api, mayHaveCreated: true },
	/** Eachlabs' request for a presigned upload URL. */
	presign: {
		busy: (statusCode: number) =>
			`Eachlabs kept answering HTTP ${statusCode} to the upload request`,
		retryAfterOn5xx: true,
	},
	/** The storage a presigned upload URL points to. */
	storage: {
		busy: (statusCode: number) => `the storage kept answering HTTP ${statusCode}`,
		retryAfterOn5xx: true,
	},
	/** The host of the edited images. */
	images: {
		busy: (statusCode: number) => `the image host answered HTTP ${statusCode}`,
		retryAfterOn5xx: true,
	},
} satisfies Record<string, Host>;

/** A 5xx that did not come from Eachlabs' application: the create may have been made. */
function gatewayProblem(response: HttpResponse): string | undefined {
	if (response.statusCode < 500 || eachlabsErrorSchema.safeParse(response.body).success) {
		return undefined;
	}
	const body = typeof response.body === 'string' ? response.body.trim() : response.body;
	const what =
		body === '' || body === undefined || body === null
			? 'an empty answer'
			: typeof body === 'string'
				? 'an HTML page'
				: 'an answer that is not Eachlabs’ own error';
	return `a gateway answered HTTP ${response.statusCode} (${what}, not Eachlabs' own error)`;
}

export function classify<Body>(
	outcome: HttpResponse<Body> | ConnectionFailure,
	host: Host,
): Verdict<Body> {
	if (outcome instanceof ConnectionFailure) {
		if (host.mayHaveCreated && outcome.sent && outcome.retryable) {
			return {
				kind: 'retry',
				message: outcome.message,
				mayHaveCreated: `the connection to Eachlabs failed after the create request was sent (${outcome.message})`,
			};
		}
		if (!outcome.retryable) return { kind: 'unsendable', message: outcome.message };
		return { kind: 'retry', message: outcome.message };
	}
	const { statusCode, headers } = outcome;
	if (statusCode >= 200 && statusCode < 300) return { kind: 'success', response: outcome };
	const gateway = host.mayHaveCreated ? gatewayProblem(outcome) : undefined;
	if (gateway) {
		return {
			kind: 'retry',
			message: gateway,
			mayHaveCreated: `${gateway} after the create request was sent`,
		};
	}
	if (statusCode === 429 || statusCode >= 500) {
		const paced = statusCode === 429 || host.retryAfterOn5xx;
		return {
			kind: 'retry',
			message: host.busy(statusCode),
			waitMs: paced ? retryAfterMs(headers) : undefined,
		};
	}
	if (statusCode >= 300 && statusCode < 400) {
		const target = asText(headers.location) ?? 'another address';
		return {
			kind: 'redirect',
			message: `a redirect (HTTP ${statusCode}) to ${target}, which the node does not follow so that the API key is sent to Eachlabs only`,
			response: outcome,
		};
	}
	return { kind: 'refused', response: outcome };
}
