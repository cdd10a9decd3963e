'use strict';
/**
 * Example 08 in a real n8n: Read Files from Disk → Kling O1 (the photo as a binary image) →
 * Write Files to Disk. The photo must reach Eachlabs' storage byte for byte through presign + PUT
 * (no API key on the upload host), the job must have fetched it (else the fake fails the
 * prediction), and the file written to disk must be exactly the image the fake served.
 */
const fs = require('fs');
const path = require('path');
const { makeImage } = require('../../dev/fake-eachlabs');

const PHOTO = makeImage({ id: 'e2e-product-photo', index: 0, format: 'png', bytes: 1_500_000 });

function helpers() {
	// Loaded lazily: checks.js is the one that owns them.
	return require('./checks').helpers;
}

const checks = {
	KlingO1Example08: {
		fake: { imageBytes: 7007 },
		prepare({ filesDir }) {
			fs.writeFileSync(path.join(filesDir, 'product.png'), PHOTO);
		},
		async check({ runData, stats, fake, filesDir }) {
			const {
				fail,
				outputOf,
				expectCount,
				expectImageItem,
				expectPaired,
				expectTraffic,
				download,
			} = helpers();
			const items = outputOf(runData, 'Kling O1');
			expectCount(items, 1, 'Kling O1');
			expectImageItem(
				items[0],
				{ format: 'png', bytes: 7007, imageIndex: 0, imageCount: 1, fake },
				'Kling O1 item 0',
			);
			expectPaired(items[0], 0, 'Kling O1 item 0');
			expectTraffic(stats, { creates: 1, downloads: 1 });

			const uploaded = items[0].json.uploadedImages;
			if (!Array.isArray(uploaded) || uploaded.length !== 1)
				fail(`uploadedImages: ${JSON.stringify(uploaded)}`);
			const [record] = uploaded;
			if (record.index !== 0 || record.field !== 'data' || record.fileName !== 'product.png')
				fail(`uploadedImages[0]: ${JSON.stringify(record)}`);
			if (!String(record.publicUrl).startsWith(`${fake.uploadsUrl}/uploads/`))
				fail(`publicUrl ${record.publicUrl} is not on the fake's upload host ${fake.uploadsUrl}`);

			if (stats.presigns !== 1 || stats.uploads !== 1)
				fail(`${stats.presigns} presigns and ${stats.uploads} PUTs, expected 1 and 1`);
			if (stats.uploadsWithKey !== 0) fail(`${stats.uploadsWithKey} PUTs carried the API key`);
			if (stats.inputFetches !== 1)
				fail(`the job fetched ${stats.inputFetches} inputs, expected 1`);
			const puts = (stats.requests || []).filter((r) => r.host === 'uploads');
			for (const put of puts) {
				const keys = Object.keys(put.headers || {}).map((h) => h.toLowerCase());
				if (keys.includes('x-api-key') || keys.includes('authorization'))
					fail(`the upload host got credentials on ${put.method} ${put.path}`);
			}
			const creates = (stats.requests || []).filter(
				(r) => r.host === 'api' && r.method === 'POST' && r.path.startsWith('/v1/prediction'),
			);
			const imageUrls = creates[0] && creates[0].body && creates[0].body.input.image_urls;
			if (JSON.stringify(imageUrls) !== JSON.stringify([record.publicUrl]))
				fail(`image_urls ${JSON.stringify(imageUrls)}, expected [${record.publicUrl}]`);
			if (!(await download(record.publicUrl)).equals(PHOTO))
				fail('the bytes on Eachlabs storage differ from product.png');

			const written = outputOf(runData, 'Write Edited Photo');
			expectCount(written, 1, 'Write Edited Photo');
			const file = path.join(filesDir, 'edited-product.png');
			if (!fs.existsSync(file)) fail(`${file} was not written`);
			const served = await download(items[0].json.imageUrl);
			if (!fs.readFileSync(file).equals(served))
				fail('edited-product.png differs from the image the fake served');
		},
	},
};

module.exports = { checks };
