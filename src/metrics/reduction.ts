/**
 * Reduction metrics (keras.metrics.Mean, Sum, MeanMetricWrapper) and the
 * per-sample reduction with sample weights they share.
 */
import type { DType } from '../tensor/dtype.ts';
import { broadcastShapes, describe, formatShape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { Config } from '../serialization/registry.ts';
import { isKerasObject } from '../serialization/keras-object.ts';
import { type TensorLike, toTensor } from '../ops/convert.ts';
import * as ops from '../ops/index.ts';
import { type AnyFunction, resolveFunction, serializeFunction } from '../initializers/lookup.ts';
import { getMask } from '../layers/layer.ts';
import { applyMask, divideNoNan, squeezeOrExpandToSameRank, withLossLabel } from '../losses/loss.ts';
import * as losses from '../losses/index.ts';
import { Metric, type MetricOptions, metricOptions } from './metric.ts';

type ReduceFn = (x: Tensor, axes: number[]) => Tensor;
const meanOver: ReduceFn = (x, axes) => ops.mean(x, axes);
const sumOver: ReduceFn = (x, axes) => ops.sum(x, axes);
const axesFrom = (start: number, end: number): number[] => Array.from({ length: end - start }, (_, i) => start + i);

/**
 * Keras's `reduce_to_samplewise_values`: reduces `values` to one value per
 * sample (axis 0) and the sample weights alongside. Weights with fewer axes
 * than the values apply to the values averaged (or summed) over the extra
 * axes; a mask attached to `values` is merged into the weights.
 *
 * Departure from Keras: the mask is merged even without sample weights (Keras
 * drops it then, so e.g. SparseCategoricalCrossentropy's ignore_class
 * samples would count in the metric's denominator).
 */
export function reduceToSamplewiseValues(
  values: Tensor,
  sampleWeight: TensorLike | null | undefined,
  reduce: ReduceFn,
  dtype: DType,
  where: string,
): { values: Tensor; sampleWeight: Tensor | null } {
  const mask = getMask(values);
  let v = ops.cast(values, dtype);
  let sw = sampleWeight === null || sampleWeight === undefined ? null : ops.cast(toTensor(sampleWeight, where), dtype);
  sw = applyMask(sw, mask, dtype, 'sum');
  if (sw) {
    [v, sw] = squeezeOrExpandToSameRank(v, sw);
    const weightRank = sw.rank;
    if (v.rank > weightRank) v = reduce(v, axesFrom(weightRank, v.rank));
    let ok = sw.rank <= v.rank;
    if (ok) {
      try {
        const b = broadcastShapes(sw.shape, v.shape, where);
        ok = b.length === v.rank && b.every((d, i) => d === v.shape[i] || v.shape[i] === null);
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      throw new Error(
        `${where}: sample_weight of shape ${formatShape(sw.shape)} cannot be broadcast to the values of shape ${formatShape(v.shape)}. ` +
          'Pass one weight per sample (shape [batch]), one per value, or a scalar.',
      );
    }
    // Broadcast the weights: the product is unchanged, but their sum below counts every value.
    sw = ops.broadcastLike(sw, v);
    v = ops.multiply(v, sw);
    if (weightRank > 1) sw = reduce(sw, axesFrom(1, weightRank));
  }
  if (v.rank > 1) v = reduce(v, axesFrom(1, v.rank));
  return { values: v, sampleWeight: sw };
}

/** The weighted sum of the values seen (keras.metrics.Sum, name 'sum'). */
export class Sum extends Metric {
  static override readonly className: string = 'Sum';
  readonly total: ReturnType<Metric['addVariable']>;

  constructor(options: MetricOptions = {}) {
    super({ ...options, name: options.name ?? 'sum' });
    this.total = this.addVariable([], 'zeros', this.dtype, 'total');
  }

  /** Adds the (weighted) values; sample weights broadcast as in Keras. */
  updateState(values: TensorLike, sampleWeight?: TensorLike | null): void {
    const r = reduceToSamplewiseValues(toTensor(values, this.label()), sampleWeight, sumOver, this.dtype, this.label());
    this.total.assignAdd(ops.sum(r.values));
  }

  result(): Tensor {
    return this.total.read();
  }
}

/** The weighted mean of the values seen (keras.metrics.Mean, name 'mean'): total / count. */
export class Mean extends Metric {
  static override readonly className: string = 'Mean';
  readonly total: ReturnType<Metric['addVariable']>;
  readonly count: ReturnType<Metric['addVariable']>;

  constructor(options: MetricOptions = {}) {
    super({ ...options, name: options.name ?? 'mean' });
    this.total = this.addVariable([], 'zeros', this.dtype, 'total');
    this.count = this.addVariable([], 'zeros', this.dtype, 'count');
  }

  /** Adds the values; with sample weights, their weighted sum and the sum of the weights. */
  updateState(values: TensorLike, sampleWeight?: TensorLike | null): void {
    this.updateMean(toTensor(values, this.label()), sampleWeight);
  }

  /** The shared update of Mean and its subclasses. */
  protected updateMean(values: Tensor, sampleWeight: TensorLike | null | undefined): void {
    const r = reduceToSamplewiseValues(values, sampleWeight, meanOver, this.dtype, this.label());
    this.total.assignAdd(ops.sum(r.values));
    let count: Tensor;
    if (r.sampleWeight) count = ops.sum(r.sampleWeight);
    else if (r.values.rank >= 1) {
      const n = r.values.shape[0];
      count = n === null ? ops.reducedSize(r.values, [0], this.dtype) : ops.cast(n, this.dtype);
    } else count = ops.cast(1, this.dtype);
    this.count.assignAdd(count);
  }

  result(): Tensor {
    return divideNoNan(this.total.read(), this.count.read());
  }
}

// ---------------------------------------------------------------------------
// Metric functions by name

/** A metric function: per-sample values from labels and predictions. */
export type MetricFunction = (yTrue: TensorLike, yPred: TensorLike, options?: never) => Tensor;

const metricFunctions = new Map<string, MetricFunction>();

/** Registers a built-in metric function under its Keras name (the accuracy functions, cosine similarity). */
export function registerMetricFunction(name: string, fn: MetricFunction): void {
  metricFunctions.set(name, fn);
}

/** A built-in metric or loss function by name or alias. */
export function builtinMetricFunction(name: string): MetricFunction | undefined {
  const own = metricFunctions.get(name);
  if (own) return own;
  try {
    return losses.deserializeLossFunction(name, '') as MetricFunction;
  } catch {
    return undefined;
  }
}

/** The Keras name of a built-in metric or loss function. */
export function metricFunctionName(fn: unknown): string | undefined {
  for (const [name, f] of metricFunctions) if (f === fn) return name;
  return losses.lossFunctionName(fn);
}

/** What MeanMetricWrapper wraps: a function, or a Loss (its per-sample values). */
export type MetricFn = MetricFunction | ((yTrue: Tensor, yPred: Tensor) => Tensor) | losses.Loss;

/** How MeanMetricWrapper's config refers to its function: Keras's function form (or a Loss's object form). */
function serializeMetricFn(fn: MetricFn, where: string): unknown {
  if (fn instanceof losses.Loss) return losses.serialize(fn);
  for (const [name, f] of metricFunctions) {
    if (f === fn) return { module: 'keras.metrics', class_name: 'function', config: name, registered_name: name };
  }
  if (losses.lossFunctionName(fn)) return losses.lossFunctionReference(fn as AnyFunction, where);
  return serializeFunction(fn as AnyFunction, where);
}

function deserializeMetricFn(value: unknown, where: string): MetricFn {
  if (typeof value === 'string') {
    const builtin = builtinMetricFunction(value);
    if (builtin) return builtin;
    const custom = resolveFunction(value, value, null);
    if (custom) return custom as unknown as MetricFunction;
    throw new Error(`${where}: unknown metric function '${value}'. Register it with registerSerializable, or pass it in customObjects.`);
  }
  if (isKerasObject(value)) {
    if (value.class_name === 'function') {
      const name = typeof value.config === 'string' ? value.config : '';
      // keras.losses functions by module (cosine_similarity differs in sign between the two modules).
      const builtin = !value.registered_name?.includes('>') && value.module !== 'keras.losses' ? metricFunctions.get(name) : undefined;
      if (builtin) return builtin;
      return losses.deserializeLossFunction(value, where) as MetricFunction;
    }
    return losses.deserialize(value);
  }
  throw new TypeError(`${where}: expected a metric function name or a serialized function. Received: ${describe(value)}`);
}

const snakeToCamel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const camelToSnake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

export interface MeanMetricWrapperOptions extends MetricOptions {
  /** Extra options passed to the function as its third argument (Keras's `**kwargs`). */
  fnOptions?: Record<string, unknown>;
}

/**
 * The mean of a function's per-sample values (keras.metrics.MeanMetricWrapper):
 * `fn(yTrue, yPred, options?)`, or a Loss (its unreduced values). A mask on
 * y_pred or on the values is merged into the sample weights.
 */
export class MeanMetricWrapper extends Mean {
  static override readonly className: string = 'MeanMetricWrapper';
  readonly fn: MetricFn;
  readonly fnOptions: Record<string, unknown>;

  constructor(fn: MetricFn, options: MeanMetricWrapperOptions = {}) {
    if (typeof fn !== 'function' && !(fn instanceof losses.Loss)) {
      throw new TypeError(`MeanMetricWrapper: Received: fn=${describe(fn)}; expected a function (yTrue, yPred) => Tensor or a Loss.`);
    }
    const { fnOptions, ...base } = options;
    const defaultName = fn instanceof losses.Loss ? fn.name : (metricFunctionName(fn) ?? (fn.name || 'mean_metric_wrapper'));
    super({ ...base, name: base.name ?? defaultName });
    this.fn = fn;
    this.fnOptions = { ...(fnOptions ?? {}) };
  }

  /** Per-sample values of the wrapped function for this batch. */
  protected values(yTrue: Tensor, yPred: Tensor): Tensor {
    const fn = this.fn;
    if (fn instanceof losses.Loss) {
      const dtype = fn.computeDType(yPred);
      return fn.call(ops.cast(yTrue, dtype), ops.cast(yPred, dtype));
    }
    const hasOptions = Object.keys(this.fnOptions).length > 0;
    const out = withLossLabel(this.label(), () => (hasOptions ? (fn as MetricFunction)(yTrue, yPred, this.fnOptions as never) : (fn as MetricFunction)(yTrue, yPred)));
    if (!(out instanceof Tensor)) throw new TypeError(`${this.label()} '${this.name}': the metric function returned ${describe(out)}; expected a Tensor.`);
    return out;
  }

  override updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void {
    const where = this.label();
    if (yPred === null || yPred === undefined) throw new TypeError(`${where} '${this.name}'.updateState: expected (yTrue, yPred, sampleWeight?); y_pred is missing.`);
    const yp = toTensor(yPred, where);
    const yt = toTensor(yTrue, where);
    const values = this.values(yt, yp);
    const sw = applyMask(sampleWeight === null || sampleWeight === undefined ? null : ops.cast(toTensor(sampleWeight, where), this.dtype), getMask(yp), this.dtype, 'sum');
    this.updateMean(values, sw);
  }

  override label(): string {
    const cls = this.constructor as typeof MeanMetricWrapper;
    if (cls !== MeanMetricWrapper) return cls.className;
    return `MeanMetricWrapper(${this.fn instanceof losses.Loss ? this.fn.name : (metricFunctionName(this.fn) ?? (this.fn.name || 'function'))})`;
  }

  override getConfig(): Config {
    const config: Config = { ...super.getConfig(), fn: serializeMetricFn(this.fn, `${this.label()}.getConfig`) };
    for (const [k, v] of Object.entries(this.fnOptions)) config[camelToSnake(k)] = v;
    return config;
  }

  static override fromConfig(config: Config): Metric {
    const where = 'MeanMetricWrapper.fromConfig';
    if (config === null || typeof config !== 'object' || !('fn' in config)) throw new TypeError(`${where}: the config needs 'fn' (the metric function's name or serialized form).`);
    const { fn, name, dtype, ...rest } = config;
    const fnOptions: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest)) fnOptions[snakeToCamel(k)] = v;
    return new MeanMetricWrapper(deserializeMetricFn(fn, where), { ...metricOptions({ name, dtype }, 'MeanMetricWrapper'), fnOptions });
  }
}
