import type { IDataObject, IExecuteSingleFunctions } from 'n8n-workflow';

import type { EditImageParameters, GetPredictionParameters } from './schemas';
import { editImageSchema, getPredictionSchema, problemsOf } from './schemas';

/*
 * Reads the node's parameters for ANY item, not only the one n8n's routing is running: the node
 * checks every item before it creates a single paid prediction. Expressions are resolved with
 * the public `evaluateExpression(…, itemIndex)`, the same engine n8n uses for the request.
 */

export type Operation = 'editImage' | 'getPrediction';

export type ItemCheck =
	| { ok: true; operation: 'editImage'; parameters: EditImageParameters }
	| { ok: true; operation: 'getPrediction'; parameters: GetPredictionParameters }
	| { ok: false; problems: string[] };

const isObject = (value: unknown): value is IDataObject =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

function resolveParameters(ctx: IExecuteSingleFunctions, itemIndex: number) {
	const problems: string[] = [];
	const resolve = (value: unknown, path: string): unknown => {
		if (typeof value === 'string' && value.startsWith('=')) {
			try {
				return ctx.evaluateExpression(value.slice(1), itemIndex);
			} catch (error) {
				problems.push(`The expression in ${path} failed: ${(error as Error).message}`);
				return undefined;
			}
		}
		if (Array.isArray(value))
			return value.map((entry, index) => resolve(entry, `${path} ${index + 1}`));
		if (isObject(value)) {
			return Object.fromEntries(
				Object.entries(value).map(([key, entry]) => [
					key,
					resolve(entry, path ? `${path} › ${key}` : key),
				]),
			);
		}
		return value;
	};
	const values = resolve(ctx.getNode().parameters, '') as IDataObject;
	return { values, problems };
}

/** `images.image[].url`, where one entry's expression may return a list of URLs. */
export function imageUrlsOf(images: unknown): unknown[] {
	const entries = isObject(images) && Array.isArray(images.image) ? images.image : [];
	return entries.flatMap((entry) => {
		const url = isObject(entry) ? entry.url : undefined;
		return Array.isArray(url) ? url : [url];
	});
}

/** Resolves and validates one item's parameters: every problem, each in one sentence. */
export function checkItem(ctx: IExecuteSingleFunctions, itemIndex: number): ItemCheck {
	const { values, problems } = resolveParameters(ctx, itemIndex);
	if (problems.length) return { ok: false, problems };
	const options = isObject(values.options) ? values.options : {};
	if (values.operation === 'getPrediction') {
		const parsed = getPredictionSchema.safeParse({
			predictionId: values.predictionId,
			// Version 1.1 names the field waitForResult; n8n drops the other name's value.
			waitForCompletion: values.waitForResult ?? values.waitForCompletion,
			options,
		});
		return parsed.success
			? { ok: true, operation: 'getPrediction', parameters: parsed.data }
			: { ok: false, problems: problemsOf(parsed.error) };
	}
	const parsed = editImageSchema.safeParse({
		prompt: values.prompt,
		imageUrls: imageUrlsOf(values.images),
		numImages: values.numImages,
		resolution: values.resolution,
		aspectRatio: values.aspectRatio,
		outputFormat: values.outputFormat,
		waitForCompletion: values.waitForCompletion,
		options,
	});
	return parsed.success
		? { ok: true, operation: 'editImage', parameters: parsed.data }
		: { ok: false, problems: problemsOf(parsed.error) };
}
