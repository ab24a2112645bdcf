/**
 * Accuracy metrics (keras.metrics.Accuracy, BinaryAccuracy,
 * CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
 * SparseTopKCategoricalAccuracy) and their functions. Each function returns
 * per-sample matches (1 or 0, float32); the classes average them with
 * sample weights (MeanMetricWrapper).
 *
 * Label shapes are checked: one-hot labels given to a sparse metric (or
 * class ids to a categorical one) are an error naming the metric and both
 * shapes, instead of a silently wrong broadcast.
 */
import { type Shape, describe, formatShape } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Config } from '../serialization/registry.ts';
import { readConfig } from '../initializers/lookup.ts';
import { type TensorLike, toTensor } from '../ops/convert.ts';
import * as ops from '../ops/index.ts';
import { compatibleShapes, lossLabel, squeezeOrExpandToSameRank } from '../losses/loss.ts';
import { type MetricOptions, metricOptions } from './metric.ts';
import { MeanMetricWrapper, type MetricFunction, registerMetricFunction } from './reduction.ts';

const fmt = (t: Tensor | Shape): string => formatShape(Array.isArray(t) ? (t as Shape) : (t as Tensor).shape);

function option<T>(arg: unknown, key: string, fallback: T): T {
  if (arg !== null && typeof arg === 'object') {
    const v = (arg as Record<string, unknown>)[key];
    return v === undefined || v === null ? fallback : (v as T);
  }
  return arg === undefined || arg === null ? fallback : (arg as T);
}

function checkK(where: string, k: unknown): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) throw new RangeError(`${where}: Received: k=${describe(k)}; expected an integer >= 1.`);
  return k;
}

function checkThreshold(where: string, threshold: unknown): number {
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold < 1)) {
    throw new RangeError(`${where}: Invalid value for argument \`threshold\`. Expected a value in interval (0, 1). Received: threshold=${describe(threshold)}`);
  }
  return threshold;
}

/**
 * 1 where the prediction equals the label, else 0, per value (no mean over
 * the last axis: Keras 3's `accuracy` is elementwise, so per-value sample
 * weights weigh each value; a metric averages them all).
 */
export function accuracy(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const where = lossLabel('metrics.accuracy');
  let yp = toTensor(yPred, where);
  let yt = ops.cast(toTensor(yTrue, where), yp.dtype);
  [yt, yp] = squeezeOrExpandToSameRank(yt, yp);
  if (!compatibleShapes(yt.shape, yp.shape)) {
    throw new Error(`${where}: Received: y_true.shape=${fmt(yt)} and y_pred.shape=${fmt(yp)}; expected y_true with the same shape as y_pred.`);
  }
  return ops.cast(ops.equal(yt, yp), 'float32');
}

/**
 * 1 where the label matches `y_pred > threshold` (default 0.5), else 0, per
 * value (elementwise, as Keras 3's `binary_accuracy`: with per-value sample
 * weights each value has its own weight; a mean over the last axis first
 * gave other results).
 */
export function binaryAccuracy(yTrue: TensorLike, yPred: TensorLike, threshold: number | { threshold?: number } = 0.5): Tensor {
  const where = lossLabel('metrics.binaryAccuracy');
  const th = option(threshold, 'threshold', 0.5);
  if (typeof th !== 'number' || !Number.isFinite(th)) throw new RangeError(`${where}: Received: threshold=${describe(th)}; expected a number.`);
  let yt = toTensor(yTrue, where);
  let yp = toTensor(yPred, where);
  [yt, yp] = squeezeOrExpandToSameRank(yt, yp);
  if (!compatibleShapes(yt.shape, yp.shape)) {
    const hint =
      yp.shape[yp.rank - 1] !== 1 && yt.rank === yp.rank - 1 ? ' y_true looks like integer class ids: use SparseCategoricalAccuracy for multi-class outputs.' : '';
    throw new Error(`${where}: Received: y_true.shape=${fmt(yt)} and y_pred.shape=${fmt(yp)}; expected binary labels with the same shape as y_pred.${hint}`);
  }
  const predicted = ops.cast(ops.greater(yp, th), yt.dtype);
  return ops.cast(ops.equal(yt, predicted), 'float32');
}

/** Whether argmax(y_pred) equals argmax(y_true) (one-hot labels), per sample. */
export function categoricalAccuracy(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const where = lossLabel('metrics.categoricalAccuracy');
  const yt = toTensor(yTrue, where);
  const yp = toTensor(yPred, where);
  if (yp.rank === 0 || !compatibleShapes(yt.shape, yp.shape)) {
    const last = yp.shape[yp.rank - 1];
    const sparse = yp.rank > 0 && last !== 1 && (yt.rank === yp.rank - 1 || (yt.rank === yp.rank && yt.shape[yt.rank - 1] === 1));
    const hint = sparse ? ' y_true looks like integer class ids: use SparseCategoricalAccuracy (or one-hot encode the labels).' : '';
    throw new Error(`${where}: Received: y_true.shape=${fmt(yt)} and y_pred.shape=${fmt(yp)}; expected one-hot y_true with the same shape as y_pred.${hint}`);
  }
  return ops.cast(ops.equal(ops.argmax(yt, -1), ops.argmax(yp, -1)), 'float32');
}

/** y_true for sparse metrics: squeezed to y_pred's shape without its last axis, or an error. */
function sparseLabels(where: string, yTrue: TensorLike, yp: Tensor): Tensor {
  let yt = toTensor(yTrue, where);
  const original = yt.shape;
  if (yp.rank === 0) throw new Error(`${where}: Received: y_pred.shape=[] (a scalar); expected predictions with a class axis, such as [batch, num_classes].`);
  if (yt.rank === yp.rank && yt.shape[yt.rank - 1] === 1) yt = ops.squeeze(yt, -1);
  const expected = yp.shape.slice(0, -1);
  if (!compatibleShapes(yt.shape, expected)) {
    const hint = compatibleShapes(original, yp.shape)
      ? ' y_true has the shape of y_pred, as one-hot labels do; sparse labels are integer class ids. For one-hot labels use CategoricalAccuracy.'
      : ' Sparse labels are integer class ids, one per prediction.';
    throw new Error(`${where}: Received: y_true.shape=${fmt(original)} and y_pred.shape=${fmt(yp)}; expected y_true of shape ${fmt(expected)} (or ${fmt([...expected, 1])}).${hint}`);
  }
  return yt;
}

/** Whether argmax(y_pred) equals the integer label, per sample. */
export function sparseCategoricalAccuracy(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const where = lossLabel('metrics.sparseCategoricalAccuracy');
  const yp = toTensor(yPred, where);
  const yt = sparseLabels(where, yTrue, yp);
  const predicted = ops.cast(ops.argmax(yp, -1), yt.dtype);
  return ops.cast(ops.equal(yt, predicted), 'float32');
}

/**
 * Whether each target is among the k largest predictions of its row
 * (TensorFlow's `in_top_k`: ties at the boundary count as in; labels
 * outside [0, numClasses) and non-finite target scores count as out).
 * `targets` [n] integers, `predictions` [n, numClasses].
 */
export function inTopK(targets: TensorLike, predictions: TensorLike, k: number, where = 'metrics.inTopK'): Tensor {
  const p = toTensor(predictions, where);
  const t = ops.cast(toTensor(targets, where), 'int32');
  const classes = p.shape[p.rank - 1];
  if (p.rank !== 2 || classes === null) {
    throw new Error(`${where}: Received: predictions.shape=${fmt(p)}; expected [batch, num_classes] with a known number of classes.`);
  }
  const mask = ops.oneHot(t, classes, { dtype: 'bool' });
  const targetScore = ops.sum(ops.where(mask, p, 0), { axis: -1, keepdims: true });
  const valid = ops.logicalAnd(ops.any(mask, -1), ops.squeeze(ops.isFinite(targetScore), -1));
  const larger = ops.sum(ops.cast(ops.greater(p, targetScore), 'int32'), -1);
  return ops.logicalAnd(valid, ops.less(larger, k));
}

/** Top-k matches for labels `yt` (class ids) against `yp`, flattened to rows and reshaped back to yt's shape. */
function topKMatches(where: string, yt: Tensor, yp: Tensor, k: number): Tensor {
  const classes = yp.shape[yp.rank - 1];
  if (classes === null) throw new Error(`${where}: Received: y_pred.shape=${fmt(yp)}; the number of classes (last axis) must be known.`);
  const rows = yp.rank > 2 ? ops.reshape(yp, [-1, classes]) : yp;
  const labels = yt.rank > 1 ? ops.reshape(yt, [-1]) : yt;
  const matches = ops.cast(inTopK(labels, rows, k, where), 'float32');
  return yt.rank > 1 ? ops.reshapeLike(matches, yt) : matches;
}

/** Whether the one-hot target's class is among the top `k` (default 5) predictions, per sample. */
export function topKCategoricalAccuracy(yTrue: TensorLike, yPred: TensorLike, k: number | { k?: number } = 5): Tensor {
  const where = lossLabel('metrics.topKCategoricalAccuracy');
  const kk = checkK(where, option(k, 'k', 5));
  const yt = toTensor(yTrue, where);
  const yp = toTensor(yPred, where);
  if (yp.rank < 2 || !compatibleShapes(yt.shape, yp.shape)) {
    const hint = yt.rank === yp.rank - 1 ? ' y_true looks like integer class ids: use SparseTopKCategoricalAccuracy.' : '';
    throw new Error(`${where}: Received: y_true.shape=${fmt(yt)} and y_pred.shape=${fmt(yp)}; expected one-hot y_true with the same shape as y_pred (rank >= 2).${hint}`);
  }
  return topKMatches(where, ops.argmax(yt, -1), yp, kk);
}

/** Whether the integer target is among the top `k` (default 5) predictions, per sample. */
export function sparseTopKCategoricalAccuracy(yTrue: TensorLike, yPred: TensorLike, k: number | { k?: number } = 5): Tensor {
  const where = lossLabel('metrics.sparseTopKCategoricalAccuracy');
  const kk = checkK(where, option(k, 'k', 5));
  const yp = toTensor(yPred, where);
  if (yp.rank < 2) throw new Error(`${where}: Received: y_pred.shape=${fmt(yp)}; expected predictions of shape [batch, num_classes].`);
  const yt = toTensor(yTrue, where);
  sparseLabels(where, yt, yp); // checks the shape
  return topKMatches(where, yt, yp, kk);
}

registerMetricFunction('accuracy', accuracy);
registerMetricFunction('binary_accuracy', binaryAccuracy as MetricFunction);
registerMetricFunction('categorical_accuracy', categoricalAccuracy);
registerMetricFunction('sparse_categorical_accuracy', sparseCategoricalAccuracy);
registerMetricFunction('top_k_categorical_accuracy', topKCategoricalAccuracy as MetricFunction);
registerMetricFunction('sparse_top_k_categorical_accuracy', sparseTopKCategoricalAccuracy as MetricFunction);

function readMetricConfig(className: string, config: Config, ownKeys: readonly string[]): Record<string, unknown> {
  const c = readConfig(className, config, ['name', 'dtype', ...ownKeys]);
  const out: Record<string, unknown> = { ...metricOptions(c, className) };
  for (const key of ownKeys) if (key in c && c[key] !== null) out[key] = c[key];
  return out;
}

/** How often predictions equal labels (name 'accuracy'). */
export class Accuracy extends MeanMetricWrapper {
  static override readonly className: string = 'Accuracy';
  constructor(options: MetricOptions = {}) {
    super(accuracy, { ...options, name: options.name ?? 'accuracy' });
  }
  override getConfig(): Config {
    return { name: this.name, dtype: this.dtype };
  }
  static override fromConfig(config: Config): Accuracy {
    return new Accuracy(readMetricConfig('Accuracy', config, []));
  }
}

export interface BinaryAccuracyOptions extends MetricOptions {
  /** Predictions above it count as 1. In (0, 1), default 0.5. */
  threshold?: number;
}

/** How often `y_pred > threshold` matches binary labels (name 'binary_accuracy'). */
export class BinaryAccuracy extends MeanMetricWrapper {
  static override readonly className: string = 'BinaryAccuracy';
  readonly threshold: number;
  constructor(options: BinaryAccuracyOptions = {}) {
    const threshold = checkThreshold('BinaryAccuracy', options.threshold ?? 0.5);
    const { threshold: _t, ...base } = options;
    super(binaryAccuracy as MetricFunction, { ...base, name: base.name ?? 'binary_accuracy', fnOptions: { threshold } });
    this.threshold = threshold;
  }
  override getConfig(): Config {
    return { name: this.name, dtype: this.dtype, threshold: this.threshold };
  }
  static override fromConfig(config: Config): BinaryAccuracy {
    const c = readMetricConfig('BinaryAccuracy', config, ['threshold']);
    return new BinaryAccuracy({ ...c, threshold: c.threshold as number | undefined });
  }
}

/** How often argmax(y_pred) matches one-hot labels (name 'categorical_accuracy'). */
export class CategoricalAccuracy extends MeanMetricWrapper {
  static override readonly className: string = 'CategoricalAccuracy';
  constructor(options: MetricOptions = {}) {
    super(categoricalAccuracy, { ...options, name: options.name ?? 'categorical_accuracy' });
  }
  override getConfig(): Config {
    return { name: this.name, dtype: this.dtype };
  }
  static override fromConfig(config: Config): CategoricalAccuracy {
    return new CategoricalAccuracy(readMetricConfig('CategoricalAccuracy', config, []));
  }
}

/** How often argmax(y_pred) matches integer labels (name 'sparse_categorical_accuracy'). */
export class SparseCategoricalAccuracy extends MeanMetricWrapper {
  static override readonly className: string = 'SparseCategoricalAccuracy';
  constructor(options: MetricOptions = {}) {
    super(sparseCategoricalAccuracy, { ...options, name: options.name ?? 'sparse_categorical_accuracy' });
  }
  override getConfig(): Config {
    return { name: this.name, dtype: this.dtype };
  }
  static override fromConfig(config: Config): SparseCategoricalAccuracy {
    return new SparseCategoricalAccuracy(readMetricConfig('SparseCategoricalAccuracy', config, []));
  }
}

export interface TopKOptions extends MetricOptions {
  /** How many of the largest predictions count. Default 5. */
  k?: number;
}

/** How often the one-hot target is in the top k predictions (name 'top_k_categorical_accuracy'). */
export class TopKCategoricalAccuracy extends MeanMetricWrapper {
  static override readonly className: string = 'TopKCategoricalAccuracy';
  readonly k: number;
  constructor(options: TopKOptions = {}) {
    const k = checkK('TopKCategoricalAccuracy', options.k ?? 5);
    const { k: _k, ...base } = options;
    super(topKCategoricalAccuracy as MetricFunction, { ...base, name: base.name ?? 'top_k_categorical_accuracy', fnOptions: { k } });
    this.k = k;
  }
  override getConfig(): Config {
    return { name: this.name, dtype: this.dtype, k: this.k };
  }
  static override fromConfig(config: Config): TopKCategoricalAccuracy {
    const c = readMetricConfig('TopKCategoricalAccuracy', config, ['k']);
    return new TopKCategoricalAccuracy({ ...c, k: c.k as number | undefined });
  }
}

/** How often the integer target is in the top k predictions (name 'sparse_top_k_categorical_accuracy'). */
export class SparseTopKCategoricalAccuracy extends MeanMetricWrapper {
  static override readonly className: string = 'SparseTopKCategoricalAccuracy';
  readonly k: number;
  constructor(options: TopKOptions = {}) {
    const k = checkK('SparseTopKCategoricalAccuracy', options.k ?? 5);
    const { k: _k, ...base } = options;
    super(sparseTopKCategoricalAccuracy as MetricFunction, { ...base, name: base.name ?? 'sparse_top_k_categorical_accuracy', fnOptions: { k } });
    this.k = k;
  }
  override getConfig(): Config {
    return { name: this.name, dtype: this.dtype, k: this.k };
  }
  static override fromConfig(config: Config): SparseTopKCategoricalAccuracy {
    const c = readMetricConfig('SparseTopKCategoricalAccuracy', config, ['k']);
    return new SparseTopKCategoricalAccuracy({ ...c, k: c.k as number | undefined });
  }
}

export { readMetricConfig };
