import type { INode } from 'n8n-workflow';

/**
 * n8n registers a `usableAsTool` node a second time, as `<package>.klingO1Tool`: that variant is
 * what an AI Agent calls. A tool call has someone waiting for it, so it is bounded differently
 * (its time queued behind the slot limit counts) and answers with JSON a model can read.
 */
export const isToolCall = (node: INode): boolean => node.type.endsWith('Tool');
