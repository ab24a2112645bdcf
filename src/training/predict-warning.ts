/**
 * A warning for a common slow pattern: calling `model.predict` (or
 * `predictOnBatch`) in a loop, one sample at a time. Every call pays fixed
 * costs (converting the input, batching, a compiled run in the graph worker
 * and the copy back) that a batch shares across its samples.
 */
import { Tensor } from '../tensor/tensor.ts';
import { warnOnce } from '../engine/warnings.ts';

/** Single-sample calls within WINDOW_MS that trigger the warning. */
export const SINGLE_SAMPLE_CALLS = 50;
export const WINDOW_MS = 10_000;

const recent = new WeakMap<object, number[]>();

/** Rows of the first tensor of a prediction (a tensor, a list or a dict of tensors), or null. */
function rows(result: unknown): number | null {
  if (result instanceof Tensor) return result.rank > 0 ? (result.shape[0] ?? null) : null;
  const first = Array.isArray(result) ? result[0] : result && typeof result === 'object' ? Object.values(result)[0] : undefined;
  return first instanceof Tensor && first.rank > 0 ? (first.shape[0] ?? null) : null;
}

/** Called after each predict / predictOnBatch with its result; warns once per model when single-sample calls pile up. */
export function notePredictCall(model: { readonly name: string }, method: 'predict' | 'predictOnBatch', result: unknown): void {
  if (rows(result) !== 1) return;
  const now = performance.now();
  let times = recent.get(model);
  if (!times) recent.set(model, (times = []));
  times.push(now);
  while (times.length > 0 && now - times[0] > WINDOW_MS) times.shift();
  if (times.length < SINGLE_SAMPLE_CALLS) return;
  times.length = 0;
  warnOnce(
    `predict-single-samples:${model.name}`,
    `model.${method} was called ${SINGLE_SAMPLE_CALLS} times within ${WINDOW_MS / 1000} s on model '${model.name}', each time on a single sample. ` +
      'Every call has a fixed cost (input conversion, a compiled run in the graph worker, copying results back) that a batch shares. ' +
      'Batch the samples: model.predict(x) with all of them (and {batchSize}), or model.predictOnBatch(batch) with several rows at once. ' +
      'For a serving loop that really gets one sample at a time, compile the forward pass once with ' +
      'strata.fn((x) => model.apply(x, {training: false}), {inputSignature: [new strata.TensorSpec([null, <features>])]}) and call that.',
  );
}
