import * as workflow from 'n8n-workflow';

/** The oldest n8n this package runs in: n8n-workflow has `NodeConnectionTypes` since n8n 1.85. */
export const MIN_N8N_VERSION = '1.85.0';

export const UNSUPPORTED_N8N_MESSAGE = `The Kling O1 node (n8n-nodes-kling-o1) needs n8n ${MIN_N8N_VERSION} or newer, and this n8n is older. Update n8n to use this node.`;

/**
 * Stops loading in an n8n that is too old, with a message that says so. Without it the node's
 * description would fail on `NodeConnectionTypes.Main` with a TypeError, which n8n's loader
 * reports as "Class could not be found", hiding the cause; a plain Error reaches the log as is.
 */
export function assertSupportedN8n(n8nWorkflow: object = workflow): void {
	if (!('NodeConnectionTypes' in n8nWorkflow)) throw new Error(UNSUPPORTED_N8N_MESSAGE);
}

assertSupportedN8n();
