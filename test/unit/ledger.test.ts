import { CreateLedger } from '../../nodes/KlingO1/ledger';

const BODY = '{"model":"kling-o1"}';

test('a create is written down when sent and settled by its answer; "nothing" leaves no trace', () => {
	const ledger = new CreateLedger();
	ledger.attempt = 1;
	const made = ledger.sending(0, BODY);
	expect(made.outcome).toBe('sending');
	expect(Date.parse(made.sentAt)).toBeGreaterThan(0);
	ledger.created(made, 'p0');
	ledger.nothing(ledger.sending(1, BODY));
	const lost = ledger.sending(2, BODY);
	ledger.unknown(lost, 'the connection was reset');
	expect(ledger.describe()).toEqual([
		'Predictions created in this execution, which you can resume with Get Prediction: p0 (item 0).',
		`Creates that got no clear answer, so a prediction may exist whose ID the node never learned (look for it in the Eachlabs dashboard by its time): item 2: sent at ${lost.sentAt}, the connection was reset.`,
	]);
});

test('a later try resumes the same request of the same item, unless its prediction failed', () => {
	const ledger = new CreateLedger();
	ledger.attempt = 1;
	ledger.created(ledger.sending(0, BODY), 'p0');
	ledger.created(ledger.sending(1, BODY), 'p1');
	ledger.created(ledger.sending(2, BODY), 'p2');
	ledger.seen('p0', 'succeeded');
	ledger.seen('p1', 'failed');
	ledger.seen('p2', 'cancelled');
	ledger.attempt = 2;
	expect(ledger.resumable(0, BODY)?.predictionId).toBe('p0');
	expect(ledger.resumable(0, '{"model":"other"}')).toBeUndefined();
	expect(ledger.resumable(1, BODY)).toBeUndefined();
	expect(ledger.resumable(2, BODY)).toBeUndefined();
	ledger.created(ledger.sending(1, BODY), 'p1b');
	expect(ledger.othersOf(1, 'p1b')).toEqual(['p1']);
	expect(ledger.othersOf(0, 'p0')).toEqual([]);
	// With more than one try, each prediction says which try made it.
	// A failed or cancelled prediction is named, but not offered for resuming.
	expect(ledger.describe()).toEqual([
		'Predictions created in this execution, which you can resume with Get Prediction: p0 (item 0, try 1), p1b (item 1, try 2).',
		'Predictions of this execution that failed, with nothing to fetch: p1 (item 1, try 1), p2 (item 2, try 1).',
	]);
});

test('creates of earlier tries that got no clear answer become warnings on the item', () => {
	const ledger = new CreateLedger();
	ledger.attempt = 1;
	const lost = ledger.sending(0, BODY);
	ledger.unknown(lost, 'the request timed out');
	expect(ledger.unclearBefore(0)).toEqual([]);
	ledger.attempt = 2;
	expect(ledger.unclearBefore(0)).toEqual([
		`An earlier try of this item (Retry On Fail, try 1) sent a create at ${lost.sentAt} that got no clear answer (the request timed out): a prediction may have been charged without the node learning its ID.`,
	]);
	expect(ledger.unclearBefore(1)).toEqual([]);
});
