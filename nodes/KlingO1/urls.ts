/**
 * Eachlabs fetches input images itself, so only public https URLs work: the API rejects data URIs
 * and local addresses after the request, so the node says it before spending anything.
 * Returns the end of a sentence that starts with "Image N", or undefined when the URL is fine.
 */
export function publicHttpsUrlProblem(value: unknown): string | undefined {
	if (typeof value !== 'string' || value.trim() === '') return 'is empty: enter its URL';
	const text = value.trim();
	if (/^data:/i.test(text)) {
		return 'is a data: URI; upload the image first and use its public https:// URL';
	}
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		return `is not a valid URL: ${JSON.stringify(text)}`;
	}
	if (url.protocol !== 'https:') {
		return `must be an https:// URL (got ${JSON.stringify(text)})`;
	}
	if (isLocalOrPrivateHost(url.hostname)) {
		return `points to a local or private address (${url.hostname}), which Eachlabs cannot reach: use a public https:// URL`;
	}
	return undefined;
}

/** `URL` has already turned 2130706433 or 0x7f.1 into 127.0.0.1, so dotted quads suffice. */
export function isLocalOrPrivateHost(hostname: string): boolean {
	const host = hostname
		.toLowerCase()
		.replace(/^\[|\]$/g, '')
		.replace(/\.$/, '');
	if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local')) return true;
	if (host.includes(':')) return isLocalIpv6(host);
	const quad = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
	if (!quad) return false;
	const [a, b] = [Number(quad[1]), Number(quad[2])];
	return (
		a === 0 ||
		a === 10 ||
		a === 127 ||
		(a === 100 && b >= 64 && b <= 127) ||
		(a === 169 && b === 254) ||
		(a === 172 && b >= 16 && b <= 31) ||
		(a === 192 && b === 168)
	);
}

function isLocalIpv6(host: string): boolean {
	if (host === '::' || host === '::1') return true;
	const mapped = /^::ffff:(.+)$/.exec(host);
	if (mapped) {
		const tail = mapped[1];
		if (tail.includes('.')) return isLocalOrPrivateHost(tail);
		// URL writes ::ffff:127.0.0.1 as ::ffff:7f00:1
		const [high, low] = tail.split(':').map((part) => parseInt(part, 16));
		return isLocalOrPrivateHost(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
	}
	return /^f[cd][0-9a-f]{2}:/.test(host) || /^fe[89ab][0-9a-f]:/.test(host);
}
