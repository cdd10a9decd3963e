import {
	characterCount,
	createBodySchema,
	imageReferenceProblems,
	eachlabsErrorSchema,
	predictionAnswerSchema,
	createAnswerSchema,
	errorBodySchema,
} from '../../nodes/KlingO1/schemas';

describe('prompt rules', () => {
	test('characters are counted as a person counts them', () => {
		expect(characterCount('🐴🐴')).toBe(2);
		expect(characterCount('馬に乗せて')).toBe(5);
		expect(characterCount('abc')).toBe(3);
	});

	test.each([
		['Put @Image1 on @Image2', 2, []],
		['Make @Image brighter', 1, []],
		['Put @Image10 next to @Image1', 10, []],
		['Put @Image3 there', 2, ['Prompt refers to @Image3, but only 2 images are given']],
		['@Image0 first', 2, ['Prompt refers to @Image0, but only 2 images are given']],
		[
			'Use @Image and @Image again',
			3,
			['Prompt uses @Image, but 3 images are given: refer to them as @Image1 to @Image3'],
		],
		['No references at all', 4, []],
	])('%s with %i images', (prompt, count, problems) => {
		expect(imageReferenceProblems(prompt, count)).toEqual(problems);
	});
});

describe('create body', () => {
	const valid = {
		model: 'kling-o1',
		version: '0.0.1',
		input: {
			prompt: 'p',
			image_urls: [' https://example.com/a.png '],
			resolution: '2K',
			num_images: '3',
			aspect_ratio: '1:1',
			output_format: 'jpeg',
		},
		webhook_url: '',
	};

	test('is tidied: URLs trimmed, numbers as numbers, an empty webhook dropped', () => {
		expect(createBodySchema.parse(valid)).toEqual({
			model: 'kling-o1',
			version: '0.0.1',
			input: { ...valid.input, image_urls: ['https://example.com/a.png'], num_images: 3 },
		});
	});

	test('rejects unknown input keys and another model', () => {
		expect(
			createBodySchema.safeParse({ ...valid, input: { ...valid.input, seed: 1 } }).success,
		).toBe(false);
		expect(createBodySchema.safeParse({ ...valid, model: 'flux' }).success).toBe(false);
	});
});

describe('API answers: every documented shape', () => {
	test('create answer needs a prediction ID', () => {
		expect(createAnswerSchema.safeParse({ status: 'success', predictionID: 'abc' }).success).toBe(
			true,
		);
		expect(createAnswerSchema.safeParse({ status: 'success', message: 'ok' }).success).toBe(false);
		expect(createAnswerSchema.safeParse('<html>').success).toBe(false);
	});

	test.each([
		{ status: 'processing', output: null },
		{ status: 'created' },
		{ status: 'starting' },
		{ status: 'success', output: ['https://a/0.png'], metrics: { predict_time: 3.2, cost: 0.028 } },
		{ status: 'success', output: 'https://a/0.png', urls: { get: 'x', cancel: 'y' } },
		{ status: 'error', output: { error_code: 'PROVIDER_RATE_LIMIT', error_message: 'busy' } },
		{ status: 'error', message: 'failed', details: { reason: 'nsfw' } },
		{ status: 'failed' },
		{ status: 'cancelled', metrics: null },
	])('accepts %j', (answer) => {
		expect(predictionAnswerSchema.safeParse(answer).success).toBe(true);
	});

	test.each([{ output: [] }, { status: '' }, { status: 7 }, 'text', null])(
		'rejects %j',
		(answer) => {
			expect(predictionAnswerSchema.safeParse(answer).success).toBe(false);
		},
	);

	test.each([
		['created', 'running', undefined],
		['processing', 'running', undefined],
		['in_queue', 'running', 'in_queue'],
		['warming_up', 'running', 'warming_up'],
		['success', 'succeeded', undefined],
		['succeeded', 'succeeded', undefined],
		['Success', 'succeeded', undefined],
		['error', 'failed', undefined],
		['failed', 'failed', undefined],
		['cancelled', 'cancelled', undefined],
		['canceled', 'cancelled', undefined],
	])('status %s is %s (unknown: %s)', (status, phase, unknownStatus) => {
		expect(predictionAnswerSchema.parse({ status })).toMatchObject({ phase, unknownStatus });
	});

	test('numbers that arrive as numeric strings are read as numbers; garbage reads as absent', () => {
		const answer = predictionAnswerSchema.parse({
			status: 'success',
			output: ['https://a/0.png'],
			metrics: { predict_time: '3.2', cost: ' 0.028 ' },
		});
		expect(answer.metrics).toMatchObject({ predict_time: 3.2, cost: 0.028 });
		const odd = predictionAnswerSchema.parse({
			status: 'success',
			output: ['https://a/0.png'],
			metrics: { predict_time: 'soon', cost: {} },
		});
		expect(odd.metrics?.predict_time).toBeUndefined();
		expect(odd.metrics?.cost).toBeUndefined();
		expect(
			predictionAnswerSchema.parse({ status: 'success', metrics: 'x' }).metrics,
		).toBeUndefined();
	});

	test('image URLs: one URL or a list; null, empty and non-text entries are skipped', () => {
		const urls = (output: unknown) =>
			predictionAnswerSchema.parse({ status: 'success', output }).imageUrls;
		expect(urls('https://a')).toEqual(['https://a']);
		expect(urls(['https://a', 'https://b'])).toEqual(['https://a', 'https://b']);
		expect(urls([null, '', 'https://a', ' ', 5, { url: 'x' }, 'https://b'])).toEqual([
			'https://a',
			'https://b',
		]);
		expect(urls('')).toEqual([]);
		expect(urls({ error_code: 'X' })).toEqual([]);
		expect(urls(42)).toEqual([]);
		expect(urls(null)).toEqual([]);
	});

	test('Eachlabs’ own error bodies, and what is not one (a gateway’s page, an empty body)', () => {
		expect(eachlabsErrorSchema.safeParse({ status: 'error', message: 'Internal' }).success).toBe(
			true,
		);
		expect(eachlabsErrorSchema.safeParse({ error: 'Prediction not found' }).success).toBe(true);
		for (const body of [
			'<html>502</html>',
			'',
			undefined,
			null,
			{ message: 'Internal server error' },
		]) {
			expect(eachlabsErrorSchema.safeParse(body).success).toBe(false);
		}
	});

	test('error bodies of both shapes', () => {
		expect(errorBodySchema.parse({ status: 'error', message: 'm', details: 'd' })).toMatchObject({
			message: 'm',
			details: 'd',
		});
		expect(errorBodySchema.parse({ error: 'Prediction not found' })).toMatchObject({
			error: 'Prediction not found',
		});
	});
});
