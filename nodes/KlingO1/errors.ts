import type { IDataObject, INode, INodeExecutionData, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { imageReference } from './constants';
import type { PredictionAnswer } from './schemas';
import { errorBodySchema } from './schemas';

/*
 * Every message a user can see is written here, in words a no-code builder can act on.
 * Errors are built from plain, already-cleaned objects, never from an HTTP client's error (whose
 * request config holds the API key), so nothing secret can reach an error item or the UI.
 */

export type NodeError = NodeApiError | NodeOperationError;

export interface ErrorContext {
	itemIndex: number;
	predictionId?: string;
}

/** A short, single-line text for any value found in an error body. */
export function asText(value: unknown): string | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	const text = typeof value === 'string' ? value : JSON.stringify(value);
	return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

/** The `message`/`details` of `{status, message, details}`, or the text of `{error}`. */
function apiErrorText(body: unknown): { message?: string; details?: string } {
	const parsed = errorBodySchema.safeParse(body);
	if (!parsed.success) return { message: asText(body) };
	const { message, details, error } = parsed.data;
	return { message: asText(message) ?? asText(error), details: asText(details) };
}

function withPrediction(description: string, predictionId?: string) {
	return predictionId ? `${description} (prediction ${predictionId})` : description;
}

const adviceByStatus: Record<number, string> = {
	400: 'Eachlabs rejected the input. Check the prompt, the image URLs and the other fields.',
	401: 'Check the API key in the Eachlabs API credential: copy it again from the API Keys page of the Eachlabs dashboard.',
	402: 'Your Eachlabs balance may be too low: top it up in the Eachlabs dashboard.',
	403: 'This API key may not use Kling O1: check its permissions in the Eachlabs dashboard.',
	404: 'The prediction or model was not found. Check the prediction ID; predictions made with another API key are not visible.',
};

/** An error answer of the API (after any retries it deserved). */
export function apiAnswerError(
	node: INode,
	statusCode: number,
	body: unknown,
	context: ErrorContext,
): NodeApiError {
	const { message, details } = apiErrorText(body);
	const title =
		statusCode === 401
			? 'Eachlabs did not accept the API key'
			: statusCode === 404 && context.predictionId
				? `Prediction ${context.predictionId} was not found`
				: `Eachlabs answered with an error (HTTP ${statusCode})${message ? `: ${message}` : ''}`;
	const advice =
		adviceByStatus[statusCode] ??
		(statusCode >= 500
			? 'Eachlabs kept failing after several retries. Try again later; if the node made a prediction, resume it with Get Prediction.'
			: 'Check the node’s fields and try again.');
	const description = [
		details ?? (statusCode === 401 || statusCode === 404 ? message : undefined),
		advice,
	]
		.filter(Boolean)
		.join(' — ');
	return new NodeApiError(
		node,
		{ statusCode, message: message ?? '', details: details ?? '' },
		{
			message: title,
			description: withPrediction(description, context.predictionId),
			httpCode: String(statusCode),
			itemIndex: context.itemIndex,
		},
	);
}

/**
 * The node's fields are wrong for this item: nothing was sent. A NodeApiError without an HTTP code,
 * because n8n's declarative engine turns any other error into a NodeApiError with the code "none",
 * which reads like a failed request; this one it shows as it is.
 */
export function fieldError(node: INode, itemIndex: number, problems: string[]) {
	const [first, ...more] = problems;
	return new NodeApiError(node, { problems } as JsonObject, {
		message: more.length
			? `${first} (and ${more.length} more ${more.length === 1 ? 'problem' : 'problems'})`
			: first,
		description: more.length
			? `The node's fields are wrong for item ${itemIndex}: ${problems.join(' • ')}. Nothing was sent to Eachlabs.`
			: `The node's fields are wrong for item ${itemIndex}: fix this field and run the node again. Nothing was sent to Eachlabs.`,
		itemIndex,
	});
}

/** The API answered, but not in any documented shape (non-JSON, no ID, unknown status …). */
export function unexpectedAnswerError(node: INode, what: string, context: ErrorContext) {
	return new NodeApiError(node, { problem: what } as JsonObject, {
		message: `Eachlabs answered something unexpected: ${what}`,
		description: withPrediction(
			'The Eachlabs API may have changed or a proxy answered instead of it. Try again; if it keeps happening, report it to the node’s maintainers.',
			context.predictionId,
		),
		itemIndex: context.itemIndex,
	});
}

/** Connection failures, 5xx or rate limits that outlasted the item's time. */
export function unreachableError(node: INode, problem: string, context: ErrorContext) {
	return new NodeApiError(node, { problem } as JsonObject, {
		message: `Could not reach Eachlabs: ${problem}`,
		description: context.predictionId
			? `The node retried with growing pauses until the item's time ran out. The prediction may still finish: resume it with the Get Prediction operation and prediction ID ${context.predictionId}.`
			: "The node retried with growing pauses until the item's time ran out. Check the Base URL of the Eachlabs API credential and your network, then try again.",
		itemIndex: context.itemIndex,
	});
}

/** A request that could not be sent at all, where trying again cannot help. */
export function unsendableError(node: INode, problem: string, context: ErrorContext) {
	return new NodeOperationError(node, `Could not send the request to Eachlabs: ${problem}`, {
		description: withPrediction(
			'Check the Base URL of the Eachlabs API credential (normally https://api.eachlabs.ai) and that this n8n can reach it.',
			context.predictionId,
		),
		itemIndex: context.itemIndex,
	});
}

/**
 * Adds the create rule's warnings (a prediction may have been charged) to an error, so that a
 * failed item says so too: in the description and, for error items, in `json.warnings` (kept in
 * the error's context).
 */
export function withWarnings<T extends NodeError>(error: T, warnings: string[]): T {
	if (!warnings.length) return error;
	error.description = [error.description, ...warnings].filter(Boolean).join(' ');
	error.context.warnings = [...warnings];
	return error;
}

/** The warnings `withWarnings` put in the error's context. */
export function warningsOf(error: NodeError): string[] {
	const { warnings } = error.context;
	return Array.isArray(warnings) ? warnings.map(String) : [];
}

/** Eachlabs' error code of a failed prediction, which `predictionFailedError` keeps. */
function errorCodeOf(error: NodeError): string | undefined {
	const { errorCode } = error.context;
	return typeof errorCode === 'string' && errorCode ? errorCode : undefined;
}

/**
 * Eachlabs' error codes for a failed prediction that say the same input may succeed when tried
 * again (the API reference: decide on the code, never by parsing the message).
 */
const TRANSIENT_ERROR_CODES = new Set([
	'PROVIDER_RATE_LIMIT',
	'PROVIDER_SERVER_ERROR',
	'NETWORK_ERROR',
	'WORKER_LOST',
	'EXECUTION_TIMEOUT',
]);

/** One sentence, ending in a full stop, so that joined texts never run on. */
const sentence = (text: string) => (/[.!?…]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`);

/** What the user can do about a failed prediction: a failed prediction cannot be resumed. */
function adviceForFailure(errorCode: string | undefined, cancelled: boolean): string {
	if (cancelled) return 'Run the node again to make a new prediction.';
	if (errorCode && TRANSIENT_ERROR_CODES.has(errorCode)) {
		return 'This kind of failure is usually temporary: running the node again with the same input may work.';
	}
	return 'Change the input and run the node again: check that every image is a reachable public https:// image and that the prompt describes an edit the model accepts.';
}

/** The model ran and failed (`error`, `failed`) or was cancelled. */
export function predictionFailedError(
	node: INode,
	prediction: PredictionAnswer,
	context: ErrorContext & { predictionId: string },
) {
	const output = prediction.output;
	const classified = output && typeof output === 'object' && !Array.isArray(output) ? output : {};
	const errorCode = asText(classified.error_code);
	const cancelled = prediction.status === 'cancelled' || prediction.status === 'canceled';
	const reason =
		asText(classified.error_message) ??
		asText(prediction.message) ??
		asText(prediction.error) ??
		(cancelled ? 'the prediction was cancelled' : 'no reason given');
	const details = asText(prediction.details);
	const error = new NodeApiError(
		node,
		// No `status` or `error_code` key: n8n would show either as the HTTP "Error code".
		{ predictionStatus: prediction.status, eachlabsErrorCode: errorCode ?? '', message: reason },
		{
			message: cancelled
				? `Kling O1 prediction ${context.predictionId} was cancelled`
				: `Kling O1 could not edit the image: ${reason}`,
			description: [
				details,
				`No images were made for this item (prediction ${context.predictionId}${errorCode ? `, error code ${errorCode}` : ''})`,
				adviceForFailure(errorCode, cancelled),
			]
				.filter((text): text is string => Boolean(text))
				.map(sentence)
				.join(' '),
			itemIndex: context.itemIndex,
		},
	);
	if (errorCode) error.context.errorCode = errorCode;
	return error;
}

export function timeoutError(
	node: INode,
	seconds: number,
	context: ErrorContext & { predictionId: string },
) {
	return new NodeOperationError(
		node,
		`Prediction ${context.predictionId} did not finish within ${seconds} seconds`,
		{
			description: `It may still finish and is already paid for: resume it with the Get Prediction operation and prediction ID ${context.predictionId}, or raise Timeout (Seconds) under Options.`,
			itemIndex: context.itemIndex,
		},
	);
}

export function cancelledError(node: INode, context: ErrorContext) {
	return new NodeOperationError(node, 'The execution was stopped', {
		description: withPrediction(
			'The node stopped waiting for this item. A create request already sent was allowed to finish, so that its prediction is listed here.',
			context.predictionId,
		),
		itemIndex: context.itemIndex,
	});
}

/** An item that gave up waiting for one of the 10 slots: nothing was sent for it. */
export function queuedTooLongError(
	node: INode,
	context: ErrorContext & { waitedSeconds: number; toolCall: boolean },
) {
	const rule = context.toolCall
		? 'As an AI Agent tool, the time spent waiting counts against Timeout (Seconds).'
		: 'An item waits for a slot at most Timeout (Seconds) × (1 + its item number ÷ 10, rounded down).';
	return new NodeOperationError(
		node,
		`Gave up after waiting ${context.waitedSeconds} seconds for a free slot: nothing was created`,
		{
			description: `At most 10 predictions per API key run at once in this n8n instance, and other items or workflows held all 10. ${rule} Nothing was sent to Eachlabs for this item and nothing was charged: run it again later, or raise Timeout (Seconds) under Options.`,
			itemIndex: context.itemIndex,
		},
	);
}

export function expiredImageError(
	node: INode,
	statusCode: number,
	context: ErrorContext & { predictionId: string; imageIndex: number },
) {
	return new NodeApiError(node, { statusCode } as JsonObject, {
		message: `Edited image ${context.imageIndex} of prediction ${context.predictionId} could not be downloaded (HTTP ${statusCode})`,
		description:
			'Its URL has probably expired. Run Get Prediction with this ID again soon after it finishes, or turn off Download Images and store the URLs.',
		httpCode: String(statusCode),
		itemIndex: context.itemIndex,
	});
}

/** An output image that could not be fetched from its host in the item's time. */
export function downloadFailedError(
	node: INode,
	problem: string,
	context: ErrorContext & { predictionId: string; imageIndex: number },
) {
	return new NodeApiError(node, { problem } as JsonObject, {
		message: `Edited image ${context.imageIndex} of prediction ${context.predictionId} could not be downloaded: ${problem}`,
		description: `The prediction has finished; only the download failed. Run Get Prediction with ID ${context.predictionId} to download its images again, or turn off Download Images to get their URLs.`,
		itemIndex: context.itemIndex,
	});
}

/** A binary image that could not be put on Eachlabs' storage: the item creates nothing. */
export function uploadFailedError(
	node: INode,
	problem: string,
	context: ErrorContext & { index: number; field: string; statusCode?: number },
) {
	return new NodeApiError(node, { problem } as JsonObject, {
		message: `${imageReference(context.index)} (binary field "${context.field}") could not be uploaded to Eachlabs: ${problem}`,
		description:
			'No prediction was created for this item, so nothing was charged. Try again later, or upload the image elsewhere and give its public https:// URL instead.',
		...(context.statusCode ? { httpCode: String(context.statusCode) } : {}),
		itemIndex: context.itemIndex,
	});
}

/** The secret, replaced everywhere in a JSON-like value. */
function scrub<T>(value: T, secret: string): T {
	if (typeof value === 'string') return value.split(secret).join('[redacted]') as T;
	if (Array.isArray(value)) return value.map((entry) => scrub(entry, secret)) as T;
	if (value && typeof value === 'object' && !(value instanceof Error)) {
		return Object.fromEntries(
			Object.entries(value).map(([key, entry]) => [key, scrub(entry, secret)]),
		) as T;
	}
	return value;
}

/**
 * Removes the API key from everything of an error that n8n shows or stores (message, description,
 * the answer it was built from, its context), in case an answer echoed the key.
 */
export function redact<T extends NodeError>(error: T, secret: string | undefined): T {
	if (!secret || !JSON.stringify(error).includes(secret)) return error;
	const fields = error as unknown as Record<string, unknown>;
	for (const key of ['message', 'description', 'messages', 'errorResponse', 'context']) {
		if (fields[key] !== undefined && fields[key] !== null) fields[key] = scrub(fields[key], secret);
	}
	if (
		error.cause &&
		JSON.stringify(error.cause, Object.getOwnPropertyNames(error.cause)).includes(secret)
	) {
		fields.cause = undefined;
	}
	return error;
}

/**
 * The item n8n routes to the error output (or shows) when the node continues on fail. Built here
 * because the routing engine's own error items carry no `pairedItem`.
 */
export function errorItem(
	error: NodeError,
	itemIndex: number,
	extra: IDataObject = {},
): INodeExecutionData {
	const errorCode = errorCodeOf(error);
	const warnings = warningsOf(error);
	return {
		json: {
			error: error.message,
			...(error.description ? { description: error.description } : {}),
			...(error instanceof NodeApiError && error.httpCode ? { httpCode: error.httpCode } : {}),
			...(errorCode ? { errorCode } : {}),
			...(warnings.length ? { warnings } : {}),
			...extra,
		},
		error,
		pairedItem: { item: itemIndex },
	};
}
