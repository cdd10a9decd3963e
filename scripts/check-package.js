/**
 * Checks what `npm pack` would publish, the way n8n's community-node rules see a package:
 * only dist/ + README + LICENSE + package.json, no runtime dependencies, every file the `n8n`
 * section names present, and a codex file with a valid category and a docs link.
 * Run after `npm run build`; exits non-zero with the reasons.
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));
const problems = [];

const [packed] = JSON.parse(
	execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
		cwd: root,
		encoding: 'utf8',
	}),
);
const files = packed.files.map((file) => file.path);
const allowed = (file) =>
	file.startsWith('dist/') || ['README.md', 'LICENSE', 'package.json'].includes(file);
for (const file of files.filter((file) => !allowed(file)))
	problems.push(`unexpected file in the package: ${file}`);
for (const file of files.filter((file) => /\.tsbuildinfo$/.test(file)))
	problems.push(`build cache in the package: ${file}`);
for (const needed of ['README.md', 'LICENSE', 'package.json']) {
	if (!files.includes(needed)) problems.push(`${needed} is missing from the package`);
}

if (Object.keys(pkg.dependencies ?? {}).length) {
	problems.push(
		`runtime dependencies are not allowed: ${Object.keys(pkg.dependencies).join(', ')}`,
	);
}
const peers = pkg.peerDependencies ?? {};
if (Object.keys(peers).length !== 1 || peers['n8n-workflow'] !== '*') {
	problems.push('peerDependencies must be exactly { "n8n-workflow": "*" }');
}
if (!pkg.keywords?.includes('n8n-community-node-package')) {
	problems.push('the keyword n8n-community-node-package is missing');
}
if (pkg.license !== 'MIT') problems.push('the license must be MIT');
if (pkg.n8n?.n8nNodesApiVersion !== 1 || pkg.n8n?.strict !== true) {
	problems.push('the n8n section needs n8nNodesApiVersion 1 and strict true');
}
for (const entry of [...(pkg.n8n?.nodes ?? []), ...(pkg.n8n?.credentials ?? [])]) {
	if (!entry.startsWith('dist/')) problems.push(`${entry} is not under dist/`);
	if (!files.includes(entry)) problems.push(`${entry} is named in package.json but not packed`);
}

const codexCategories = [
	'Analytics',
	'Communication',
	'Core Nodes',
	'Data & Storage',
	'Development',
	'Finance & Accounting',
	'HITL',
	'Marketing',
	'Miscellaneous',
	'Productivity',
	'Sales',
	'Utility',
];
for (const node of pkg.n8n?.nodes ?? []) {
	const codexPath = node.replace(/\.js$/, '.json');
	if (!files.includes(codexPath)) {
		problems.push(`codex file ${codexPath} is not packed`);
		continue;
	}
	const codex = JSON.parse(fs.readFileSync(path.join(root, codexPath), 'utf8'));
	const bad = (codex.categories ?? []).filter((category) => !codexCategories.includes(category));
	if (!codex.categories?.length || bad.length)
		problems.push(`codex categories invalid: ${bad.join(', ') || 'none'}`);
	if (!codex.resources?.primaryDocumentation?.[0]?.url)
		problems.push('codex has no documentation link');
	for (const icon of ['klingO1.svg', 'klingO1.dark.svg']) {
		if (!files.includes(path.posix.join(path.posix.dirname(node), icon)))
			problems.push(`icon ${icon} is not packed`);
	}
}

if (problems.length) {
	console.error(`package check failed:\n- ${problems.join('\n- ')}`);
	process.exit(1);
}
console.log(`package check: ${files.length} files, ${packed.size} bytes packed, all rules met`);
