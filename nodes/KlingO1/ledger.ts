import type { PredictionPhase } from './schemas';

/*
 * Every create this node sent in one execution, kept across n8n's "Retry On Fail" tries (n8n runs
 * the node again with the same execute data). Each prediction costs money, so each one is either
 * delivered or named, with its item, in the output or in the error:
 * - a create is written down before it is sent and settled by its answer (an ID, nothing, or
 *   unknown when the connection broke or a gateway answered);
 * - on a retry, an item whose prediction exists is resumed by ID instead of being created again,
 *   unless that prediction failed (trying again is then what the user asked for).
 */

type CreateOutcome =
	/** Sent, no answer yet. */
	| 'sending'
	/** Eachlabs gave the ID. */
	| 'created'
	/** The answer was lost or came from a gateway: a prediction may exist without a known ID. */
	| 'unknown';

interface CreateRecord {
	itemIndex: number;
	/** Which run of the node in this execution sent it: 1, or more with Retry On Fail. */
	attempt: number;
	/** When it was sent, as an ISO time the user can look up in the Eachlabs dashboard. */
	sentAt: string;
	/**
	 * The request as the fields mapped it (before uploads, whose URLs differ on every try), so that a
	 * retry resumes only the same request of the same item.
	 */
	body: string;
	outcome: CreateOutcome;
	predictionId?: string;
	/** Where the prediction was last seen: a failed one is created again on a retry. */
	phase?: PredictionPhase;
	problem?: string;
}

export class CreateLedger {
	private readonly records: CreateRecord[] = [];

	/** The current run of the node in this execution (1-based). */
	attempt = 0;

	/** Writes a create down before it is sent. */
	sending(itemIndex: number, body: string): CreateRecord {
		const record: CreateRecord = {
			itemIndex,
			attempt: this.attempt,
			sentAt: new Date().toISOString(),
			body,
			outcome: 'sending',
		};
		this.records.push(record);
		return record;
	}

	created(record: CreateRecord, predictionId: string) {
		record.outcome = 'created';
		record.predictionId = predictionId;
	}

	unknown(record: CreateRecord, problem: string) {
		record.outcome = 'unknown';
		record.problem = problem;
	}

	/** The answer proves nothing was made (a 4xx, Eachlabs' own 5xx, a refused connection). */
	nothing(record: CreateRecord) {
		const index = this.records.indexOf(record);
		if (index >= 0) this.records.splice(index, 1);
	}

	/** What the node last saw of a prediction. */
	seen(predictionId: string, phase: PredictionPhase) {
		for (const record of this.records) {
			if (record.predictionId === predictionId) record.phase = phase;
		}
	}

	/** The prediction an earlier try made for the same request of this item, unless it failed. */
	resumable(itemIndex: number, body: string): CreateRecord | undefined {
		return this.records
			.filter(
				(record) =>
					record.itemIndex === itemIndex &&
					record.body === body &&
					record.outcome === 'created' &&
					record.phase !== 'failed' &&
					record.phase !== 'cancelled',
			)
			.at(-1);
	}

	/** The IDs of this item's predictions other than `predictionId`, oldest first. */
	othersOf(itemIndex: number, predictionId?: string): string[] {
		return this.records
			.filter((record) => record.itemIndex === itemIndex && record.predictionId !== predictionId)
			.flatMap((record) => (record.predictionId ? [record.predictionId] : []));
	}

	/** Warnings for this item about creates of earlier tries that got no clear answer. */
	unclearBefore(itemIndex: number): string[] {
		return this.records
			.filter(
				(record) =>
					record.itemIndex === itemIndex &&
					record.attempt < this.attempt &&
					record.outcome !== 'created',
			)
			.map(
				(record) =>
					`An earlier try of this item (Retry On Fail, try ${record.attempt}) sent a create at ${record.sentAt} that got no clear answer (${record.problem ?? 'no answer'}): a prediction may have been charged without the node learning its ID.`,
			);
	}

	/**
	 * Sentences for the run's error: every prediction made, and every create with no clear answer.
	 * A failed or cancelled prediction cannot be resumed, so it is named apart from those that can.
	 * `alreadyNamed` leaves out failed predictions that the error's own text names.
	 */
	describe(alreadyNamed: (predictionId: string) => boolean = () => false): string[] {
		const tries = new Set(this.records.map((record) => record.attempt)).size > 1;
		const label = (record: CreateRecord) =>
			`${record.predictionId} (item ${record.itemIndex}${tries ? `, try ${record.attempt}` : ''})`;
		const ended = (record: CreateRecord) =>
			record.phase === 'failed' || record.phase === 'cancelled';
		const made = this.records.filter((record) => record.predictionId);
		const resumable = made.filter((record) => !ended(record)).map(label);
		// A failed prediction the error already names (the failing item's own) is not named twice.
		const failed = made
			.filter((record) => ended(record) && !alreadyNamed(record.predictionId!))
			.map(label);
		const unclear = this.records
			.filter((record) => record.outcome !== 'created')
			.map(
				(record) =>
					`item ${record.itemIndex}${tries ? `, try ${record.attempt}` : ''}: sent at ${record.sentAt}${record.problem ? `, ${record.problem}` : ', no answer yet'}`,
			);
		return [
			resumable.length
				? `Predictions created in this execution, which you can resume with Get Prediction: ${resumable.join(', ')}.`
				: '',
			failed.length
				? `Predictions of this execution that failed, with nothing to fetch: ${failed.join(', ')}.`
				: '',
			unclear.length
				? `Creates that got no clear answer, so a prediction may exist whose ID the node never learned (look for it in the Eachlabs dashboard by its time): ${unclear.join('; ')}.`
				: '',
		].filter(Boolean);
	}
}
