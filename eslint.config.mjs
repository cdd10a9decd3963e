import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';
import tseslint from 'typescript-eslint';

/*
 * n8n's community-node rules (recommended: the n8n Cloud set) on what ships: the node, the
 * credential and package.json. Tests and scripts run only here, so they get TypeScript's rules
 * but may use Node's modules and timers.
 */
const shipped = ['nodes/**/*.ts', 'credentials/**/*.ts', 'package.json'];
const recommended = n8nCommunityNodesPlugin.configs.recommended;

export default tseslint.config(
	{ ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'demo-output/**', '**/*.js', '**/*.d.ts'] },
	{
		files: ['**/*.ts'],
		extends: [tseslint.configs.recommended],
		languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
		rules: {
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
		},
	},
	{
		// Tests read arbitrary JSON answers of the fake server.
		files: ['test/**/*.ts'],
		rules: { '@typescript-eslint/no-explicit-any': 'off' },
	},
	{
		// typescript-estree reads package.json as one object expression, which the rules expect.
		files: ['package.json'],
		languageOptions: { parser: tseslint.parser, parserOptions: { extraFileExtensions: ['.json'] } },
	},
	{
		...recommended,
		files: shipped,
	},
);
