import type { INodeParameters } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import type { FakeEachlabs } from '../../dev/fake-eachlabs';
import { startFakeEachlabs } from '../../dev/fake-eachlabs';
import { runNode } from '../helpers/n8n';
import { editImage, getPrediction, IMAGE_1, IMAGE_2, images } from '../helpers/params';

/*
 * Every bad input is caught before any request: the exact message a user sees, the item it names,
 * and proof from the fake server that nothing (let alone a paid create) was sent.
 */

let fake: FakeEachlabs;
beforeAll(async () => {
	fake = await startFakeEachlabs({ apiKey: 'test-key' });
});
afterAll(async () => await fake.close());
beforeEach(() => fake.reset());

async function rejectionOf(parameters: INodeParameters, itemCount = 1) {
	const items = Array.from({ length: itemCount }, (_, i) => ({ json: { i } }));
	const error = await runNode({
		parameters,
		items,
		credentials: { apiKey: 'test-key', baseUrl: fake.apiUrl },
	}).then(
		() => undefined,
		(thrown: unknown) => thrown,
	);
	// n8n's declarative engine (RoutingNode) re-wraps any other error into a NodeApiError with the
	// HTTP code "none": a field error is one without an HTTP code, so n8n shows it as it is.
	expect(error).toBeInstanceOf(NodeApiError);
	expect((error as NodeApiError).httpCode).toBeNull();
	expect((error as NodeApiError).cause).toBeUndefined();
	expect(fake.requests).toHaveLength(0);
	return error as NodeApiError;
}

const eleven = Array.from({ length: 11 }, (_, i) => `https://example.com/${i}.png`);

const cases: Array<[string, INodeParameters, string]> = [
	['empty prompt', editImage({ prompt: '' }), 'Prompt is empty'],
	['whitespace prompt', editImage({ prompt: ' \n\t ' }), 'Prompt is empty'],
	[
		'prompt over 2500 characters',
		editImage({ prompt: `@Image1 ${'a'.repeat(2500)}`, images: images(IMAGE_1) }),
		'Prompt is too long: 2508 characters, the maximum is 2500',
	],
	[
		'prompt of 2501 emoji (counted as characters, not bytes)',
		editImage({ prompt: '🐴'.repeat(2501), images: images(IMAGE_1) }),
		'Prompt is too long: 2501 characters, the maximum is 2500',
	],
	[
		'no image',
		editImage({ prompt: 'Make it blue', images: { image: [] } }),
		'Images: add at least one image URL',
	],
	[
		'more than 10 images',
		editImage({ prompt: 'Blend them', images: images(...eleven) }),
		'Images: 11 images given, the maximum is 10',
	],
	['empty URL', editImage({ images: images(IMAGE_1, '') }), '@Image2 is empty: enter its URL'],
	[
		'not a URL',
		editImage({ images: images('product photo', IMAGE_2) }),
		'@Image1 is not a valid URL: "product photo"',
	],
	[
		'http URL',
		editImage({ images: images(IMAGE_1, 'http://example.com/b.png') }),
		'@Image2 must be an https:// URL (got "http://example.com/b.png")',
	],
	[
		'data URI',
		editImage({ images: images('data:image/png;base64,iVBORw0KGgo=', IMAGE_2) }),
		'@Image1 is a data: URI; upload the image first and use its public https:// URL',
	],
	...(
		[
			['localhost', 'https://localhost/a.png', 'localhost'],
			['127.x', 'https://127.1.2.3/a.png', '127.1.2.3'],
			['127.0.0.1 written as a number', 'https://2130706433/a.png', '127.0.0.1'],
			['::1', 'https://[::1]/a.png', '[::1]'],
			['0.0.0.0', 'https://0.0.0.0/a.png', '0.0.0.0'],
			['10/8', 'https://10.1.2.3/a.png', '10.1.2.3'],
			['172.16/12', 'https://172.20.0.5/a.png', '172.20.0.5'],
			['192.168/16', 'https://192.168.1.10/a.png', '192.168.1.10'],
			['169.254 link-local', 'https://169.254.169.254/latest', '169.254.169.254'],
			['IPv4-mapped IPv6', 'https://[::ffff:127.0.0.1]/a.png', '[::ffff:7f00:1]'],
		] as const
	).map(
		([name, url, host]) =>
			[
				`${name} image host`,
				editImage({ images: images(url, IMAGE_2) }),
				`@Image1 points to a local or private address (${host}), which Eachlabs cannot reach: use a public https:// URL`,
			] as [string, INodeParameters, string],
	),
	[
		'@Image3 with two images',
		editImage({ prompt: 'Put @Image3 on @Image1' }),
		'Prompt refers to @Image3, but only 2 images are given',
	],
	[
		'@Image alone with several images',
		editImage({ prompt: 'Make @Image brighter' }),
		'Prompt uses @Image, but 2 images are given: refer to them as @Image1 to @Image2',
	],
	[
		'@Image2 with one image',
		editImage({ prompt: 'Put @Image2 here', images: images(IMAGE_1) }),
		'Prompt refers to @Image2, but only 1 image is given: use @Image1 or @Image',
	],
	[
		'numImages 0',
		editImage({ numImages: 0 }),
		'Number of Images must be a whole number from 1 to 9 (got 0)',
	],
	[
		'numImages 10',
		editImage({ numImages: 10 }),
		'Number of Images must be a whole number from 1 to 9 (got 10)',
	],
	[
		'numImages 2.5',
		editImage({ numImages: 2.5 }),
		'Number of Images must be a whole number from 1 to 9 (got 2.5)',
	],
	[
		'aspect ratio from an expression',
		editImage({ aspectRatio: '={{ "5:4" }}' }),
		'Aspect Ratio "5:4" is not supported; use one of: auto, 16:9, 9:16, 1:1, 4:3, 3:4, 3:2, 2:3, 21:9',
	],
	[
		'resolution',
		editImage({ resolution: '={{ "4K" }}' }),
		'Resolution "4K" is not supported; use one of: 1K, 2K',
	],
	[
		'output format',
		editImage({ outputFormat: '={{ "gif" }}' }),
		'Output Format "gif" is not supported; use one of: png, jpeg, webp',
	],
	[
		'webhook URL that is not http(s)',
		editImage({ options: { webhookUrl: 'ftp://example.com/hook' } }),
		'Webhook URL must be an http:// or https:// URL (got "ftp://example.com/hook")',
	],
	[
		'negative timeout',
		editImage({ options: { timeoutSeconds: -5 } }),
		'Timeout (Seconds) must be a number greater than 0 (got -5)',
	],
	[
		'zero timeout',
		editImage({ options: { timeoutSeconds: 0 } }),
		'Timeout (Seconds) must be a number greater than 0 (got 0)',
	],
	[
		'zero poll interval',
		editImage({ options: { pollIntervalSeconds: 0 } }),
		'Poll Interval (Seconds) must be a number greater than 0 (got 0)',
	],
	['empty prediction ID', getPrediction('  '), 'Prediction ID is empty'],
	[
		'empty binary field name',
		editImage({ options: { binaryPropertyName: ' ' } }),
		'Put Output File in Field is empty: name the binary field, e.g. data',
	],
];

describe('bad input is refused before any request', () => {
	test.each(cases)('%s', async (_name, parameters, message) => {
		const error = await rejectionOf(parameters);
		expect(error.message).toBe(message);
		expect(error.context.itemIndex).toBe(0);
		expect(error.description).toContain('Nothing was sent to Eachlabs');
	});
});

test('several problems in one item are all listed', async () => {
	const error = await rejectionOf(editImage({ prompt: '', numImages: 12 }));
	expect(error.message).toBe('Prompt is empty (and 1 more problem)');
	expect(error.description).toBe(
		"The node's fields are wrong for item 0: Prompt is empty • Number of Images must be a whole number from 1 to 9 (got 12). Nothing was sent to Eachlabs.",
	);
});

test('one bad item among many stops the run before any paid create, naming that item', async () => {
	const error = await rejectionOf(
		editImage({ prompt: '={{ $json.i === 3 ? "" : "Put @Image1 on @Image2" }}' }),
		5,
	);
	expect(error.message).toBe('Prompt is empty');
	expect(error.context.itemIndex).toBe(3);
	expect(fake.stats().createRequests).toBe(0);
});

test('a URL expression returning an array counts as that many images', async () => {
	const urls = Array.from({ length: 11 }, (_, i) => `https://example.com/${i}.png`);
	const error = await rejectionOf(
		editImage({ prompt: 'Blend', images: { image: [{ url: `={{ ${JSON.stringify(urls)} }}` }] } }),
	);
	expect(error.message).toBe('Images: 11 images given, the maximum is 10');
});

test('with Execute Once, items n8n does not run are not checked (and do not stop the run)', async () => {
	const items = await runNode({
		parameters: editImage({ images: { image: [{ url: '={{ $json.url }}' }, { url: IMAGE_2 }] } }),
		items: [{ json: { url: IMAGE_1 } }, { json: { url: '' } }],
		credentials: { apiKey: 'test-key', baseUrl: fake.apiUrl },
		executeOnce: true,
	});
	expect(items).toHaveLength(1);
	expect(fake.stats().creates).toBe(1);
});
