import type { DeclarativeRestApiSettings, IExecutePaginationFunctions } from 'n8n-workflow';

import type { BinaryImage } from './binaryInput';
import { groupBySameBytes, openImage } from './binaryInput';
import { MAX_CONCURRENT_UPLOADS } from './constants';
import {
	apiAnswerError,
	asText,
	unexpectedAnswerError,
	unsendableError,
	uploadFailedError,
} from './errors';
import { ConcurrencyLimit } from './limiter';
import type { ItemDeadline } from './cancellation';
import { CancelledError } from './cancellation';
import { classify, hosts, retryOf } from './failure';
import { retryOrGiveUp } from './retry';
import type { PresignAnswer } from './schemas';
import { presignAnswerSchema } from './schemas';
import { perRequestTimeout, requestTimeout, sendFile, sendToApi } from './transport';

/*
 * Binary input → Eachlabs' storage → public URL, as the API reference's addendum documents:
 * `POST /v1/upload/presign` with the API key, then a PUT of the bytes to the presigned URL with
 * the signed headers and no key, then `public_url` goes into `image_urls`. Nothing here is paid:
 * an item uploads before it queues for a prediction slot, so its uploads overlap the predictions
 * of the items ahead of it.
 */

type RequestData = DeclarativeRestApiSettings.ResultOptions;

/** What the output records, so a user can run again with these URLs and skip the upload. */
export interface UploadedImage {
	/** Its place among the images: 0 is @Image1. */
	index: number;
	field: string;
	fileName: string;
	publicUrl: string;
}

/** PUTs running at once in this process, across items and executions. */
const uploadSlots = new ConcurrencyLimit(MAX_CONCURRENT_UPLOADS);

/** New upload URLs asked for when the signed one had expired, before the upload gives up. */
const MAX_FRESH_PRESIGNS = 2;

const EXPIRED = Symbol('the signed upload URL had expired');

type Context = { itemIndex: number; index: number; field: string };

async function presign(
	ctx: IExecutePaginationFunctions,
	requestData: RequestData,
	image: BinaryImage,
	limits: ItemDeadline,
	context: Context,
): Promise<PresignAnswer> {
	return await retryOrGiveUp<PresignAnswer>(
		async () => {
			const answer = await sendToApi(
				ctx,
				requestData,
				{
					method: 'POST',
					url: '/v1/upload/presign',
					body: { content_type: image.mimeType, file_type: 'image' },
					timeout: requestTimeout(perRequestTimeout(ctx, 30_000), limits.deadline),
				},
				limits.signal,
			);
			const verdict = classify(answer, hosts.presign);
			if (verdict.kind === 'retry') return retryOf(verdict);
			if (verdict.kind === 'unsendable') {
				throw unsendableError(ctx.getNode(), verdict.message, context);
			}
			const { statusCode, body } = verdict.response;
			if (verdict.kind !== 'success') {
				throw apiAnswerError(ctx.getNode(), statusCode, body, context);
			}
			const parsed = presignAnswerSchema.safeParse(body);
			if (!parsed.success) {
				throw unexpectedAnswerError(
					ctx.getNode(),
					`the upload request succeeded (HTTP ${statusCode}) but gave no usable upload URL: ${asText(body) ?? 'an empty answer'}`,
					context,
				);
			}
			return { done: parsed.data };
		},
		{ ...limits, minAttempts: 3 },
		(message) => uploadFailedError(ctx.getNode(), message, context),
	);
}

/** `<Code>SignatureDoesNotMatch</Code>` of a storage error answer, when there is one. */
const storageCode = (body: unknown) => /<Code>([^<]{1,100})<\/Code>/.exec(String(body ?? ''))?.[1];

/** One PUT of the file, retried like a download; EXPIRED when the signed URL has expired. */
async function put(
	ctx: IExecutePaginationFunctions,
	ticket: PresignAnswer,
	image: BinaryImage,
	limits: ItemDeadline,
	context: Context,
): Promise<true | typeof EXPIRED> {
	const expiresAt = ticket.expires_at ? Date.parse(ticket.expires_at) : Number.NaN;
	const headers: Record<string, string> = {
		'Content-Type': image.mimeType,
		'Content-Length': String(image.bytes),
		// Verbatim, after ours: the signature covers them exactly as Eachlabs gave them.
		...Object.fromEntries(
			Object.entries(ticket.required_headers ?? {}).map(([name, value]) => [name, String(value)]),
		),
	};
	return await retryOrGiveUp<true | typeof EXPIRED>(
		async () => {
			// A fresh read for every attempt: a stream that went half-way cannot be sent again.
			const body = await openImage(ctx, image);
			const timeout = requestTimeout(perRequestTimeout(ctx, 300_000), limits.deadline, 5_000);
			const answer = await sendFile(
				ctx,
				{ url: ticket.presigned_url, headers, body },
				limits.signal,
				timeout,
			).finally(() => {
				if (!Buffer.isBuffer(body)) body.destroy();
			});
			const verdict = classify(answer, hosts.storage);
			if (verdict.kind === 'retry') return retryOf(verdict);
			if (verdict.kind === 'unsendable') {
				throw uploadFailedError(ctx.getNode(), verdict.message, context);
			}
			if (verdict.kind === 'success') return { done: true };
			const { statusCode } = verdict.response;
			const code = storageCode(verdict.response.body);
			const expired = Date.now() >= expiresAt || /expired/i.test(code ?? '');
			if ((statusCode === 403 || statusCode === 400) && expired) return { done: EXPIRED };
			throw uploadFailedError(
				ctx.getNode(),
				`the storage refused it (HTTP ${statusCode}${code ? `, ${code}` : ''})`,
				{ ...context, statusCode },
			);
		},
		{ ...limits, minAttempts: 3 },
		(message) => uploadFailedError(ctx.getNode(), message, context),
	);
}

async function uploadOne(
	ctx: IExecutePaginationFunctions,
	requestData: RequestData,
	image: BinaryImage,
	limits: ItemDeadline,
): Promise<string> {
	const context = { itemIndex: limits.itemIndex, index: image.index, field: image.field };
	const release = await uploadSlots.acquire(limits.signal);
	try {
		for (let fresh = 0; ; fresh++) {
			const ticket = await presign(ctx, requestData, image, limits, context);
			if ((await put(ctx, ticket, image, limits, context)) !== EXPIRED) return ticket.public_url;
			if (fresh >= MAX_FRESH_PRESIGNS) {
				throw uploadFailedError(
					ctx.getNode(),
					`its signed upload URL had expired each of the ${fresh + 1} times (check this machine's clock)`,
					context,
				);
			}
		}
	} finally {
		release();
	}
}

/**
 * Uploads the item's binary images (each distinct file once, a few at a time) and returns where
 * each now lives. The first failure stops the item's other uploads and fails the item.
 */
export async function uploadBinaryImages(
	ctx: IExecutePaginationFunctions,
	requestData: RequestData,
	images: BinaryImage[],
	limits: ItemDeadline,
): Promise<UploadedImage[]> {
	if (images.length === 0) return [];
	const groups = await groupBySameBytes(ctx, images);
	const controller = new AbortController();
	const stop = () => controller.abort();
	limits.signal.addEventListener('abort', stop, { once: true });
	if (limits.signal.aborted) stop();
	const own = { ...limits, signal: controller.signal };
	let urls: string[];
	try {
		urls = await Promise.all(
			groups.map(async (group) => await uploadOne(ctx, requestData, group[0], own)),
		).catch((error: unknown) => {
			controller.abort();
			// The item was stopped from outside: say so, not what the aborted uploads saw.
			return Promise.reject(limits.signal.aborted ? new CancelledError() : error);
		});
	} finally {
		limits.signal.removeEventListener('abort', stop);
	}
	const publicUrl = new Map<BinaryImage, string>();
	groups.forEach((group, at) => group.forEach((image) => publicUrl.set(image, urls[at])));
	return images.map((image) => ({
		index: image.index,
		field: image.field,
		fileName: image.fileName,
		publicUrl: publicUrl.get(image) ?? '',
	}));
}

/**
 * The routing's `image_urls` with each binary entry's placeholder replaced by the public URLs of
 * that entry's files, so the list keeps the order the user sees.
 */
export function withUploadedUrls(
	imageUrls: unknown,
	images: BinaryImage[],
	uploaded: UploadedImage[],
): unknown {
	if (!Array.isArray(imageUrls) || images.length === 0) return imageUrls;
	const urlsOf = (entry: number) =>
		images.flatMap((image, at) => (image.entry === entry ? [uploaded[at].publicUrl] : []));
	let entry = 0;
	return imageUrls.flatMap((url: unknown) =>
		typeof url === 'object' && url !== null ? urlsOf(entry++) : [url],
	);
}
