'use strict';
// What the real service does first with a job: fetch every input image. The fake fetches, over
// real HTTP, each input that lives on one of its own hosts (the output host and the upload host:
// the only "public" hosts of this test world); other https URLs are taken as reachable, because
// tests run offline. An input that does not answer 200 with image bytes fails the prediction.

const http = require('http');

/** Marks the job's own fetches: the hosts neither log, count nor fault them (not the client's). */
const JOB_HEADER = 'x-fake-eachlabs-job';
const MAX_INPUT_BYTES = 110 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 30_000;

/** Image container signatures: what a model's decoder would accept. */
function sniffImage(buf) {
	if (buf.length >= 8 && buf.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))) {
		return 'image/png';
	}
	if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'image/jpeg';
	if (
		buf.length >= 12 &&
		buf.subarray(0, 4).toString('latin1') === 'RIFF' &&
		buf.subarray(8, 12).toString('latin1') === 'WEBP'
	) {
		return 'image/webp';
	}
	if (buf.length >= 6 && /^GIF8[79]a$/.test(buf.subarray(0, 6).toString('latin1'))) {
		return 'image/gif';
	}
	return null;
}

/** GETs one URL; resolves with the problem in words, or null when it is a reachable image. */
function fetchImage(ctx, url) {
	return new Promise((resolve) => {
		let settled = false;
		const done = (problem) => {
			if (settled) return;
			settled = true;
			ctx.outgoing.delete(req);
			resolve(problem);
		};
		const req = http.get(url, { agent: false, headers: { [JOB_HEADER]: '1' } }, (res) => {
			const chunks = [];
			let size = 0;
			res.on('data', (chunk) => {
				size += chunk.length;
				if (size > MAX_INPUT_BYTES) {
					req.destroy();
					done('the file is larger than the service accepts');
					return;
				}
				chunks.push(chunk);
			});
			res.on('error', () => done('the download broke off'));
			res.on('end', () => {
				if (res.statusCode !== 200) {
					done(`it answered HTTP ${res.statusCode}`);
					return;
				}
				const body = Buffer.concat(chunks);
				const type = String(res.headers['content-type'] || '')
					.split(';')[0]
					.trim();
				const sniffed = sniffImage(body);
				if (!sniffed)
					done(`it is not an image (${body.length} bytes of ${type || 'unknown type'})`);
				else if (type !== sniffed) done(`it is served as ${type || 'no type'} but is ${sniffed}`);
				else done(null);
			});
		});
		ctx.outgoing.add(req);
		req.setTimeout(FETCH_TIMEOUT_MS, () => {
			req.destroy();
			done('it did not answer in time');
		});
		req.on('error', (err) => done(`it could not be reached (${err.code || err.message})`));
	});
}

/**
 * Fetches the inputs on the fake's own hosts. Resolves with the first bad one as
 * `{ url, problem }`, or null when every input is a reachable image.
 */
async function checkInputs(ctx, imageUrls) {
	const own = [ctx.filesUrl, ctx.uploadsUrl];
	const fetched = imageUrls.filter((u) => own.includes(new URL(u).origin));
	ctx.counters.inputFetches += fetched.length;
	const problems = await Promise.all(fetched.map((url) => fetchImage(ctx, url)));
	const at = problems.findIndex((problem) => problem !== null);
	return at < 0 ? null : { url: fetched[at], problem: problems[at] };
}

const isJobFetch = (req) => req.headers[JOB_HEADER] === '1';

module.exports = { checkInputs, sniffImage, isJobFetch };
