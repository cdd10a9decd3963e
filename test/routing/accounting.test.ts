// Every paid prediction accounted for: whatever goes wrong, each prediction the fake
// Eachlabs created in an execution is delivered, or named with its item in the output or the
// error. Each test compares the set of prediction ids the fake created with the set the node
// delivered or named.
import { Logger } from '@n8n/backend-common';
import { Container } from '@n8n/di';
import type { INodeExecutionData } from 'n8n-workflow';

import type { FakeEachlabs } from '../../dev/fake-eachlabs';
import {
	API_KEY,
	createRequests,
	expectImage,
	fakeLifecycle,
	fastRetries,
	manyItems,
	pollRequests,
	promptByItem,
	rejectionOf,
	run,
	until,
} from '../helpers/faultKit';
import { runNode } from '../helpers/n8n';
import { editImage, getPrediction } from '../helpers/params';
import { json, startStub } from '../helpers/stubApi';

const startFake = fakeLifecycle();
fastRetries();

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Every prediction id an error names (its message and its description). */
const namedIn = (error: { message: string; description?: string | null }) =>
	new Set(`${error.message} ${error.description ?? ''}`.match(UUID) ?? []);

/** Every prediction id the output delivers or names (earlier tries' ones included). */
function namedInItems(items: INodeExecutionData[]) {
	const ids = new Set<string>();
	for (const item of items) {
		if (item.json.predictionId) ids.add(item.json.predictionId as string);
		for (const id of (item.json.previousPredictionIds as string[] | undefined) ?? []) ids.add(id);
	}
	return ids;
}

/** One line per case for the issue's note: what the fake created and what the node named. */
function figures(what: string, created: string[], named: Set<string>, more = '') {
	const unnamed = created.filter((id) => !named.has(id)).length;
	console.info(
		`[accounting] ${what}: ${created.length} created by the fake, ${named.size} delivered or named, ${unnamed} not named by ID${more}`,
	);
}

/** The item a prediction was made for, from the `table <i>` its prompt carries. */
const itemOf = (fake: FakeEachlabs, predictionId: string) =>
	Number(/table (\d+)/.exec(fake.inputOf(predictionId).prompt)?.[1]);

/**
 * Lets this process's limiter for the key reach 10 at once (a key starts with one create in the
 * air and grows as creates are accepted), so that a test's creates really are on the wire together.
 */
async function warmUp(baseUrl: string) {
	await runNode({
		parameters: editImage({
			prompt: 'Put @Image1 on the warm-up table',
			options: { downloadImages: false },
		}),
		items: manyItems(10),
		credentials: { apiKey: API_KEY, baseUrl },
	});
}

const GATEWAY_WARNING =
	/^At (\d{4}-\d\d-\d\dT[\d:.]+Z) a gateway answered HTTP 504 \(an HTML page, not Eachlabs' own error\) after the create request was sent; the node sent it again, so a duplicate prediction may have been charged\.$/;

describe('a halt never abandons a create that was sent', () => {
	test('item 3 is refused while 9 creates are on the wire: all 9 predictions are named with their items, nothing is polled', async () => {
		const fake = await startFake({ rateLimit: null });
		await warmUp(fake.apiUrl);
		fake.reset();
		const marks: Record<number, string> = {};
		// Every answer waits until the fake has all 10 creates, so the refusal cannot overtake one.
		for (let i = 0; i < 10; i++)
			marks[i] =
				i === 3
					? '[reject] [answer-after-creates:10]'
					: '[answer-after-creates:10] [answer-delay:2000]';
		const error = await rejectionOf(
			run(fake, { parameters: editImage({ prompt: promptByItem(marks) }), items: manyItems(10) }),
		);
		expect(error.message).toBe('Eachlabs answered with an error (HTTP 400): Invalid input');
		expect(error.context.itemIndex).toBe(3);
		const created = fake.stats().predictions;
		// All 10 creates were sent before item 3's refusal arrived; 9 made a prediction.
		expect(fake.stats().createRequests).toBe(10);
		expect(created).toHaveLength(9);
		expect(namedIn(error)).toEqual(new Set(created));
		for (const id of created)
			expect(error.description).toContain(`${id} (item ${itemOf(fake, id)})`);
		expect(error.description).toContain('which you can resume with Get Prediction');
		figures('halt, 9 creates in flight', created, namedIn(error));
		// The run halted: the creates were waited for, nothing after them was requested.
		expect(pollRequests(fake)).toHaveLength(0);
	});

	test('a manual Stop with a create in flight waits for its answer and names the prediction (and logs it)', async () => {
		const fake = await startFake();
		const warn = jest.spyOn(Container.get(Logger), 'warn');
		try {
			const controller = new AbortController();
			const outcome = rejectionOf(
				run(fake, {
					parameters: editImage({ prompt: 'Put @Image1 on table 0 [answer-delay:1500]' }),
					signal: controller.signal,
				}),
			);
			await until(() => fake.stats().createRequests === 1);
			controller.abort();
			const error = await outcome;
			expect(error.message).toBe('The execution was stopped');
			const created = fake.stats().predictions;
			expect(created).toHaveLength(1);
			expect(namedIn(error)).toEqual(new Set(created));
			expect(error.description).toContain(`${created[0]} (item 0)`);
			figures('manual Stop, 1 create in flight', created, namedIn(error));
			expect(pollRequests(fake)).toHaveLength(0);
			// n8n no longer shows a stopped execution's errors: the list is in its log too.
			expect(warn).toHaveBeenCalledWith(
				`Kling O1 (node "Kling O1"), execution stopped: Predictions created in this execution, which you can resume with Get Prediction: ${created[0]} (item 0).`,
			);
		} finally {
			warn.mockRestore();
		}
	});

	test('a create that never answers while the run halts: the error says so for its item, with the time it was sent', async () => {
		let warm = 0;
		const stub = await startStub((request, response) => {
			const prompt = String(request.body?.input?.prompt);
			if (request.method === 'GET') {
				return json(response, 200, { status: 'success', output: ['https://example.com/w.png'] });
			}
			if (prompt.includes('warm-up')) {
				return json(response, 200, { status: 'success', predictionID: `warm-${warm++}` });
			}
			if (prompt.includes('table 0')) return; // never answers
			setTimeout(() => json(response, 400, { status: 'error', message: 'Invalid input' }), 200);
		});
		try {
			await warmUp(stub.url);
			stub.requests.splice(0);
			const before = Date.now();
			const error = await rejectionOf(
				runNode({
					parameters: editImage({
						prompt: promptByItem({}),
						options: { timeoutSeconds: 1 },
					}),
					items: manyItems(2),
					credentials: { apiKey: API_KEY, baseUrl: stub.url },
				}),
			);
			expect(error.message).toBe('Eachlabs answered with an error (HTTP 400): Invalid input');
			expect(error.context.itemIndex).toBe(1);
			// The hanging create was waited for until its own request timeout (at least 15 s).
			expect(Date.now() - before).toBeGreaterThanOrEqual(14_000);
			const sentAt = /item 0: sent at (\S+Z), the request timed out/.exec(error.description);
			expect(sentAt).not.toBeNull();
			expect(Math.abs(Date.parse(sentAt![1]) - stub.requests[0].time)).toBeLessThan(1000);
			// Nothing was sent again after the halt.
			expect(stub.requests.filter((request) => request.method === 'POST')).toHaveLength(2);
		} finally {
			await stub.close();
		}
	}, 40_000);

	test('a create whose answers keep coming from a gateway: the error names each send with its time', async () => {
		const fake = await startFake();
		fake.failNext('create', 'gateway504AfterCreate', 3);
		const before = Date.now();
		const error = await rejectionOf(run(fake, { parameters: editImage() }));
		expect(error.message).toBe(
			"Could not reach Eachlabs: a gateway answered HTTP 504 (an HTML page, not Eachlabs' own error)",
		);
		// At most two re-sends: 3 predictions, none of whose IDs the node could learn.
		expect(fake.stats()).toMatchObject({ createRequests: 3, creates: 3 });
		const sends = [
			...String(error.description).matchAll(
				/item 0: sent at (\S+Z), a gateway answered HTTP 504 \(an HTML page, not Eachlabs' own error\)/g,
			),
		];
		expect(sends).toHaveLength(3);
		figures(
			'3 gateway 504s after store',
			fake.stats().predictions,
			namedIn(error),
			`, ${sends.length} sends named with their times`,
		);
		const requestTimes = createRequests(fake).map((request) => request.time);
		for (const [index, send] of sends.entries()) {
			const at = Date.parse(send[1]);
			expect(at).toBeGreaterThanOrEqual(before - 1);
			expect(Math.abs(at - requestTimes[index])).toBeLessThan(1000);
		}
		expect(error.description).toContain('look for it in the Eachlabs dashboard by its time');
	});
});

describe('Retry On Fail', () => {
	test('3 tries × 3 rows, row 1 failing every time: 5 creates (≤ 3 + 2 × 1), every one named in the final error', async () => {
		const fake = await startFake();
		const error = await rejectionOf(
			run(fake, {
				parameters: editImage({ prompt: promptByItem({ 1: '[fail]' }) }),
				items: manyItems(3),
				tries: 3,
			}),
		);
		expect(error.message).toBe('Kling O1 could not edit the image: Image generation failed');
		expect(error.context.itemIndex).toBe(1);
		const created = fake.stats().predictions;
		expect(created).toHaveLength(5);
		expect(namedIn(error)).toEqual(new Set(created));
		// Rows 0 and 2 were created once and resumed by ID; row 1 once per try.
		expect(created.map((id) => itemOf(fake, id)).sort()).toEqual([0, 1, 1, 1, 2]);
		figures('Retry On Fail 3 tries × 3 rows, 1 failing', created, namedIn(error));
		// The last try's failure is the error itself: its prediction is named in its own sentence,
		// the earlier tries' failed ones in the list.
		const [ownId, ...earlier] = created.filter((id) => itemOf(fake, id) === 1).reverse();
		expect(error.description).toContain(`No images were made for this item (prediction ${ownId})`);
		for (const id of earlier) {
			expect(error.description).toMatch(new RegExp(`${id} \\(item 1, try [12]\\)`));
		}
	});

	test('a prediction still running after a failed try is resumed by ID, not created again', async () => {
		const fake = await startFake();
		// The first poll answers 404: that item fails (and the run halts) on try 1.
		fake.failNext('poll', '404', 1);
		const items = await run(fake, { parameters: editImage(), items: manyItems(3), tries: 2 });
		expect(items).toHaveLength(3);
		for (const item of items) await expectImage(fake, item);
		const created = fake.stats().predictions;
		expect(created).toHaveLength(3);
		expect(namedInItems(items)).toEqual(new Set(created));
		expect(items.some((item) => item.json.previousPredictionIds)).toBe(false);
		figures('Retry On Fail resumes by ID', created, namedInItems(items));
	});

	test('with On Error: Continue, the output names the earlier tries’ predictions of a failing row', async () => {
		const fake = await startFake();
		// n8n retries while the first output item is an error item.
		const items = await run(fake, {
			parameters: editImage({ prompt: promptByItem({ 0: '[fail]' }) }),
			items: manyItems(3),
			onError: 'continueRegularOutput',
			tries: 3,
		});
		expect(items).toHaveLength(3);
		const created = fake.stats().predictions;
		expect(created).toHaveLength(5);
		expect(namedInItems(items)).toEqual(new Set(created));
		expect(items[0].json.error).toBe('Kling O1 could not edit the image: Image generation failed');
		expect(items[0].json.previousPredictionIds).toHaveLength(2);
		figures('Retry On Fail + Continue', created, namedInItems(items));
		await expectImage(fake, items[1]);
		await expectImage(fake, items[2]);
	});
});

describe('gateway answers to a create', () => {
	test('a 504 HTML page after the fake stored the prediction: one warning, 2 creates (≤ 3), the image delivered', async () => {
		const fake = await startFake();
		fake.failNext('create', 'gateway504AfterCreate', 1);
		const items = await run(fake, { parameters: editImage() });
		expect(items).toHaveLength(1);
		await expectImage(fake, items[0]);
		const stats = fake.stats();
		expect(stats).toMatchObject({ createRequests: 2, creates: 2 });
		const warnings = items[0].json.warnings as string[];
		expect(warnings).toHaveLength(1);
		const at = Date.parse(GATEWAY_WARNING.exec(warnings[0])![1]);
		// The one prediction not delivered is the one the warning's time points at.
		const delivered = namedInItems(items);
		expect(delivered).toEqual(new Set([stats.predictions[1]]));
		const orphans = stats.predictions.filter((id) => !delivered.has(id));
		expect(orphans).toEqual([stats.predictions[0]]);
		expect(Math.abs(at - createRequests(fake)[0].time)).toBeLessThan(1000);
		figures(
			'gateway 504 after store',
			stats.predictions,
			delivered,
			`, ${warnings.length} warning, ${stats.createRequests} create requests`,
		);
	});
});

describe('tolerant answers', () => {
	test('unknown statuses are "still running" with a warning each; string metrics read as numbers; null and empty outputs skipped', async () => {
		const fake = await startFake({
			statusSequence: ['in_queue', 'warming_up', 'processing', 'success'],
			jobMs: 1500,
			stringMetrics: true,
			sparseOutput: true,
		});
		const items = await run(fake, { parameters: editImage({ numImages: 2 }) });
		expect(items).toHaveLength(2);
		await expectImage(fake, items[0], 0);
		await expectImage(fake, items[1], 1);
		for (const item of items) {
			expect(item.json).toMatchObject({
				predictTime: 1.5,
				predictionCostUsd: 0.056,
				imageCount: 2,
			});
			expect(item.json.warnings).toEqual([
				'Eachlabs reported the status "in_queue", which this node does not know; it treated the prediction as still running.',
				'Eachlabs reported the status "warming_up", which this node does not know; it treated the prediction as still running.',
			]);
		}
		expect(namedInItems(items)).toEqual(new Set(fake.stats().predictions));
		figures('unknown statuses + string metrics', fake.stats().predictions, namedInItems(items));
		expect(fake.stats().creates).toBe(1);
	});

	test('Get Prediction recovers such a prediction: the unknown status reported as it is, then its images', async () => {
		const fake = await startFake({
			statusSequence: ['in_queue', 'success'],
			jobMs: 800,
			stringMetrics: true,
		});
		const [created] = await run(fake, { parameters: editImage({ waitForCompletion: false }) });
		const id = created.json.predictionId as string;
		const [now] = await run(fake, { parameters: getPrediction(id, { waitForResult: false }) });
		expect(now.json).toMatchObject({ predictionId: id, status: 'in_queue' });
		expect(now.json.warnings).toEqual([
			'Eachlabs reported the status "in_queue", which this node does not know; it treated the prediction as still running.',
		]);
		const [done] = await run(fake, { parameters: getPrediction(id) });
		await expectImage(fake, done);
		expect(done.json).toMatchObject({ predictTime: 0.8, predictionCostUsd: 0.028 });
		expect(fake.stats().predictions).toEqual([id]);
	});

	test('an unknown status that never ends is bounded by the timeout, which names the prediction', async () => {
		const fake = await startFake({ statusSequence: ['in_queue'] });
		const error = await rejectionOf(
			run(fake, { parameters: editImage({ options: { timeoutSeconds: 1 } }) }),
		);
		const created = fake.stats().predictions;
		expect(error.message).toBe(`Prediction ${created[0]} did not finish within 1 seconds`);
		expect(error.description).toContain('Eachlabs reported the status "in_queue"');
		expect(namedIn(error)).toEqual(new Set(created));
	});
});

describe('time queued behind the 10-slot limit', () => {
	test('an AI Agent tool call with a 5 s timeout behind a 40-item batch gives up within 6 s; nothing is created for it', async () => {
		const fake = await startFake({ rateLimit: null });
		const stopBatch = new AbortController();
		const batch = rejectionOf(
			run(fake, {
				parameters: editImage({ prompt: 'Put @Image1 on table [slow:4000]' }),
				items: manyItems(40),
				signal: stopBatch.signal,
			}),
		);
		try {
			await until(() => fake.stats().creates === 10);
			const started = Date.now();
			// A failed tool call answers the agent with what went wrong (see tool.test.ts).
			const [answer] = await run(fake, {
				parameters: editImage({
					prompt: 'Put @Image1 on a chair',
					options: { timeoutSeconds: 5 },
				}),
				nodeTypeName: 'n8n-nodes-kling-o1.klingO1Tool',
			});
			const elapsed = Date.now() - started;
			expect(elapsed).toBeGreaterThanOrEqual(4500);
			expect(elapsed).toBeLessThanOrEqual(6000);
			expect(answer.json).toMatchObject({
				status: 'failed',
				error: 'Gave up after waiting 5 seconds for a free slot: nothing was created',
			});
			expect(answer.json.predictionId).toBeUndefined();
			expect(answer.json.whatToChange).toContain(
				'As an AI Agent tool, the time spent waiting counts against Timeout (Seconds).',
			);
			expect(answer.json.whatToChange).toContain('nothing was charged');
			const prompts = createRequests(fake).map((request) => (request.body as any).input.prompt);
			expect(prompts).not.toContain('Put @Image1 on a chair');
			console.info(
				`[accounting] queued tool call: gave up after ${elapsed} ms, ${prompts.length} creates all from the batch, 0 for the tool call`,
			);
		} finally {
			stopBatch.abort();
			await batch;
		}
	}, 20_000);

	test('a batch item of another execution waits at most its Timeout behind a long batch', async () => {
		const fake = await startFake({ rateLimit: null });
		const stopBatch = new AbortController();
		const batch = rejectionOf(
			run(fake, {
				parameters: editImage({ prompt: 'Put @Image1 on table [slow:6000]' }),
				items: manyItems(20),
				signal: stopBatch.signal,
			}),
		);
		try {
			await until(() => fake.stats().creates === 10);
			const started = Date.now();
			const error = await rejectionOf(
				run(fake, {
					parameters: editImage({
						prompt: 'Put @Image1 on a chair',
						options: { timeoutSeconds: 2 },
					}),
				}),
			);
			expect(Date.now() - started).toBeLessThan(3500);
			expect(error.message).toBe(
				'Gave up after waiting 2 seconds for a free slot: nothing was created',
			);
			expect(error.description).toContain(
				'An item waits for a slot at most Timeout (Seconds) × (1 + its item number ÷ 10, rounded down).',
			);
			expect(fake.stats().creates).toBe(10);
		} finally {
			stopBatch.abort();
			await batch;
		}
	}, 20_000);
});
