import type {
	IBinaryData,
	IDataObject,
	IExecuteSingleFunctions,
	INodeExecutionData,
} from 'n8n-workflow';

import { PRICE_PER_IMAGE_USD } from './constants';
import { downloadFailedError, expiredImageError, unexpectedAnswerError } from './errors';
import { classify, hosts, retryOf } from './failure';
import { retryOrGiveUp } from './retry';
import type { NodeOptions, PredictionAnswer } from './schemas';
import { ConnectionFailure, fetchFile, perRequestTimeout, requestTimeout } from './transport';

/*
 * Output items: one per image (default) or one per prediction, binary data streamed from the
 * image host into n8n's binary store, with names, MIME types, costs and `pairedItem`.
 */

const formats = [
	{ ext: 'png', mimeType: 'image/png' },
	{ ext: 'jpg', mimeType: 'image/jpeg', aliases: ['jpeg'] },
	{ ext: 'webp', mimeType: 'image/webp' },
];

/** The format from the answer's Content-Type, else the URL, else what was asked for. */
export function imageFormat(contentType: unknown, url: string, requested?: string) {
	const type = String(contentType ?? '')
		.split(';')[0]
		.trim()
		.toLowerCase();
	const urlExt = /\.([a-z0-9]+)(?:$|[?#])/i.exec(url)?.[1]?.toLowerCase();
	const byName = (name?: string) =>
		formats.find((format) => format.ext === name || format.aliases?.includes(name ?? ''));
	return (
		formats.find((format) => format.mimeType === type) ??
		byName(urlExt) ??
		byName(requested) ??
		formats[0]
	);
}

export const costOf = (images: number) => Math.round(images * PRICE_PER_IMAGE_USD * 1e6) / 1e6;

interface OutputContext {
	itemIndex: number;
	predictionId: string;
	options: NodeOptions;
	requestedFormat?: string;
	warnings: string[];
	/** More fields for every item (e.g. the IDs of earlier tries' predictions). */
	extra?: IDataObject;
	deadline: number;
	signal: AbortSignal;
}

async function downloadImage(
	ctx: IExecuteSingleFunctions,
	url: string,
	imageIndex: number,
	out: OutputContext,
): Promise<IBinaryData> {
	const context = { itemIndex: out.itemIndex, predictionId: out.predictionId, imageIndex };
	return await retryOrGiveUp<IBinaryData>(
		async () => {
			const file = await fetchFile(
				ctx,
				url,
				out.signal,
				requestTimeout(perRequestTimeout(ctx, 120_000), out.deadline + 60_000),
			);
			const verdict = classify(file, hosts.images);
			if (verdict.kind === 'unsendable') {
				throw downloadFailedError(ctx.getNode(), verdict.message, context);
			}
			// An error page is not read: its stream is closed so the connection is freed.
			if (verdict.kind !== 'success' && !(file instanceof ConnectionFailure)) {
				(file.body as { destroy?: () => void } | undefined)?.destroy?.();
			}
			if (verdict.kind === 'retry') return retryOf(verdict);
			if (verdict.kind !== 'success') {
				throw expiredImageError(ctx.getNode(), verdict.response.statusCode, context);
			}
			const { headers, body } = verdict.response;
			const format = imageFormat(headers['content-type'], url, out.requestedFormat);
			const fileName = `kling-o1-${out.predictionId}-${imageIndex}.${format.ext}`;
			try {
				const binary = await ctx.helpers.prepareBinaryData(body, fileName, format.mimeType);
				return {
					done: { ...binary, fileName, fileExtension: format.ext, mimeType: format.mimeType },
				};
			} catch (error) {
				// The stream broke half-way: the next attempt starts the file again.
				return { retry: `the download broke off (${(error as Error).message})` };
			}
		},
		{ deadline: out.deadline, signal: out.signal, minAttempts: 3 },
		(message) => downloadFailedError(ctx.getNode(), message, context),
	);
}

/** The items a finished, successful prediction becomes. */
export async function successItems(
	ctx: IExecuteSingleFunctions,
	prediction: PredictionAnswer,
	out: OutputContext,
): Promise<INodeExecutionData[]> {
	const urls = prediction.imageUrls;
	if (urls.length === 0) {
		throw unexpectedAnswerError(
			ctx.getNode(),
			'the prediction succeeded but returned no images',
			out,
		);
	}
	const cost = prediction.metrics?.cost;
	const common: IDataObject = {
		predictionId: out.predictionId,
		status: 'success',
		imageCount: urls.length,
		predictTime: prediction.metrics?.predict_time ?? null,
	};
	const tail: IDataObject = {
		...(typeof cost === 'number' ? { predictionCostUsd: cost } : {}),
		...out.extra,
		...(out.warnings.length ? { warnings: out.warnings } : {}),
	};
	const pairedItem = { item: out.itemIndex };
	const { downloadImages, outputMode, binaryPropertyName } = out.options;

	if (!downloadImages || outputMode === 'allInOneItem') {
		const json = { ...common, imageUrls: urls, estimatedCostUsd: costOf(urls.length), ...tail };
		if (!downloadImages) return [{ json, pairedItem }];
		const binary: Record<string, IBinaryData> = {};
		for (const [index, url] of urls.entries()) {
			binary[`${binaryPropertyName}_${index}`] = await downloadImage(ctx, url, index, out);
		}
		return [{ json, binary, pairedItem }];
	}

	const items: INodeExecutionData[] = [];
	for (const [index, url] of urls.entries()) {
		items.push({
			json: {
				predictionId: common.predictionId,
				status: common.status,
				imageIndex: index,
				imageCount: common.imageCount,
				imageUrl: url,
				predictTime: common.predictTime,
				estimatedCostUsd: costOf(1),
				...tail,
			},
			binary: { [binaryPropertyName]: await downloadImage(ctx, url, index, out) },
			pairedItem,
		});
	}
	return items;
}
