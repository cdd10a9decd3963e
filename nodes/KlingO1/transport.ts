import type {
	DeclarativeRestApiSettings,
	IExecutePaginationFunctions,
	IExecuteSingleFunctions,
	IHttpRequestOptions,
	IN8nHttpFullResponse,
	INode,
} from 'n8n-workflow';
import { NodeOperationError, UserError } from 'n8n-workflow';

import { CREDENTIAL_TYPE } from './constants';
import { abortable, CancelledError } from './cancellation';

/*
 * The two ways this node talks HTTP:
 * - to the Eachlabs API, with the request the routing built (base URL and Request Options from
 *   the node description) and the credential's auth header, as n8n's routing sends it;
 * - to image hosts, with a plain request that never carries the API key.
 * Both report every HTTP status, and every failure to get one, to the caller, which decides what
 * is worth a retry.
 */

/** An HTTP response of any status: the node's requests return every status, never throw it. */
export interface HttpResponse<Body = unknown> {
	statusCode: number;
	headers: Record<string, unknown>;
	body: Body;
}

/**
 * A request that got no HTTP answer, returned (not thrown) so that callers decide on retries.
 * `sent` is false only when the request surely never left; `retryable` is false when trying again
 * cannot help (an unknown host, a malformed URL, a certificate problem).
 */
export class ConnectionFailure {
	constructor(
		readonly message: string,
		readonly sent: boolean,
		readonly retryable: boolean,
	) {}
}

/**
 * A request never outlives the item's deadline (a hanging server must not hold the item for the
 * full request timeout), but always gets at least `floor` (never more than `longest`) to answer.
 */
export const requestTimeout = (longest: number, deadline: number, floor = 1000) =>
	Math.max(Math.min(floor, longest), Math.min(longest, deadline - Date.now()));

/*
 * n8n's "Request Options" (Settings of every declarative node: batching, Ignore SSL Issues, proxy,
 * timeout). n8n's routing applies batching itself and puts the proxy and Ignore SSL Issues on the
 * requests it builds, which are the API requests. Every other request must take them from here.
 */
interface RequestOptionsParameter {
	proxy?: string;
	allowUnauthorizedCerts?: boolean;
	timeout?: number;
}

const requestOptionsOf = (ctx: IExecuteSingleFunctions) =>
	(ctx.getNodeParameter('requestOptions', {}) ?? {}) as RequestOptionsParameter;

/**
 * The longest one HTTP request waits for its answer: Request Options → Timeout (ms) when the user
 * set it, else `fallbackMs` (this node's default for that kind of request). Either way
 * `requestTimeout` still ends it at the item's deadline (the node's own "Timeout (Seconds)").
 */
export function perRequestTimeout(ctx: IExecuteSingleFunctions, fallbackMs: number): number {
	const { timeout } = requestOptionsOf(ctx);
	return typeof timeout === 'number' && timeout > 0 ? timeout : fallbackMs;
}

/**
 * What a plain request (`helpers.httpRequest`: image downloads, uploads) must carry to honour the
 * node's Request Options like the API requests do: the proxy and Ignore SSL Issues. Spread it into
 * the request's options: `{ method, url, ...plainRequestOptions(ctx) }`. The proxy takes the shape
 * n8n's routing gives it (n8n has already refused a proxy without host or port before the node
 * runs). It never carries the API key.
 */
function plainRequestOptions(
	ctx: IExecuteSingleFunctions,
): Pick<IHttpRequestOptions, 'proxy' | 'skipSslCertificateValidation'> {
	const { proxy, allowUnauthorizedCerts } = requestOptionsOf(ctx);
	const options: Pick<IHttpRequestOptions, 'proxy' | 'skipSslCertificateValidation'> = {};
	if (allowUnauthorizedCerts === true) options.skipSslCertificateValidation = true;
	if (typeof proxy === 'string' && proxy.trim() !== '') {
		const url = new URL(proxy.trim());
		options.proxy = {
			host: url.hostname,
			port: Number(url.port),
			protocol: url.protocol.replace(/:$/, ''),
			...(url.username
				? {
						auth: {
							username: decodeURIComponent(url.username),
							password: decodeURIComponent(url.password),
						},
					}
				: {}),
		};
	}
	return options;
}

/** A stored file's bytes, as n8n's binary helpers take them (a stream here). */
type FileBody = Parameters<IExecuteSingleFunctions['helpers']['prepareBinaryData']>[0];

/** Codes of failures that may pass: [what happened, whether the request may have been sent]. */
const transientCodes: Record<string, [string, boolean]> = {
	ECONNREFUSED: ['the connection was refused', false],
	EHOSTUNREACH: ['the host is unreachable', false],
	ENETUNREACH: ['the network is unreachable', false],
	ENETDOWN: ['the network is down', false],
	EAI_AGAIN: ['the host name could not be looked up', false],
	ECONNRESET: ['the connection was reset', true],
	EPIPE: ['the connection was closed while sending', true],
	ETIMEDOUT: ['the request timed out', true],
	ECONNABORTED: ['the request timed out', true],
	ESOCKETTIMEDOUT: ['the request timed out', true],
	ERR_SOCKET_CONNECTION_TIMEOUT: ['the connection timed out', true],
	ERR_STREAM_PREMATURE_CLOSE: ['the connection closed early', true],
	ERR_NETWORK: ['a network error occurred', true],
	EPROTO: ['the connection broke', true],
};

const NON_RETRYABLE = Symbol.for('n8n.backend-network.non-retryable-error');

type ChainError = Error & { code?: unknown; cause?: unknown; description?: string };

function* causeChain(error: unknown) {
	let current = error as ChainError | undefined;
	for (let depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
		yield current;
		current = current.cause as ChainError | undefined;
	}
}

/**
 * Turns a request error into a ConnectionFailure, keeping nothing of the request (its config
 * holds the API key). Throws CancelledError when the request was aborted because the user
 * stopped, and the refusal itself when n8n would not send the request (e.g. SSRF protection).
 */
function toConnectionFailure(node: INode, error: unknown, signal?: AbortSignal): ConnectionFailure {
	const chain = [...causeChain(error)];
	const code = chain.map((link) => link.code).find((value) => typeof value === 'string') as
		string | undefined;
	if (signal?.aborted || code === 'ERR_CANCELED') {
		const cancelled = new CancelledError();
		throw cancelled;
	}
	const refusal = chain.find(
		(link) =>
			(link as unknown as Record<symbol, unknown>)[NON_RETRYABLE] === true ||
			link instanceof UserError,
	);
	if (refusal) {
		const blocked = new NodeOperationError(node, refusal.message, {
			description: refusal.description,
		});
		throw blocked;
	}
	const transient = code ? transientCodes[code] : undefined;
	if (transient) return new ConnectionFailure(transient[0], transient[1], true);
	if (chain.some((link) => /socket hang up/i.test(String(link.message)))) {
		return new ConnectionFailure('the connection was closed without an answer', true, true);
	}
	const problem =
		code === 'ENOTFOUND'
			? 'the host name was not found'
			: `${chain.at(-1)?.message ?? 'unknown error'}${code ? ` (${code})` : ''}`;
	return new ConnectionFailure(problem, false, false);
}

/** The routing's request options, changed by `options`, as every API request sends them. */
function apiRequest(
	requestData: DeclarativeRestApiSettings.ResultOptions,
	options: Partial<IHttpRequestOptions>,
): DeclarativeRestApiSettings.ResultOptions {
	return {
		...requestData,
		options: {
			...requestData.options,
			...options,
			json: true,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			// The key travels in X-API-Key, which a followed redirect would carry to any host:
			// a redirect is answered as it is (and is not a documented answer).
			disableFollowRedirect: true,
			maxRedirects: 0,
		},
	} as DeclarativeRestApiSettings.ResultOptions;
}

/**
 * An authenticated request to the Eachlabs API, as n8n's routing sends it (n8n's request helper
 * with the credential's `authenticate`), returning the whole response: the retry rules need its
 * status and `Retry-After`. `on` is the context n8n takes the execution's stop signal from.
 */
async function authenticatedRequest(
	on: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
	options: Partial<IHttpRequestOptions>,
): Promise<HttpResponse> {
	const response = (await on.helpers.httpRequestWithAuthentication.call(
		on,
		CREDENTIAL_TYPE,
		apiRequest(requestData, options).options as IHttpRequestOptions,
	)) as IN8nHttpFullResponse;
	return {
		statusCode: response.statusCode,
		headers: (response.headers ?? {}) as Record<string, unknown>,
		body: response.body,
	};
}

/** One request to the Eachlabs API, with the options the routing built, changed by `options`. */
export async function sendToApi(
	ctx: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
	options: Partial<IHttpRequestOptions>,
	signal?: AbortSignal,
): Promise<HttpResponse | ConnectionFailure> {
	if (signal?.aborted) throw new CancelledError();
	try {
		// n8n binds API requests to the execution's stop signal only; this item's own signal (the
		// run halting on another item's failure) must not wait for a slow answer either.
		return await abortable(authenticatedRequest(ctx, requestData, options), signal);
	} catch (error) {
		return toConnectionFailure(ctx.getNode(), error, signal);
	}
}

/**
 * A create request, which nothing abandons once it is on its way: neither this item's signal (the
 * run halting) nor n8n's stop signal, to which n8n ties every request it sends for the node.
 * A create that reached Eachlabs may have made a paid prediction and only its answer tells the
 * ID, so it is always awaited; its own request timeout bounds it. Sent on a view of the item's
 * context that has no stop signal to hand over.
 */
export async function sendCreate(
	ctx: IExecutePaginationFunctions,
	requestData: DeclarativeRestApiSettings.ResultOptions,
	options: Partial<IHttpRequestOptions>,
): Promise<HttpResponse | ConnectionFailure> {
	const unstoppable = Object.create(ctx, {
		getExecutionCancelSignal: { value: () => undefined },
	}) as IExecutePaginationFunctions;
	try {
		return await authenticatedRequest(unstoppable, requestData, options);
	} catch (error) {
		return toConnectionFailure(ctx.getNode(), error);
	}
}

/**
 * A request to a storage host with no credential, as n8n's Request Options configure it (proxy,
 * Ignore SSL Issues): every status is returned to the caller, and every failure to get one.
 */
async function plainRequest<Body>(
	ctx: IExecuteSingleFunctions,
	options: IHttpRequestOptions,
	signal: AbortSignal,
	timeout: number,
): Promise<HttpResponse<Body> | ConnectionFailure> {
	try {
		const response = (await ctx.helpers.httpRequest({
			...plainRequestOptions(ctx),
			...options,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			timeout,
			abortSignal: signal,
		})) as IN8nHttpFullResponse;
		return {
			statusCode: response.statusCode,
			headers: response.headers as Record<string, unknown>,
			body: response.body as Body,
		};
	} catch (error) {
		return toConnectionFailure(ctx.getNode(), error, signal);
	}
}

/** A plain GET of a file on a storage host: no credential, the body as a stream. */
export async function fetchFile(
	ctx: IExecuteSingleFunctions,
	url: string,
	signal: AbortSignal,
	timeout: number,
) {
	return await plainRequest<FileBody>(
		ctx,
		{ method: 'GET', url, encoding: 'stream' },
		signal,
		timeout,
	);
}

/**
 * A plain PUT of a file to a presigned storage URL: no credential (the signature in the URL is
 * the permission), exactly the given headers, the body streamed. Redirects are not followed, so
 * the HTTP client never keeps a copy of the body to replay it.
 */
export async function sendFile(
	ctx: IExecuteSingleFunctions,
	request: { url: string; headers: Record<string, string>; body: FileBody | Buffer },
	signal: AbortSignal,
	timeout: number,
) {
	return await plainRequest<unknown>(
		ctx,
		{
			method: 'PUT',
			url: request.url,
			headers: request.headers,
			body: request.body,
			encoding: 'text',
			disableFollowRedirect: true,
		},
		signal,
		timeout,
	);
}
