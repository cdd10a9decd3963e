/** Unit and routing tests; the real-n8n suite runs with `npm run test:e2e`. */
module.exports = {
	preset: 'ts-jest',
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	testPathIgnorePatterns: ['/node_modules/', '/test/e2e/'],
	globalSetup: '<rootDir>/test/setup/globalSetup.js',
	setupFiles: ['<rootDir>/test/setup/env.js'],
	testTimeout: 30000,
	reporters: ['default', '<rootDir>/test/setup/summary-reporter.js'],
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }],
	},
};
