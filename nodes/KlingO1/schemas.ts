import { z } from 'zod';

import {
	ASPECT_RATIOS,
	DEFAULT_TIMEOUT_SECONDS,
	imageReference,
	MAX_IMAGES,
	MAX_NUM_IMAGES,
	MAX_PROMPT_CHARACTERS,
	MIN_NUM_IMAGES,
	MODEL,
	OUTPUT_FORMATS,
	RESOLUTIONS,
} from './constants';
import type { BinaryImageInput } from './binaryInput';
import { publicHttpsUrlProblem } from './urls';

/*
 * Two kinds of schema live here:
 * - the node's own parameters, checked for every item before any paid request, with messages that
 *   name the field as the user sees it;
 * - the API's bodies and answers, so a drifted mapping or an unexpected answer fails clearly.
 */

const quote = (value: unknown) => JSON.stringify(value) ?? String(value);

/** Characters as a person counts them: an emoji or a CJK character is one. */
export const characterCount = (text: string) => [...text].length;

const oneOf = <T extends readonly string[]>(values: T, field: string) =>
	z.unknown().superRefine((value, ctx) => {
		if (!values.includes(value as string)) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				message: `${field} ${quote(value)} is not supported; use one of: ${values.join(', ')}`,
			});
		}
	}) as unknown as z.ZodType<T[number]>;

/** `@Image3` with two images, or `@Image` with several, makes the API fail after it is paid. */
export function imageReferenceProblems(prompt: string, imageCount: number): string[] {
	const problems: string[] = [];
	for (const match of prompt.matchAll(/@Image(\d*)/g)) {
		const number = match[1] === '' ? undefined : Number(match[1]);
		if (number === undefined) {
			if (imageCount > 1) {
				problems.push(
					`Prompt uses @Image, but ${imageCount} images are given: refer to them as @Image1 to @Image${imageCount}`,
				);
			}
		} else if (number < 1 || number > imageCount) {
			problems.push(
				imageCount === 1
					? `Prompt refers to @Image${match[1]}, but only 1 image is given: use @Image1 or @Image`
					: `Prompt refers to @Image${match[1]}, but only ${imageCount} images are given`,
			);
		}
	}
	return [...new Set(problems)];
}

const promptSchema = z.unknown().transform((value, ctx) => {
	if (typeof value !== 'string' || value.trim() === '') {
		ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'Prompt is empty' });
		return z.NEVER;
	}
	const count = characterCount(value);
	if (count > MAX_PROMPT_CHARACTERS) {
		ctx.addIssue({
			code: z.ZodIssueCode.custom,
			message: `Prompt is too long: ${count} characters, the maximum is ${MAX_PROMPT_CHARACTERS}`,
		});
	}
	return value;
});

/** One reference image as the Images field lists it: a typed URL, or a file of the item. */
export type ImageInput = { source: 'url'; url: unknown } | BinaryImageInput;

/**
 * The images in the order the user sees them (so @Image1 … mean what they show). Typed URLs must
 * be public https URLs; binary files are checked against the item's data in `binaryInput.ts`.
 */
const imagesSchema = z.array(z.custom<ImageInput>()).transform((images, ctx) => {
	if (images.length === 0) {
		ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'Images: add at least one image URL' });
	} else if (images.length > MAX_IMAGES) {
		ctx.addIssue({
			code: z.ZodIssueCode.custom,
			message: `Images: ${images.length} images given, the maximum is ${MAX_IMAGES}`,
		});
	}
	return images.map((image, index): ImageInput => {
		if (image.source === 'binary') return image;
		const problem = publicHttpsUrlProblem(image.url);
		if (problem) {
			ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${imageReference(index)} ${problem}` });
		}
		return { source: 'url', url: typeof image.url === 'string' ? image.url.trim() : '' };
	});
});

const numImagesSchema = z.unknown().transform((value, ctx) => {
	const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
	if (
		typeof number !== 'number' ||
		!Number.isInteger(number) ||
		number < MIN_NUM_IMAGES ||
		number > MAX_NUM_IMAGES
	) {
		ctx.addIssue({
			code: z.ZodIssueCode.custom,
			message: `Number of Images must be a whole number from ${MIN_NUM_IMAGES} to ${MAX_NUM_IMAGES} (got ${quote(value)})`,
		});
		return z.NEVER;
	}
	return number;
});

const positiveSeconds = (field: string) =>
	z.unknown().transform((value, ctx) => {
		const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
		if (typeof number !== 'number' || !Number.isFinite(number) || number <= 0) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				message: `${field} must be a number greater than 0 (got ${quote(value)})`,
			});
			return z.NEVER;
		}
		return number;
	});

const webhookUrlSchema = z.unknown().transform((value, ctx) => {
	if (value === undefined || value === null || value === '') return undefined;
	let protocol = '';
	try {
		protocol = new URL(String(value).trim()).protocol;
	} catch {}
	if (protocol !== 'http:' && protocol !== 'https:') {
		ctx.addIssue({
			code: z.ZodIssueCode.custom,
			message: `Webhook URL must be an http:// or https:// URL (got ${quote(value)})`,
		});
		return z.NEVER;
	}
	return String(value).trim();
});

/** The Options collection, shared by both operations. */
const optionsSchema = z.object({
	downloadImages: z.boolean().default(true),
	binaryPropertyName: z
		.unknown()
		.default('data')
		.transform((value, ctx) => {
			const name = typeof value === 'string' ? value.trim() : '';
			if (!name) {
				ctx.addIssue({
					code: z.ZodIssueCode.custom,
					message: 'Put Output File in Field is empty: name the binary field, e.g. data',
				});
			}
			return name;
		}),
	outputMode: oneOf(['imagePerItem', 'allInOneItem'] as const, 'Output Mode').default(
		'imagePerItem',
	),
	pollIntervalSeconds: positiveSeconds('Poll Interval (Seconds)').optional(),
	timeoutSeconds: positiveSeconds('Timeout (Seconds)').default(DEFAULT_TIMEOUT_SECONDS),
	webhookUrl: webhookUrlSchema.optional(),
});

export const editImageSchema = z
	.object({
		prompt: promptSchema,
		images: imagesSchema,
		numImages: numImagesSchema.default(1),
		resolution: oneOf(RESOLUTIONS, 'Resolution').default('1K'),
		aspectRatio: oneOf(ASPECT_RATIOS, 'Aspect Ratio').default('auto'),
		outputFormat: oneOf(OUTPUT_FORMATS, 'Output Format').default('png'),
		waitForCompletion: z.boolean().default(true),
		options: optionsSchema,
	})
	.superRefine((input, ctx) => {
		if (typeof input.prompt !== 'string' || input.images.length === 0) return;
		for (const message of imageReferenceProblems(input.prompt, input.images.length)) {
			ctx.addIssue({ code: z.ZodIssueCode.custom, message });
		}
	});

export const getPredictionSchema = z.object({
	predictionId: z.unknown().transform((value, ctx) => {
		const id = typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '';
		if (!id) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				message: 'Prediction ID is empty',
			});
		}
		return id;
	}),
	waitForCompletion: z.boolean().default(true),
	options: optionsSchema,
});

export type NodeOptions = z.output<typeof optionsSchema>;
export type EditImageParameters = z.output<typeof editImageSchema>;
export type GetPredictionParameters = z.output<typeof getPredictionSchema>;

/**
 * The create body exactly as the API takes it, checked and tidied (URLs trimmed, numbers as
 * numbers, an empty webhook dropped) on the body the routing built from the fields.
 */
export const createBodySchema = z.object({
	model: z.literal(MODEL),
	version: z.string(),
	input: z
		.object({
			prompt: z.string().min(1),
			image_urls: z
				.array(
					z
						.string()
						.transform((url) => url.trim())
						.pipe(z.string().url()),
				)
				.min(1)
				.max(MAX_IMAGES),
			resolution: z.enum(RESOLUTIONS),
			num_images: z.coerce.number().int().min(MIN_NUM_IMAGES).max(MAX_NUM_IMAGES),
			aspect_ratio: z.enum(ASPECT_RATIOS),
			output_format: z.enum(OUTPUT_FORMATS),
		})
		.strict(),
	webhook_url: z
		.string()
		.optional()
		.transform((url) => url?.trim() || undefined),
});

// ---- API answers (every documented shape; see the addendum of the API reference) ----

export const createAnswerSchema = z
	.object({ predictionID: z.string().min(1), status: z.string().optional() })
	.passthrough();

const RUNNING_STATUSES = ['created', 'starting', 'processing', 'queued'] as const;
const SUCCESS_STATUSES = ['success', 'succeeded'] as const;
const FAILED_STATUSES = ['error', 'failed'] as const;
const CANCELLED_STATUSES = ['cancelled', 'canceled'] as const;

/**
 * Where a prediction is in its life. Eachlabs adds statuses over time (a fallback chain keeps a
 * job running under new names), so anything that is not a known end is still running: failing a
 * paid job on a word the node has not seen would lose it.
 */
export type PredictionPhase = 'running' | 'succeeded' | 'failed' | 'cancelled';

const phases: Array<[readonly string[], PredictionPhase]> = [
	[SUCCESS_STATUSES, 'succeeded'],
	[FAILED_STATUSES, 'failed'],
	[CANCELLED_STATUSES, 'cancelled'],
	[RUNNING_STATUSES, 'running'],
];

function phaseOf(status: string): { phase: PredictionPhase; known: boolean } {
	const word = status.trim().toLowerCase();
	const match = phases.find(([statuses]) => statuses.includes(word));
	return match ? { phase: match[1], known: true } : { phase: 'running', known: false };
}

/** A number, also when it arrives as a numeric string ("3.2"); anything else reads as absent. */
const numberLike = z
	.preprocess(
		(value) =>
			typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
				? Number(value)
				: value,
		z.number().finite().nullable().optional(),
	)
	.catch(undefined);

const outputErrorSchema = z
	.object({ error_code: z.string().optional(), error_message: z.string().optional() })
	.passthrough();

/** The image URLs of `output`: one URL, or a list in which null or empty entries are skipped. */
function imageUrlsOf(output: unknown): string[] {
	const entries = Array.isArray(output) ? output : [output];
	return entries
		.filter((entry): entry is string => typeof entry === 'string')
		.map((url) => url.trim())
		.filter(Boolean);
}

export const predictionAnswerSchema = z
	.object({
		status: z.string().min(1),
		predictionID: z.string().optional(),
		// An unexpected shape reads as "no images", which fails a finished prediction naming its ID.
		output: z
			.union([z.string(), z.array(z.unknown()), outputErrorSchema, z.null()])
			.optional()
			.catch(undefined),
		metrics: z
			.object({ predict_time: numberLike, cost: numberLike })
			.passthrough()
			.nullable()
			.optional()
			.catch(undefined),
		message: z.unknown().optional(),
		details: z.unknown().optional(),
		error: z.unknown().optional(),
	})
	.passthrough()
	.transform((answer) => {
		const { phase, known } = phaseOf(answer.status);
		return {
			...answer,
			phase,
			/** The status, when the node does not know it (it is then treated as running). */
			unknownStatus: known ? undefined : answer.status,
			imageUrls: imageUrlsOf(answer.output),
		};
	});
export type PredictionAnswer = z.output<typeof predictionAnswerSchema>;

/**
 * Eachlabs' own error body. A 5xx that carries one comes from Eachlabs' application, which made
 * nothing; any other 5xx (a gateway's HTML page, an empty body, a proxy's JSON) may have come
 * after the prediction was created.
 */
export const eachlabsErrorSchema = z.union([
	z.object({ status: z.literal('error'), message: z.string() }).passthrough(),
	z.object({ error: z.string().min(1) }).passthrough(),
]);

/**
 * The answer of `POST /v1/upload/presign`: where to PUT the file, the headers the signature
 * covers, and the public URL the file then has.
 */
export const presignAnswerSchema = z
	.object({
		presigned_url: z.string().url(),
		public_url: z.string().url(),
		expires_at: z.string().optional(),
		required_headers: z.record(z.union([z.string(), z.number()])).optional(),
	})
	.passthrough();
export type PresignAnswer = z.output<typeof presignAnswerSchema>;

/** Error bodies come as `{status, message, details}` or `{error}`: keep whichever text is there. */
export const errorBodySchema = z
	.object({ message: z.unknown(), details: z.unknown(), error: z.unknown() })
	.partial()
	.passthrough();

/** Turns zod's issues into the sentences above, one per problem. */
export const problemsOf = (error: z.ZodError) =>
	error.issues.map((issue) =>
		issue.code === z.ZodIssueCode.custom
			? issue.message
			: `${issue.path.join('.') || 'Value'}: ${issue.message}`,
	);
