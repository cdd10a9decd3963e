import * as workflow from 'n8n-workflow';

import {
	assertSupportedN8n,
	MIN_N8N_VERSION,
	UNSUPPORTED_N8N_MESSAGE,
} from '../../nodes/KlingO1/compat';

/*
 * n8n older than 1.85 has no NodeConnectionTypes in n8n-workflow. The node must then stop loading
 * with a message that says why, not with the TypeError that n8n's loader would turn into "Class
 * could not be found".
 */

const README =
	'The Kling O1 node (n8n-nodes-kling-o1) needs n8n 1.85.0 or newer, and this n8n is older. Update n8n to use this node.';

test('this n8n-workflow is new enough', () => {
	expect(() => assertSupportedN8n(workflow)).not.toThrow();
	expect(MIN_N8N_VERSION).toBe('1.85.0');
});

test('an n8n-workflow without NodeConnectionTypes: a plain Error with the README message', () => {
	const older: Record<string, unknown> = { ...workflow };
	delete older.NodeConnectionTypes;
	let thrown: unknown;
	try {
		assertSupportedN8n(older);
	} catch (error) {
		thrown = error;
	}
	expect(thrown).toBeInstanceOf(Error);
	expect(thrown).not.toBeInstanceOf(TypeError);
	expect((thrown as Error).message).toBe(README);
	expect(UNSUPPORTED_N8N_MESSAGE).toBe(README);
});

test('loading the node in such an n8n stops with that message before anything else', () => {
	jest.isolateModules(() => {
		jest.doMock('n8n-workflow', () => {
			const older = { ...jest.requireActual('n8n-workflow') };
			delete older.NodeConnectionTypes;
			return older;
		});
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		expect(() => require('../../nodes/KlingO1/KlingO1.node.ts')).toThrow(new Error(README));
	});
	jest.dontMock('n8n-workflow');
});
