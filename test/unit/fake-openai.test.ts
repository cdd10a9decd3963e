import type { FakeOpenAi } from '../../dev/fake-openai';
import { startFakeOpenAi } from '../../dev/fake-openai';

/*
 * The fake model of the AI Agent e2e, spoken to as the OpenAI client does (Responses API): it
 * calls the offered tool once, then answers quoting the tool's image URL, and refuses loudly what
 * it does not play.
 */

const KEY = 'sk-fake-unit';
const ARGS = { prompt: 'Put @Image1 on a table', image_urls: ['https://example.com/a.png'] };
let fake: FakeOpenAi;
beforeAll(async () => {
	fake = await startFakeOpenAi({ apiKey: KEY, toolArguments: ARGS });
});
afterAll(async () => await fake.close());

const post = async (body: unknown, path = '/v1/responses', key = KEY) => {
	const response = await fetch(`${fake.url}${path}`, {
		method: 'POST',
		headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
		body: JSON.stringify(body),
	});
	return { status: response.status, body: (await response.json()) as any };
};

const tool = { type: 'function', name: 'Kling_O1_Image_Edit', description: 'd', parameters: {} };

test('first call: one function call to the offered tool with the scripted arguments', async () => {
	const { status, body } = await post({
		model: 'gpt-4.1-mini',
		input: [{ role: 'user', content: 'edit it' }],
		tools: [tool],
	});
	expect(status).toBe(200);
	expect(body).toMatchObject({ object: 'response', status: 'completed', model: 'gpt-4.1-mini' });
	expect(body.output).toEqual([
		expect.objectContaining({
			type: 'function_call',
			name: 'Kling_O1_Image_Edit',
			call_id: expect.stringMatching(/^call_/),
			arguments: JSON.stringify(ARGS),
		}),
	]);
});

test('with the tool result in the input: a final message quoting its first URL', async () => {
	const result = JSON.stringify([{ status: 'success', imageUrls: ['http://127.0.0.2:9/o/0.png'] }]);
	const { body } = await post({
		input: [
			{ type: 'function_call', call_id: 'call_1', name: 'Kling_O1_Image_Edit', arguments: '{}' },
			{ type: 'function_call_output', call_id: 'call_1', output: result },
		],
		tools: [tool],
	});
	expect(body.output).toEqual([
		expect.objectContaining({
			type: 'message',
			role: 'assistant',
			content: [
				{
					type: 'output_text',
					text: 'Done. Your edited image: http://127.0.0.2:9/o/0.png',
					annotations: [],
				},
			],
		}),
	]);
});

test('refuses a wrong key, streaming, other paths and requests without a tool', async () => {
	expect((await post({ tools: [tool] }, '/v1/responses', 'wrong')).status).toBe(401);
	const stream = await post({ tools: [tool], stream: true });
	expect(stream).toMatchObject({
		status: 400,
		body: { error: { message: expect.stringContaining('stream') } },
	});
	expect((await post({ messages: [] }, '/v1/chat/completions')).status).toBe(404);
	expect((await post({ input: [] })).status).toBe(400);
	expect(fake.requests.map((request) => request.path)).toContain('/v1/chat/completions');
});
