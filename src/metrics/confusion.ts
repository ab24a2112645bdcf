/**
 * Confusion-matrix metrics (keras.metrics.TruePositives ... Precision,
 * Recall, AUC): counts of true/false positives/negatives at one or more
 * thresholds, accumulated in variables.
 *
 * A prediction counts as positive at threshold t when `y_pred > t`
 * (strictly), as in Keras. Counts are computed by comparing every
 * prediction with every threshold (O(thresholds × values) per batch); Keras
 * buckets evenly spaced thresholds instead, which gives the same counts
 * (predictions are clipped to [0, 1] in that case, as Keras does).
 */
import type { DType } from '../tensor/dtype.ts';
import { type Shape, broadcastShapes, describe, formatShape } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { tensor } from '../tensor/create.ts';
import type { Variable } from '../engine/variable.ts';
import type { Config } from '../serialization/registry.ts';
import { isKerasObject } from '../serialization/keras-object.ts';
import { type TensorLike, toTensor } from '../ops/convert.ts';
import * as ops from '../ops/index.ts';
import { EPSILON, compatibleShapes, divideNoNan, squeezeOrExpandToSameRank } from '../losses/loss.ts';
import { Metric, type MetricOptions } from './metric.ts';
import { readMetricConfig } from './accuracy.ts';

/** Keras's NEG_INF: the threshold used with `topK` (every kept prediction is above it). */
export const NEG_INF = -1e10;

/** Checks user thresholds (each in [0, 1]) and returns them as a list; `fallback` when none are given. */
export function parseThresholds(where: string, thresholds: number | readonly number[] | null | undefined, fallback: number): number[] {
  if (thresholds === null || thresholds === undefined) return [fallback];
  const list = typeof thresholds === 'number' ? [thresholds] : Array.isArray(thresholds) ? [...thresholds] : null;
  if (!list || list.length === 0) throw new TypeError(`${where}: Received: thresholds=${describe(thresholds)}; expected a number or a non-empty list of numbers in [0, 1].`);
  const invalid = list.filter((t) => typeof t !== 'number' || !(t >= 0 && t <= 1));
  if (invalid.length > 0) throw new RangeError(`${where}: Threshold values must be in [0, 1]. Received: ${describe(invalid)}`);
  return list;
}

/** Whether thresholds are 0, 1/(n-1), ..., 1 (within epsilon): Keras's condition for its bucketed counting, which clips predictions to [0, 1]. */
export function isEvenlyDistributed(thresholds: readonly number[]): boolean {
  const n = thresholds.length;
  if (n < 3) return false;
  return thresholds.every((t, i) => Math.abs(t - i / (n - 1)) <= EPSILON);
}

/** The variables `updateConfusionMatrixVariables` adds to (any subset). */
export interface ConfusionVariables {
  tp?: Variable;
  fp?: Variable;
  tn?: Variable;
  fn?: Variable;
}

export interface ConfusionOptions {
  thresholds: readonly number[];
  /** Keep only the k largest predictions of each row (the rest become NEG_INF). */
  topK?: number | null;
  /** Only this class (index on the last axis). */
  classId?: number | null;
  /** Rank 0 or the rank of y_true, broadcastable to it (a trailing size-1 axis is handled as in Keras). */
  sampleWeight?: TensorLike | null;
  /** Count per label (y_pred [batch, labels]); variables then have shape [thresholds, labels]. */
  multiLabel?: boolean;
  /** Per-label weights for the flattened (not multi-label) counts. */
  labelWeights?: Tensor | null;
  /** Clip predictions to [0, 1] first. */
  clip?: boolean;
  /** The metric, for error messages. */
  where: string;
}

/** Keeps the k largest values of the last axis; the others become NEG_INF. */
export function filterTopK(x: Tensor, k: number, where: string): Tensor {
  const classes = x.shape[x.rank - 1];
  if (x.rank === 0 || classes === null) throw new Error(`${where}: top_k needs predictions whose last axis is known. Received: y_pred.shape=${formatShape(x.shape)}.`);
  if (k > classes) throw new RangeError(`${where}: Received: top_k=${k} for predictions with ${classes} classes; top_k must be at most the number of classes.`);
  const [, indices] = ops.topK(x, k);
  const mask = ops.sum(ops.oneHot(indices, classes, { dtype: x.dtype }), -2);
  return ops.add(ops.multiply(x, mask), ops.multiply(ops.subtract(1, mask), NEG_INF));
}

/** x[..., classId:classId+1]. */
function sliceClass(x: Tensor, classId: number): Tensor {
  const start = x.shape.map((_, i) => (i === x.rank - 1 ? classId : 0));
  const size = x.shape.map((_, i) => (i === x.rank - 1 ? 1 : -1));
  return ops.slice(x, start, size);
}

/**
 * Keras's `update_confusion_matrix_variables`: adds the (weighted) counts of
 * true positives (label true and y_pred > t), false negatives, false
 * positives and true negatives at each threshold t to the given variables.
 * Labels are cast to bool (non-zero is positive).
 */
export function updateConfusionMatrixVariables(variables: ConfusionVariables, yTrue: TensorLike, yPred: TensorLike, options: ConfusionOptions): void {
  const { where, thresholds } = options;
  const first = variables.tp ?? variables.fp ?? variables.tn ?? variables.fn;
  if (!first) throw new Error(`${where}: no confusion-matrix variable to update.`);
  const dtype: DType = first.dtype;
  let yt = ops.cast(toTensor(yTrue, where), dtype);
  let yp = ops.cast(toTensor(yPred, where), dtype);
  [yp, yt] = squeezeOrExpandToSameRank(yp, yt);
  if (!compatibleShapes(yt.shape, yp.shape)) {
    throw new Error(
      `${where}: Received: y_true.shape=${formatShape(yt.shape)} and y_pred.shape=${formatShape(yp.shape)}; expected y_true with the same shape as y_pred ` +
        '(binary or multi-hot labels; one-hot encode integer class ids).',
    );
  }
  let sw: Tensor | null = null;
  let givenWeightShape: Shape = [];
  if (options.sampleWeight !== null && options.sampleWeight !== undefined) {
    const given = toTensor(options.sampleWeight, where);
    givenWeightShape = given.shape;
    sw = ops.expandDims(ops.cast(given, dtype), -1);
    [, sw] = squeezeOrExpandToSameRank(yt, sw, false);
  }
  if (options.topK !== null && options.topK !== undefined) yp = filterTopK(yp, options.topK, where);
  if (options.classId !== null && options.classId !== undefined) {
    const classes = yp.shape[yp.rank - 1];
    if (yp.rank <= 1) {
      throw new Error(`${where}: When class_id is provided, y_pred must be a 2D array with shape (num_samples, num_classes), found shape: ${formatShape(yp.shape)}`);
    }
    if (classes !== null && options.classId >= classes) {
      throw new RangeError(`${where}: Received: class_id=${options.classId} for predictions with ${classes} classes; expected a class id in [0, ${classes}).`);
    }
    yt = sliceClass(yt, options.classId);
    yp = sliceClass(yp, options.classId);
  }
  if (sw) {
    let ok = sw.rank <= yp.rank;
    try {
      const b = broadcastShapes(sw.shape, yp.shape, where);
      ok = ok && b.length === yp.rank && b.every((d, i) => d === yp.shape[i] || yp.shape[i] === null);
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new Error(
        `${where}: sample_weight of shape ${formatShape(givenWeightShape)} cannot be broadcast to y_pred of shape ${formatShape(yp.shape)}. ` +
          'Pass one weight per sample (shape [batch]), one per value, or a scalar.',
      );
    }
  }
  if (options.clip) yp = ops.clip(yp, 0, 1);

  const n = thresholds.length;
  const th = tensor(Float64Array.from(thresholds), [n], dtype);
  let predPos: Tensor;
  let labelPos: Tensor;
  let weights: Tensor | null = null;
  if (options.multiLabel) {
    if (yp.rank !== 2) throw new Error(`${where}: \`y_pred\` must have rank 2 when \`multi_label=True\`. Found rank ${yp.rank}. Full shape received for \`y_pred\`: ${formatShape(yp.shape)}`);
    predPos = ops.greater(ops.expandDims(yp, 0), ops.reshape(th, [n, 1, 1])); // [T, N, L]
    labelPos = ops.expandDims(ops.cast(yt, 'bool'), 0); // [1, N, L]
    if (sw) weights = ops.expandDims(ops.broadcastLike(sw, yp), 0);
  } else {
    predPos = ops.greater(ops.reshape(yp, [1, -1]), ops.reshape(th, [n, 1])); // [T, M]
    labelPos = ops.reshape(ops.cast(yt, 'bool'), [1, -1]); // [1, M]
    let w = sw ? ops.broadcastLike(sw, yp) : null;
    if (options.labelWeights) {
      const lw = ops.broadcastLike(ops.expandDims(ops.cast(options.labelWeights, dtype), 0), yp);
      w = w ? ops.multiply(w, lw) : lw;
    }
    if (w) weights = ops.reshape(w, [1, -1]);
  }
  const accumulate = (variable: Variable | undefined, label: Tensor, pred: Tensor): void => {
    if (!variable) return;
    let hits = ops.cast(ops.logicalAnd(label, pred), dtype);
    if (weights) hits = ops.multiply(hits, weights);
    variable.assign(ops.add(variable.read(), ops.sum(hits, 1)));
  };
  const predNeg = variables.fn || variables.tn ? ops.logicalNot(predPos) : null;
  const labelNeg = variables.fp || variables.tn ? ops.logicalNot(labelPos) : null;
  accumulate(variables.tp, labelPos, predPos);
  if (predNeg) accumulate(variables.fn, labelPos, predNeg);
  if (labelNeg) accumulate(variables.fp, labelNeg, predPos);
  if (predNeg && labelNeg) accumulate(variables.tn, labelNeg, predNeg);
}

/** A one-element result as a scalar, else the whole vector. */
function scalarIfSingle(x: Tensor, n: number): Tensor {
  return n === 1 ? ops.reshape(x, []) : x;
}

export interface ThresholdsOptions extends MetricOptions {
  /** A threshold or a list of thresholds in [0, 1] (one result per threshold). Default 0.5. */
  thresholds?: number | readonly number[] | null;
}

type ConditionKey = keyof ConfusionVariables;

/** Counts one confusion-matrix condition at each threshold. */
abstract class ConfusionMatrixConditionCount extends Metric {
  readonly thresholds: number[];
  readonly initThresholds: number | readonly number[] | null;
  readonly accumulator: Variable;
  readonly #key: ConditionKey;
  readonly #even: boolean;

  constructor(key: ConditionKey, defaultName: string, options: ThresholdsOptions) {
    const { thresholds, ...base } = options;
    super({ ...base, name: base.name ?? defaultName });
    this.#key = key;
    this.initThresholds = thresholds ?? null;
    this.thresholds = parseThresholds(this.label(), thresholds, 0.5);
    this.#even = isEvenlyDistributed(this.thresholds);
    this.accumulator = this.addVariable([this.thresholds.length], 'zeros', this.dtype, 'accumulator');
  }

  updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void {
    if (yPred === null || yPred === undefined) throw new TypeError(`${this.label()} '${this.name}'.updateState: y_pred is missing.`);
    updateConfusionMatrixVariables({ [this.#key]: this.accumulator }, yTrue, yPred, {
      thresholds: this.thresholds,
      sampleWeight,
      clip: this.#even,
      where: this.label(),
    });
  }

  result(): Tensor {
    return scalarIfSingle(this.accumulator.read(), this.thresholds.length);
  }

  override getConfig(): Config {
    return { name: this.name, dtype: this.dtype, thresholds: this.initThresholds };
  }
}

function thresholdsFromConfig(className: string, config: Config): ThresholdsOptions {
  const c = readMetricConfig(className, config, ['thresholds']);
  return { ...c, thresholds: c.thresholds as number | number[] | undefined };
}

/** Weighted count of true positives at each threshold (name 'true_positives'). */
export class TruePositives extends ConfusionMatrixConditionCount {
  static override readonly className: string = 'TruePositives';
  constructor(options: ThresholdsOptions = {}) {
    super('tp', 'true_positives', options);
  }
  static override fromConfig(config: Config): TruePositives {
    return new TruePositives(thresholdsFromConfig('TruePositives', config));
  }
}

/** Weighted count of false positives at each threshold (name 'false_positives'). */
export class FalsePositives extends ConfusionMatrixConditionCount {
  static override readonly className: string = 'FalsePositives';
  constructor(options: ThresholdsOptions = {}) {
    super('fp', 'false_positives', options);
  }
  static override fromConfig(config: Config): FalsePositives {
    return new FalsePositives(thresholdsFromConfig('FalsePositives', config));
  }
}

/** Weighted count of true negatives at each threshold (name 'true_negatives'). */
export class TrueNegatives extends ConfusionMatrixConditionCount {
  static override readonly className: string = 'TrueNegatives';
  constructor(options: ThresholdsOptions = {}) {
    super('tn', 'true_negatives', options);
  }
  static override fromConfig(config: Config): TrueNegatives {
    return new TrueNegatives(thresholdsFromConfig('TrueNegatives', config));
  }
}

/** Weighted count of false negatives at each threshold (name 'false_negatives'). */
export class FalseNegatives extends ConfusionMatrixConditionCount {
  static override readonly className: string = 'FalseNegatives';
  constructor(options: ThresholdsOptions = {}) {
    super('fn', 'false_negatives', options);
  }
  static override fromConfig(config: Config): FalseNegatives {
    return new FalseNegatives(thresholdsFromConfig('FalseNegatives', config));
  }
}

export interface PrecisionRecallOptions extends ThresholdsOptions {
  /** Count only the k largest predictions of each row as positive (threshold then defaults to NEG_INF). */
  topK?: number | null;
  /** Only this class (index on the last axis of y_pred). */
  classId?: number | null;
}

function checkOptionalInt(where: string, name: string, v: unknown, min: number): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`${where}: Received: ${name}=${describe(v)}; expected an integer >= ${min} or null.`);
  return v;
}

/** Shared by Precision and Recall: tp plus fp (precision) or fn (recall) at each threshold. */
abstract class PrecisionRecallBase extends Metric {
  readonly thresholds: number[];
  readonly initThresholds: number | readonly number[] | null;
  readonly topK: number | null;
  readonly classId: number | null;
  readonly truePositives: Variable;
  protected readonly even: boolean;

  constructor(defaultName: string, options: PrecisionRecallOptions) {
    const { thresholds, topK, classId, ...base } = options;
    super({ ...base, name: base.name ?? defaultName });
    const where = this.label();
    this.initThresholds = thresholds ?? null;
    this.topK = checkOptionalInt(where, 'top_k', topK, 1);
    this.classId = checkOptionalInt(where, 'class_id', classId, 0);
    this.thresholds = parseThresholds(where, thresholds, this.topK === null ? 0.5 : NEG_INF);
    this.even = isEvenlyDistributed(this.thresholds);
    this.truePositives = this.addVariable([this.thresholds.length], 'zeros', this.dtype, 'true_positives');
  }

  protected update(other: { fp?: Variable; fn?: Variable }, yTrue: TensorLike, yPred: TensorLike | null | undefined, sampleWeight: TensorLike | null | undefined): void {
    if (yPred === null || yPred === undefined) throw new TypeError(`${this.label()} '${this.name}'.updateState: y_pred is missing.`);
    updateConfusionMatrixVariables({ tp: this.truePositives, ...other }, yTrue, yPred, {
      thresholds: this.thresholds,
      topK: this.topK,
      classId: this.classId,
      sampleWeight,
      clip: this.even,
      where: this.label(),
    });
  }

  override getConfig(): Config {
    return { name: this.name, dtype: this.dtype, thresholds: this.initThresholds, top_k: this.topK, class_id: this.classId };
  }
}

function precisionRecallFromConfig(className: string, config: Config): PrecisionRecallOptions {
  const c = readMetricConfig(className, config, ['thresholds', 'top_k', 'class_id']);
  return { ...c, thresholds: c.thresholds as number | number[] | undefined, topK: c.top_k as number | undefined, classId: c.class_id as number | undefined };
}

/** tp / (tp + fp) at each threshold (name 'precision'). */
export class Precision extends PrecisionRecallBase {
  static override readonly className: string = 'Precision';
  readonly falsePositives: Variable;
  constructor(options: PrecisionRecallOptions = {}) {
    super('precision', options);
    this.falsePositives = this.addVariable([this.thresholds.length], 'zeros', this.dtype, 'false_positives');
  }
  updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void {
    this.update({ fp: this.falsePositives }, yTrue, yPred, sampleWeight);
  }
  result(): Tensor {
    const tp = this.truePositives.read();
    return scalarIfSingle(divideNoNan(tp, ops.add(tp, this.falsePositives.read())), this.thresholds.length);
  }
  static override fromConfig(config: Config): Precision {
    return new Precision(precisionRecallFromConfig('Precision', config));
  }
}

/** tp / (tp + fn) at each threshold (name 'recall'). */
export class Recall extends PrecisionRecallBase {
  static override readonly className: string = 'Recall';
  readonly falseNegatives: Variable;
  constructor(options: PrecisionRecallOptions = {}) {
    super('recall', options);
    this.falseNegatives = this.addVariable([this.thresholds.length], 'zeros', this.dtype, 'false_negatives');
  }
  updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void {
    this.update({ fn: this.falseNegatives }, yTrue, yPred, sampleWeight);
  }
  result(): Tensor {
    const tp = this.truePositives.read();
    return scalarIfSingle(divideNoNan(tp, ops.add(tp, this.falseNegatives.read())), this.thresholds.length);
  }
  static override fromConfig(config: Config): Recall {
    return new Recall(precisionRecallFromConfig('Recall', config));
  }
}

// ---------------------------------------------------------------------------
// AUC

export type AUCCurve = 'ROC' | 'PR';
export type AUCSummationMethod = 'interpolation' | 'minoring' | 'majoring';

export interface AUCOptions extends MetricOptions {
  /** Number of thresholds (> 1) when `thresholds` is not given. Default 200. */
  numThresholds?: number;
  /** 'ROC' (default) or 'PR' (also 'roc', 'pr'). */
  curve?: AUCCurve | 'roc' | 'pr';
  /** 'interpolation' (default), 'minoring' or 'majoring'. */
  summationMethod?: AUCSummationMethod | 'Interpolation' | 'Minoring' | 'Majoring';
  /** Explicit thresholds in [0, 1]; -epsilon and 1 + epsilon are added at the ends. */
  thresholds?: readonly number[] | null;
  /** One AUC per label (y_pred [batch, labels]), averaged; else the values are flattened. Default false. */
  multiLabel?: boolean;
  /** Number of labels with multiLabel (else the variables are made on the first update). */
  numLabels?: number | null;
  /** Weights of the labels: in the average of label AUCs (multiLabel), else in the counts. */
  labelWeights?: readonly number[] | null;
  /** Predictions are logits (a sigmoid is applied first). Default false. */
  fromLogits?: boolean;
}

function readCurve(where: string, v: unknown): AUCCurve {
  if (v === 'ROC' || v === 'roc') return 'ROC';
  if (v === 'PR' || v === 'pr') return 'PR';
  throw new RangeError(`${where}: Invalid AUC curve value: ${describe(v)}. Expected values are ["PR", "ROC"].`);
}

function readSummation(where: string, v: unknown): AUCSummationMethod {
  if (typeof v === 'string') {
    const lower = v.toLowerCase();
    if ((lower === 'interpolation' || lower === 'majoring' || lower === 'minoring') && (v === lower || v === lower[0].toUpperCase() + lower.slice(1))) {
      return lower as AUCSummationMethod;
    }
  }
  throw new RangeError(`${where}: Invalid AUC summation method value: ${describe(v)}. Expected values are ["interpolation", "majoring", "minoring"].`);
}

/**
 * Area under the ROC or precision-recall curve (name 'auc'), approximated
 * from confusion matrices at `numThresholds` thresholds (a Riemann sum;
 * Keras's method).
 */
export class AUC extends Metric {
  static override readonly className: string = 'AUC';
  readonly numThresholds: number;
  readonly curve: AUCCurve;
  readonly summationMethod: AUCSummationMethod;
  readonly multiLabel: boolean;
  readonly numLabels: number | null;
  readonly labelWeights: readonly number[] | null;
  readonly fromLogits: boolean;
  readonly #initFromThresholds: boolean;
  readonly #thresholds: number[];
  readonly #even: boolean;
  #built = false;
  #labels = 0;
  truePositives!: Variable;
  falsePositives!: Variable;
  trueNegatives!: Variable;
  falseNegatives!: Variable;

  constructor(options: AUCOptions = {}) {
    const { numThresholds, curve, summationMethod, thresholds, multiLabel, numLabels, labelWeights, fromLogits, ...base } = options;
    super({ ...base, name: base.name ?? 'auc' });
    const where = this.label();
    let inner: number[];
    if (thresholds !== null && thresholds !== undefined) {
      inner = parseThresholds(where, thresholds, 0.5).sort((a, b) => a - b);
      this.numThresholds = inner.length + 2;
      this.#even = isEvenlyDistributed([0, ...inner, 1]);
      this.#initFromThresholds = true;
    } else {
      const n = numThresholds ?? 200;
      if (typeof n !== 'number' || !Number.isInteger(n) || n <= 1) {
        throw new RangeError(`${where}: Argument \`num_thresholds\` must be an integer > 1. Received: num_thresholds=${describe(n)}`);
      }
      this.numThresholds = n;
      inner = Array.from({ length: n - 2 }, (_, i) => (i + 1) / (n - 1));
      this.#even = true;
      this.#initFromThresholds = false;
    }
    this.#thresholds = [0 - EPSILON, ...inner, 1 + EPSILON];
    this.curve = readCurve(where, curve ?? 'ROC');
    this.summationMethod = readSummation(where, summationMethod ?? 'interpolation');
    this.multiLabel = multiLabel ?? false;
    if (typeof this.multiLabel !== 'boolean') throw new TypeError(`${where}: Received: multi_label=${describe(multiLabel)}; expected a boolean.`);
    this.fromLogits = fromLogits ?? false;
    if (typeof this.fromLogits !== 'boolean') throw new TypeError(`${where}: Received: from_logits=${describe(fromLogits)}; expected a boolean.`);
    this.numLabels = checkOptionalInt(where, 'num_labels', numLabels, 1);
    if (labelWeights !== null && labelWeights !== undefined) {
      if (!Array.isArray(labelWeights) || !labelWeights.every((w) => typeof w === 'number' && w >= 0)) {
        throw new TypeError(`${where}: Received: label_weights=${describe(labelWeights)}; expected a list of non-negative numbers.`);
      }
      this.labelWeights = [...labelWeights];
    } else this.labelWeights = null;
    if (this.multiLabel) {
      if (this.numLabels !== null) this.build(this.numLabels);
    } else {
      if (this.numLabels !== null) throw new RangeError(`${where}: \`num_labels\` is needed only when \`multi_label\` is True.`);
      this.build(null);
    }
  }

  /** The thresholds, including the -epsilon and 1 + epsilon ends. */
  get thresholds(): number[] {
    return [...this.#thresholds];
  }

  private build(labels: number | null): void {
    const shape = labels === null ? [this.numThresholds] : [this.numThresholds, labels];
    this.#labels = labels ?? 0;
    this.truePositives = this.addVariable(shape, 'zeros', this.dtype, 'true_positives');
    this.falsePositives = this.addVariable(shape, 'zeros', this.dtype, 'false_positives');
    this.trueNegatives = this.addVariable(shape, 'zeros', this.dtype, 'true_negatives');
    this.falseNegatives = this.addVariable(shape, 'zeros', this.dtype, 'false_negatives');
    this.#built = true;
  }

  updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void {
    const where = this.label();
    if (yPred === null || yPred === undefined) throw new TypeError(`${where} '${this.name}'.updateState: y_pred is missing.`);
    let yp = toTensor(yPred, where);
    if (!this.#built) {
      const labels = yp.shape[yp.rank - 1];
      if (yp.rank !== 2 || labels === null) {
        throw new Error(`${where}: \`y_pred\` must have rank 2 with a known number of labels when \`multi_label=True\`. Received: y_pred.shape=${formatShape(yp.shape)}`);
      }
      this.build(labels);
    }
    if (this.multiLabel && yp.shape[1] !== null && yp.shape[1] !== this.#labels) {
      throw new Error(`${where}: built for ${this.#labels} labels, but y_pred.shape=${formatShape(yp.shape)}.`);
    }
    if (this.fromLogits) yp = ops.sigmoid(yp);
    const labelWeights = !this.multiLabel && this.labelWeights ? tensor(this.labelWeights, [this.labelWeights.length], this.dtype) : null;
    updateConfusionMatrixVariables(
      { tp: this.truePositives, fp: this.falsePositives, tn: this.trueNegatives, fn: this.falseNegatives },
      yTrue,
      yp,
      { thresholds: this.#thresholds, sampleWeight, multiLabel: this.multiLabel, labelWeights, clip: this.#even, where },
    );
  }

  /** x[:T-1] and x[1:] along the threshold axis. */
  private ends(x: Tensor): [Tensor, Tensor] {
    const n = this.numThresholds - 1;
    const rest = x.shape.slice(1).map(() => -1);
    const zeros = x.shape.slice(1).map(() => 0);
    return [ops.slice(x, [0, ...zeros], [n, ...rest]), ops.slice(x, [1, ...zeros], [n, ...rest])];
  }

  /** Averages per-label AUCs (multi-label), weighted by labelWeights when given; else sums the terms. */
  private total(terms: Tensor): Tensor {
    if (!this.multiLabel) return ops.sum(terms);
    const byLabel = ops.sum(terms, 0);
    if (!this.labelWeights) return ops.mean(byLabel);
    const w = tensor(this.labelWeights, [this.labelWeights.length], this.dtype);
    return divideNoNan(ops.sum(ops.multiply(byLabel, w)), ops.sum(w));
  }

  /** PR-AUC with precision interpolated as in Davis & Goadrich (2006) (Keras's `interpolate_pr_auc`). */
  private interpolatePrAuc(): Tensor {
    const tp = this.truePositives.read();
    const fp = this.falsePositives.read();
    const fn = this.falseNegatives.read();
    const [tpHead, tpTail] = this.ends(tp);
    const p = ops.add(tp, fp);
    const [pHead, pTail] = this.ends(p);
    const [, fnTail] = this.ends(fn);
    const dtp = ops.subtract(tpHead, tpTail);
    const dp = ops.subtract(pHead, pTail);
    const slope = divideNoNan(dtp, ops.maximum(dp, 0));
    const intercept = ops.subtract(tpTail, ops.multiply(slope, pTail));
    const safeRatio = ops.where(ops.logicalAnd(ops.greater(pHead, 0), ops.greater(pTail, 0)), divideNoNan(pHead, ops.maximum(pTail, 0)), 1);
    const increment = divideNoNan(
      ops.multiply(slope, ops.add(dtp, ops.multiply(intercept, ops.log(safeRatio)))),
      ops.maximum(ops.add(tpTail, fnTail), 0),
    );
    return this.total(increment);
  }

  result(): Tensor {
    if (!this.#built) return ops.cast(0, this.dtype);
    if (this.curve === 'PR' && this.summationMethod === 'interpolation') return this.interpolatePrAuc();
    const tp = this.truePositives.read();
    const fp = this.falsePositives.read();
    const tn = this.trueNegatives.read();
    const fn = this.falseNegatives.read();
    const recall = divideNoNan(tp, ops.add(tp, fn));
    let x: Tensor;
    let y: Tensor;
    if (this.curve === 'ROC') {
      x = divideNoNan(fp, ops.add(fp, tn));
      y = recall;
    } else {
      x = recall;
      y = divideNoNan(tp, ops.add(tp, fp));
    }
    const [yHead, yTail] = this.ends(y);
    const heights =
      this.summationMethod === 'interpolation'
        ? ops.divide(ops.add(yHead, yTail), 2)
        : this.summationMethod === 'minoring'
          ? ops.minimum(yHead, yTail)
          : ops.maximum(yHead, yTail);
    const [xHead, xTail] = this.ends(x);
    return this.total(ops.multiply(ops.subtract(xHead, xTail), heights));
  }

  override resetState(): void {
    if (this.#built) super.resetState();
  }

  override getConfig(): Config {
    const config: Config = {
      name: this.name,
      dtype: this.dtype,
      num_thresholds: this.numThresholds,
      curve: this.curve,
      summation_method: this.summationMethod,
      multi_label: this.multiLabel,
      num_labels: this.numLabels,
      label_weights: this.labelWeights ? [...this.labelWeights] : null,
      from_logits: this.fromLogits,
    };
    if (this.#initFromThresholds) config.thresholds = this.#thresholds.slice(1, -1);
    return config;
  }

  static override fromConfig(config: Config): AUC {
    const c = readMetricConfig('AUC', config, [
      'num_thresholds',
      'curve',
      'summation_method',
      'thresholds',
      'multi_label',
      'num_labels',
      'label_weights',
      'from_logits',
    ]);
    return new AUC({
      ...c,
      numThresholds: c.num_thresholds as number | undefined,
      curve: c.curve as AUCCurve | undefined,
      summationMethod: c.summation_method as AUCSummationMethod | undefined,
      thresholds: c.thresholds as number[] | undefined,
      multiLabel: c.multi_label as boolean | undefined,
      numLabels: c.num_labels as number | undefined,
      // Keras's AUC keeps label_weights as a tensor, which serialize_keras_object
      // writes as {"class_name": "__tensor__", "config": {"value": [...], "dtype": ...}}
      // (a `.keras` file from Keras has that form): read the list inside.
      labelWeights: (isKerasObject(c.label_weights) && (c.label_weights.class_name === '__tensor__' || c.label_weights.class_name === '__numpy__')
        ? (c.label_weights.config as { value?: unknown }).value
        : c.label_weights) as number[] | undefined,
      fromLogits: c.from_logits as boolean | undefined,
    });
  }
}
