import type { IDataObject, IExecuteSingleFunctions } from 'n8n-workflow';

import { imageReference } from './constants';
import type { BinaryImage } from './binaryInput';
import { binaryFieldsOf, checkBinaryImage, inputItemOf } from './binaryInput';
import type { EditImageParameters, GetPredictionParameters, ImageInput } from './schemas';
import { editImageSchema, getPredictionSchema, problemsOf } from './schemas';

/*
 * Reads the node's parameters for ANY item, not only the one n8n's routing is running: the node
 * checks every item before it creates a single paid prediction. Expressions are resolved with
 * the public `evaluateExpression(…, itemIndex)`, the same engine n8n uses for the request.
 * Binary images are looked up in each item's data: they must exist, be images and fit Eachlabs'
 * limit before any item uploads or creates anything.
 */

export type ItemCheck =
	| {
			ok: true;
			operation: 'editImage';
			parameters: EditImageParameters;
			/** The files to upload, in the order they appear among the images. */
			binaryImages: BinaryImage[];
	  }
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

/**
 * The Images field as a list, in the order the user sees: `images.image[]`, where a URL entry's
 * expression may return a list of URLs and a binary entry may name several fields (`data, file`).
 */
export function imageInputsOf(images: unknown): ImageInput[] {
	const entries = isObject(images) && Array.isArray(images.image) ? images.image : [];
	let binaryEntry = 0;
	return entries.flatMap((entry): ImageInput[] => {
		if (isObject(entry) && entry.source === 'binary') {
			const number = binaryEntry++;
			return binaryFieldsOf(entry.binaryPropertyName).map((field) => ({
				source: 'binary',
				entry: number,
				field,
			}));
		}
		const url = isObject(entry) ? entry.url : undefined;
		return (Array.isArray(url) ? url : [url]).map((value) => ({ source: 'url', url: value }));
	});
}

/** The files an item's binary entries name: each found, an image, and not too big. */
async function checkBinaryImages(
	ctx: IExecuteSingleFunctions,
	itemIndex: number,
	images: ImageInput[],
) {
	const binaryImages: BinaryImage[] = [];
	const problems: string[] = [];
	if (!images.some((image) => image.source === 'binary')) return { binaryImages, problems };
	const item = inputItemOf(ctx, itemIndex);
	for (const [index, image] of images.entries()) {
		if (image.source !== 'binary') continue;
		const checked = await checkBinaryImage(ctx, item, itemIndex, image, index).catch(
			(error: Error) =>
				`${imageReference(index)} (binary field "${image.field}") could not be read from n8n's binary data: ${error.message}`,
		);
		if (typeof checked === 'string') problems.push(checked);
		else binaryImages.push(checked);
	}
	return { binaryImages, problems };
}

/**
 * Resolves and validates one item's parameters: every problem, each in one sentence. The
 * parameters are resolved at once (before the first await), the item's files then checked.
 */
export async function checkItem(
	ctx: IExecuteSingleFunctions,
	itemIndex: number,
): Promise<ItemCheck> {
	const { values, problems } = resolveParameters(ctx, itemIndex);
	if (problems.length) return { ok: false, problems };
	return await checkValues(ctx, itemIndex, values);
}

/** Validates one item's resolved parameters (in the shape of the node's parameters). */
export async function checkValues(
	ctx: IExecuteSingleFunctions,
	itemIndex: number,
	values: IDataObject,
): Promise<ItemCheck> {
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
	const images = imageInputsOf(values.images);
	// The schema names the fields it checks (and drops the others, e.g. Get Prediction's).
	const parsed = editImageSchema.safeParse({ ...values, images, options });
	const files = await checkBinaryImages(ctx, itemIndex, images);
	const all = [...(parsed.success ? [] : problemsOf(parsed.error)), ...files.problems];
	return parsed.success && all.length === 0
		? {
				ok: true,
				operation: 'editImage',
				parameters: parsed.data,
				binaryImages: files.binaryImages,
			}
		: { ok: false, problems: all };
}
