/**
 * n8n's publishing gate, offline: the lint half of `@n8n/scan-community-package` (its own
 * `analyzePackage` with its own config, `buildScanConfig`) over what the scanner lints after a
 * publish: the source (package.json and {nodes,credentials}/**\/*.{js,ts,json}, as the scanner
 * does on the commit the npm provenance points at) and the packed tarball (its compiled .js and
 * package.json). The provenance half needs a published version; the publish workflow provides it
 * (`npm publish --provenance`). Run after `npm run build`; exits non-zero on any error.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
	analyzePackage,
	SOURCE_FILE_PATTERNS,
} from '@n8n/scan-community-package/scanner/scanner.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const scanner = JSON.parse(
	fs.readFileSync(path.join(root, 'node_modules/@n8n/scan-community-package/package.json'), 'utf8'),
);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kling-o1-scan-'));
let failed = false;
try {
	const [packed] = JSON.parse(
		execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
			cwd: root,
			encoding: 'utf8',
		}),
	);
	const unpacked = path.join(work, 'package');
	fs.mkdirSync(unpacked);
	execFileSync('tar', [
		'-xzf',
		path.join(work, packed.filename),
		'-C',
		unpacked,
		'--strip-components=1',
	]);

	// An unbuilt package would pass vacuously: the tarball must hold what the n8n section names.
	const { n8n } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
	const missing = [...n8n.nodes, ...n8n.credentials].filter(
		(file) => !fs.existsSync(path.join(unpacked, file)),
	);
	if (missing.length) throw new Error(`the tarball lacks ${missing.join(', ')}: run npm run build`);
	const jsFiles = packed.files.filter((file) => file.path.endsWith('.js')).length;

	const legs = [
		{ name: 'source', dir: root, patterns: SOURCE_FILE_PATTERNS },
		{
			name: `tarball ${packed.filename} (${jsFiles} .js files)`,
			dir: unpacked,
			patterns: ['**/*.js', 'package.json'],
		},
	];
	for (const leg of legs) {
		const result = await analyzePackage(leg.dir, leg.patterns);
		const verdict = result.passed ? 'passed' : `FAILED (${result.message})`;
		console.log(`scan (${scanner.name} ${scanner.version}) ${leg.name}: ${verdict}`);
		if (result.details) console.log(result.details);
		failed ||= !result.passed;
	}
} finally {
	fs.rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
