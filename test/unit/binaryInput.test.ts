import type { IBinaryData } from 'n8n-workflow';

import { binaryFieldsOf, imageTypeOf } from '../../nodes/KlingO1/binaryInput';
import { imageInputsOf } from '../../nodes/KlingO1/parameters';
import { withUploadedUrls } from '../../nodes/KlingO1/upload';

const file = (mimeType: string, fileName?: string, fileExtension?: string) =>
	({ data: '', mimeType, fileName, fileExtension }) as IBinaryData;

describe('binaryFieldsOf', () => {
	test.each([
		['data', ['data']],
		['data, attachment_0', ['data', 'attachment_0']],
		[' a ,, b ,', ['a', 'b']],
		['', ['']],
		[undefined, ['data']],
	])('%j → %j', (value, fields) => expect(binaryFieldsOf(value)).toEqual(fields));
});

describe('imageTypeOf', () => {
	test.each([
		[file('image/png'), 'image/png'],
		[file('IMAGE/JPEG; charset=binary'), 'image/jpeg'],
		[file('image/jpg'), 'image/jpeg'],
		[file('image/webp'), 'image/webp'],
		[file('application/pdf', 'a.png'), 'application/pdf'],
		[file('application/octet-stream', 'photo.JPEG'), 'image/jpeg'],
		[file('application/octet-stream', undefined, 'webp'), 'image/webp'],
		[file('application/octet-stream', 'notes.txt'), 'application/octet-stream'],
	])('%j → %s', (binary, type) => expect(imageTypeOf(binary)).toBe(type));
});

describe('imageInputsOf and withUploadedUrls keep the order the user sees', () => {
	test('URL lists, binary entries with several fields, placeholders replaced in place', () => {
		const inputs = imageInputsOf({
			image: [
				{ url: ['https://a.example/1.png', 'https://a.example/2.png'] },
				{ source: 'binary', binaryPropertyName: 'data, extra' },
				{ source: 'url', url: 'https://a.example/3.png' },
				{ source: 'binary' },
			],
		});
		expect(inputs).toEqual([
			{ source: 'url', url: 'https://a.example/1.png' },
			{ source: 'url', url: 'https://a.example/2.png' },
			{ source: 'binary', entry: 0, field: 'data' },
			{ source: 'binary', entry: 0, field: 'extra' },
			{ source: 'url', url: 'https://a.example/3.png' },
			{ source: 'binary', entry: 1, field: 'data' },
		]);
		const images = [
			{ entry: 0, field: 'data' },
			{ entry: 0, field: 'extra' },
			{ entry: 1, field: 'data' },
		] as Parameters<typeof withUploadedUrls>[1];
		const uploaded = ['u1', 'u2', 'u3'].map((publicUrl, index) => ({
			index,
			field: '',
			fileName: '',
			publicUrl,
		}));
		// What the routing maps: URLs, and one placeholder per binary entry.
		const mapped = [
			'https://a.example/1.png',
			'https://a.example/2.png',
			{ binaryPropertyName: 'data, extra' },
			'https://a.example/3.png',
			{ binaryPropertyName: undefined },
		];
		expect(withUploadedUrls(mapped, images, uploaded)).toEqual([
			'https://a.example/1.png',
			'https://a.example/2.png',
			'u1',
			'u2',
			'https://a.example/3.png',
			'u3',
		]);
	});
});
