import { KeyWindow, windowPolicy } from '../../nodes/KlingO1/window';

/** Accepts creates at a full window until the limit stops growing or `times` is reached. */
function acceptAtFull(window: KeyWindow, times: number) {
	for (let i = 0; i < times; i++) window.accepted(window.limit);
}

describe('the window of one key in one process', () => {
	test('starts at 1 and grows by one per create accepted at a full window, up to the maximum', () => {
		const window = new KeyWindow(10);
		expect(window.limit).toBe(1);
		acceptAtFull(window, 1);
		expect(window.limit).toBe(2);
		acceptAtFull(window, 8);
		expect(window.limit).toBe(10);
		acceptAtFull(window, 5);
		expect(window.limit).toBe(10);
	});

	test('a create accepted below a full window is no evidence that more would be used', () => {
		const window = new KeyWindow(10);
		acceptAtFull(window, 3);
		expect(window.limit).toBe(4);
		window.accepted(2);
		window.accepted(3);
		expect(window.limit).toBe(4);
	});

	test('a 429 halves the creates still running (rounded down, never below 1)', () => {
		const window = new KeyWindow(10);
		acceptAtFull(window, 9);
		window.rateLimited(7, window.epoch);
		expect(window.limit).toBe(3);
		window.rateLimited(1, window.epoch);
		expect(window.limit).toBe(1);
		window.rateLimited(0, window.epoch);
		expect(window.limit).toBe(1);
		expect(windowPolicy.decrease).toBe(0.5);
	});

	test('429s of creates sent before the window was lowered do not lower it again', () => {
		const window = new KeyWindow(10);
		acceptAtFull(window, 9);
		const sentAt = window.epoch;
		window.rateLimited(8, sentAt);
		expect(window.limit).toBe(4);
		window.rateLimited(7, sentAt);
		window.rateLimited(6, sentAt);
		expect(window.limit).toBe(4);
		window.rateLimited(4, window.epoch);
		expect(window.limit).toBe(2);
	});

	test('after a 429, a full window of accepted creates adds one, then it grows while accepted', () => {
		const window = new KeyWindow(10);
		acceptAtFull(window, 7);
		window.rateLimited(8, window.epoch);
		expect(window.limit).toBe(4);
		acceptAtFull(window, 3);
		expect(window.limit).toBe(4);
		acceptAtFull(window, 1);
		expect(window.limit).toBe(5);
		// The probe was accepted: keep growing one per accepted create.
		acceptAtFull(window, 2);
		expect(window.limit).toBe(7);
		// The next 429 stops the growth again.
		window.rateLimited(6, window.epoch);
		expect(window.limit).toBe(3);
		acceptAtFull(window, 2);
		expect(window.limit).toBe(3);
	});

	test('after a long idle stretch the window starts from 1 again; a short pause keeps it', () => {
		const window = new KeyWindow(10);
		acceptAtFull(window, 9);
		window.inFlightChanged(0, 1000);
		window.inFlightChanged(1, 1000 + windowPolicy.idleRestartMs - 1);
		expect(window.limit).toBe(10);
		window.inFlightChanged(0, 5000);
		window.inFlightChanged(0, 6000);
		window.inFlightChanged(1, 5000 + windowPolicy.idleRestartMs);
		expect(window.limit).toBe(1);
		acceptAtFull(window, 1);
		expect(window.limit).toBe(2);
	});
});
