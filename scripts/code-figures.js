#!/usr/bin/env node
/*
 * Prints size figures of the shipped code (nodes/, credentials/), for before/after notes of a
 * refactor: files, code lines (neither blank nor only a comment), and the longest functions.
 * A dev script that prints numbers; it checks nothing. Uses the TypeScript compiler API of the
 * existing devDependency.
 */
const fs = require('fs');
const path = require('path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..');

function tsFiles(dir) {
	return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) return tsFiles(full);
		return entry.name.endsWith('.ts') ? [full] : [];
	});
}

/** Lines holding code: comments and blank lines removed by the scanner, not by a regex. */
function codeLines(text) {
	const lines = new Set();
	const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, text);
	const lineOf = (pos) => text.slice(0, pos).split('\n').length;
	for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
		const start = lineOf(scanner.getTokenPos());
		const end = lineOf(scanner.getTextPos());
		for (let line = start; line <= end; line++) lines.add(line);
	}
	return lines.size;
}

function functionName(node, file) {
	if (node.name) return node.name.getText(file);
	const parent = node.parent;
	if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent))) {
		return parent.name.getText(file);
	}
	return '(anonymous)';
}

const files = ['nodes', 'credentials'].flatMap((dir) => tsFiles(path.join(root, dir)));
let total = 0;
const functions = [];
for (const fileName of files) {
	const text = fs.readFileSync(fileName, 'utf8');
	total += codeLines(text);
	const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
	const visit = (node) => {
		if (ts.isFunctionLike(node) && 'body' in node && node.body) {
			const start = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
			const end = file.getLineAndCharacterOfPosition(node.getEnd()).line;
			const where = path.relative(root, fileName).split(path.sep).join('/');
			functions.push({ name: `${where} ${functionName(node, file)}`, lines: end - start + 1 });
		}
		ts.forEachChild(node, visit);
	};
	visit(file);
}
functions.sort((a, b) => b.lines - a.lines);
console.log(`files: ${files.length}`);
console.log(`code lines: ${total}`);
console.log('longest functions (lines):');
for (const fn of functions.slice(0, 5)) console.log(`  ${fn.lines}  ${fn.name}`);
