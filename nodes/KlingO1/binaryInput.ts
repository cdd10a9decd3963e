import { createHash } from 'crypto';
import type { IBinaryData, IExecuteSingleFunctions, INodeExecutionData } from 'n8n-workflow';

import { imageReference, INPUT_IMAGE_TYPES, MAX_UPLOAD_BYTES } from './constants';

/*
 * The files an item holds as binary data, as reference images: which field, whether it is an
 * image Eachlabs takes and how big it is (checked for every item before anything is paid), and
 * its bytes when it is uploaded. Bytes are read with n8n's helpers, so this works in every binary
 * mode: a stream from n8n's store (filesystem, database, S3) or the item's own data (in memory).
 */

/** One binary image an Images entry names (an entry may name several fields, comma-separated). */
export interface BinaryImageInput {
	source: 'binary';
	/** Which binary entry of Images (0-based, counting binary entries only) names it. */
	entry: number;
	field: string;
}

/** A binary image that passed the checks. */
export interface BinaryImage extends BinaryImageInput {
	/** Its place among all images (0-based): @Image{index + 1} in the prompt. */
	index: number;
	fileName: string;
	/** The image type, normalised (image/jpg → image/jpeg): the upload's Content-Type. */
	mimeType: string;
	bytes: number;
	binary: IBinaryData;
	/** Found under `item.binary` (n8n's separate binary mode) rather than `json._files`. */
	inBinaryField: boolean;
}

/** `data, attachment_0` → ['data', 'attachment_0']; an empty text names one empty field. */
export function binaryFieldsOf(value: unknown): string[] {
	const fields = String(value ?? 'data')
		.split(',')
		.map((field) => field.trim())
		.filter(Boolean);
	return fields.length ? fields : [''];
}

/**
 * An input item of this run. The item being run comes from n8n's own accessor; the others (which
 * the pre-flight checks too) from the run's execute data, which holds every input item.
 */
export function inputItemOf(
	ctx: IExecuteSingleFunctions,
	itemIndex: number,
): INodeExecutionData | undefined {
	if (itemIndex === ctx.getItemIndex()) return ctx.getInputData();
	return ctx.getExecuteData()?.data?.main?.[0]?.[itemIndex] ?? undefined;
}

const isBinary = (value: unknown): value is IBinaryData =>
	typeof value === 'object' &&
	value !== null &&
	typeof (value as IBinaryData).mimeType === 'string' &&
	(typeof (value as IBinaryData).data === 'string' ||
		typeof (value as IBinaryData).id === 'string');

/** The binary data under `field`: `item.binary` (the default), or `json._files` (combined mode). */
function findBinary(item: INodeExecutionData | undefined, field: string) {
	const separate = item?.binary?.[field];
	if (separate) return { binary: separate, inBinaryField: true };
	const combined = (item?.json?._files as Record<string, unknown> | undefined)?.[field];
	return isBinary(combined) ? { binary: combined, inBinaryField: false } : undefined;
}

function binaryFieldNames(item: INodeExecutionData | undefined): string[] {
	const combined = item?.json?._files;
	return [
		...Object.keys(item?.binary ?? {}),
		...(combined && typeof combined === 'object' ? Object.keys(combined) : []),
	];
}

const byExtension: Record<string, string> = {
	png: 'image/png',
	jpg: 'image/jpeg',
	jpeg: 'image/jpeg',
	webp: 'image/webp',
};

/**
 * The image type of a file: its MIME type, with `image/jpg` read as JPEG. Only when the MIME type
 * says nothing (octet-stream, as some servers send for any download) does the extension decide.
 */
export function imageTypeOf(binary: IBinaryData): string {
	const type = String(binary.mimeType ?? '')
		.split(';')[0]
		.trim()
		.toLowerCase();
	if (type === 'image/jpg' || type === 'image/pjpeg') return 'image/jpeg';
	if (type && type !== 'application/octet-stream' && type !== 'binary/octet-stream') return type;
	const extension = (binary.fileExtension ?? /\.([^.]+)$/.exec(binary.fileName ?? '')?.[1] ?? '')
		.toString()
		.toLowerCase();
	return byExtension[extension] ?? type;
}

/** The exact size: n8n records it when it stores a file; older data is asked for or measured. */
async function sizeOf(ctx: IExecuteSingleFunctions, binary: IBinaryData): Promise<number> {
	if (typeof binary.bytes === 'number') return binary.bytes;
	if (binary.id) return (await ctx.helpers.getBinaryMetadata(binary.id)).fileSize;
	return Buffer.byteLength(binary.data ?? '', 'base64');
}

const megabytes = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;

/**
 * Checks one binary image of an item: the image, or the problem as one sentence that names the
 * image, the field and what to do.
 */
export async function checkBinaryImage(
	ctx: IExecuteSingleFunctions,
	item: INodeExecutionData | undefined,
	itemIndex: number,
	input: BinaryImageInput,
	index: number,
): Promise<BinaryImage | string> {
	const image = imageReference(index);
	if (!input.field) {
		return `${image}: Input Binary Field is empty: name the binary field that holds the image, e.g. data`;
	}
	const found = findBinary(item, input.field);
	if (!found) {
		const present = binaryFieldNames(item);
		return present.length
			? `${image}: item ${itemIndex} has no binary field "${input.field}"; its binary fields are: ${present.join(', ')}`
			: `${image}: item ${itemIndex} has no binary field "${input.field}" (the item holds no binary data at all)`;
	}
	const named = `${image} (binary field "${input.field}")`;
	const mimeType = imageTypeOf(found.binary);
	if (!INPUT_IMAGE_TYPES[mimeType]) {
		return `${named} is ${mimeType ? `of type ${mimeType}` : 'of an unknown type'}, which Kling O1 cannot use: give it a PNG, JPEG or WebP image`;
	}
	const bytes = await sizeOf(ctx, found.binary);
	if (bytes === 0) return `${named} is an empty file (0 bytes)`;
	if (bytes > MAX_UPLOAD_BYTES) {
		return `${named} is ${megabytes(bytes)} (${bytes} bytes); Eachlabs takes files of up to ${megabytes(MAX_UPLOAD_BYTES)}`;
	}
	const fileName =
		found.binary.fileName ?? `image-${index + 1}.${INPUT_IMAGE_TYPES[mimeType] ?? 'bin'}`;
	return { ...input, index, fileName, mimeType, bytes, ...found };
}

/** Read size of a stored file: big enough that a 7 MB upload is a few dozen writes, not a hundred. */
const READ_CHUNK_BYTES = 1024 * 1024;

type ImageBody =
	Buffer | Awaited<ReturnType<IExecuteSingleFunctions['helpers']['getBinaryStream']>>;

/**
 * The image's bytes, read through n8n's helpers: a stream from n8n's binary store when the data
 * has an id (never the whole file in memory), else the data the item already holds in memory.
 * Call it from the item's own run: n8n's helpers read the item being run.
 */
export async function openImage(
	ctx: IExecuteSingleFunctions,
	image: BinaryImage,
): Promise<ImageBody> {
	const binary = image.inBinaryField ? ctx.helpers.assertBinaryData(image.field) : image.binary;
	if (binary.id) return await ctx.helpers.getBinaryStream(binary.id, READ_CHUNK_BYTES);
	return image.inBinaryField
		? await ctx.helpers.getBinaryDataBuffer(image.field)
		: Buffer.from(binary.data, 'base64');
}

/** A digest of the image's bytes, streamed: tells apart files that only look alike. */
async function digestOf(ctx: IExecuteSingleFunctions, image: BinaryImage): Promise<string> {
	const body = await openImage(ctx, image);
	const hash = createHash('sha256');
	if (Buffer.isBuffer(body)) return hash.update(body).digest('hex');
	for await (const chunk of body) hash.update(chunk as Buffer);
	return hash.digest('hex');
}

/**
 * The item's images grouped by their bytes: the same file named twice (or two fields holding the
 * same bytes) is uploaded once. Only files of equal size are read to compare them.
 */
export async function groupBySameBytes(
	ctx: IExecuteSingleFunctions,
	images: BinaryImage[],
): Promise<BinaryImage[][]> {
	const identity = (image: BinaryImage) =>
		image.binary.id ? `id:${image.binary.id}` : `data:${image.binary.data}`;
	const bySize = new Map<number, BinaryImage[]>();
	for (const image of images) bySize.set(image.bytes, [...(bySize.get(image.bytes) ?? []), image]);
	const groups = new Map<string, BinaryImage[]>();
	const digests = new Map<string, string>();
	for (const [bytes, sameSize] of bySize) {
		const distinct = new Set(sameSize.map(identity)).size;
		for (const image of sameSize) {
			let key = `size:${bytes}`;
			if (distinct > 1) {
				const id = identity(image);
				if (!digests.has(id)) digests.set(id, await digestOf(ctx, image));
				key = `sha256:${digests.get(id)}`;
			}
			groups.set(key, [...(groups.get(key) ?? []), image]);
		}
	}
	return [...groups.values()];
}
