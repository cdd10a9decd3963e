import type {
	INode,
	DeclarativeRestApiSettings,
	IExecutePaginationFunctions,
	IExecuteSingleFunctions,
	IHttpRequestOptions,
	IN8nHttpFullResponse,
	INodeExecutionData,
} from 'n8n-workflow';
import { NodeOperationError, UserError } from 'n8n-workflow';

import { backoffDelay, CancelledError, pause, retryPolicy } from './retry';

/*
 * The two ways this node talks HTTP:
 * - to the Eachlabs API, through the routing's own request (`makeRoutingRequest`): base URL,
 *   credential and auth header come from the node description and the credential;
 * - to image hosts, with a plain request that never carries the API key.
 * Both report every HTTP status to the caller, which decides what is worth a retry.
 */

export interface ApiAnswer {
	statusCode: number;
	headers: Record<string, unknown>;
	body: unknown;
}

/**
 * A request that got no HTTP answer, returned (not thrown) so that callers decide on retries.
 * `sent` is false only when the request surely never left.
 */
export class ConnectionFailure {
	constructor(
		readonly problem: string,
		readonly sent: boolean,
	) {}
}

/**
 * A request never outlives the item's deadline (a hanging server must not hold the item for the
 * full request timeout), but always gets a second to answer.
 */
export const requestTimeout = (longest: number, deadline: number) =>
	Math.max(1000, Math.min(longest, deadline - Date.now()));

/** A stored file's bytes, as n8n's binary helpers take them (a stream here). */
type FileBody = Parameters<IExecuteSingleFunctions['helpers']['prepareBinaryData']>[0];

const NOT_SENT_CODES = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'];

const problemByCode: Record<string, string> = {
	ECONNREFUSED: 'the connection was refused',
	ENOTFOUND: 'the host name was not found',
	EAI_AGAIN: 'the host name could not be looked up',
	EHOSTUNREACH: 'the host is unreachable',
	ENETUNREACH: 'the network is unreachable',
	ECONNRESET: 'the connection was reset',
	EPIPE: 'the connection was closed while sending',
	ETIMEDOUT: 'the request timed out',
	ECONNABORTED: 'the request timed out',
	ERR_SOCKET_CONNECTION_TIMEOUT: 'the connection timed out',
};

const NON_RETRYABLE = Symbol.for('n8n.backend-network.non-retryable-error');

/** An error n8n raised before sending (marked non-retryable or a UserError), with its texts. */
function refusedByN8n(error: unknown): { message: string; description?: string } | undefined {
	let current = error as (Error & { cause?: unknown; description?: string }) | undefined;
	for (let depth = 0; current && depth < 4; depth++) {
		if (
			(current as unknown as Record<symbol, unknown>)[NON_RETRYABLE] === true ||
			current instanceof UserError
		) {
			return { message: current.message, description: current.description };
		}
		current = current.cause as typeof current;
	}
	return undefined;
}

function errorCode(error: unknown): string | undefined {
	let current = error as { code?: unknown; cause?: unknown } | undefined;
	for (let depth = 0; current && depth < 4; depth++) {
		if (typeof current.code === 'string' && current.code) return current.code;
		current = current.cause as typeof current;
	}
	return undefined;
}

/**
 * Turns a request error into a ConnectionFailure, keeping nothing of the request (its config holds
 * the API key). Throws CancelledError when the request was aborted because the user stopped.
 */
function toConnectionFailure(node: INode, error: unknown, signal?: AbortSignal): ConnectionFailure {
	const code = errorCode(error);
	if (signal?.aborted || code === 'ERR_CANCELED') {
		const cancelled = new CancelledError();
		throw cancelled;
	}
	const refusal = refusedByN8n(error);
	if (refusal) {
		// n8n itself refused to send it (e.g. SSRF protection): retrying cannot help.
		const blocked = new NodeOperationError(node, refusal.message, {
			description: refusal.description,
		});
		throw blocked;
	}
	const text = code
		? (problemByCode[code] ?? `network error ${code}`)
		: /socket hang up/i.test(String((error as Error)?.message))
			? 'the connection was closed without an answer'
			: 'the request failed without an answer';
	return new ConnectionFailure(text, !NOT_SENT_CODES.includes(code ?? ''));
}

/**
 * The operations' postReceive: hands the whole answer (status, headers, body) to our code, which
 * needs `Retry-After` and the status to apply the retry rules.
 */
export async function keepFullResponse(
	this: IExecuteSingleFunctions,
	_items: INodeExecutionData[],
	response: IN8nHttpFullResponse,
): Promise<INodeExecutionData[]> {
	return [
		{
			json: {
				statusCode: response.statusCode,
				headers: response.headers as Record<string, string>,
				body: response.body as string,
			},
		},
	];
}

/** One request to the Eachlabs API, with the options the routing built, changed by `options`. */
export async function sendToApi(
	ctx: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
	options: Partial<IHttpRequestOptions>,
	signal?: AbortSignal,
): Promise<ApiAnswer | ConnectionFailure> {
	if (signal?.aborted) throw new CancelledError();
	const request = {
		...requestData,
		options: {
			...requestData.options,
			...options,
			json: true,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			// A redirect to another host must not take the API key with it.
			sendCredentialsOnCrossOriginRedirect: false,
		},
	} as DeclarativeRestApiSettings.ResultOptions;
	let items: INodeExecutionData[];
	try {
		items = await ctx.makeRoutingRequest(request);
	} catch (error) {
		return toConnectionFailure(ctx.getNode(), error, signal);
	}
	const answer = items[0]?.json as unknown as ApiAnswer;
	return { statusCode: answer.statusCode, headers: answer.headers ?? {}, body: answer.body };
}

/** A plain GET of a file on a storage host: no credential, the body as a stream. */
export async function fetchFile(
	ctx: IExecuteSingleFunctions,
	url: string,
	signal: AbortSignal,
	timeout: number,
): Promise<
	{ statusCode: number; headers: Record<string, unknown>; body: FileBody } | ConnectionFailure
> {
	try {
		const response = (await ctx.helpers.httpRequest({
			method: 'GET',
			url,
			encoding: 'stream',
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			timeout,
			abortSignal: signal,
		})) as IN8nHttpFullResponse;
		return {
			statusCode: response.statusCode,
			headers: response.headers as Record<string, unknown>,
			body: response.body as FileBody,
		};
	} catch (error) {
		return toConnectionFailure(ctx.getNode(), error, signal);
	}
}

export type Attempt<T> =
	| { done: T }
	| {
			/** What went wrong, for the final error if no retry succeeds. */
			retry: string;
			/** The server's own wait (Retry-After), used instead of backoff. */
			waitMs?: number;
			/** Rate limits are waited out for as long as time remains, without counting attempts. */
			free?: boolean;
	  };

/** What the last attempt reported when no retry succeeded in time. */
export class RetriesExhausted {
	constructor(readonly problem: string) {}
}

/**
 * Runs `attempt` until it is done or throws, or gives up (returns RetriesExhausted) when a retry
 * would end after `deadline` or exceed the attempt budget. Waits are exponential with jitter
 * unless the server named one.
 */
export async function retryUntil<T>(
	attempt: () => Promise<Attempt<T>>,
	limits: { deadline: number; signal: AbortSignal; minAttempts?: number },
): Promise<T | RetriesExhausted> {
	let counted = 0;
	for (let round = 0; ; round++) {
		const outcome = await attempt();
		if ('done' in outcome) return outcome.done;
		if (!outcome.free) counted++;
		const wait = outcome.waitMs ?? backoffDelay(Math.min(round, 10));
		// `minAttempts` lets a download that starts late still try a few times.
		const outOfTime = Date.now() + wait > limits.deadline && round + 1 >= (limits.minAttempts ?? 1);
		if (outOfTime || counted >= retryPolicy.maxAttempts) return new RetriesExhausted(outcome.retry);
		await pause(wait, limits.signal);
	}
}
