#!/usr/bin/env node
/*
 * Fails when the shipped code (nodes/, credentials/) exports something that no other file imports:
 * such an export is either dead or used only inside its own module, and in both cases `export`
 * misleads a reader about who depends on it. Importers are every TypeScript file of tsconfig.json
 * (the node, the credential, tests, scripts and benchmarks). The node and credential classes are
 * n8n's entry points (package.json `n8n`), so they count as used.
 *
 * Uses only the TypeScript compiler API of the existing devDependency: no network, a few seconds.
 */
const path = require('path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..');
const shipped = /^(nodes|credentials)\//;
const entryPoints = new Set(['KlingO1', 'EachlabsApi']);

const configPath = path.join(root, 'tsconfig.json');
const config = ts.readConfigFile(configPath, ts.sys.readFile);
const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
const program = ts.createProgram(parsed.fileNames, { ...parsed.options, noEmit: true });
const checker = program.getTypeChecker();

const relative = (file) => path.relative(root, file).split(path.sep).join('/');
const ownFiles = program
	.getSourceFiles()
	.filter((file) => !file.isDeclarationFile && !relative(file.fileName).startsWith('..'))
	.filter((file) => !relative(file.fileName).startsWith('node_modules/'));

const resolve = (symbol) =>
	symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;

/** The declaration an import or re-export names, followed through aliases. */
function target(node) {
	const symbol = checker.getSymbolAtLocation(node);
	return symbol ? resolve(symbol) : undefined;
}

/** Every symbol some other module imports (by name, by namespace or by re-export). */
const imported = new Set();
function markModule(specifier) {
	const moduleSymbol = checker.getSymbolAtLocation(specifier);
	if (!moduleSymbol) return;
	for (const symbol of checker.getExportsOfModule(moduleSymbol)) imported.add(resolve(symbol));
}
for (const file of ownFiles) {
	const visit = (node) => {
		if (ts.isImportSpecifier(node) || ts.isExportSpecifier(node)) {
			const symbol = target(node.name);
			if (symbol) imported.add(symbol);
		} else if (ts.isImportClause(node) && node.name) {
			const symbol = target(node.name);
			if (symbol) imported.add(symbol);
		} else if (ts.isNamespaceImport(node)) {
			markModule(node.parent.parent.moduleSpecifier);
		} else if (ts.isExportDeclaration(node) && !node.exportClause && node.moduleSpecifier) {
			markModule(node.moduleSpecifier);
		} else if (ts.isImportTypeNode(node) && node.qualifier) {
			const symbol = target(node.qualifier);
			if (symbol) imported.add(symbol);
		}
		ts.forEachChild(node, visit);
	};
	visit(file);
}

const unused = [];
for (const file of ownFiles) {
	const name = relative(file.fileName);
	if (!shipped.test(name)) continue;
	const moduleSymbol = checker.getSymbolAtLocation(file);
	if (!moduleSymbol) continue;
	for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
		if (imported.has(resolve(symbol)) || imported.has(symbol) || entryPoints.has(symbol.name))
			continue;
		const declaration = symbol.declarations?.[0];
		const line = declaration
			? file.getLineAndCharacterOfPosition(declaration.getStart()).line + 1
			: 0;
		unused.push(`${name}:${line} ${symbol.name}`);
	}
}

if (unused.length > 0) {
	console.error(`Exported but imported by no other file (remove \`export\` or the code):`);
	for (const entry of unused) console.error(`  ${entry}`);
	process.exit(1);
}
console.log('check-unused-exports: every export of nodes/ and credentials/ is imported elsewhere.');
