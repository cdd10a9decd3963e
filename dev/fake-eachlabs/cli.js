#!/usr/bin/env node
'use strict';
// Standalone fake for an e2e runner or a manual try-out:
//   node dev/fake-eachlabs/cli.js [--port N] [--files-port N] [--api-key K] [--job-ms N]
//                                  [--job-jitter-ms N] [--image-bytes N] [--no-rate-limit]
// Prints ONE line of JSON ({apiUrl, filesUrl, uploadsUrl, controlUrl}) once listening, so a parent process can
// read the first stdout line and go; runs until SIGTERM / SIGINT.

const { startFakeEachlabs } = require('./index');

const USAGE =
	'usage: node dev/fake-eachlabs/cli.js [--port N] [--files-port N] [--api-key K] [--job-ms N] ' +
	'[--job-jitter-ms N] [--image-bytes N] [--no-rate-limit]';

function parseArgs(argv) {
	const options = {};
	const integer = (flag, value) => {
		const n = Number(value);
		if (value === undefined || !Number.isInteger(n) || n < 0) {
			throw new Error(`${flag} needs a non-negative integer`);
		}
		return n;
	};
	for (let i = 0; i < argv.length; i++) {
		// Accept both "--port 8080" and "--port=8080".
		const [flag, inline] = argv[i].split(/=(.*)/s, 2);
		const value = () => (inline !== undefined ? inline : argv[++i]);
		switch (flag) {
			case '--port':
				options.port = integer(flag, value());
				break;
			case '--files-port':
				options.filesPort = integer(flag, value());
				break;
			case '--api-key': {
				const key = value();
				if (!key) throw new Error('--api-key needs a value');
				options.apiKey = key;
				break;
			}
			case '--job-ms':
				options.jobMs = integer(flag, value());
				break;
			case '--job-jitter-ms':
				options.jobJitterMs = integer(flag, value());
				break;
			case '--image-bytes':
				options.imageBytes = integer(flag, value());
				break;
			case '--no-rate-limit':
				options.rateLimit = null;
				break;
			case '--help':
			case '-h':
				process.stdout.write(`${USAGE}\n`);
				process.exit(0);
				break;
			default:
				throw new Error(`unknown argument ${argv[i]}`);
		}
	}
	return options;
}

async function main() {
	let options;
	try {
		options = parseArgs(process.argv.slice(2));
	} catch (err) {
		process.stderr.write(`${err.message}\n${USAGE}\n`);
		process.exit(2);
	}
	const fake = await startFakeEachlabs(options);
	let stopping = false;
	const stop = (signal) => {
		if (stopping) return;
		stopping = true;
		fake.close().then(
			() => process.exit(0),
			(err) => {
				process.stderr.write(`fake-eachlabs: close failed after ${signal}: ${err}\n`);
				process.exit(1);
			},
		);
	};
	process.on('SIGTERM', () => stop('SIGTERM'));
	process.on('SIGINT', () => stop('SIGINT'));
	// A parent that closed our stdout must not crash us with EPIPE.
	process.stdout.on('error', () => {});
	const { apiUrl, filesUrl, uploadsUrl, controlUrl } = fake;
	process.stdout.write(`${JSON.stringify({ apiUrl, filesUrl, uploadsUrl, controlUrl })}\n`);
}

main().catch((err) => {
	process.stderr.write(`fake-eachlabs: ${err && err.stack ? err.stack : err}\n`);
	process.exit(1);
});
