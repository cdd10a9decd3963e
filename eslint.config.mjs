import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';
import tseslint from 'typescript-eslint';

/*
 * What ships (the node, the credential and package.json) is linted as n8n lints it: the
 * community-node rules (recommended: the n8n Cloud set), eslint-plugin-n8n-nodes-base's community,
 * nodes and credentials rule sets with the same exceptions, and `no-console` as an error, as in
 * @n8n/node-cli's config and the publishing scanner (@n8n/scan-community-package, which
 * `npm run scan` also runs). Tests and scripts run only here, so they get TypeScript's rules but
 * may use Node's modules, timers and the console.
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
	{
		files: shipped,
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: { 'no-console': 'error' },
	},
	{
		files: ['package.json'],
		rules: { ...n8nNodesBase.configs.community.rules },
	},
	{
		files: ['credentials/**/*.ts'],
		rules: {
			...n8nNodesBase.configs.credentials.rules,
			// Not valid for community nodes (as in n8n's node-cli config).
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
			// The community-nodes credential-password-field rule is the more accurate one.
			'n8n-nodes-base/cred-class-field-type-options-password-missing': 'off',
		},
	},
	{
		files: ['nodes/**/*.ts'],
		rules: {
			...n8nNodesBase.configs.nodes.rules,
			// Inputs and outputs may be NodeConnectionTypes instead of the string "main".
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
			// An API's own maximum is a valid maxValue.
			'n8n-nodes-base/node-param-type-options-max-value-present': 'off',
		},
	},
);
