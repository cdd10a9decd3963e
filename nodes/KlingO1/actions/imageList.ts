import type { IDataObject, IExecuteSingleFunctions, IHttpRequestOptions } from 'n8n-workflow';

/*
 * The Images field as the API's `input.image_urls`: one list, in the order the user sees the rows.
 * A URL row's expression may return a list of URLs (each one an image); a binary row becomes a
 * placeholder `{ binaryPropertyName }` that the upload replaces with Eachlabs' public URL.
 *
 * A preSend, in code, rather than an expression in the description: n8n evaluates a routing
 * expression for every item (in n8n 2.x in an isolate, milliseconds each), before the first create.
 */

const isObject = (value: unknown): value is IDataObject =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

function imageListOf(images: unknown): unknown[] {
	const rows = isObject(images) && Array.isArray(images.image) ? images.image : [];
	return rows.flatMap((row: unknown) => {
		if (isObject(row) && row.source === 'binary') {
			return [{ binaryPropertyName: row.binaryPropertyName }];
		}
		const url = isObject(row) ? row.url : undefined;
		return Array.isArray(url) ? url : [url];
	});
}

export async function mapImageList(
	this: IExecuteSingleFunctions,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	const body = requestOptions.body;
	if (isObject(body) && isObject(body.input) && 'image_urls' in body.input) {
		body.input.image_urls = imageListOf(body.input.image_urls);
	}
	return requestOptions;
}
