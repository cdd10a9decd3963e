import { costOf, imageFormat } from '../../nodes/KlingO1/output';

test('image format from the answer, else the URL, else what was asked', () => {
	expect(imageFormat('image/jpeg; charset=binary', 'https://x/0.png').ext).toBe('jpg');
	expect(imageFormat('application/octet-stream', 'https://x/0.webp?sig=1').mimeType).toBe(
		'image/webp',
	);
	expect(imageFormat(undefined, 'https://x/0', 'jpeg').mimeType).toBe('image/jpeg');
	expect(imageFormat(undefined, 'https://x/0').ext).toBe('png');
});

test('costs', () => {
	expect(costOf(3)).toBe(0.084);
	expect(costOf(9)).toBe(0.252);
});
