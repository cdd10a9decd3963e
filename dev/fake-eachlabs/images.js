'use strict';
// Output images. Each starts with its format's real container header (so content sniffers and
// n8n's binary helpers recognise it) and is padded with seeded noise to the requested size inside
// a chunk/segment that decoders skip. The PNG is even decodable (a small gradient), so demo output
// opens in an image viewer. Content depends only on (id, index, format, size): tests can compare.

const zlib = require('zlib');

const FORMATS = {
	png: { ext: 'png', mime: 'image/png' },
	jpeg: { ext: 'jpg', mime: 'image/jpeg' },
	webp: { ext: 'webp', mime: 'image/webp' },
};
const EXT_TO_FORMAT = { png: 'png', jpg: 'jpeg', webp: 'webp' };

// Pixel size of the decodable PNG and of the WebP canvas header.
const SIDE = 64;

let crcTable;
/** CRC-32 as PNG wants it; zlib.crc32 only exists from Node 20.15 / 22.2. */
function crc32(buf, prev = 0) {
	// Node's zlib.crc32 answers 0 for an empty view of an empty ArrayBuffer, whatever `prev` is.
	if (buf.length === 0) return prev >>> 0;
	if (typeof zlib.crc32 === 'function') return zlib.crc32(buf, prev);
	if (!crcTable) {
		crcTable = new Uint32Array(256);
		for (let n = 0; n < 256; n++) {
			let c = n;
			for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
			crcTable[n] = c >>> 0;
		}
	}
	let crc = ~prev >>> 0;
	for (let i = 0; i < buf.length; i++) crc = crcTable[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
	return ~crc >>> 0;
}

function fnv1a(text) {
	let h = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return h >>> 0;
}

/** `n` bytes of mulberry32 noise; inlined loop because a 7 MB image is ~1.75 M words. */
function noise(n, seed) {
	const words = new Uint32Array(Math.ceil(n / 4));
	let a = seed >>> 0;
	for (let i = 0; i < words.length; i++) {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		words[i] = (t ^ (t >>> 14)) >>> 0;
	}
	return Buffer.from(words.buffer, 0, n);
}

function pngChunk(type, data) {
	const head = Buffer.alloc(8);
	head.writeUInt32BE(data.length, 0);
	head.write(type, 4, 'latin1');
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))), 0);
	return Buffer.concat([head, data, crc]);
}

function png(size, seed) {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(SIDE, 0);
	ihdr.writeUInt32BE(SIDE, 4);
	ihdr[8] = 8; // bit depth
	ihdr[9] = 2; // truecolour RGB
	// A diagonal gradient whose colours come from the seed: images differ visibly per output.
	const [r0, g0, b0] = [seed & 0xff, (seed >>> 8) & 0xff, (seed >>> 16) & 0xff];
	// Rows use PNG filter 1 (Sub): each byte is the difference to the pixel on its left, which
	// for a linear gradient is constant, so the IDAT stays tiny.
	const raw = Buffer.alloc(SIDE * (SIDE * 3 + 1));
	for (let y = 0; y < SIDE; y++) {
		const row = y * (SIDE * 3 + 1);
		raw[row] = 1;
		raw[row + 1] = r0;
		raw[row + 2] = (g0 + y * 4) & 0xff;
		raw[row + 3] = (b0 + y * 2) & 0xff;
		for (let x = 1; x < SIDE; x++) {
			const p = row + 1 + x * 3;
			raw[p] = 4;
			raw[p + 1] = 0;
			raw[p + 2] = 2;
		}
	}
	const head = Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		pngChunk('IHDR', ihdr),
		pngChunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
	]);
	const iend = pngChunk('IEND', Buffer.alloc(0));
	// 'faKe' is an ancillary, private, safe-to-copy chunk: viewers skip it.
	const padLen = Math.max(0, size - head.length - iend.length - 12);
	return Buffer.concat([head, pngChunk('faKe', noise(padLen, seed)), iend]);
}

function jpeg(size, seed) {
	// SOI + JFIF APP0, then COM segments (at most 65533 payload bytes each) carry the padding.
	const head = Buffer.from([
		0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
		0x00, 0x01, 0x00, 0x00,
	]);
	const eoi = Buffer.from([0xff, 0xd9]);
	let remaining = Math.max(0, size - head.length - eoi.length);
	const pad = noise(remaining, seed);
	const parts = [head];
	let offset = 0;
	while (remaining >= 4) {
		let payload = Math.min(65533, remaining - 4);
		// Never leave 1-3 bytes that cannot form a segment of their own.
		const left = remaining - 4 - payload;
		if (left > 0 && left < 4) payload -= 4;
		const marker = Buffer.from([0xff, 0xfe, 0, 0]);
		marker.writeUInt16BE(payload + 2, 2);
		parts.push(marker, pad.subarray(offset, offset + payload));
		offset += payload;
		remaining -= payload + 4;
	}
	// JPEG allows 0xFF fill bytes before any marker.
	if (remaining > 0) parts.push(Buffer.alloc(remaining, 0xff));
	parts.push(eoi);
	return Buffer.concat(parts);
}

function webp(size, seed) {
	const total = Math.max(size, 64);
	const head = Buffer.alloc(30);
	head.write('RIFF', 0, 'latin1');
	head.writeUInt32LE(total - 8, 4);
	head.write('WEBPVP8X', 8, 'latin1');
	head.writeUInt32LE(10, 16);
	// flags 0, 3 reserved bytes, then canvas width-1 and height-1 as 24-bit little endian.
	head.writeUIntLE(SIDE - 1, 24, 3);
	head.writeUIntLE(SIDE - 1, 27, 3);
	const room = total - head.length;
	// RIFF chunks are padded to even sizes: an odd payload carries one pad byte.
	const n = (room - 8) % 2 === 0 ? room - 8 : room - 9;
	const chunkHead = Buffer.alloc(8);
	chunkHead.write('fAKe', 0, 'latin1');
	chunkHead.writeUInt32LE(n, 4);
	const tail = Buffer.alloc(room - 8 - n);
	return Buffer.concat([head, chunkHead, noise(n, seed), tail]);
}

/**
 * The bytes of one output image. Never smaller than its container needs (~64 bytes, ~0.3 KB png).
 * @param {{ id: string, index: number, format?: 'png'|'jpeg'|'webp', bytes?: number }} spec
 * @returns {Buffer}
 */
function makeImage(spec) {
	const format = spec.format || 'png';
	const size = Math.max(64, Math.floor(spec.bytes ?? 2048));
	const seed = fnv1a(`${spec.id}/${spec.index}/${format}`);
	if (format === 'png') return png(size, seed);
	if (format === 'jpeg') return jpeg(size, seed);
	if (format === 'webp') return webp(size, seed);
	throw new TypeError(`makeImage: unknown format ${format}`);
}

module.exports = { makeImage, FORMATS, EXT_TO_FORMAT, fnv1a };
