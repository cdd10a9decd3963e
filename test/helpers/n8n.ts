import { setMaxListeners } from 'events';
import { Container } from '@n8n/di';
import { BinaryDataService, ExecuteContext, RoutingNode } from 'n8n-core';
import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	IHttpRequestOptions,
	INode,
	INodeCredentialsDetails,
	INodeExecutionData,
	INodeParameters,
	INodeType,
	INodeTypes,
	IWorkflowExecuteAdditionalData,
	Workflow as WorkflowType,
} from 'n8n-workflow';
import { createRunExecutionData, ICredentialsHelper, Workflow } from 'n8n-workflow';

import { EachlabsApi } from '../../credentials/EachlabsApi.credentials';

/*
 * Runs the Kling O1 node the way n8n does: a Workflow with the node, n8n-core's ExecuteContext and
 * RoutingNode (what n8n's own executeDeclarativeNodeInTest uses), and a credentials helper that
 * applies the credential's `authenticate` through n8n's expression engine.
 */

export const credentialType = new EachlabsApi();

class CredentialsHelper extends ICredentialsHelper {
	constructor(private readonly data: ICredentialDataDecryptedObject) {
		super();
	}

	getParentTypes() {
		return [];
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		_typeName: string,
		requestOptions: IHttpRequestOptions,
		workflow: WorkflowType,
		node: INode,
	): Promise<IHttpRequestOptions> {
		const auth = (credentialType as ICredentialType).authenticate;
		if (!auth || typeof auth !== 'object' || auth.type !== 'generic') {
			throw new Error('the test helper applies generic authentication only');
		}
		for (const [target, values] of Object.entries(auth.properties)) {
			const record = ((requestOptions as unknown as Record<string, Record<string, unknown>>)[
				target
			] ??= {});
			for (const [key, value] of Object.entries(values as Record<string, string>)) {
				record[key] = workflow.expression.getSimpleParameterValue(node, value, 'internal', {
					$credentials: credentials,
				});
			}
		}
		return requestOptions;
	}

	async preAuthentication() {
		return undefined;
	}

	async getCredentials(): Promise<never> {
		throw new Error('not used');
	}

	async getDecrypted(
		_additionalData: IWorkflowExecuteAdditionalData,
		_nodeCredentials: INodeCredentialsDetails,
		type: string,
	): Promise<ICredentialDataDecryptedObject> {
		if (type !== 'eachlabsApi') throw new Error(`unknown credential type ${type}`);
		return { ...this.data };
	}

	getCredentialsProperties() {
		return credentialType.properties;
	}

	isCredentialUsableByNode() {
		return true;
	}

	async runPreAuthentication() {
		return undefined;
	}

	async updateCredentials() {}

	async updateCredentialsOauthTokenData() {}
}

let binaryReady: Promise<void> | undefined;

/** n8n 2.x keeps binary data on disk; so do the tests, under N8N_USER_FOLDER. */
export async function initBinaryData() {
	binaryReady ??= Container.get(BinaryDataService).init();
	await binaryReady;
}

export async function binaryBuffer(binary: NonNullable<INodeExecutionData['binary']>[string]) {
	return await Container.get(BinaryDataService).getAsBuffer(binary);
}

/**
 * Where n8n keeps binary data: `filesystem` (n8n 2.x's default; data has an id, bytes on disk)
 * or `default` (in memory: the bytes travel base64-encoded in the item, as in n8n 1.x's default).
 */
export type BinaryMode = 'filesystem' | 'default';

/** Switches the process's BinaryDataService to a mode: what N8N_DEFAULT_BINARY_DATA_MODE does. */
async function useBinaryMode(mode: BinaryMode) {
	await initBinaryData();
	const service = Container.get(BinaryDataService) as unknown as { mode: string };
	service.mode = mode === 'filesystem' ? 'filesystem-v2' : 'default';
}

/**
 * A file stored the way an input node (Read Files from Disk, Google Drive) leaves it: through
 * n8n's BinaryDataService, in the given mode.
 */
export async function storeBinary(
	bytes: Buffer | NodeJS.ReadableStream,
	file: { fileName: string; mimeType: string },
	mode: BinaryMode = 'filesystem',
) {
	await useBinaryMode(mode);
	try {
		return await Container.get(BinaryDataService).store(
			{ type: 'execution', workflowId: 'wf-test', executionId: 'exec-test' },
			bytes as Buffer,
			{ data: '', mimeType: file.mimeType, fileName: file.fileName },
		);
	} finally {
		await useBinaryMode('filesystem');
	}
}

export interface RunOptions {
	parameters: INodeParameters;
	items?: INodeExecutionData[];
	credentials: { apiKey: string; baseUrl: string };
	onError?: 'stopWorkflow' | 'continueRegularOutput' | 'continueErrorOutput';
	signal?: AbortSignal;
	/** Several runs of the node in one execution share nothing but the process. */
	runIndex?: number;
	/** The node to run; the TypeScript source by default, the built one for the demo. */
	nodeType?: INodeType;
	/** The node's version as saved in the workflow; the newest by default. */
	typeVersion?: number;
	/** Where n8n keeps binary data during the run (default: filesystem, as n8n 2.x). */
	binaryMode?: BinaryMode;
	/** The node's "Execute Once" setting: n8n then hands the routing only the first item. */
	executeOnce?: boolean;
	/**
	 * n8n's "Retry On Fail" (Max. Tries): runs the node again in the same context, with the same
	 * execute data, while it throws (or its first item is an error item), at most this many times
	 * in all, and returns the last outcome, as n8n's WorkflowExecute does.
	 */
	tries?: number;
	/** The node's type; `n8n-nodes-kling-o1.klingO1Tool` runs it as n8n runs an AI Agent's tool. */
	nodeTypeName?: string;
}

let sourceNode: INodeType | undefined;

/**
 * The node from its TypeScript source, loaded on first use: under ts-node a plain import of
 * `KlingO1.node` would find the codex file `KlingO1.node.json` first.
 */
export function sourceNodeType(): INodeType {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const { KlingO1 } = require('../../nodes/KlingO1/KlingO1.node.ts') as {
		KlingO1: new () => INodeType;
	};
	sourceNode ??= new KlingO1();
	return sourceNode;
}

const nodeTypesOf = (type: INodeType): INodeTypes =>
	({
		getByName: () => type,
		getByNameAndVersion: () => type,
		getKnownTypes: () => ({}),
	}) as unknown as INodeTypes;

/** Runs the node once over `items` and returns its first output, or throws what n8n would show. */
export async function runNode(options: RunOptions): Promise<INodeExecutionData[]> {
	await initBinaryData();
	const items = options.items ?? [{ json: {} }];
	const node: INode = {
		id: 'kling-o1-node',
		name: 'Kling O1',
		type: options.nodeTypeName ?? 'n8n-nodes-kling-o1.klingO1',
		typeVersion: options.typeVersion ?? 1.1,
		position: [0, 0],
		parameters: options.parameters,
		credentials: { eachlabsApi: { id: 'cred-1', name: 'Eachlabs account' } },
		...(options.onError ? { onError: options.onError } : {}),
		...(options.executeOnce ? { executeOnce: true } : {}),
	};
	const workflow = new Workflow({
		id: 'wf-test',
		nodes: [node],
		connections: {},
		active: false,
		nodeTypes: nodeTypesOf(options.nodeType ?? sourceNodeType()),
		settings: { binaryMode: 'separate' },
	});
	const workflowNode = workflow.getNode(node.name)!;
	const additionalData = {
		credentialsHelper: new CredentialsHelper(options.credentials),
		executionId: 'exec-test',
		restApiUrl: 'http://localhost:5678/rest',
		instanceBaseUrl: 'http://localhost:5678',
		webhookBaseUrl: 'http://localhost:5678/webhook',
		webhookWaitingBaseUrl: 'http://localhost:5678/webhook-waiting',
		webhookTestBaseUrl: 'http://localhost:5678/webhook-test',
		formWaitingBaseUrl: 'http://localhost:5678/form-waiting',
		variables: {},
		userId: 'user-test',
		currentNodeParameters: undefined,
		executionTimeoutTimestamp: undefined,
	} as unknown as IWorkflowExecuteAdditionalData;
	// As n8n's WorkflowExecute does: Execute Once trims the node's input, not the execute data.
	const inputData = { main: [options.executeOnce ? items.slice(0, 1) : items] };
	const executeData = { node: workflowNode, data: { main: [items] }, source: { main: [null] } };
	const context = new ExecuteContext(
		workflow,
		workflowNode,
		additionalData,
		'manual',
		createRunExecutionData(),
		options.runIndex ?? 0,
		items,
		inputData,
		executeData as never,
		[],
		options.signal,
	);
	// n8n-core adds one abort listener per in-flight API request to the execution's cancel signal:
	// with more than 10 items in flight Node warns of a leak that is none (README, Troubleshooting).
	if (options.signal) setMaxListeners(100, options.signal);
	const routing = new RoutingNode(context, options.nodeType ?? sourceNodeType());
	await useBinaryMode(options.binaryMode ?? 'filesystem');
	try {
		// As n8n's Retry On Fail: the node runs again only while it fails.
		for (let attempt = 1; attempt < (options.tries ?? 1); attempt++) {
			const outcome = await routing.runNode().catch(() => undefined);
			if (outcome && outcome[0]?.[0]?.json?.error === undefined) return outcome[0] ?? [];
		}
		const result = await routing.runNode();
		return result?.[0] ?? [];
	} finally {
		await useBinaryMode('filesystem');
	}
}

/** Resolves a credential expression (`={{$credentials.…}}`) with n8n's expression engine. */
export function resolveWithCredentials(value: string, credentials: ICredentialDataDecryptedObject) {
	const workflow = new Workflow({
		nodes: [],
		connections: {},
		active: false,
		nodeTypes: nodeTypesOf(sourceNodeType()),
	});
	const node = { name: 'Credential test', parameters: {} } as INode;
	return workflow.expression.getSimpleParameterValue(node, value, 'internal', {
		$credentials: credentials,
	});
}
