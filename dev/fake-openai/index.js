'use strict';
/**
 * A small fake of the OpenAI Responses API (`POST /v1/responses`), the endpoint n8n 2.41's
 * OpenAI Chat Model calls by default ("Use Responses API" on). It plays a scripted model that
 * uses exactly one tool:
 *   1. a request without a tool result in its input answers with one function call to the first
 *      function tool the request offers, with the arguments it was given (`toolArguments`);
 *   2. a request whose input holds a tool result (`function_call_output`) answers with a final
 *      message that quotes the first image URL found in that result, or says none was found.
 * Every request is recorded (method, path, headers, parsed body) for the test to inspect:
 * the tool's name, description and parameters as the model saw them, and what the tool answered.
 *
 * Requests it does not play (streaming, chat completions, another path) answer 400/404 with a
 * message saying so, so a change in how n8n calls the model fails loudly instead of hanging.
 * Shapes follow the `openai` client's Response type and @langchain/openai's converter
 * (convertResponsesMessageToAIMessage): output items `function_call` {call_id, name, arguments}
 * and `message` {content: [{type: 'output_text', text, annotations}]}.
 */
const http = require('http');
const crypto = require('crypto');

const id = (prefix) => `${prefix}_${crypto.randomBytes(8).toString('hex')}`;

function send(res, status, body) {
	const text = JSON.stringify(body);
	res.writeHead(status, {
		'content-type': 'application/json',
		'content-length': Buffer.byteLength(text),
	});
	res.end(text);
}

const openAiError = (message, type = 'invalid_request_error') => ({
	error: { message, type, param: null, code: null },
});

/** The first http(s) URL in a tool result: its JSON is searched, else its text. */
function firstImageUrl(output) {
	let value = output;
	try {
		value = JSON.parse(output);
	} catch {
		/* plain text */
	}
	const found = [];
	const visit = (node) => {
		if (typeof node === 'string') {
			const match = /https?:\/\/[^\s"'<>]+/.exec(node);
			if (match) found.push(match[0]);
		} else if (Array.isArray(node)) node.forEach(visit);
		else if (node && typeof node === 'object') Object.values(node).forEach(visit);
	};
	visit(value);
	return found[0];
}

function responseBody(model, output) {
	return {
		id: id('resp'),
		object: 'response',
		created_at: Math.floor(Date.now() / 1000),
		status: 'completed',
		error: null,
		incomplete_details: null,
		model: String(model || 'fake-model'),
		output,
		parallel_tool_calls: false,
		tool_choice: 'auto',
		tools: [],
		usage: {
			input_tokens: 50,
			input_tokens_details: { cached_tokens: 0 },
			output_tokens: 20,
			output_tokens_details: { reasoning_tokens: 0 },
			total_tokens: 70,
		},
	};
}

/** What the scripted model answers to one Responses API request body. */
function answer(body, script) {
	const input = Array.isArray(body.input) ? body.input : [];
	const toolResult = input.find((item) => item && item.type === 'function_call_output');
	if (toolResult) {
		const url = firstImageUrl(String(toolResult.output ?? ''));
		const text = url
			? `${script.finalAnswerPrefix} ${url}`
			: `The tool did not return an image URL. It answered: ${toolResult.output}`;
		return responseBody(body.model, [
			{
				type: 'message',
				id: id('msg'),
				role: 'assistant',
				status: 'completed',
				content: [{ type: 'output_text', text, annotations: [] }],
			},
		]);
	}
	const tool = (Array.isArray(body.tools) ? body.tools : []).find((t) => t.type === 'function');
	if (!tool) return undefined;
	return responseBody(body.model, [
		{
			type: 'function_call',
			id: id('fc'),
			call_id: id('call'),
			name: tool.name,
			arguments: JSON.stringify(script.toolArguments),
			status: 'completed',
		},
	]);
}

/**
 * Starts the fake on 127.0.0.1 (random port unless given).
 * @param {{ apiKey: string, toolArguments: object, finalAnswerPrefix?: string, port?: number }} options
 */
function startFakeOpenAi(options) {
	const script = {
		toolArguments: options.toolArguments,
		finalAnswerPrefix: options.finalAnswerPrefix ?? 'Done. Your edited image:',
	};
	const requests = [];
	const server = http.createServer((req, res) => {
		const chunks = [];
		req.on('data', (chunk) => chunks.push(chunk));
		req.on('end', () => {
			const raw = Buffer.concat(chunks).toString('utf8');
			let body = null;
			try {
				body = raw ? JSON.parse(raw) : null;
			} catch {
				body = raw;
			}
			const path = (req.url || '').split('?')[0];
			requests.push({ method: req.method, path, headers: req.headers, body });
			if (req.headers.authorization !== `Bearer ${options.apiKey}`) {
				send(res, 401, openAiError('Incorrect API key provided (fake).', 'invalid_api_key'));
				return;
			}
			if (req.method !== 'POST' || path !== '/v1/responses') {
				send(
					res,
					404,
					openAiError(`The fake plays only POST /v1/responses, not ${req.method} ${path}`),
				);
				return;
			}
			if (!body || typeof body !== 'object') {
				send(res, 400, openAiError('The body is not a JSON object.'));
				return;
			}
			if (body.stream) {
				send(res, 400, openAiError('The fake does not stream; n8n asked for stream: true.'));
				return;
			}
			const result = answer(body, script);
			if (!result) {
				send(res, 400, openAiError('The request offers no function tool to call.'));
				return;
			}
			send(res, 200, result);
		});
	});
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, '127.0.0.1', () => {
			const { port } = server.address();
			resolve({
				url: `http://127.0.0.1:${port}`,
				requests,
				close: () =>
					new Promise((done) => {
						server.closeAllConnections?.();
						server.close(() => done());
					}),
			});
		});
	});
}

module.exports = { startFakeOpenAi, firstImageUrl };
