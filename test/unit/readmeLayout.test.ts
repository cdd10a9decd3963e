import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';

/*
 * README's Layout section is a map of nodes/KlingO1: it names every file there, with its purpose,
 * and no file that is gone.
 */
const root = join(__dirname, '..', '..');
const nodeDir = join(root, 'nodes', 'KlingO1');

function layoutBlock(): string {
	const readme = readFileSync(join(root, 'README.md'), 'utf8');
	const start = readme.indexOf('```', readme.indexOf('\nLayout ('));
	return readme.slice(start, readme.indexOf('\n```', start + 3));
}

function nodeFiles(dir = nodeDir, prefix = ''): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
		entry.isDirectory()
			? nodeFiles(join(dir, entry.name), `${prefix}${entry.name}/`)
			: [`${prefix}${entry.name}`],
	);
}

test('the Layout section names every file of nodes/KlingO1 and nothing else there', () => {
	const named = layoutBlock()
		.split('\n')
		.filter((line) => /^ {2}\S/.test(line))
		.map((line) => line.trim().split(/\s+/)[0]);
	expect([...named].sort()).toEqual(nodeFiles().sort());
});
