// Faults of the real API, over real HTTP against the fake Eachlabs: transient errors on polls,
// downloads and creates, malformed answers, expired outputs, stopping, continue-on-fail,
// stop-on-first-failure, the per-prediction timeout, and the API key staying where it belongs.
import net from 'net';

import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { startFakeEachlabs, type FakeEachlabs } from '../../dev/fake-eachlabs';
import {
	API_KEY,
	createRequests,
	deepText,
	downloadRequests,
	expectImage,
	expectNoKeyLeak,
	fakeLifecycle,
	fastRetries,
	manyItems,
	pollRequests,
	promptByItem,
	rejectionOf,
	run,
	sleep,
	until,
	outcomeWithin,
} from '../helpers/faultKit';
import { editImage, getPrediction } from '../helpers/params';
import { runNode } from '../helpers/n8n';
import { json, startStub } from '../helpers/stubApi';

const startFake = fakeLifecycle();
fastRetries();

/** The key of the tests that hand-write the API's answers (and of their fake). */
const KEY = 'sk-hardening-7d2e';
const UNEXPECTED = 'Eachlabs answered something unexpected: ';
const DUPLICATE_WARNING =
	/^At (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) the connection to Eachlabs failed after the create request was sent \(.+\); the node sent it again, so a duplicate prediction may have been charged\.$/;

/** The prediction the fake created for the create request whose prompt contains `text`. */
function predictionOf(fake: FakeEachlabs, text: string): string {
	const index = createRequests(fake).findIndex((request) =>
		String((request.body as { input?: { prompt?: string } })?.input?.prompt).includes(text),
	);
	expect(index).toBeGreaterThanOrEqual(0);
	return fake.stats().predictions[index];
}

/** A port on 127.0.0.1 that nothing listens on (right now). */
async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as net.AddressInfo;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}

describe('polls', () => {
	test('a poll answered JSON 500, a gateway HTML 502 and a 503 is retried; the item completes with one prediction', async () => {
		const fake = await startFake();
		fake.failNext('poll', '500', 2);
		fake.failNext('poll', '502html', 2);
		fake.failNext('poll', '503', 1);
		const items = await run(fake, { parameters: editImage() });
		expect(items).toHaveLength(1);
		await expectImage(fake, items[0]);
		expect(items[0].json.warnings).toBeUndefined();
		const stats = fake.stats();
		expect(stats.faultsInjected).toBe(5);
		expect(stats.createRequests).toBe(1);
		expect(stats.creates).toBe(1);
		expect(stats.polls).toBeGreaterThanOrEqual(6);
		expect(items[0].json.predictionId).toBe(stats.predictions[0]);
	});

	test('a poll answered 429 is waited out and polling goes on', async () => {
		const fake = await startFake();
		fake.failNext('poll', '429', 2, { retryAfter: 0 });
		const items = await run(fake, { parameters: editImage() });
		expect(items).toHaveLength(1);
		await expectImage(fake, items[0]);
		expect(fake.stats()).toMatchObject({ createRequests: 1, creates: 1, faultsInjected: 2 });
	});

	test('a poll whose connection is reset is retried: polling keeps going and no warning is added', async () => {
		const fake = await startFake();
		fake.failNext('poll', 'reset', 3);
		const items = await run(fake, { parameters: editImage() });
		expect(items).toHaveLength(1);
		await expectImage(fake, items[0]);
		expect(items[0].json.warnings).toBeUndefined();
		expect(fake.stats()).toMatchObject({ createRequests: 1, creates: 1, faultsInjected: 3 });
		expect(fake.stats().polls).toBeGreaterThanOrEqual(4);
	});

	// A poll that hangs is abandoned when the item's own timeout runs out, not after the fixed
	// request timeout (30 s).
	test('a hanging poll does not outlive the item timeout (timeoutSeconds 2 → error within 5 s naming the prediction)', async () => {
		const fake = await startFake();
		fake.failNext('poll', 'hang', 1);
		const started = Date.now();
		const settled = await outcomeWithin(
			fake,
			{ parameters: editImage({ options: { timeoutSeconds: 2 } }) },
			5000,
		);
		expect(settled).not.toBe('still running');
		expect(Date.now() - started).toBeLessThan(5500);
		const id = fake.stats().predictions[0];
		expect(`${settled.message} ${settled.description}`).toContain(id);
	}, 15_000);

	test('polling outlasts a long run of failures: retried for as long as the item has time', async () => {
		const fake = await startFake({ apiKey: KEY, jobMs: 100 });
		fake.failNext('poll', '503', 25);
		const items = await runNode({
			parameters: editImage({}),
			credentials: { apiKey: KEY, baseUrl: fake.apiUrl },
		});
		expect(items).toHaveLength(1);
		expect(fake.stats()).toMatchObject({ creates: 1 });
		expect(fake.stats().polls).toBeGreaterThan(25);
	});
});

describe('downloads', () => {
	test('a download answered 500, 502 HTML, reset and cut off half-way is retried; the stored bytes are exact', async () => {
		const fake = await startFake();
		fake.failNext('download', '500', 1);
		fake.failNext('download', '502html', 1);
		fake.failNext('download', 'reset', 1);
		fake.failNext('download', 'truncate', 1);
		const items = await run(fake, { parameters: editImage() });
		expect(items).toHaveLength(1);
		await expectImage(fake, items[0]);
		expect(fake.stats()).toMatchObject({ downloads: 5, createRequests: 1, creates: 1 });
	});

	test('an expired output URL (404) fails with a clear error naming the prediction and the image index', async () => {
		const fake = await startFake();
		const error = await rejectionOf(
			run(fake, { parameters: editImage({ prompt: 'Put @Image1 on a table [expired]' }) }),
		);
		const id = fake.stats().predictions[0];
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(
			`Edited image 0 of prediction ${id} could not be downloaded (HTTP 404)`,
		);
		expect(error.description).toMatch(/expired/);
		// A 404 is final: no retry, no second create.
		expect(fake.stats()).toMatchObject({ downloads: 1, createRequests: 1, creates: 1 });
	});

	test('with two images, a 404 on the first one names image 0 and the prediction', async () => {
		const fake = await startFake();
		fake.failNext('download', '404', 1);
		const error = await rejectionOf(run(fake, { parameters: editImage({ numImages: 2 }) }));
		const id = fake.stats().predictions[0];
		expect(error.message).toBe(
			`Edited image 0 of prediction ${id} could not be downloaded (HTTP 404)`,
		);
		expect(error.context.itemIndex).toBe(0);
	});
});

describe('creates', () => {
	test('a create answered 429, and 500 and 503 with Eachlabs’ own JSON error, is retried: one prediction, no warning', async () => {
		const fake = await startFake();
		fake.failNext('create', '429', 1, { retryAfter: 0 });
		fake.failNext('create', '500', 1);
		fake.failNext('create', '503', 1);
		const items = await run(fake, { parameters: editImage() });
		expect(items).toHaveLength(1);
		await expectImage(fake, items[0]);
		expect(items[0].json.warnings).toBeUndefined();
		expect(fake.stats()).toMatchObject({ createRequests: 4, creates: 1, faultsInjected: 3 });
	});

	test('a create answered by a gateway’s 502 HTML page is sent again with a warning: it may have been made', async () => {
		const fake = await startFake();
		fake.failNext('create', '502html', 1);
		const items = await run(fake, { parameters: editImage() });
		expect(items).toHaveLength(1);
		await expectImage(fake, items[0]);
		expect(items[0].json.warnings).toEqual([
			expect.stringMatching(
				/^At \d{4}-\d\d-\d\dT[\d:.]+Z a gateway answered HTTP 502 \(an HTML page, not Eachlabs' own error\) after the create request was sent; the node sent it again, so a duplicate prediction may have been charged\.$/,
			),
		]);
		expect(fake.stats()).toMatchObject({ createRequests: 2, creates: 1 });
	});

	test('a create answered 502 with an empty body (a gateway, not Eachlabs) is sent again with a warning', async () => {
		const stub = await startStub((request, response) => {
			if (stub.requests.length === 1) {
				response.writeHead(502);
				response.end();
				return;
			}
			json(response, 200, { status: 'success', predictionID: 'second' });
		});
		try {
			const items = await runNode({
				parameters: editImage({ waitForCompletion: false }),
				credentials: { apiKey: API_KEY, baseUrl: stub.url },
			});
			expect(stub.requests.map((request) => request.method)).toEqual(['POST', 'POST']);
			expect(items[0].json.predictionId).toBe('second');
			expect(items[0].json.warnings).toEqual([
				expect.stringMatching(
					/a gateway answered HTTP 502 \(an empty answer, not Eachlabs' own error\) after the create request was sent; the node sent it again/,
				),
			]);
		} finally {
			await stub.close();
		}
	});

	test('a refused connection on create is retried until the API is up: one prediction, no warning', async () => {
		const port = await freePort();
		let fake: FakeEachlabs | undefined;
		try {
			const outcome = runNode({
				parameters: editImage(),
				credentials: { apiKey: API_KEY, baseUrl: `http://127.0.0.1:${port}` },
			});
			await sleep(150);
			fake = await startFakeEachlabs({ port });
			const items = await outcome;
			expect(items).toHaveLength(1);
			await expectImage(fake, items[0]);
			expect(items[0].json.warnings).toBeUndefined();
			expect(fake.stats()).toMatchObject({ createRequests: 1, creates: 1 });
		} finally {
			await fake?.close();
		}
	});

	test('a reset after the create was processed (resetAfterCreate) is retried and the item warns of a possible duplicate, with the time', async () => {
		const fake = await startFake();
		fake.failNext('create', 'resetAfterCreate', 1);
		const before = Date.now();
		const items = await run(fake, { parameters: editImage() });
		const after = Date.now();
		expect(items).toHaveLength(1);
		await expectImage(fake, items[0]);
		const stats = fake.stats();
		// The first prediction exists (and is charged) but its answer was lost; the retry made a second.
		expect(stats).toMatchObject({ createRequests: 2, creates: 2 });
		expect(items[0].json.predictionId).toBe(stats.predictions[1]);
		const warnings = items[0].json.warnings as string[];
		expect(warnings).toHaveLength(1);
		const match = DUPLICATE_WARNING.exec(warnings[0]);
		expect(match).not.toBeNull();
		const at = Date.parse(match![1]);
		expect(at).toBeGreaterThanOrEqual(before - 1);
		expect(at).toBeLessThanOrEqual(after + 1);
	});

	test('a connection reset before the create was answered is retried and warned about too', async () => {
		const fake = await startFake();
		fake.failNext('create', 'reset', 1);
		const items = await run(fake, { parameters: editImage() });
		expect(items).toHaveLength(1);
		await expectImage(fake, items[0]);
		expect(fake.stats()).toMatchObject({ createRequests: 2, creates: 1 });
		expect(items[0].json.warnings).toHaveLength(1);
		expect((items[0].json.warnings as string[])[0]).toMatch(DUPLICATE_WARNING);
	});

	test('Wait for Completion off: a lost create answer is retried and the item carries the warning', async () => {
		const fake = await startFake();
		fake.failNext('create', 'resetAfterCreate', 1);
		const items = await run(fake, { parameters: editImage({ waitForCompletion: false }) });
		expect(items).toHaveLength(1);
		const stats = fake.stats();
		expect(stats).toMatchObject({ createRequests: 2, creates: 2, polls: 0 });
		expect(items[0].json).toMatchObject({
			predictionId: stats.predictions[1],
			status: 'processing',
		});
		expect(items[0].json.warnings).toHaveLength(1);
		expect((items[0].json.warnings as string[])[0]).toMatch(DUPLICATE_WARNING);
	});

	test('a create answered "created" is never sent again, whatever fails afterwards', async () => {
		const fake = await startFake();
		fake.failNext('poll', '500', 2);
		fake.failNext('poll', 'reset', 2);
		fake.failNext('download', '503', 1);
		fake.failNext('download', 'reset', 1);
		const items = await run(fake, { parameters: editImage() });
		await expectImage(fake, items[0]);
		expect(fake.stats()).toMatchObject({ createRequests: 1, creates: 1, faultsInjected: 6 });
	});

	test('a failed or timed-out prediction is not created again', async () => {
		const fake = await startFake();
		const items = await run(fake, {
			parameters: editImage({
				prompt: promptByItem({ 0: '[fail]', 1: '[slow:3000]' }),
				options: { timeoutSeconds: 1 },
			}),
			items: manyItems(2),
			onError: 'continueRegularOutput',
		});
		expect(items.map((item) => typeof item.json.error)).toEqual(['string', 'string']);
		expect(fake.stats()).toMatchObject({ createRequests: 2, creates: 2 });
	});

	test('Retry-After: 0 is not a licence to hammer: at least a second between tries', async () => {
		const fake = await startFake({ apiKey: KEY, jobMs: 100 });
		fake.failNext('create', '429', 1000, { retryAfter: 0 });
		const started = Date.now();
		const error = await rejectionOf(
			runNode({
				parameters: editImage({ options: { timeoutSeconds: 2.5 } }),
				credentials: { apiKey: KEY, baseUrl: fake.apiUrl },
			}),
		);
		expect(error.message).toBe(
			'Could not reach Eachlabs: it kept answering that the rate limit was reached (HTTP 429)',
		);
		expect(fake.stats().createRequests).toBeLessThanOrEqual(3);
		expect(Date.now() - started).toBeLessThan(4000);
	});

	test('a create whose answer keeps getting lost is re-sent at most twice, and the error says so', async () => {
		const fake = await startFake({ apiKey: KEY, jobMs: 100 });
		fake.failNext('create', 'resetAfterCreate', 100);
		const items = await runNode({
			parameters: editImage({}),
			credentials: { apiKey: KEY, baseUrl: fake.apiUrl },
			onError: 'continueErrorOutput',
		});
		expect(fake.stats().creates).toBe(3);
		expect(items).toHaveLength(1);
		expect(items[0].json.error).toBe('Could not reach Eachlabs: the connection was reset');
		const warnings = items[0].json.warnings as string[];
		expect(warnings).toHaveLength(3);
		expect(warnings[0]).toMatch(
			/the node sent it again, so a duplicate prediction may have been charged\.$/,
		);
		expect(warnings[2]).toMatch(/the node did not send it again \(it already had 2 times\)/);
		expect(items[0].json.description).toContain(warnings[2]);
		expect(items[0].pairedItem).toEqual({ item: 0 });
	});

	test('a base URL without https:// fails at once with advice, without retrying', async () => {
		const started = Date.now();
		const error = await rejectionOf(
			runNode({
				parameters: editImage({}),
				credentials: { apiKey: KEY, baseUrl: 'api.eachlabs.ai' },
			}),
		);
		expect(error.message).toMatch(/^Could not send the request to Eachlabs: /);
		expect(error.description).toContain('Check the Base URL of the Eachlabs API credential');
		expect((error as unknown as { cause: unknown }).cause).toBeInstanceOf(NodeOperationError);
		expect(Date.now() - started).toBeLessThan(2000);
	});
});

describe('malformed answers', () => {
	const cases: Array<{
		name: string;
		route: 'create' | 'poll';
		kind: 'noPredictionId' | 'nonJson' | 'successNoOutput';
		what: RegExp;
	}> = [
		{
			name: 'a create answer without predictionID',
			route: 'create',
			kind: 'noPredictionId',
			what: /^the create request succeeded \(HTTP 200\) but gave no prediction ID/,
		},
		{
			name: 'a non-JSON create answer',
			route: 'create',
			kind: 'nonJson',
			what: /^the create request succeeded \(HTTP 200\) but gave no prediction ID: a non-JSON answer/,
		},
		{
			name: 'a success without output',
			route: 'poll',
			kind: 'successNoOutput',
			what: /^the prediction succeeded but returned no images$/,
		},
		{
			name: 'a non-JSON poll answer',
			route: 'poll',
			kind: 'nonJson',
			what: /^the prediction's state could not be read: a non-JSON answer/,
		},
	];

	test.each(cases)(
		'$name → NodeApiError "Eachlabs answered something unexpected: …", never a TypeError',
		async ({ route, kind, what }) => {
			const fake = await startFake();
			fake.failNext(route, kind, 1);
			const error = await rejectionOf(run(fake, { parameters: editImage() }));
			expect(error).toBeInstanceOf(NodeApiError);
			expect(error).not.toBeInstanceOf(TypeError);
			expect(error.message.startsWith(UNEXPECTED)).toBe(true);
			expect(error.message.slice(UNEXPECTED.length)).toMatch(what);
			expect(deepText(error)).not.toMatch(/TypeError|Cannot read propert/);
			expect(error.context.itemIndex).toBe(0);
			// A create that got an answer is never sent again, even a puzzling one.
			expect(fake.stats().createRequests).toBe(1);
			if (route === 'poll') {
				expect(error.description).toContain(fake.stats().predictions[0]);
			} else {
				expect(fake.stats().creates).toBe(0);
			}
		},
	);

	test('with continue on fail, a malformed answer becomes an error item with the same message', async () => {
		const fake = await startFake();
		fake.failNext('poll', 'successNoOutput', 1);
		const items = await run(fake, {
			parameters: editImage(),
			onError: 'continueErrorOutput',
		});
		expect(items).toHaveLength(1);
		expect(items[0].json.error).toBe(
			`${UNEXPECTED}the prediction succeeded but returned no images`,
		);
		expect(items[0].json.predictionId).toBe(fake.stats().predictions[0]);
		expect(items[0].pairedItem).toEqual({ item: 0 });
	});
});

describe('stopping the execution', () => {
	/**
	 * Runs the node, stops the execution once `ready` holds (and `settleMs` more have passed), and
	 * checks that the node ends at once with n8n's stop message; then lets the fake settle.
	 */
	async function stopWhen(
		fake: FakeEachlabs,
		options: Partial<Parameters<typeof run>[1]>,
		ready: () => boolean,
		settleMs = 0,
	) {
		const controller = new AbortController();
		const outcome = run(fake, {
			parameters: editImage(),
			...options,
			signal: controller.signal,
		}).then(
			() => undefined,
			(error) => error,
		);
		await until(ready);
		await sleep(settleMs);
		const stoppedAt = Date.now();
		controller.abort();
		const error = await outcome;
		expect(Date.now() - stoppedAt).toBeLessThan(1000);
		expect(error?.message).toBe('The execution was stopped');
	}

	test('stops polling at once: returns within 1 s and no poll is sent afterwards', async () => {
		const fake = await startFake();
		await stopWhen(
			fake,
			{ parameters: editImage({ prompt: 'Put @Image1 on a table [slow:20000]' }) },
			() => fake.stats().polls >= 2,
		);
		const polls = fake.stats().polls;
		await sleep(600);
		expect(fake.stats().polls).toBe(polls);
		expect(fake.stats().createRequests).toBe(1);
	});

	test('stops waiting out a 429 Retry-After at once, without another create', async () => {
		const fake = await startFake();
		fake.failNext('create', '429', 1, { retryAfter: 10 });
		await stopWhen(fake, {}, () => fake.stats().createRequests === 1, 100);
		await sleep(300);
		expect(fake.stats()).toMatchObject({ createRequests: 1, creates: 0 });
	});

	test('stops a poll that hangs at once', async () => {
		const fake = await startFake();
		fake.failNext('poll', 'hang', 1);
		await stopWhen(fake, {}, () => fake.stats().polls === 1, 200);
		await sleep(300);
		expect(fake.stats().polls).toBe(1);
	});

	test('stops items queued behind the 10-slot limit: they never create', async () => {
		const fake = await startFake({ rateLimit: null });
		await stopWhen(
			fake,
			{
				parameters: editImage({ prompt: 'Put @Image1 on a table [slow:20000]' }),
				items: manyItems(13),
			},
			() => fake.stats().creates === 10,
			300,
		);
		await sleep(300);
		expect(fake.stats()).toMatchObject({ createRequests: 10, creates: 10 });
	});
});

describe('continue on fail', () => {
	test.each(['continueErrorOutput', 'continueRegularOutput'] as const)(
		'%s: each failed item becomes an error item (pairedItem, message, prediction id, error code); the others complete',
		async (onError) => {
			const fake = await startFake();
			const items = await run(fake, {
				parameters: editImage({ prompt: promptByItem({ 1: '[fail:classified]', 2: '[fail]' }) }),
				items: manyItems(4),
				onError,
			});
			expect(items).toHaveLength(4);
			expect(items.map((item) => item.pairedItem)).toEqual([
				{ item: 0 },
				{ item: 1 },
				{ item: 2 },
				{ item: 3 },
			]);
			await expectImage(fake, items[0]);
			await expectImage(fake, items[3]);

			expect(items[1].json).toMatchObject({
				error: 'Kling O1 could not edit the image: The provider is busy, try again later',
				errorCode: 'PROVIDER_RATE_LIMIT',
				predictionId: predictionOf(fake, 'table 1 [fail:classified]'),
			});
			expect(items[1].binary).toBeUndefined();
			expect(items[2].json).toMatchObject({
				error: 'Kling O1 could not edit the image: Image generation failed',
				predictionId: predictionOf(fake, 'table 2 [fail]'),
			});
			// Sentences with full stops; what to change, or that trying again may help (by code).
			expect(items[1].json.description).toBe(
				`No images were made for this item (prediction ${predictionOf(fake, 'table 1 [fail:classified]')}, error code PROVIDER_RATE_LIMIT). This kind of failure is usually temporary: running the node again with the same input may work.`,
			);
			expect(items[2].json.description).toContain('simulated failure');
			expect(items[2].json.description).toContain(
				`No images were made for this item (prediction ${predictionOf(fake, 'table 2 [fail]')}). Change the input and run the node again:`,
			);
			expect(items[2].json.description).not.toContain('Get Prediction');
			expect(items[2].json.errorCode).toBeUndefined();
			expect(fake.stats()).toMatchObject({ createRequests: 4, creates: 4 });
		},
	);

	test('an error before any prediction exists gives an error item without a prediction id', async () => {
		const fake = await startFake();
		fake.failNext('create', '401', 1);
		const items = await run(fake, {
			parameters: editImage({ options: { timeoutSeconds: 30 } }),
			items: manyItems(1),
			onError: 'continueErrorOutput',
		});
		expect(items).toHaveLength(1);
		expect(items[0].pairedItem).toEqual({ item: 0 });
		expect(items[0].json.error).toBe('Eachlabs did not accept the API key');
		expect(items[0].json.httpCode).toBe('401');
		expect(items[0].json).not.toHaveProperty('predictionId');
		expect(fake.stats()).toMatchObject({ createRequests: 1, creates: 0 });
	});

	test('a timeout and an expired output become error items with their prediction ids; the rest complete', async () => {
		const fake = await startFake();
		const items = await run(fake, {
			parameters: editImage({
				prompt: promptByItem({ 0: '[slow:5000]', 2: '[expired]' }),
				options: { timeoutSeconds: 1 },
			}),
			items: manyItems(3),
			onError: 'continueErrorOutput',
		});
		expect(items).toHaveLength(3);
		const slow = predictionOf(fake, 'table 0 [slow:5000]');
		const expired = predictionOf(fake, 'table 2 [expired]');
		expect(items[0].json).toMatchObject({
			error: `Prediction ${slow} did not finish within 1 seconds`,
			predictionId: slow,
		});
		expect(items[0].pairedItem).toEqual({ item: 0 });
		await expectImage(fake, items[1]);
		expect(items[2].json).toMatchObject({
			error: `Edited image 0 of prediction ${expired} could not be downloaded (HTTP 404)`,
			predictionId: expired,
			httpCode: '404',
		});
		expect(items[2].pairedItem).toEqual({ item: 2 });
	});
});

describe('stop on the first failure (no continue on fail)', () => {
	test('the node fails with the failing item’s index and message; the description names every prediction created', async () => {
		const fake = await startFake();
		const started = Date.now();
		const error = await rejectionOf(
			run(fake, {
				parameters: editImage({
					prompt: promptByItem({ 0: '[slow:3000]', 1: '[slow:3000]', 2: '[fail]' }),
				}),
				items: manyItems(3),
			}),
		);
		// The slow items are not waited for.
		expect(Date.now() - started).toBeLessThan(2000);
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe('Kling O1 could not edit the image: Image generation failed');
		expect(error.context.itemIndex).toBe(2);
		const ids = fake.stats().predictions;
		expect(ids).toHaveLength(3);
		for (const [index, text] of ['table 0 [slow', 'table 1 [slow'].entries()) {
			expect(error.description).toContain(`${predictionOf(fake, text)} (item ${index})`);
		}
		// The failed one is named once, in the error's own sentence.
		expect(error.description).toContain(
			`No images were made for this item (prediction ${predictionOf(fake, 'table 2 [fail]')})`,
		);
		expect(error.description).toContain('resume with Get Prediction');
	});

	test('when the only prediction is the one that failed, the error offers nothing to resume', async () => {
		const fake = await startFake();
		const error = await rejectionOf(
			run(fake, {
				parameters: editImage({ prompt: promptByItem({ 0: '[fail]' }) }),
				items: manyItems(1),
			}),
		);
		const [id] = fake.stats().predictions;
		expect(error.message).toBe('Kling O1 could not edit the image: Image generation failed');
		// Named once, in its own sentence; no list of other predictions, as there are none.
		expect(error.description).toContain(`No images were made for this item (prediction ${id}).`);
		expect(error.description?.split(id)).toHaveLength(2);
		expect(error.description).not.toContain('Get Prediction');
		// n8n shows a NodeApiError's status-like fields as "Error code": a failed model is no HTTP error.
		expect(error.httpCode).toBeNull();
	});

	// The failing item halts the run before it frees its slot, so no queued item takes the slot
	// and creates one more paid prediction (creates: 10, not 11).
	test('no new create starts after the failure: items queued behind the limit never create', async () => {
		const fake = await startFake({ rateLimit: null });
		const marks: Record<number, string> = { 0: '[fail]' };
		for (let i = 1; i < 15; i++) marks[i] = '[slow:3000]';
		const error = await rejectionOf(
			run(fake, {
				parameters: editImage({ prompt: promptByItem(marks) }),
				items: manyItems(15),
			}),
		);
		expect(error.message).toBe('Kling O1 could not edit the image: Image generation failed');
		expect(error.context.itemIndex).toBe(0);
		await sleep(300);
		// Items 0–9 held the 10 slots; 10–14 were queued when item 0 failed.
		expect(fake.stats()).toMatchObject({ createRequests: 10, creates: 10 });
	});

	test('the timeout: a [slow:5000] job with timeoutSeconds 1 fails naming the prediction, resumable with Get Prediction', async () => {
		const fake = await startFake();
		const started = Date.now();
		const error = await rejectionOf(
			run(fake, {
				parameters: editImage({
					prompt: 'Put @Image1 on a table [slow:5000]',
					options: { timeoutSeconds: 1 },
				}),
			}),
		);
		const elapsed = Date.now() - started;
		expect(elapsed).toBeGreaterThanOrEqual(900);
		expect(elapsed).toBeLessThan(2500);
		const id = fake.stats().predictions[0];
		expect(error.message).toBe(`Prediction ${id} did not finish within 1 seconds`);
		expect(error.description).toContain('Get Prediction');
		expect(error.description).toContain(id);
		expect(error.context.itemIndex).toBe(0);
		const polls = fake.stats().polls;
		await sleep(400);
		expect(fake.stats().polls).toBe(polls);
		expect(fake.stats().createRequests).toBe(1);
	});

	test('an API error answer after retries names the prediction (poll 404 → not found)', async () => {
		const fake = await startFake();
		fake.failNext('poll', '404', 1);
		const error = await rejectionOf(run(fake, { parameters: editImage() }));
		const id = fake.stats().predictions[0];
		expect(error.message).toBe(`Prediction ${id} was not found`);
		expect(error.description).toContain(id);
		expect(fake.stats().createRequests).toBe(1);
	});

	test('a failing item stops the others at once, even mid-request', async () => {
		// Item 0's poll never answers; item 1's prediction fails: the node must not wait for item 0.
		const stub = await startStub((request, response) => {
			if (request.method === 'POST') {
				const id = String(request.body.input.prompt).includes('hang') ? 'hang-id' : 'fail-id';
				return json(response, 200, { status: 'success', predictionID: id });
			}
			if (request.path.endsWith('/fail-id')) {
				return json(response, 200, { status: 'error', message: 'The model failed' });
			}
			// hang-id: never answer
		});
		try {
			const started = Date.now();
			const error = await rejectionOf(
				runNode({
					parameters: editImage({
						prompt: '={{ $json.p }}',
						images: { image: [{ url: 'https://example.com/a.png' }] },
					}),
					items: [{ json: { p: 'hang @Image1' } }, { json: { p: 'fail @Image1' } }],
					credentials: { apiKey: KEY, baseUrl: stub.url },
				}),
			);
			expect(error.message).toBe('Kling O1 could not edit the image: The model failed');
			expect(error.context.itemIndex).toBe(1);
			expect(Date.now() - started).toBeLessThan(5000);
			expect(error.description).toContain('hang-id (item 0)');
		} finally {
			await stub.close();
		}
	});
});

describe('secrets', () => {
	const SECRET = 'ek-SECRET-7f3a9c1d2e4b5a6978';

	test('the key is sent to the API only, never to the files host, and is not in the output items', async () => {
		const fake = await startFake({ apiKey: SECRET });
		fake.failNext('download', '503', 1);
		const items = await run(fake, {
			parameters: editImage({ numImages: 2 }),
			items: manyItems(2),
			apiKey: SECRET,
		});
		expect(items).toHaveLength(4);
		for (const item of items) expect(item.json.status).toBe('success');
		expect(downloadRequests(fake).length).toBe(5);
		// The scan means something: the API requests did carry the key.
		const apiRequests = fake.requests.filter((request) => request.host === 'api');
		expect(apiRequests.length).toBeGreaterThan(0);
		for (const request of apiRequests) expect(request.headers['x-api-key']).toBe(SECRET);
		expectNoKeyLeak(fake, SECRET, items);
	});

	const failures: Array<{
		name: string;
		setup: (fake: FakeEachlabs) => void;
		prompt?: string;
		timeoutSeconds?: number;
	}> = [
		{ name: 'a failed prediction', setup: () => {}, prompt: 'Put @Image1 on a table [fail]' },
		{ name: 'an expired output', setup: () => {}, prompt: 'Put @Image1 on a table [expired]' },
		{ name: 'a malformed answer', setup: (fake) => fake.failNext('poll', 'nonJson', 1) },
		{
			name: 'a 5xx that never ends',
			setup: (fake) => fake.failNext('poll', '502html', 100),
			timeoutSeconds: 2,
		},
		{
			name: 'a timeout',
			setup: () => {},
			prompt: 'Put @Image1 on a table [slow:5000]',
			timeoutSeconds: 1,
		},
	];

	test.each(failures)(
		'$name: the thrown error and the error item hold no key',
		async ({ setup, prompt, timeoutSeconds }) => {
			const fake = await startFake({ apiKey: SECRET });
			const parameters = editImage({
				...(prompt ? { prompt } : {}),
				options: { timeoutSeconds: timeoutSeconds ?? 30 },
			});
			setup(fake);
			const error = await rejectionOf(run(fake, { parameters, apiKey: SECRET }));
			expect(error.message).toBeTruthy();
			fake.reset();
			setup(fake);
			const items = await run(fake, { parameters, apiKey: SECRET, onError: 'continueErrorOutput' });
			expect(items[0].json.error).toBeTruthy();
			expectNoKeyLeak(fake, SECRET, error, items, error.message, error.description);
		},
	);

	test('a rejected key: the 401 error does not repeat the key that was sent', async () => {
		const fake = await startFake();
		const wrong = 'ek-WRONG-0b1c2d3e4f5a6b7c8d';
		const error = await rejectionOf(run(fake, { parameters: editImage(), apiKey: wrong }));
		expect(error.message).toBe('Eachlabs did not accept the API key');
		expect(error.context.itemIndex).toBe(0);
		expect(fake.stats()).toMatchObject({ createRequests: 1, creates: 0 });
		expectNoKeyLeak(fake, wrong, error);
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error).not.toBeInstanceOf(NodeOperationError);
	});

	test('a redirect from the API is not followed: the key stays with the API host', async () => {
		const fake = await startFake({ apiKey: KEY, jobMs: 100 });
		const stub = await startStub((request, response) => {
			response.writeHead(302, { location: `${fake.filesUrl}/elsewhere${request.path}` });
			response.end();
		});
		try {
			const error = await rejectionOf(
				runNode({
					parameters: getPrediction('abc'),
					credentials: { apiKey: KEY, baseUrl: stub.url },
				}),
			);
			expect(error.message).toBe(
				`Eachlabs answered something unexpected: a redirect (HTTP 302) to ${fake.filesUrl}/elsewhere/v1/prediction/abc, which the node does not follow so that the API key is sent to Eachlabs only`,
			);
			expect(stub.requests).toHaveLength(1);
			expect(fake.requests).toHaveLength(0);
		} finally {
			await stub.close();
		}
	});

	test('an answer that echoes the key leaves no trace of it in the error', async () => {
		const stub = await startStub((_request, response) =>
			json(response, 400, { status: 'error', message: `Bad request for key ${KEY}`, details: KEY }),
		);
		try {
			const error = await rejectionOf(
				runNode({ parameters: editImage({}), credentials: { apiKey: KEY, baseUrl: stub.url } }),
			);
			expect(error.message).toBe(
				'Eachlabs answered with an error (HTTP 400): Bad request for key [redacted]',
			);
			const everything = JSON.stringify(error, Object.getOwnPropertyNames(error));
			expect(everything).not.toContain(KEY);
			const items = await runNode({
				parameters: editImage({}),
				credentials: { apiKey: KEY, baseUrl: stub.url },
				onError: 'continueRegularOutput',
			});
			expect(JSON.stringify(items[0], Object.getOwnPropertyNames(items[0].error))).not.toContain(
				KEY,
			);
			expect(
				JSON.stringify(items[0].error, Object.getOwnPropertyNames(items[0].error)),
			).not.toContain(KEY);
		} finally {
			await stub.close();
		}
	});
});

// Sanity: helpers used above behave (a failing helper would make the tests above meaningless).
test('pollRequests counts what stats().polls counts', async () => {
	const fake = await startFake();
	await run(fake, { parameters: editImage() });
	expect(pollRequests(fake)).toHaveLength(fake.stats().polls);
	expect(createRequests(fake)).toHaveLength(fake.stats().createRequests);
});
