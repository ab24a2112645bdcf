/**
 * Crossentropy ops (keras.ops.binaryCrossentropy, categoricalCrossentropy,
 * sparseCategoricalCrossentropy): per-sample values, no reduction over the
 * batch (the losses in strata.losses reduce them). Composites.
 *
 * With `fromLogits: false` the outputs are probabilities: as in Keras they are
 * clipped to [epsilon, 1 - epsilon] with epsilon = 1e-7 (and, for the
 * categorical forms, first divided by their sum along `axis`). With
 * `fromLogits: true` the logs come from stable forms: softplus for binary,
 * logSoftmax (shifted by the maximum) for categorical.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { isBool, isFloat } from '../../tensor/dtype.ts';
import { type Shape, formatShape, normalizeAxis } from '../../tensor/shape.ts';
import { range } from '../../tensor/create.ts';
import { OpError } from '../../engine/op.ts';
import { type TensorLike, toTensor } from '../convert.ts';
import * as m from './math.ts';
import * as a from './array.ts';
import * as r from './reduce.ts';
import { logSoftmax, softplus } from './activations.ts';

/** Keras's backend epsilon (keras.config.epsilon()). */
export const EPSILON = 1e-7;

export interface CrossentropyOptions {
  fromLogits?: boolean;
}
export interface CategoricalCrossentropyOptions extends CrossentropyOptions {
  axis?: number;
}

function fromLogitsOption(arg: boolean | CrossentropyOptions | undefined): boolean {
  const v = arg !== null && typeof arg === 'object' ? arg.fromLogits : arg;
  return v ?? false;
}

function axisOption(arg: boolean | CategoricalCrossentropyOptions | undefined, axis: number | undefined): number {
  const v = arg !== null && typeof arg === 'object' ? arg.axis : axis;
  return v ?? -1;
}

/** The output as a float tensor and the target cast to its dtype. */
function operands(op: string, target: TensorLike, output: TensorLike): [Tensor, Tensor] {
  let o = toTensor(output, op);
  if (!isFloat(o.dtype)) o = m.cast(o, 'float32');
  let t = toTensor(target, op);
  if (t.dtype !== o.dtype) t = m.cast(t, o.dtype);
  return [t, o];
}

const compatible = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === null || b[i] === null || d === b[i]);

/**
 * Elementwise binary crossentropy between `target` (0/1 or probabilities)
 * and `output` (probabilities, or logits with fromLogits). Same shape in, same shape out.
 */
export function binaryCrossentropy(target: TensorLike, output: TensorLike, fromLogits: boolean | CrossentropyOptions = false): Tensor {
  const op = 'binaryCrossentropy';
  const [t, o] = operands(op, target, output);
  if (t.rank !== o.rank) {
    throw new OpError(op, `Received: target.shape=${formatShape(t.shape)}, output.shape=${formatShape(o.shape)}; expected target and output with the same rank.`);
  }
  if (!compatible(t.shape, o.shape)) {
    throw new OpError(op, `Received: target.shape=${formatShape(t.shape)}, output.shape=${formatShape(o.shape)}; expected target and output with the same shape.`);
  }
  if (fromLogitsOption(fromLogits)) {
    // -t log(sigmoid(o)) - (1 - t) log(1 - sigmoid(o)) = softplus(o) - t * o.
    return m.subtract(softplus(o), m.multiply(t, o));
  }
  const p = m.clip(o, EPSILON, 1 - EPSILON);
  const positive = m.multiply(t, m.log(p));
  const negative = m.multiply(m.subtract(1, t), m.log(m.subtract(1, p)));
  return m.negative(m.add(positive, negative));
}

/** log-probabilities along `axis` from probabilities (normalized, then clipped) or logits. */
function logProbabilities(o: Tensor, axis: number, fromLogits: boolean): Tensor {
  if (fromLogits) return logSoftmax(o, axis);
  const normalized = m.divide(o, r.sum(o, { axis, keepdims: true }));
  return m.log(m.clip(normalized, EPSILON, 1 - EPSILON));
}

/**
 * Crossentropy between one-hot (or soft) `target` and `output` along `axis`
 * (default -1): -sum(target * log(p), axis). The result drops `axis`.
 */
export function categoricalCrossentropy(
  target: TensorLike,
  output: TensorLike,
  fromLogits: boolean | CategoricalCrossentropyOptions = false,
  axis?: number,
): Tensor {
  const op = 'categoricalCrossentropy';
  const [t, o] = operands(op, target, output);
  if (!compatible(t.shape, o.shape)) {
    throw new OpError(op, `Received: target.shape=${formatShape(t.shape)}, output.shape=${formatShape(o.shape)}; expected target and output with the same shape.`);
  }
  if (o.rank < 1) {
    throw new OpError(op, `Received: target.shape=${formatShape(t.shape)}, output.shape=${formatShape(o.shape)}; expected tensors of rank >= 1.`);
  }
  const ax = normalizeAxis(axisOption(fromLogits, axis), o.rank, `ops.${op}`);
  const logp = logProbabilities(o, ax, fromLogitsOption(fromLogits));
  return m.negative(r.sum(m.multiply(t, logp), ax));
}

/**
 * Crossentropy between integer class labels `target` and `output`
 * (probabilities or logits) whose classes lie along `axis` (default -1).
 * `target` has the shape of `output` without `axis` (a trailing size-1 axis
 * is squeezed, as in Keras). Labels outside [0, numClasses) select no class
 * and give 0 (as Keras with the JAX backend).
 */
export function sparseCategoricalCrossentropy(
  target: TensorLike,
  output: TensorLike,
  fromLogits: boolean | CategoricalCrossentropyOptions = false,
  axis?: number,
): Tensor {
  const op = 'sparseCategoricalCrossentropy';
  let o = toTensor(output, op);
  if (!isFloat(o.dtype)) o = m.cast(o, 'float32');
  let labels = toTensor(target, op);
  if (isBool(labels.dtype) || isFloat(labels.dtype)) labels = m.cast(labels, 'int32');
  if (o.rank < 1) throw new OpError(op, `Received: output.shape=${formatShape(o.shape)}; expected output of rank >= 1.`);
  const ax = normalizeAxis(axisOption(fromLogits, axis), o.rank, `ops.${op}`);
  if (labels.rank === o.rank && labels.shape[labels.rank - 1] === 1) labels = a.squeeze(labels, -1);
  const expected = o.shape.filter((_, i) => i !== ax);
  if (!compatible(labels.shape, expected)) {
    throw new OpError(
      op,
      `Received: target.shape=${formatShape(labels.shape)}, output.shape=${formatShape(o.shape)}; expected target with the shape of output without axis ${ax}, ${formatShape(expected)}.`,
    );
  }
  const classes = o.shape[ax];
  if (classes === null) {
    throw new OpError(op, `Received: output.shape=${formatShape(o.shape)}; the number of classes (axis ${ax}) must be known.`);
  }
  // One-hot mask: label == class index, with the class index laid out along `axis`.
  const classIndex = a.reshape(range(classes), [classes, ...new Array<number>(o.rank - 1 - ax).fill(1)]);
  const mask = m.equal(a.expandDims(labels, ax), classIndex);
  const logp = logProbabilities(o, ax, fromLogitsOption(fromLogits));
  // where, not multiply: a -inf log-probability of an unselected class must not give NaN.
  return m.negative(r.sum(m.where(mask, logp, 0), ax));
}
