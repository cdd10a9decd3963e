import { isLocalOrPrivateHost, publicHttpsUrlProblem } from '../../nodes/KlingO1/urls';

describe('publicHttpsUrlProblem', () => {
	test.each([
		'https://storage.googleapis.com/magicpoint/inputs/kling-o1-input-1.png',
		'https://cdn.example.com/a%20b.png?sig=1',
		'  https://example.com/padded.png  ',
		'https://8.8.8.8/a.png',
		'https://172.32.0.1/a.png',
		'https://[2606:4700::1111]/a.png',
	])('accepts %s', (url) => {
		expect(publicHttpsUrlProblem(url)).toBeUndefined();
	});

	test.each([
		[undefined, 'is empty: enter its URL'],
		[42, 'is empty: enter its URL'],
		['ftp://example.com/a.png', 'must be an https:// URL (got "ftp://example.com/a.png")'],
		[
			'DATA:image/png;base64,AAAA',
			'is a data: URI; upload the image first and use its public https:// URL',
		],
		['https://', 'is not a valid URL: "https://"'],
	])('%p → %s', (url, problem) => {
		expect(publicHttpsUrlProblem(url)).toBe(problem);
	});
});

describe('isLocalOrPrivateHost', () => {
	test.each([
		'localhost',
		'LOCALHOST',
		'printer.local',
		'app.localhost',
		'localhost.',
		'127.0.0.1',
		'127.255.255.254',
		'0.0.0.0',
		'10.0.0.1',
		'172.16.0.1',
		'172.31.255.255',
		'192.168.0.1',
		'169.254.169.254',
		'100.64.0.1',
		'[::1]',
		'::',
		'[fd00::1]',
		'[fe80::1]',
		'[::ffff:7f00:1]',
		'::ffff:10.0.0.1',
	])('%s is local or private', (host) => {
		expect(isLocalOrPrivateHost(host)).toBe(true);
	});

	test.each([
		'example.com',
		'8.8.8.8',
		'172.15.0.1',
		'172.32.0.1',
		'192.169.0.1',
		'[2001:db8::1]',
		'100.128.0.1',
	])('%s is public', (host) => {
		expect(isLocalOrPrivateHost(host)).toBe(false);
	});
});
