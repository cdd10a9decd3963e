import type { IDataObject, IExecuteSingleFunctions, INodeProperties } from 'n8n-workflow';

import type { ItemCheck } from './parameters';
import { checkItem, checkValues } from './parameters';

/*
 * An Edit Image item's check from what n8n's routing has just resolved for it: the create body it
 * mapped from the fields. In n8n 2.x every expression is evaluated in an isolate and every
 * parameter read builds the execution's keys anew (milliseconds each, for every item), so reading
 * each item's parameters a second time for the check held back the first create. The fields the
 * body does not carry (Wait for Completion, the options) are taken as they are when they hold no
 * expression; otherwise the item is checked like any other, by resolving its parameters.
 */

const isObject = (value: unknown): value is IDataObject =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

const hasExpression = (value: unknown): boolean =>
	typeof value === 'string'
		? value.startsWith('=')
		: Array.isArray(value)
			? value.some(hasExpression)
			: isObject(value) && Object.values(value).some(hasExpression);

/**
 * The Images field as the routing mapped it (URLs flattened, a binary entry as
 * `{ binaryPropertyName }`), back in the shape of the node's parameters.
 */
function imagesOf(imageUrls: unknown): IDataObject {
	const entries = Array.isArray(imageUrls) ? imageUrls : [imageUrls];
	return {
		image: entries.map((entry) =>
			isObject(entry)
				? { source: 'binary', binaryPropertyName: entry.binaryPropertyName }
				: { source: 'url', url: entry },
		),
	};
}

/** Each field's value back from the key of the API's `input` its `routing.send.property` fills. */
function fieldValuesOf(input: IDataObject, fields: INodeProperties[]): IDataObject {
	const values: IDataObject = {};
	for (const field of fields) {
		const property = field.routing?.send?.property;
		if (typeof property === 'string' && property.startsWith('input.')) {
			values[field.name] = input[property.slice('input.'.length)];
		}
	}
	return values;
}

export async function checkMappedEditItem(
	ctx: IExecuteSingleFunctions,
	body: unknown,
	fields: INodeProperties[],
): Promise<ItemCheck> {
	const itemIndex = ctx.getItemIndex();
	const input = isObject(body) && isObject(body.input) ? body.input : undefined;
	const { options = {}, waitForCompletion = true } = ctx.getNode().parameters;
	if (!input || hasExpression(options) || hasExpression(waitForCompletion)) {
		return await checkItem(ctx, itemIndex);
	}
	return await checkValues(ctx, itemIndex, {
		...fieldValuesOf(input, fields),
		operation: 'editImage',
		images: imagesOf(input.image_urls),
		waitForCompletion,
		options,
	});
}
