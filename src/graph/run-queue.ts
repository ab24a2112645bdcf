/**
 * Compiled calls run one at a time, in call order. A run reads variables when
 * it starts and writes their updates back when it ends, so serializing runs
 * gives every call the updates of the calls before it, even when several
 * compiled functions share variables and nobody awaits between calls.
 */
let tail: Promise<unknown> = Promise.resolve();

export function enqueueGraphRun<T>(run: () => Promise<T>): Promise<T> {
  const result = tail.then(run, run);
  tail = result.catch(() => undefined);
  return result;
}
