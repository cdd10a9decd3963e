#!/usr/bin/env node
'use strict';
/**
 * End-to-end: an n8n AI Agent calls the Kling O1 node as a tool, in a real n8n 2.41.1.
 *
 *   node test/e2e/agent.js [--keep] [--no-build]       (npm run test:e2e:agent)
 *
 * Runs examples/07-ai-agent-tool.json as users import it (Manual Trigger → AI Agent with an
 * OpenAI Chat Model → Kling O1 tool whose fields the model fills with $fromAI()), with the
 * OpenAI credential's Base URL on the fake model of dev/fake-openai (Responses API, the OpenAI
 * Chat Model's default) and the Eachlabs credential on the fake Eachlabs server. The fake model
 * first calls the tool with a prompt and one image URL, then answers quoting the URL the tool
 * returned. Checked: the model was offered the tool under its name with the node's description;
 * exactly one prediction was created, with the model's arguments; the tool answered with the
 * prediction's ID, status, image URL and cost; no image was downloaded; the agent's final
 * answer holds the image URL; neither API key appears in the run data nor in what the model got.
 * Reuses run.js's harness (same n8n install, package install, environment and fake Eachlabs).
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { ensureN8n } = require('./ensure-n8n');
const h = require('./run');
const { startFakeOpenAi } = require('../../dev/fake-openai');

const REPO = path.resolve(__dirname, '..', '..');
const EXAMPLE = '07-ai-agent-tool.json';
const AGENT = 'AI Agent';
const TOOL = 'Kling O1 Image Edit';
const OPENAI_KEY = 'sk-fake-openai-e2e-5b8f0c2d';
const OPENAI_CREDENTIAL = { id: 'e2eOpenAiCred1', name: 'OpenAI (fake model, e2e)' };
const IMAGE = 'https://storage.googleapis.com/magicpoint/inputs/kling-o1-input-1.png';
/** What the fake model sends as the tool call's arguments (the example's $fromAI keys). */
const TOOL_ARGUMENTS = {
	prompt: 'Put the product in @Image1 on a marble table, soft daylight',
	image_urls: [IMAGE],
	number_of_images: 1,
};
const EXECUTE_TIMEOUT_MS = Number(process.env.E2E_EXECUTE_TIMEOUT_MS || 240_000);

const log = (...a) => console.log(...a);
const fail = (message) => {
	throw new Error(message);
};

/** The node's description as shipped: what n8n should hand the model about the tool. */
function shippedDescription() {
	const { KlingO1 } = require(path.join(REPO, 'dist', 'nodes', 'KlingO1', 'KlingO1.node.js'));
	return new KlingO1().description.description;
}

/** A temp copy of the example with both credential references pointed at this run's. */
function prepareWorkflow(runDir) {
	const workflow = JSON.parse(fs.readFileSync(path.join(h.EXAMPLES_DIR, EXAMPLE), 'utf8'));
	const { copy, credentialRefs } = h.patchWorkflow(workflow, { filesDir: runDir });
	if (credentialRefs !== 1) fail(`${EXAMPLE}: ${credentialRefs} Eachlabs credential references`);
	const model = copy.nodes.find((node) => node.credentials && node.credentials.openAiApi);
	if (!model) fail(`${EXAMPLE}: no node uses an OpenAI credential`);
	model.credentials.openAiApi = { ...OPENAI_CREDENTIAL };
	const file = path.join(runDir, EXAMPLE);
	fs.writeFileSync(file, JSON.stringify(copy, null, 2));
	return { workflow: copy, file };
}

async function importInto(n8n, env, runDir, fake, openAi) {
	const credFile = path.join(runDir, 'credentials.json');
	fs.writeFileSync(
		credFile,
		JSON.stringify([
			{
				...h.E2E_CREDENTIAL,
				type: h.CREDENTIAL_TYPE,
				data: { apiKey: h.API_KEY, baseUrl: fake.apiUrl },
			},
			{
				...OPENAI_CREDENTIAL,
				type: 'openAiApi',
				data: { apiKey: OPENAI_KEY, url: `${openAi.url}/v1` },
			},
		]),
	);
	const ci = await h.n8nCommand(n8n, env, ['import:credentials', `--input=${credFile}`]);
	if (ci.code !== 0 || !/Successfully imported 2 credentials/.test(ci.stdout + ci.stderr)) {
		fail(`import:credentials failed: ${h.errorLines(h.logRecords(ci)).join(' | ')}`);
	}
	const { workflow, file } = prepareWorkflow(runDir);
	const wi = await h.n8nCommand(n8n, env, ['import:workflow', `--input=${file}`]);
	if (wi.code !== 0 || !/Successfully imported 1 workflow/.test(wi.stdout + wi.stderr)) {
		fail(`import:workflow failed: ${h.errorLines(h.logRecords(wi)).join(' | ')}`);
	}
	return workflow;
}

/** The last run of a node; fails when it did not run or ended in an error. */
function lastRun(runData, name) {
	const runs = runData[name];
	if (!runs || !runs.length) fail(`node "${name}" did not run (ran: ${Object.keys(runData)})`);
	const last = runs[runs.length - 1];
	if (last.error) fail(`node "${name}" failed: ${last.error.message}`);
	return last;
}

function checkModelTraffic(openAi, description) {
	const calls = openAi.requests.filter((r) => r.method === 'POST' && r.path === '/v1/responses');
	const others = openAi.requests.filter((r) => !calls.includes(r));
	if (others.length)
		fail(`the model got other requests: ${others.map((r) => `${r.method} ${r.path}`)}`);
	if (calls.length !== 2) fail(`${calls.length} calls to /v1/responses, expected 2`);
	const tools = (calls[0].body.tools || []).filter((t) => t.type === 'function');
	if (tools.length !== 1) fail(`the model was offered ${tools.length} function tools, expected 1`);
	const [tool] = tools;
	if (tool.name !== 'Kling_O1_Image_Edit') {
		fail(`the tool is named ${tool.name}, expected Kling_O1_Image_Edit (after the node)`);
	}
	if (tool.description !== description) {
		fail(`the model read the tool description ${JSON.stringify(tool.description)}`);
	}
	const keys = Object.keys((tool.parameters && tool.parameters.properties) || {}).sort();
	if (keys.join() !== 'image_urls,number_of_images,prompt') {
		fail(`the tool's parameters are ${keys.join(', ')}`);
	}
	const results = (calls[1].body.input || []).filter((i) => i.type === 'function_call_output');
	if (results.length !== 1)
		fail(`the second call holds ${results.length} tool results, expected 1`);
	return { tool, modelSaw: results[0].output, calls };
}

/** The tool's answer: one item with the prediction's ID, status, image URL and cost. */
function checkToolAnswer(json, predictionId, fake) {
	const expectedUrl = `${fake.filesUrl}/outputs/${predictionId}/0.png`;
	if (json.predictionId !== predictionId) fail(`tool answer: predictionId ${json.predictionId}`);
	if (json.status !== 'success') fail(`tool answer: status ${json.status}`);
	if (JSON.stringify(json.imageUrls) !== JSON.stringify([expectedUrl])) {
		fail(`tool answer: imageUrls ${JSON.stringify(json.imageUrls)}, expected [${expectedUrl}]`);
	}
	if (json.estimatedCostUsd !== 0.028)
		fail(`tool answer: estimatedCostUsd ${json.estimatedCostUsd}`);
	return expectedUrl;
}

async function main() {
	const t0 = Date.now();
	const n8n = ensureN8n({ log });
	const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kling-o1-e2e-agent-'));
	const userFolder = path.join(runDir, 'user');
	const homeDir = path.join(runDir, 'home');
	const filesDir = path.join(runDir, 'n8n-files');
	for (const dir of [path.join(userFolder, '.n8n'), homeDir, filesDir]) {
		fs.mkdirSync(dir, { recursive: true });
	}
	log(`[agent] folder ${runDir}`);
	let fake;
	let openAi;
	try {
		const env = h.n8nEnv(n8n, {
			userFolder,
			homeDir,
			filesDir,
			ports: await h.freePorts(6),
			encryptionKey: crypto.randomBytes(24).toString('hex'),
		});
		h.ensureBuilt();
		h.installPackage(userFolder, runDir);
		const description = shippedDescription();
		fake = await h.startFake(runDir);
		openAi = await startFakeOpenAi({ apiKey: OPENAI_KEY, toolArguments: TOOL_ARGUMENTS });
		log(`[agent] fake Eachlabs ${fake.apiUrl} (files ${fake.filesUrl}), fake model ${openAi.url}`);
		const workflow = await importInto(n8n, env, runDir, fake, openAi);
		await h.httpJson('POST', `${fake.controlUrl}/reset`);

		const te = Date.now();
		const r = await h.n8nCommand(n8n, env, ['execute', `--id=${workflow.id}`, '--rawOutput'], {
			timeoutMs: EXECUTE_TIMEOUT_MS,
		});
		fs.writeFileSync(path.join(runDir, 'execute.log'), r.stdout + r.stderr);
		const stats = await h.httpJson('GET', `${fake.controlUrl}/stats`);
		const run = h.runFromOutput(h.logRecords(r));
		if (r.timedOut) fail(`n8n execute timed out after ${h.secs(EXECUTE_TIMEOUT_MS)}`);
		if (!run) fail(`no run data (exit ${r.code}): ${h.errorLines(h.logRecords(r)).join(' | ')}`);
		const { runData, error } = run.data.resultData;
		if (error)
			fail(`the execution failed in "${run.data.resultData.lastNodeExecuted}": ${error.message}`);

		// The model: offered the tool with our description; the tool's answer is what it read.
		const { modelSaw } = checkModelTraffic(openAi, description);

		// Eachlabs: one create with the model's arguments; nothing downloaded.
		if (stats.creates !== 1 || stats.createRequests !== 1) {
			fail(`${stats.createRequests} create requests, ${stats.creates} predictions; expected 1`);
		}
		const create = stats.requests.find((q) => q.host === 'api' && q.method === 'POST');
		const input = create.body.input;
		const expectedInput = { prompt: TOOL_ARGUMENTS.prompt, image_urls: [IMAGE], num_images: 1 };
		for (const [key, value] of Object.entries(expectedInput)) {
			if (JSON.stringify(input[key]) !== JSON.stringify(value)) {
				fail(
					`create input.${key} = ${JSON.stringify(input[key])}, expected ${JSON.stringify(value)}`,
				);
			}
		}
		const files = stats.requests.filter((q) => q.host === 'files');
		if (stats.downloads !== 0 || files.length !== 0) {
			fail(
				`the image host got ${files.length} requests (${stats.downloads} downloads); expected 0`,
			);
		}

		// The tool's run: stored under ai_tool, one item, the answer the model read.
		const toolRun = lastRun(runData, TOOL);
		const toolItems = (toolRun.data && toolRun.data.ai_tool && toolRun.data.ai_tool[0]) || [];
		if (toolItems.length !== 1) fail(`the tool's run holds ${toolItems.length} items, expected 1`);
		if (toolItems[0].binary) fail('the tool returned binary data');
		const toolJson = toolItems[0].json;
		const [predictionId] = stats.predictions;
		const imageUrl = checkToolAnswer(toolJson, predictionId, fake);
		const modelJson = JSON.parse(modelSaw);
		if (JSON.stringify(modelJson) !== JSON.stringify([toolJson])) {
			fail(`the model read ${modelSaw}, not the tool's answer`);
		}

		// The agent's final answer quotes the image URL.
		const agentItems = lastRun(runData, AGENT).data.main[0];
		const output = agentItems && agentItems[0] && agentItems[0].json.output;
		if (typeof output !== 'string' || !output.includes(imageUrl)) {
			fail(`the agent's output ${JSON.stringify(output)} does not hold ${imageUrl}`);
		}

		// No key anywhere: run data, what the model got, the fake model's requests' bodies.
		const runText = JSON.stringify(run);
		const modelText = JSON.stringify(openAi.requests.map((q) => q.body));
		for (const [what, key] of [
			['Eachlabs', h.API_KEY],
			['OpenAI', OPENAI_KEY],
		]) {
			if (runText.includes(key)) fail(`the ${what} API key appears in the run data`);
		}
		if (modelText.includes(h.API_KEY)) fail('the Eachlabs API key reached the model');

		log(`[agent] the agent's final answer: ${output}`);
		log(`[agent] the tool's result JSON: ${JSON.stringify(toolJson)}`);
		log(`[agent] the tool description the model read: ${description}`);
		log(`PASS ${EXAMPLE} — ${workflow.name} (${h.secs(Date.now() - te)})`);
		return { passed: 1, failed: 0 };
	} catch (error) {
		log(`FAIL ${EXAMPLE}: ${error.message}`);
		return { passed: 0, failed: 1 };
	} finally {
		if (fake) await fake.stop();
		if (openAi) await openAi.close();
		h.cleanupChildren();
		if (h.KEEP) log(`[agent] kept ${runDir}`);
		else fs.rmSync(runDir, { recursive: true, force: true });
		log(`[agent] total ${h.secs(Date.now() - t0)}`);
	}
}

/** Counts for .ci/run's grand total, beside run.js's test-results/e2e-n8n-<version>.json. */
function writeCounts(counts) {
	const folder = path.join(REPO, 'test-results');
	fs.mkdirSync(folder, { recursive: true });
	fs.writeFileSync(path.join(folder, 'e2e-agent.json'), JSON.stringify(counts));
}

main().then(
	(counts) => {
		writeCounts(counts);
		log(`${counts.passed} passed, ${counts.failed} failed`);
		process.exitCode = counts.failed ? 1 : 0;
	},
	(error) => {
		h.cleanupChildren();
		console.error(error && error.stack ? error.stack : error);
		writeCounts({ passed: 0, failed: 1 });
		log('0 passed, 1 failed');
		process.exitCode = 1;
	},
);
