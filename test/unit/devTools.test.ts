import { readdirSync, readFileSync } from 'fs';
import { join, relative } from 'path';

/*
 * The fakes in dev/ are the tests' oracle (README, Developers): written from the API reference,
 * they import nothing of the node or the credential, so a mistake in the node cannot be copied
 * into what checks it.
 */
const root = join(__dirname, '..', '..');

function sources(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
		entry.isDirectory()
			? sources(join(dir, entry.name))
			: /\.(js|ts)$/.test(entry.name)
				? [join(dir, entry.name)]
				: [],
	);
}

test('nothing in dev/ imports the node or the credential', () => {
	const files = sources(join(root, 'dev'));
	expect(files.length).toBeGreaterThan(10);
	const imports = files.flatMap((file) =>
		[...readFileSync(file, 'utf8').matchAll(/(?:require\(|from )\s*['"]([^'"]+)['"]/g)].map(
			(match) => `${relative(root, file)} → ${match[1]}`,
		),
	);
	expect(imports.length).toBeGreaterThan(10);
	expect(
		imports.filter((line) => /(^|\/)(nodes|credentials|dist)\//.test(line.split(' → ')[1])),
	).toEqual([]);
	// Relative imports stay inside dev/.
	expect(imports.filter((line) => line.split(' → ')[1].startsWith('../..'))).toEqual([]);
});
