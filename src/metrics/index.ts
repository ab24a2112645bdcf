/**
 * `strata.metrics` (keras.metrics): the Metric base class, the metric
 * classes and functions, `get`, `serialize` and `deserialize`, and the
 * helpers a training loop needs (`resolveAccuracy`, `resolveMetric`).
 *
 * Names accepted by `get`, as in Keras 3: each class name ('AUC') and its
 * snake_case form ('auc', 'precision', 'binary_accuracy', ...), the aliases
 * 'mse', 'mae', 'mape', 'msle', 'bce' (and upper-case forms), plus 'acc'
 * (Accuracy), 'logcosh' and 'kld'; and every loss function name
 * ('huber', 'binary_focal_crossentropy', ...: the mean of the loss).
 * A metric built from a name is named by that name, as Keras's compile
 * names it (so 'mse' logs as 'mse').
 *
 * 'accuracy' alone means Accuracy here; in `compile`, Keras picks
 * BinaryAccuracy, SparseCategoricalAccuracy or CategoricalAccuracy from the
 * loss and the shapes: that is `resolveAccuracy` / `resolveMetric`.
 */
import type { Shape } from '../tensor/shape.ts';
import { describe } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { type SerializableClass, registerBuiltin, resolve, withCustomObjects } from '../serialization/registry.ts';
import { type KerasObject, UnknownObjectError, deserializeObject, isKerasObject, serializeObject, toSnakeCase } from '../serialization/keras-object.ts';
import { type AnyFunction, type SerializedFunction, resolveFunction, serializeFunction, validNames } from '../initializers/lookup.ts';
import * as losses from '../losses/index.ts';
import { Metric } from './metric.ts';
import { Mean, MeanMetricWrapper, Sum, type MetricFn, type MetricFunction, builtinMetricFunction, metricFunctionName } from './reduction.ts';
import { Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy } from './accuracy.ts';
import {
  BinaryCrossentropy,
  CategoricalCrossentropy,
  CategoricalHinge,
  CosineSimilarity,
  Hinge,
  KLDivergence,
  LogCoshError,
  MeanAbsoluteError,
  MeanAbsolutePercentageError,
  MeanSquaredError,
  MeanSquaredLogarithmicError,
  Poisson,
  RootMeanSquaredError,
  SparseCategoricalCrossentropy,
  SquaredHinge,
} from './loss-metrics.ts';
import { AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives } from './confusion.ts';
import { F1Score, FBetaScore } from './fscore.ts';

export { Metric, metricOptions } from './metric.ts';
export type { MetricOptions } from './metric.ts';
export { Mean, Sum, MeanMetricWrapper, reduceToSamplewiseValues, registerMetricFunction, metricFunctionName } from './reduction.ts';
export type { MeanMetricWrapperOptions, MetricFunction, MetricFn } from './reduction.ts';
export {
  Accuracy,
  BinaryAccuracy,
  CategoricalAccuracy,
  SparseCategoricalAccuracy,
  TopKCategoricalAccuracy,
  SparseTopKCategoricalAccuracy,
  accuracy,
  binaryAccuracy,
  categoricalAccuracy,
  sparseCategoricalAccuracy,
  topKCategoricalAccuracy,
  sparseTopKCategoricalAccuracy,
  inTopK,
} from './accuracy.ts';
export type { BinaryAccuracyOptions, TopKOptions } from './accuracy.ts';
export {
  MeanSquaredError,
  MeanAbsoluteError,
  MeanAbsolutePercentageError,
  MeanSquaredLogarithmicError,
  RootMeanSquaredError,
  LogCoshError,
  CosineSimilarity,
  cosineSimilarity,
  Hinge,
  SquaredHinge,
  CategoricalHinge,
  KLDivergence,
  Poisson,
  BinaryCrossentropy,
  CategoricalCrossentropy,
  SparseCategoricalCrossentropy,
} from './loss-metrics.ts';
export type {
  CosineSimilarityMetricOptions,
  BinaryCrossentropyMetricOptions,
  CategoricalCrossentropyMetricOptions,
  SparseCategoricalCrossentropyMetricOptions,
} from './loss-metrics.ts';
export {
  AUC,
  Precision,
  Recall,
  TruePositives,
  FalsePositives,
  TrueNegatives,
  FalseNegatives,
  NEG_INF,
  updateConfusionMatrixVariables,
  filterTopK,
  parseThresholds,
  isEvenlyDistributed,
} from './confusion.ts';
export type { AUCOptions, AUCCurve, AUCSummationMethod, PrecisionRecallOptions, ThresholdsOptions, ConfusionVariables, ConfusionOptions } from './confusion.ts';
export { FBetaScore, F1Score } from './fscore.ts';
export type { FBetaScoreOptions, F1ScoreOptions, FScoreAverage } from './fscore.ts';
// The loss functions Keras also exports from keras.metrics.
export {
  meanSquaredError,
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredLogarithmicError,
  huber,
  logCosh,
  klDivergence,
  poisson,
  binaryCrossentropy,
  binaryFocalCrossentropy,
  categoricalCrossentropy,
  sparseCategoricalCrossentropy,
  hinge,
  squaredHinge,
  categoricalHinge,
} from '../losses/functions.ts';

const MODULE = 'keras.metrics';

/** Every built-in metric class. */
export const METRIC_CLASSES = [
  Mean,
  Sum,
  MeanMetricWrapper,
  MeanSquaredError,
  RootMeanSquaredError,
  MeanAbsoluteError,
  MeanAbsolutePercentageError,
  MeanSquaredLogarithmicError,
  CosineSimilarity,
  LogCoshError,
  AUC,
  FalseNegatives,
  FalsePositives,
  Precision,
  Recall,
  TrueNegatives,
  TruePositives,
  Hinge,
  SquaredHinge,
  CategoricalHinge,
  KLDivergence,
  Poisson,
  BinaryCrossentropy,
  CategoricalCrossentropy,
  SparseCategoricalCrossentropy,
  Accuracy,
  BinaryAccuracy,
  CategoricalAccuracy,
  SparseCategoricalAccuracy,
  TopKCategoricalAccuracy,
  SparseTopKCategoricalAccuracy,
  F1Score,
  FBetaScore,
] as unknown as readonly SerializableClass<Metric>[];

registerBuiltin(MODULE, Metric as unknown as SerializableClass);
for (const cls of METRIC_CLASSES) registerBuiltin(MODULE, cls);

/** Name → class: class names, their snake_case forms, and Keras's aliases. */
const CLASS_BY_NAME = new Map<string, SerializableClass<Metric>>();
for (const cls of METRIC_CLASSES) {
  if (cls === (MeanMetricWrapper as unknown)) continue;
  CLASS_BY_NAME.set(cls.className, cls);
  CLASS_BY_NAME.set(toSnakeCase(cls.className), cls);
}
const ALIASES: Record<string, SerializableClass<Metric>> = {
  acc: Accuracy as unknown as SerializableClass<Metric>,
  bce: BinaryCrossentropy as unknown as SerializableClass<Metric>,
  BCE: BinaryCrossentropy as unknown as SerializableClass<Metric>,
  mse: MeanSquaredError as unknown as SerializableClass<Metric>,
  MSE: MeanSquaredError as unknown as SerializableClass<Metric>,
  mae: MeanAbsoluteError as unknown as SerializableClass<Metric>,
  MAE: MeanAbsoluteError as unknown as SerializableClass<Metric>,
  mape: MeanAbsolutePercentageError as unknown as SerializableClass<Metric>,
  MAPE: MeanAbsolutePercentageError as unknown as SerializableClass<Metric>,
  msle: MeanSquaredLogarithmicError as unknown as SerializableClass<Metric>,
  MSLE: MeanSquaredLogarithmicError as unknown as SerializableClass<Metric>,
  kld: KLDivergence as unknown as SerializableClass<Metric>,
  KLD: KLDivergence as unknown as SerializableClass<Metric>,
  logcosh: LogCoshError as unknown as SerializableClass<Metric>,
  log_cosh: LogCoshError as unknown as SerializableClass<Metric>,
  fbeta_score: FBetaScore as unknown as SerializableClass<Metric>,
};
for (const [name, cls] of Object.entries(ALIASES)) CLASS_BY_NAME.set(name, cls);

/** Every name `get` accepts. */
export const names: readonly string[] = [...new Set([...CLASS_BY_NAME.keys(), ...losses.names.filter((n) => /^[a-z_]+$/.test(n))])];

/** Anything `get` accepts. */
export type MetricIdentifier =
  | string
  | Metric
  | losses.Loss
  | MetricFunction
  | ((yTrue: Tensor, yPred: Tensor) => Tensor)
  | KerasObject
  | SerializedFunction
  | (new () => Metric)
  | null
  | undefined;

function isMetricClass(x: unknown): x is new () => Metric {
  if (typeof x !== 'function') return false;
  const proto = (x as { prototype?: unknown }).prototype;
  return typeof proto === 'object' && proto !== null && proto instanceof Metric;
}

function fromName(name: string, where: string): Metric {
  const cls = CLASS_BY_NAME.get(name);
  if (cls) {
    const m = cls.fromConfig({});
    m.name = name;
    return m;
  }
  const fn = builtinMetricFunction(name);
  if (fn) return new MeanMetricWrapper(fn, { name });
  const custom = resolveFunction(name, name, null);
  if (custom) return new MeanMetricWrapper(custom as unknown as MetricFunction, { name: custom.name || name });
  // A user Metric subclass registered (or in a custom-object scope) under this name.
  const entry = resolve(name, null, name);
  if (isMetricClass(entry) && typeof (entry as unknown as SerializableClass).fromConfig === 'function') return (entry as unknown as SerializableClass<Metric>).fromConfig({});
  const lower = name.toLowerCase().replace(/_/g, '');
  const similar = names.filter((n) => n !== name && n.toLowerCase().replace(/_/g, '') === lower);
  const hint = similar.find((n) => n === n.toLowerCase()) ?? similar[0];
  throw new Error(
    `${where}: unknown metric '${name}'.${hint ? ` Did you mean '${hint}'?` : ''} Valid names: ${validNames(names.filter((n) => /^[a-z]/.test(n)))}, ` +
      "or a class name ('AUC', 'Precision', ...); or a class or function registered with registerSerializable.",
  );
}

function fromObject(value: KerasObject | SerializedFunction, where: string): Metric {
  if (value.class_name === 'function') {
    const name = typeof value.config === 'string' ? value.config : '';
    const builtin = !value.registered_name?.includes('>') && value.module !== 'keras.losses' ? builtinMetricFunction(name) : undefined;
    if (builtin) return new MeanMetricWrapper(builtin, { name });
    const fn = losses.deserializeLossFunction(value, where);
    return new MeanMetricWrapper(fn as MetricFunction, { name: name || undefined });
  }
  let obj: unknown;
  try {
    obj = deserializeObject<unknown>(value as KerasObject, MODULE, where);
  } catch (e) {
    const cls = e instanceof UnknownObjectError ? CLASS_BY_NAME.get(value.class_name) : undefined;
    if (!cls) {
      if (e instanceof UnknownObjectError) {
        throw new Error(
          `${where}: unknown metric class '${value.class_name}'. Built-in metrics: ${validNames([...CLASS_BY_NAME.keys()].filter((n) => /^[A-Z]/.test(n)))}. ` +
            'For a custom class, register it with registerSerializable or pass it in customObjects.',
        );
      }
      throw e;
    }
    obj = cls.fromConfig((value.config ?? {}) as Record<string, unknown>);
  }
  if (!(obj instanceof Metric)) throw new TypeError(`${where}: '${value.class_name}' is not a metric (it built ${describe(obj)}).`);
  return obj;
}

/**
 * A Metric from a name ('accuracy', 'mse', 'auc', 'precision', ...), a
 * serialized metric, a Metric instance (returned as is), a Metric subclass
 * (built with its defaults), a Loss (the mean of its per-sample values) or
 * a function `(yTrue, yPred) => per-sample values` (a MeanMetricWrapper
 * named after it). null/undefined give null.
 */
export function get(identifier: null | undefined): null;
export function get(identifier: NonNullable<MetricIdentifier>): Metric;
export function get(identifier: MetricIdentifier): Metric | null;
export function get(identifier: MetricIdentifier): Metric | null {
  const where = 'metrics.get';
  if (identifier === null || identifier === undefined) return null;
  if (identifier instanceof Metric) return identifier;
  if (identifier instanceof losses.Loss) return new MeanMetricWrapper(identifier);
  if (typeof identifier === 'string') return fromName(identifier, where);
  if (isKerasObject(identifier)) return fromObject(identifier, where);
  if (typeof identifier === 'function') {
    if (isMetricClass(identifier)) return new identifier();
    return new MeanMetricWrapper(identifier as MetricFunction);
  }
  throw new TypeError(
    `${where}: could not interpret metric identifier ${describe(identifier)}. ` +
      `Pass a name (${validNames(names.filter((n) => /^[a-z]/.test(n)))}), a serialized config, a Metric, a Loss or a function (yTrue, yPred) => Tensor.`,
  );
}

/**
 * Keras's serialized form `{module, class_name, config, registered_name}`
 * for a Metric; the name for a built-in metric or loss function (and a
 * name string is kept, after checking it); Keras's function form for a
 * function registered with `registerSerializable`. null gives null.
 */
export function serialize(metric: Metric | MetricFn | string): KerasObject | SerializedFunction | string;
export function serialize(metric: Metric | MetricFn | string | null | undefined): KerasObject | SerializedFunction | string | null;
export function serialize(metric: Metric | MetricFn | string | null | undefined): KerasObject | SerializedFunction | string | null {
  const where = 'metrics.serialize';
  if (metric === null || metric === undefined) return null;
  if (typeof metric === 'string') {
    if (!['accuracy', 'acc'].includes(metric.toLowerCase())) fromName(metric, where);
    return metric;
  }
  if (metric instanceof Metric) return serializeObject(metric as Metric & { constructor: unknown });
  if (metric instanceof losses.Loss) return losses.serialize(metric);
  if (typeof metric === 'function') return metricFunctionName(metric) ?? serializeFunction(metric as AnyFunction, where);
  throw new TypeError(`${where}: expected a Metric, a metric function or a name. Received: ${describe(metric)}`);
}

/** Rebuilds a Metric from a name or a serialized form; `customObjects` resolves user classes and functions by name. */
export function deserialize(config: string | KerasObject | SerializedFunction | { class_name: string; config?: unknown }, customObjects?: Record<string, unknown>): Metric {
  const where = 'metrics.deserialize';
  return withCustomObjects(customObjects as Record<string, AnyFunction> | undefined, () => {
    if (typeof config === 'string') return fromName(config, where);
    if (isKerasObject(config)) return fromObject(config as KerasObject, where);
    throw new TypeError(`${where}: expected a name or a serialized metric ({class_name, config, ...}). Received: ${describe(config)}`);
  });
}

// ---------------------------------------------------------------------------
// Helpers for the training loop

/**
 * The metric Keras's compile uses for 'accuracy' (or 'acc'): BinaryAccuracy,
 * SparseCategoricalAccuracy or CategoricalAccuracy, named `name`.
 *
 * The loss decides when it is a crossentropy (binary / binary focal →
 * binary; sparse categorical → sparse; categorical → categorical), as
 * tf.keras did; otherwise the shapes decide, as Keras 3's `get_metric`:
 * binary when y_pred's last axis is 1, sparse when y_true has a lower rank
 * (or a last axis of 1 while y_pred's is larger), else categorical.
 */
export function resolveAccuracy(lossIdentifier: unknown, yTrueShape: Shape, yPredShape: Shape, name = 'accuracy'): Metric {
  const kind = losses.lossKind(lossIdentifier);
  if (kind === 'binary') return new BinaryAccuracy({ name });
  if (kind === 'sparse_categorical') return new SparseCategoricalAccuracy({ name });
  if (kind === 'categorical') return new CategoricalAccuracy({ name });
  const { isBinary, isSparseCategorical } = losses.isBinaryOrSparseCategorical(yTrueShape, yPredShape);
  if (isBinary) return new BinaryAccuracy({ name });
  if (isSparseCategorical) return new SparseCategoricalAccuracy({ name });
  return new CategoricalAccuracy({ name });
}

export interface ResolveMetricContext {
  /** The loss of this output (any loss identifier). */
  loss?: unknown;
  yTrueShape: Shape;
  yPredShape: Shape;
}

/**
 * Keras's `get_metric` (compile_utils): 'accuracy' / 'acc' (any case) through
 * `resolveAccuracy`; anything else through `get`. null gives null.
 */
export function resolveMetric(identifier: MetricIdentifier, context: ResolveMetricContext): Metric | null {
  if (typeof identifier === 'string' && ['accuracy', 'acc'].includes(identifier.toLowerCase())) {
    return resolveAccuracy(context.loss, context.yTrueShape, context.yPredShape, identifier);
  }
  return get(identifier);
}
