/**
 * Jest's simulated clock, for tests whose subject is time: how long something waits, or that it
 * ends "at once". On a simulated clock a loaded machine cannot stretch a wait, so an upper bound
 * checks the code and not the machine.
 */

/**
 * Moves the fake timers on in `stepMs` steps until `promise` settles (at most `limitMs`), so the
 * clock stops where it settled: `Date.now()` afterwards tells how long it took. Needs
 * `jest.useFakeTimers()`; returns `promise` itself.
 */
export async function settleOnFakeTime<T>(
	promise: Promise<T>,
	limitMs = 60_000,
	stepMs = 10,
): Promise<T> {
	let settled = false;
	promise.then(
		() => (settled = true),
		() => (settled = true),
	);
	for (let moved = 0; !settled && moved < limitMs; moved += stepMs) {
		await jest.advanceTimersByTimeAsync(stepMs);
	}
	return await promise;
}
