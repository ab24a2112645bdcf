/**
 * The loss functions (keras.losses.mean_squared_error, ... in camelCase).
 * Each takes `(yTrue, yPred, options?)` and returns per-sample values,
 * usually with the last axis reduced; no reduction over the batch (the Loss
 * classes and `Loss.apply` do that).
 *
 * Shapes: as in Keras, when the ranks of y_true and y_pred differ by one and
 * the longer has a trailing axis of size 1, that axis is squeezed (or added
 * to a rank-1 y_true). After that the shapes must match; a mismatch is an
 * error naming the loss and both shapes (Keras would broadcast some of them
 * silently, which is almost always a label bug).
 */
import { type Shape, formatShape, normalizeAxis, describe } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { type TensorLike, toTensor } from '../ops/convert.ts';
import * as ops from '../ops/index.ts';
import { warnOnce } from '../engine/warnings.ts';
import { setMask } from '../layers/layer.ts';
import { EPSILON, compatibleShapes, floatTensor, lossLabel, squeezeOrExpandToSameRank } from './loss.ts';

/** A loss function: per-sample values from labels and predictions. */
export type LossFunction = (yTrue: TensorLike, yPred: TensorLike, options?: never) => Tensor;

export interface CrossentropyOptions {
  /** Whether y_pred holds logits (default false: probabilities). */
  fromLogits?: boolean;
  /** In [0, 1]: squeezes the labels towards 0.5 (binary) or 1/numClasses (categorical). Default 0. */
  labelSmoothing?: number;
  /** The class axis (categorical) or the axis averaged over (binary). Default -1. */
  axis?: number;
}

export interface SparseCrossentropyOptions {
  fromLogits?: boolean;
  /** A label value whose samples are left out of the loss (e.g. -1 or 255 for "void"). Default null. */
  ignoreClass?: number | null;
  /** The class axis of y_pred. Default -1. */
  axis?: number;
}

export interface BinaryFocalCrossentropyOptions extends CrossentropyOptions {
  /** Weight class 1 by alpha and class 0 by 1 - alpha. Default false. */
  applyClassBalancing?: boolean;
  /** Default 0.25. */
  alpha?: number;
  /** The focusing parameter (0 gives binary crossentropy). Default 2. */
  gamma?: number;
}

const fmt = (t: Tensor): string => formatShape(t.shape);

/** y_pred as a float tensor, y_true in its dtype, with Keras's squeeze-or-expand applied. */
function operands(yTrue: TensorLike, yPred: TensorLike, where: string, squeeze = true): [Tensor, Tensor] {
  const yp = floatTensor(yPred, where);
  const yt = ops.cast(toTensor(yTrue, where), yp.dtype);
  return squeeze ? squeezeOrExpandToSameRank(yt, yp) : [yt, yp];
}

/** Whether y_true looks like integer class ids for a multi-class y_pred. */
function looksSparse(yt: Shape, yp: Shape): boolean {
  const last = yp[yp.length - 1];
  if (last === 1) return false;
  return yt.length === yp.length - 1 || (yt.length === yp.length && yt[yt.length - 1] === 1);
}

function checkSameShape(where: string, yt: Tensor, yp: Tensor, hint = ''): void {
  if (compatibleShapes(yt.shape, yp.shape)) return;
  throw new Error(`${where}: Received: y_true.shape=${fmt(yt)} and y_pred.shape=${fmt(yp)}; expected y_true with the same shape as y_pred.${hint}`);
}

function sparseHint(yt: Tensor, yp: Tensor): string {
  return looksSparse(yt.shape, yp.shape)
    ? ' y_true looks like integer class ids: for integer labels use SparseCategoricalCrossentropy (or one-hot encode them).'
    : '';
}

/** Reads an option given positionally (`huber(t, p, 2)`) or in an options object (`huber(t, p, {delta: 2})`). */
function option<T>(arg: unknown, key: string, fallback: T): T {
  if (arg !== null && typeof arg === 'object') {
    const v = (arg as Record<string, unknown>)[key];
    return v === undefined || v === null ? fallback : (v as T);
  }
  return arg === undefined || arg === null ? fallback : (arg as T);
}

function checkNumber(where: string, name: string, v: unknown, min?: number, max?: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (min !== undefined && v < min) || (max !== undefined && v > max)) {
    const range = min !== undefined && max !== undefined ? ` in [${min}, ${max}]` : min !== undefined ? ` >= ${min}` : '';
    throw new RangeError(`${where}: Received: ${name}=${describe(v)}; expected a finite number${range}.`);
  }
  return v;
}

function checkAxis(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${where}: Received: axis=${describe(v)}; \`axis\` must be an integer.`);
  return v;
}

function checkBool(where: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${where}: Received: ${name}=${describe(v)}; expected a boolean.`);
  return v;
}

// ---------------------------------------------------------------------------
// Regression

/** mean(square(y_true - y_pred), axis=-1). */
export function meanSquaredError(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const where = lossLabel('losses.meanSquaredError');
  const [yt, yp] = operands(yTrue, yPred, where);
  checkSameShape(where, yt, yp);
  return ops.mean(ops.square(ops.subtract(yt, yp)), -1);
}

/** mean(abs(y_true - y_pred), axis=-1). */
export function meanAbsoluteError(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const where = lossLabel('losses.meanAbsoluteError');
  const [yt, yp] = operands(yTrue, yPred, where);
  checkSameShape(where, yt, yp);
  return ops.mean(ops.abs(ops.subtract(yt, yp)), -1);
}

/** 100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1). */
export function meanAbsolutePercentageError(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const where = lossLabel('losses.meanAbsolutePercentageError');
  const [yt, yp] = operands(yTrue, yPred, where);
  checkSameShape(where, yt, yp);
  const diff = ops.abs(ops.divide(ops.subtract(yt, yp), ops.maximum(ops.abs(yt), EPSILON)));
  return ops.multiply(ops.mean(diff, -1), 100);
}

/** mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1). */
export function meanSquaredLogarithmicError(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const where = lossLabel('losses.meanSquaredLogarithmicError');
  const [yt, yp] = operands(yTrue, yPred, where);
  checkSameShape(where, yt, yp);
  const first = ops.log(ops.add(ops.maximum(yp, EPSILON), 1));
  const second = ops.log(ops.add(ops.maximum(yt, EPSILON), 1));
  return ops.mean(ops.square(ops.subtract(first, second)), -1);
}

/** x / ||x|| along `axis`, with the norm kept at least epsilon (Keras's `normalize`). */
export function l2Normalize(x: Tensor, axis: number): Tensor {
  const squareSum = ops.sum(ops.square(x), { axis, keepdims: true });
  // rsqrt(max(s, eps^2)) = min(rsqrt(s), 1/eps), without an infinite gradient at 0.
  return ops.multiply(x, ops.rsqrt(ops.maximum(squareSum, EPSILON * EPSILON)));
}

/** -sum(l2_normalize(y_true) * l2_normalize(y_pred), axis): -1 for vectors pointing the same way. */
export function cosineSimilarity(yTrue: TensorLike, yPred: TensorLike, axis: number | { axis?: number } = -1): Tensor {
  const where = lossLabel('losses.cosineSimilarity');
  const ax = checkAxis(where, option(axis, 'axis', -1));
  const [yt, yp] = operands(yTrue, yPred, where);
  checkSameShape(where, yt, yp);
  normalizeAxis(ax, yp.rank, where);
  return ops.negative(ops.sum(ops.multiply(l2Normalize(yt, ax), l2Normalize(yp, ax)), ax));
}

/** mean(0.5 e^2 where |e| <= delta, else delta |e| - 0.5 delta^2), e = y_pred - y_true, over axis -1. */
export function huber(yTrue: TensorLike, yPred: TensorLike, delta: number | { delta?: number } = 1): Tensor {
  const where = lossLabel('losses.huber');
  const d = checkNumber(where, 'delta', option(delta, 'delta', 1), 0);
  const [yt, yp] = operands(yTrue, yPred, where);
  checkSameShape(where, yt, yp);
  const error = ops.subtract(yp, yt);
  const absError = ops.abs(error);
  const quadratic = ops.multiply(ops.square(error), 0.5);
  const linear = ops.subtract(ops.multiply(absError, d), 0.5 * d * d);
  return ops.mean(ops.where(ops.lessEqual(absError, d), quadratic, linear), -1);
}

/** mean(log(cosh(y_pred - y_true)), axis=-1), computed as x + softplus(-2x) - log(2). */
export function logCosh(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const where = lossLabel('losses.logCosh');
  const [yt, yp] = operands(yTrue, yPred, where);
  checkSameShape(where, yt, yp);
  const x = ops.subtract(yp, yt);
  return ops.mean(ops.subtract(ops.add(x, ops.softplus(ops.multiply(x, -2))), Math.LN2), -1);
}

// ---------------------------------------------------------------------------
// Probabilistic

/** sum(y_true * log(y_true / y_pred), axis=-1), both clipped to [epsilon, 1]. */
export function klDivergence(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const where = lossLabel('losses.klDivergence');
  const [t, p] = operands(yTrue, yPred, where);
  checkSameShape(where, t, p, sparseHint(t, p));
  const yt = ops.clip(t, EPSILON, 1);
  const yp = ops.clip(p, EPSILON, 1);
  return ops.sum(ops.multiply(yt, ops.log(ops.divide(yt, yp))), -1);
}

/** mean(y_pred - y_true * log(y_pred + epsilon), axis=-1). */
export function poisson(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const where = lossLabel('losses.poisson');
  const [yt, yp] = operands(yTrue, yPred, where);
  checkSameShape(where, yt, yp);
  return ops.mean(ops.subtract(yp, ops.multiply(yt, ops.log(ops.add(yp, EPSILON)))), -1);
}

function smoothingOption(where: string, options: CrossentropyOptions): number {
  return checkNumber(where, 'label_smoothing', options.labelSmoothing ?? 0, 0, 1);
}

/**
 * Binary crossentropy averaged over `axis` (default -1). Labels are 0/1 (or
 * probabilities); with `labelSmoothing` s they become y (1 - s) + s / 2.
 */
export function binaryCrossentropy(yTrue: TensorLike, yPred: TensorLike, options: CrossentropyOptions = {}): Tensor {
  const where = lossLabel('losses.binaryCrossentropy');
  const fromLogits = checkBool(where, 'from_logits', options.fromLogits ?? false);
  const smoothing = smoothingOption(where, options);
  const axis = checkAxis(where, options.axis ?? -1);
  let [yt, yp] = operands(yTrue, yPred, where);
  checkSameShape(where, yt, yp, sparseHint(yt, yp));
  if (smoothing) yt = ops.add(ops.multiply(yt, 1 - smoothing), 0.5 * smoothing);
  if (yp.rank === 0) return ops.binaryCrossentropy(yt, yp, fromLogits);
  return ops.mean(ops.binaryCrossentropy(yt, yp, fromLogits), normalizeAxis(axis, yp.rank, where));
}

/**
 * Focal binary crossentropy (Lin et al. 2018): the crossentropy scaled by
 * (1 - p_t)^gamma, and by alpha / (1 - alpha) for classes 1 / 0 with
 * `applyClassBalancing`; averaged over `axis`.
 *
 * With `fromLogits` the crossentropy term is computed from the logits
 * (softplus form), so it stays exact for large logits; Keras computes it
 * from clipped sigmoid probabilities (the same values except within 1e-7
 * of 0 or 1).
 */
export function binaryFocalCrossentropy(yTrue: TensorLike, yPred: TensorLike, options: BinaryFocalCrossentropyOptions = {}): Tensor {
  const where = lossLabel('losses.binaryFocalCrossentropy');
  const fromLogits = checkBool(where, 'from_logits', options.fromLogits ?? false);
  const applyClassBalancing = checkBool(where, 'apply_class_balancing', options.applyClassBalancing ?? false);
  const alpha = checkNumber(where, 'alpha', options.alpha ?? 0.25, 0, 1);
  const gamma = checkNumber(where, 'gamma', options.gamma ?? 2, 0);
  const smoothing = smoothingOption(where, options);
  const axis = checkAxis(where, options.axis ?? -1);
  let [yt, yp] = operands(yTrue, yPred, where);
  checkSameShape(where, yt, yp, sparseHint(yt, yp));
  if (smoothing) yt = ops.add(ops.multiply(yt, 1 - smoothing), 0.5 * smoothing);
  const p = fromLogits ? ops.sigmoid(yp) : yp;
  const bce = ops.binaryCrossentropy(yt, yp, fromLogits);
  const pT = ops.add(ops.multiply(yt, p), ops.multiply(ops.subtract(1, yt), ops.subtract(1, p)));
  let focal = ops.multiply(ops.power(ops.subtract(1, pT), gamma), bce);
  if (applyClassBalancing) {
    const weight = ops.add(ops.multiply(yt, alpha), ops.multiply(ops.subtract(1, yt), 1 - alpha));
    focal = ops.multiply(weight, focal);
  }
  if (yp.rank === 0) return focal;
  return ops.mean(focal, normalizeAxis(axis, yp.rank, where));
}

/**
 * Crossentropy between one-hot (or soft) labels and predictions along `axis`
 * (default -1). With `labelSmoothing` s the labels become y (1 - s) + s / numClasses.
 */
export function categoricalCrossentropy(yTrue: TensorLike, yPred: TensorLike, options: CrossentropyOptions = {}): Tensor {
  const where = lossLabel('losses.categoricalCrossentropy');
  const fromLogits = checkBool(where, 'from_logits', options.fromLogits ?? false);
  const smoothing = smoothingOption(where, options);
  const axis = checkAxis(where, options.axis ?? -1);
  let [yt, yp] = operands(yTrue, yPred, where);
  if (yp.rank === 0) throw new Error(`${where}: Received: y_pred.shape=[] (a scalar); expected predictions with a class axis, such as [batch, num_classes].`);
  if (!compatibleShapes(yt.shape, yp.shape)) {
    const hint = looksSparse(yt.shape, yp.shape)
      ? ' y_true looks like integer class ids, but categorical crossentropy expects one-hot labels with the shape of y_pred: for integer labels use SparseCategoricalCrossentropy.'
      : '';
    throw new Error(`${where}: Received: y_true.shape=${fmt(yt)} and y_pred.shape=${fmt(yp)}; expected one-hot y_true with the same shape as y_pred.${hint}`);
  }
  const ax = normalizeAxis(axis, yp.rank, where);
  if (yp.shape[yp.rank - 1] === 1) {
    warnOnce(
      `categorical_crossentropy_one_class:${where}`,
      `${where}: expected y_pred.shape to be (batch_size, num_classes) with num_classes > 1. Received: y_pred.shape=${fmt(yp)}. ` +
        "Consider using 'binary_crossentropy' if you only have 2 classes.",
    );
  }
  if (smoothing) {
    const n = yt.shape[ax];
    // (Two JavaScript numbers would be divided in float32: divide them here.)
    const offset = n === null ? ops.divide(ops.cast(smoothing, yt.dtype), ops.reducedSize(yt, [ax], yt.dtype)) : smoothing / n;
    yt = ops.add(ops.multiply(yt, 1 - smoothing), offset);
  }
  return ops.categoricalCrossentropy(yt, yp, { fromLogits, axis: ax });
}

/**
 * Crossentropy between integer class ids and predictions whose classes lie
 * along `axis`. y_true has the shape of y_pred without that axis (or with a
 * trailing 1). With `ignoreClass`, samples with that label give 0 and are
 * masked out of the reduction (so the mean runs over the other samples).
 */
export function sparseCategoricalCrossentropy(yTrue: TensorLike, yPred: TensorLike, options: SparseCrossentropyOptions = {}): Tensor {
  const where = lossLabel('losses.sparseCategoricalCrossentropy');
  const fromLogits = checkBool(where, 'from_logits', options.fromLogits ?? false);
  const axis = checkAxis(where, options.axis ?? -1);
  const ignoreClass = options.ignoreClass ?? null;
  if (ignoreClass !== null && (typeof ignoreClass !== 'number' || !Number.isInteger(ignoreClass))) {
    throw new TypeError(`${where}: Received: ignore_class=${describe(ignoreClass)}; expected an integer class id or null.`);
  }
  const yp = floatTensor(yPred, where);
  let yt = toTensor(yTrue, where);
  if (yp.rank === 0) throw new Error(`${where}: Received: y_pred.shape=[] (a scalar); expected predictions with a class axis, such as [batch, num_classes].`);
  const ax = normalizeAxis(axis, yp.rank, where);
  const originalShape = yt.shape;
  if (yt.rank === yp.rank && yt.shape[yt.rank - 1] === 1) yt = ops.squeeze(yt, -1);
  const expected = yp.shape.filter((_, i) => i !== ax);
  if (!compatibleShapes(yt.shape, expected)) {
    const oneHot = compatibleShapes(originalShape, yp.shape);
    const hint = oneHot
      ? ' y_true has the shape of y_pred, as one-hot labels do; sparse labels are integer class ids. For one-hot labels use CategoricalCrossentropy.'
      : ' Sparse labels are integer class ids, one per prediction.';
    throw new Error(
      `${where}: Received: y_true.shape=${formatShape(originalShape)} and y_pred.shape=${fmt(yp)}; expected y_true of shape ${formatShape(expected)} ` +
        `(or ${formatShape([...expected, 1])}).${hint}`,
    );
  }
  if (ignoreClass === null) return ops.sparseCategoricalCrossentropy(yt, yp, { fromLogits, axis: ax });
  const valid = ops.notEqual(yt, ignoreClass);
  // Ignored samples are computed with label 0 (finite, so no NaN reaches the gradient) and then zeroed.
  const labels = ops.where(valid, yt, 0);
  const res = ops.where(valid, ops.sparseCategoricalCrossentropy(labels, yp, { fromLogits, axis: ax }), 0);
  setMask(res, valid);
  return res;
}

// ---------------------------------------------------------------------------
// Hinge

/** Labels in {0, 1} become {-1, 1}; other labels are kept (decided at run time, so it traces). */
export function convertBinaryLabelsToHinge(yTrue: Tensor): Tensor {
  const isBinary = ops.all(ops.logicalOr(ops.equal(yTrue, 0), ops.equal(yTrue, 1)));
  return ops.where(isBinary, ops.subtract(ops.multiply(yTrue, 2), 1), yTrue);
}

/** mean(max(1 - y_true * y_pred, 0), axis=-1), labels -1/1 (0/1 are converted). */
export function hinge(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const where = lossLabel('losses.hinge');
  const [t, yp] = operands(yTrue, yPred, where);
  checkSameShape(where, t, yp);
  const yt = convertBinaryLabelsToHinge(t);
  return ops.mean(ops.maximum(ops.subtract(1, ops.multiply(yt, yp)), 0), -1);
}

/** mean(square(max(1 - y_true * y_pred, 0)), axis=-1), labels -1/1 (0/1 are converted). */
export function squaredHinge(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const where = lossLabel('losses.squaredHinge');
  const [t, yp] = operands(yTrue, yPred, where);
  checkSameShape(where, t, yp);
  const yt = convertBinaryLabelsToHinge(t);
  return ops.mean(ops.square(ops.maximum(ops.subtract(1, ops.multiply(yt, yp)), 0)), -1);
}

/** max(neg - pos + 1, 0) with pos = sum(y_true * y_pred), neg = max((1 - y_true) * y_pred), over axis -1. */
export function categoricalHinge(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const where = lossLabel('losses.categoricalHinge');
  const [yt, yp] = operands(yTrue, yPred, where);
  checkSameShape(where, yt, yp, sparseHint(yt, yp));
  const pos = ops.sum(ops.multiply(yt, yp), -1);
  const neg = ops.max(ops.multiply(ops.subtract(1, yt), yp), -1);
  return ops.maximum(ops.add(ops.subtract(neg, pos), 1), 0);
}

/** The function forms by their Keras (snake_case) names. */
export const LOSS_FUNCTIONS: ReadonlyMap<string, LossFunction> = new Map<string, LossFunction>([
  ['mean_squared_error', meanSquaredError],
  ['mean_absolute_error', meanAbsoluteError],
  ['mean_absolute_percentage_error', meanAbsolutePercentageError],
  ['mean_squared_logarithmic_error', meanSquaredLogarithmicError],
  ['cosine_similarity', cosineSimilarity as LossFunction],
  ['huber', huber as LossFunction],
  ['log_cosh', logCosh],
  ['kl_divergence', klDivergence],
  ['poisson', poisson],
  ['binary_crossentropy', binaryCrossentropy as LossFunction],
  ['binary_focal_crossentropy', binaryFocalCrossentropy as LossFunction],
  ['categorical_crossentropy', categoricalCrossentropy as LossFunction],
  ['sparse_categorical_crossentropy', sparseCategoricalCrossentropy as LossFunction],
  ['hinge', hinge],
  ['squared_hinge', squaredHinge],
  ['categorical_hinge', categoricalHinge],
]);

/** Keras's aliases of the function forms (keras.losses ALL_OBJECTS_DICT and the legacy names). */
export const LOSS_FUNCTION_ALIASES: Readonly<Record<string, string>> = {
  mse: 'mean_squared_error',
  MSE: 'mean_squared_error',
  mae: 'mean_absolute_error',
  MAE: 'mean_absolute_error',
  mape: 'mean_absolute_percentage_error',
  MAPE: 'mean_absolute_percentage_error',
  msle: 'mean_squared_logarithmic_error',
  MSLE: 'mean_squared_logarithmic_error',
  bce: 'binary_crossentropy',
  BCE: 'binary_crossentropy',
  kld: 'kl_divergence',
  KLD: 'kl_divergence',
  kullback_leibler_divergence: 'kl_divergence',
  logcosh: 'log_cosh',
};

/** The Keras name of a built-in loss function, if it is one. */
export function lossFunctionName(fn: unknown): string | undefined {
  for (const [name, f] of LOSS_FUNCTIONS) if (f === fn) return name;
  return undefined;
}
