/**
 * Losses as metrics: the mean of a loss function's per-sample values
 * (keras.metrics regression, probabilistic and hinge metrics), with Keras's
 * metric names and config keys; and RootMeanSquaredError.
 */
import { describe } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Config } from '../serialization/registry.ts';
import { type TensorLike, toTensor } from '../ops/convert.ts';
import * as ops from '../ops/index.ts';
import { squeezeOrExpandToSameRank } from '../losses/loss.ts';
import * as lossFns from '../losses/functions.ts';
import type { MetricOptions } from './metric.ts';
import { Mean, MeanMetricWrapper, type MetricFunction, registerMetricFunction } from './reduction.ts';
import { readMetricConfig } from './accuracy.ts';

function checkBool(where: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${where}: Received: ${name}=${describe(v)}; expected a boolean.`);
  return v;
}

function checkAxis(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${where}: Received: axis=${describe(v)}; \`axis\` must be an integer.`);
  return v;
}

function checkSmoothing(where: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`${where}: Received: label_smoothing=${describe(v)}; expected a number in [0, 1].`);
  return v;
}

/** What simpleMetric makes (named, so that declaration files can describe the classes). */
export interface SimpleMetricClass {
  new (options?: MetricOptions): MeanMetricWrapper;
  readonly className: string;
  fromConfig(config: Config): MeanMetricWrapper;
}

/** A metric class averaging `fn` with no options of its own. */
function simpleMetric(className: string, fn: MetricFunction, defaultName: string): SimpleMetricClass {
  const cls = class extends MeanMetricWrapper {
    static override readonly className: string = className;
    constructor(options: MetricOptions = {}) {
      super(fn, { ...options, name: options.name ?? defaultName });
    }
    override getConfig(): Config {
      return { name: this.name, dtype: this.dtype };
    }
    static override fromConfig(config: Config): MeanMetricWrapper {
      return new cls(readMetricConfig(className, config, []));
    }
  };
  Object.defineProperty(cls, 'name', { value: className });
  return cls;
}

// ---------------------------------------------------------------------------
// Regression

/** mean(square(y_true - y_pred)) (name 'mean_squared_error'). */
export const MeanSquaredError = simpleMetric('MeanSquaredError', lossFns.meanSquaredError, 'mean_squared_error');
export type MeanSquaredError = InstanceType<typeof MeanSquaredError>;
/** mean(abs(y_true - y_pred)) (name 'mean_absolute_error'). */
export const MeanAbsoluteError = simpleMetric('MeanAbsoluteError', lossFns.meanAbsoluteError, 'mean_absolute_error');
export type MeanAbsoluteError = InstanceType<typeof MeanAbsoluteError>;
/** 100 * mean(abs((y_true - y_pred) / y_true)) (name 'mean_absolute_percentage_error'). */
export const MeanAbsolutePercentageError = simpleMetric('MeanAbsolutePercentageError', lossFns.meanAbsolutePercentageError, 'mean_absolute_percentage_error');
export type MeanAbsolutePercentageError = InstanceType<typeof MeanAbsolutePercentageError>;
/** mean(square(log(y_true + 1) - log(y_pred + 1))) (name 'mean_squared_logarithmic_error'). */
export const MeanSquaredLogarithmicError = simpleMetric('MeanSquaredLogarithmicError', lossFns.meanSquaredLogarithmicError, 'mean_squared_logarithmic_error');
export type MeanSquaredLogarithmicError = InstanceType<typeof MeanSquaredLogarithmicError>;
/** mean(log(cosh(y_pred - y_true))) (name 'logcosh'). */
export const LogCoshError = simpleMetric('LogCoshError', lossFns.logCosh, 'logcosh');
export type LogCoshError = InstanceType<typeof LogCoshError>;

/** sqrt of the (weighted) mean of squared errors (name 'root_mean_squared_error'). */
export class RootMeanSquaredError extends Mean {
  static override readonly className: string = 'RootMeanSquaredError';
  constructor(options: MetricOptions = {}) {
    super({ ...options, name: options.name ?? 'root_mean_squared_error' });
  }
  override updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void {
    const where = this.label();
    if (yPred === null || yPred === undefined) throw new TypeError(`${where} '${this.name}'.updateState: expected (yTrue, yPred, sampleWeight?); y_pred is missing.`);
    let yt = ops.cast(toTensor(yTrue, where), this.dtype);
    let yp = ops.cast(toTensor(yPred, where), this.dtype);
    [yt, yp] = squeezeOrExpandToSameRank(yt, yp);
    if (yt.rank !== yp.rank || yt.shape.some((d, i) => d !== null && yp.shape[i] !== null && d !== yp.shape[i])) {
      throw new Error(`${where}: Received: y_true.shape=${JSON.stringify(yt.shape)} and y_pred.shape=${JSON.stringify(yp.shape)}; expected y_true with the same shape as y_pred.`);
    }
    this.updateMean(ops.square(ops.subtract(yp, yt)), sampleWeight);
  }
  override result(): Tensor {
    return ops.sqrt(super.result());
  }
  override getConfig(): Config {
    return { name: this.name, dtype: this.dtype };
  }
  static override fromConfig(config: Config): RootMeanSquaredError {
    return new RootMeanSquaredError(readMetricConfig('RootMeanSquaredError', config, []));
  }
}

/** sum(l2_normalize(y_true) * l2_normalize(y_pred), axis): 1 for vectors pointing the same way (the metric's sign). */
export function cosineSimilarity(yTrue: TensorLike, yPred: TensorLike, axis: number | { axis?: number } = -1): Tensor {
  return ops.negative(lossFns.cosineSimilarity(yTrue, yPred, axis));
}

registerMetricFunction('cosine_similarity', cosineSimilarity as MetricFunction);

export interface CosineSimilarityMetricOptions extends MetricOptions {
  /** The feature axis. Default -1. */
  axis?: number;
}

/** Mean cosine similarity between labels and predictions (name 'cosine_similarity'). */
export class CosineSimilarity extends MeanMetricWrapper {
  static override readonly className: string = 'CosineSimilarity';
  readonly axis: number;
  constructor(options: CosineSimilarityMetricOptions = {}) {
    const axis = checkAxis('CosineSimilarity', options.axis ?? -1);
    const { axis: _a, ...base } = options;
    super(cosineSimilarity as MetricFunction, { ...base, name: base.name ?? 'cosine_similarity', fnOptions: { axis } });
    this.axis = axis;
  }
  override getConfig(): Config {
    return { name: this.name, dtype: this.dtype, axis: this.axis };
  }
  static override fromConfig(config: Config): CosineSimilarity {
    const c = readMetricConfig('CosineSimilarity', config, ['axis']);
    return new CosineSimilarity({ ...c, axis: c.axis as number | undefined });
  }
}

// ---------------------------------------------------------------------------
// Hinge

/** mean(max(1 - y_true * y_pred, 0)) (name 'hinge'). */
export const Hinge = simpleMetric('Hinge', lossFns.hinge, 'hinge');
export type Hinge = InstanceType<typeof Hinge>;
/** mean(square(max(1 - y_true * y_pred, 0))) (name 'squared_hinge'). */
export const SquaredHinge = simpleMetric('SquaredHinge', lossFns.squaredHinge, 'squared_hinge');
export type SquaredHinge = InstanceType<typeof SquaredHinge>;
/** max(neg - pos + 1, 0) (name 'categorical_hinge'). */
export const CategoricalHinge = simpleMetric('CategoricalHinge', lossFns.categoricalHinge, 'categorical_hinge');
export type CategoricalHinge = InstanceType<typeof CategoricalHinge>;

// ---------------------------------------------------------------------------
// Probabilistic

/** sum(y_true * log(y_true / y_pred)) (name 'kl_divergence'). */
export const KLDivergence = simpleMetric('KLDivergence', lossFns.klDivergence, 'kl_divergence');
export type KLDivergence = InstanceType<typeof KLDivergence>;
/** mean(y_pred - y_true * log(y_pred)) (name 'poisson'). */
export const Poisson = simpleMetric('Poisson', lossFns.poisson, 'poisson');
export type Poisson = InstanceType<typeof Poisson>;

export interface BinaryCrossentropyMetricOptions extends MetricOptions {
  fromLogits?: boolean;
  labelSmoothing?: number;
}

/** Mean binary crossentropy (name 'binary_crossentropy'). */
export class BinaryCrossentropy extends MeanMetricWrapper {
  static override readonly className: string = 'BinaryCrossentropy';
  readonly fromLogits: boolean;
  readonly labelSmoothing: number;
  constructor(options: BinaryCrossentropyMetricOptions = {}) {
    const where = 'BinaryCrossentropy';
    const fromLogits = checkBool(where, 'from_logits', options.fromLogits ?? false);
    const labelSmoothing = checkSmoothing(where, options.labelSmoothing ?? 0);
    const { fromLogits: _f, labelSmoothing: _l, ...base } = options;
    super(lossFns.binaryCrossentropy as MetricFunction, { ...base, name: base.name ?? 'binary_crossentropy', fnOptions: { fromLogits, labelSmoothing } });
    this.fromLogits = fromLogits;
    this.labelSmoothing = labelSmoothing;
  }
  override getConfig(): Config {
    return { name: this.name, dtype: this.dtype, from_logits: this.fromLogits, label_smoothing: this.labelSmoothing };
  }
  static override fromConfig(config: Config): BinaryCrossentropy {
    const c = readMetricConfig('BinaryCrossentropy', config, ['from_logits', 'label_smoothing']);
    return new BinaryCrossentropy({ ...c, fromLogits: c.from_logits as boolean | undefined, labelSmoothing: c.label_smoothing as number | undefined });
  }
}

export interface CategoricalCrossentropyMetricOptions extends BinaryCrossentropyMetricOptions {
  axis?: number;
}

/** Mean categorical crossentropy (name 'categorical_crossentropy'). */
export class CategoricalCrossentropy extends MeanMetricWrapper {
  static override readonly className: string = 'CategoricalCrossentropy';
  readonly fromLogits: boolean;
  readonly labelSmoothing: number;
  readonly axis: number;
  constructor(options: CategoricalCrossentropyMetricOptions = {}) {
    const where = 'CategoricalCrossentropy';
    const fromLogits = checkBool(where, 'from_logits', options.fromLogits ?? false);
    const labelSmoothing = checkSmoothing(where, options.labelSmoothing ?? 0);
    const axis = checkAxis(where, options.axis ?? -1);
    const { fromLogits: _f, labelSmoothing: _l, axis: _a, ...base } = options;
    super(lossFns.categoricalCrossentropy as MetricFunction, { ...base, name: base.name ?? 'categorical_crossentropy', fnOptions: { fromLogits, labelSmoothing, axis } });
    this.fromLogits = fromLogits;
    this.labelSmoothing = labelSmoothing;
    this.axis = axis;
  }
  override getConfig(): Config {
    return { name: this.name, dtype: this.dtype, from_logits: this.fromLogits, label_smoothing: this.labelSmoothing, axis: this.axis };
  }
  static override fromConfig(config: Config): CategoricalCrossentropy {
    const c = readMetricConfig('CategoricalCrossentropy', config, ['from_logits', 'label_smoothing', 'axis']);
    return new CategoricalCrossentropy({
      ...c,
      fromLogits: c.from_logits as boolean | undefined,
      labelSmoothing: c.label_smoothing as number | undefined,
      axis: c.axis as number | undefined,
    });
  }
}

export interface SparseCategoricalCrossentropyMetricOptions extends MetricOptions {
  fromLogits?: boolean;
  /** A label whose samples are left out of the mean. Default null. */
  ignoreClass?: number | null;
  axis?: number;
}

/** Mean sparse categorical crossentropy (name 'sparse_categorical_crossentropy'). */
export class SparseCategoricalCrossentropy extends MeanMetricWrapper {
  static override readonly className: string = 'SparseCategoricalCrossentropy';
  readonly fromLogits: boolean;
  readonly ignoreClass: number | null;
  readonly axis: number;
  constructor(options: SparseCategoricalCrossentropyMetricOptions = {}) {
    const where = 'SparseCategoricalCrossentropy';
    const fromLogits = checkBool(where, 'from_logits', options.fromLogits ?? false);
    const ignoreClass = options.ignoreClass ?? null;
    if (ignoreClass !== null && (typeof ignoreClass !== 'number' || !Number.isInteger(ignoreClass))) {
      throw new TypeError(`${where}: Received: ignore_class=${describe(ignoreClass)}; expected an integer class id or null.`);
    }
    const axis = checkAxis(where, options.axis ?? -1);
    const { fromLogits: _f, ignoreClass: _i, axis: _a, ...base } = options;
    super(lossFns.sparseCategoricalCrossentropy as MetricFunction, {
      ...base,
      name: base.name ?? 'sparse_categorical_crossentropy',
      fnOptions: { fromLogits, ignoreClass, axis },
    });
    this.fromLogits = fromLogits;
    this.ignoreClass = ignoreClass;
    this.axis = axis;
  }
  override getConfig(): Config {
    // Keras 3 (3.15) writes ignore_class always, null included: so does Strata
    // (it was written only when set, so a config lacked a key Keras's has).
    return { name: this.name, dtype: this.dtype, from_logits: this.fromLogits, ignore_class: this.ignoreClass, axis: this.axis };
  }
  static override fromConfig(config: Config): SparseCategoricalCrossentropy {
    const c = readMetricConfig('SparseCategoricalCrossentropy', config, ['from_logits', 'ignore_class', 'axis']);
    return new SparseCategoricalCrossentropy({
      ...c,
      fromLogits: c.from_logits as boolean | undefined,
      ignoreClass: c.ignore_class as number | undefined,
      axis: c.axis as number | undefined,
    });
  }
}
