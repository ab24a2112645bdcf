/**
 * The loss base class (keras.losses.Loss) and the reduction machinery every
 * loss and the mean metrics share: Keras's `squeeze_or_expand_to_same_rank`,
 * masks merged into sample weights, and the reductions
 * 'sum_over_batch_size' (default), 'sum', 'mean', 'mean_with_sample_weight'
 * and 'none'/null.
 *
 * Everything is written with ops, so a loss runs eagerly, under a gradient
 * tape and inside a traced function (strata.fn) alike.
 */
import { type DType, assertDType, isFloat } from '../tensor/dtype.ts';
import { type Shape, broadcastShapes, describe, formatShape, sizeOf } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { Config } from '../serialization/registry.ts';
import { toSnakeCase } from '../serialization/keras-object.ts';
import { type TensorLike, toTensor } from '../ops/convert.ts';
import * as ops from '../ops/index.ts';
import { getMask } from '../layers/layer.ts';

/** Keras's backend epsilon (keras.config.epsilon()). */
export const EPSILON = 1e-7;

/** How per-sample loss values become the loss (Keras 3's `reduction`). */
export type Reduction = 'sum_over_batch_size' | 'sum' | 'mean' | 'mean_with_sample_weight' | 'none' | null;

export const REDUCTIONS: readonly Reduction[] = ['sum_over_batch_size', 'sum', 'mean', 'mean_with_sample_weight', 'none', null];

/** Checks a reduction (Keras's `standardize_reduction`). */
export function standardizeReduction(reduction: unknown, where: string): Reduction {
  if (reduction === undefined) return 'sum_over_batch_size';
  if ((REDUCTIONS as readonly unknown[]).includes(reduction)) return reduction as Reduction;
  throw new RangeError(
    `${where}: Invalid value for argument \`reduction\`. Expected one of ${REDUCTIONS.map((r) => (r === null ? 'null' : `'${r}'`)).join(', ')}. ` +
      `Received: reduction=${describe(reduction)}`,
  );
}

/**
 * A dtype from a config or an option: a dtype name, null (follow the
 * predictions), or Keras's serialized DTypePolicy (`{class_name:
 * 'DTypePolicy', config: {name: 'float32'}}`).
 */
export function readDType(value: unknown, where: string): DType | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object') {
    const name = (value as { config?: { name?: unknown } }).config?.name;
    if (typeof name === 'string') {
      // A mixed policy computes in float32 here (Strata has no float16).
      return name.startsWith('mixed_') ? 'float32' : assertDType(name, where);
    }
  }
  return assertDType(value, where);
}

// ---------------------------------------------------------------------------
// Labels for error messages: a loss class calling a shared loss function
// names itself in the function's errors.

const labels: string[] = [];

/** Runs `fn` with `label` as the name errors of the loss functions report. */
export function withLossLabel<T>(label: string, fn: () => T): T {
  labels.push(label);
  try {
    return fn();
  } finally {
    labels.pop();
  }
}

/** The name to report in an error: the innermost loss or metric class, else `fallback`. */
export function lossLabel(fallback: string): string {
  return labels.length > 0 ? labels[labels.length - 1] : fallback;
}

// ---------------------------------------------------------------------------
// Shape helpers

/** Whether two static shapes are equal where both dimensions are known. */
export function compatibleShapes(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === null || b[i] === null || d === b[i]);
}

/**
 * Keras's `squeeze_or_expand_to_same_rank`: when the ranks differ by one and
 * the longer has a trailing axis of size 1, squeeze it (or, when the shorter
 * is rank 1 and `expandRank1`, expand the shorter instead).
 */
export function squeezeOrExpandToSameRank(x1: Tensor, x2: Tensor, expandRank1 = true): [Tensor, Tensor] {
  const r1 = x1.rank;
  const r2 = x2.rank;
  if (r1 === r2) return [x1, x2];
  if (r1 === r2 + 1 && x1.shape[r1 - 1] === 1) {
    if (r2 === 1 && expandRank1) x2 = ops.expandDims(x2, -1);
    else x1 = ops.squeeze(x1, -1);
  }
  if (r2 === r1 + 1 && x2.shape[r2 - 1] === 1) {
    if (r1 === 1 && expandRank1) x1 = ops.expandDims(x1, -1);
    else x2 = ops.squeeze(x2, -1);
  }
  return [x1, x2];
}

/** a / b, and 0 where b is 0 (Keras's `divide_no_nan`; the gradient stays finite too). */
export function divideNoNan(a: TensorLike, b: TensorLike): Tensor {
  const zero = ops.equal(b, 0);
  return ops.where(zero, 0, ops.divide(a, ops.where(zero, 1, b)));
}

/** The number of elements of `x` as a scalar of `dtype` (computed at run time when a dim is unknown). */
export function numElements(x: Tensor, dtype: DType): Tensor | number {
  const n = sizeOf(x.shape);
  if (n !== null) return n;
  return ops.reducedSize(x, x.shape.map((_, i) => i), dtype);
}

/** `x` as a float tensor: float dtypes are kept, others become float32 (or `dtype` when given). */
export function floatTensor(x: TensorLike, where: string, dtype?: DType | null): Tensor {
  const t = toTensor(x, where);
  if (dtype) return ops.cast(t, dtype);
  return isFloat(t.dtype) ? t : ops.cast(t, 'float32');
}

// ---------------------------------------------------------------------------
// Masks, sample weights and reductions

/**
 * Merges a mask into sample weights (Keras's `apply_mask`). For the mean
 * reductions the mask is rescaled by total / valid, so that the mean runs
 * over the valid entries only.
 */
export function applyMask(sampleWeight: Tensor | null, mask: Tensor | null, dtype: DType, reduction: Reduction): Tensor | null {
  if (!mask) return sampleWeight;
  let m = ops.cast(mask, dtype);
  if (reduction === 'mean' || reduction === 'sum_over_batch_size') {
    const total = numElements(m, dtype);
    const valid = ops.sum(m);
    m = ops.multiply(m, divideNoNan(ops.cast(total, dtype), valid));
  }
  if (sampleWeight) {
    let sw = ops.cast(sampleWeight, dtype);
    [m, sw] = squeezeOrExpandToSameRank(m, sw);
    return ops.multiply(sw, m);
  }
  return m;
}

/** Multiplies `values` by `sampleWeight`, with an error naming `where` when they cannot broadcast. */
export function weightValues(values: Tensor, sampleWeight: Tensor, where: string): Tensor {
  try {
    broadcastShapes(values.shape, sampleWeight.shape, where);
  } catch {
    throw new Error(
      `${where}: sample_weight of shape ${formatShape(sampleWeight.shape)} cannot be broadcast to the per-sample values of shape ${formatShape(values.shape)}. ` +
        'Pass one weight per sample (shape [batch]), one per value, or a scalar.',
    );
  }
  return ops.multiply(values, sampleWeight);
}

/** Keras's `reduce_values`: sums (and divides for the mean reductions) weighted per-sample values. */
export function reduceValues(values: Tensor, sampleWeight: Tensor | null, reduction: Reduction): Tensor {
  if (reduction === null || reduction === 'none' || values.rank === 0 || (values.rank === 1 && values.shape[0] === 0)) return values;
  let loss = ops.sum(values);
  if (reduction === 'sum_over_batch_size' || reduction === 'mean' || reduction === 'mean_with_sample_weight') {
    if (reduction === 'mean_with_sample_weight' && sampleWeight) {
      loss = divideNoNan(loss, ops.cast(ops.sum(sampleWeight), loss.dtype));
    } else {
      const n = numElements(values, loss.dtype);
      loss = typeof n === 'number' && n > 0 ? ops.divide(loss, n) : divideNoNan(loss, n);
    }
  }
  return loss;
}

/**
 * Keras's `reduce_weighted_values`: merges the mask into the sample
 * weights, weights the values (after `squeezeOrExpandToSameRank`) and reduces.
 */
export function reduceWeightedValues(
  values: Tensor,
  sampleWeight: TensorLike | null | undefined,
  mask: Tensor | null,
  reduction: Reduction,
  dtype: DType,
  where = 'loss',
): Tensor {
  let v = ops.cast(values, dtype);
  let sw = sampleWeight === null || sampleWeight === undefined ? null : ops.cast(toTensor(sampleWeight, where), dtype);
  sw = applyMask(sw, mask, dtype, reduction);
  if (sw) {
    [v, sw] = squeezeOrExpandToSameRank(v, sw);
    v = weightValues(v, sw, where);
  }
  return reduceValues(v, sw, reduction);
}

/** The logical and of two optional masks. */
export function combineMasks(a: Tensor | null, b: Tensor | null): Tensor | null {
  if (a && b) return ops.logicalAnd(a, b);
  return a ?? b;
}

// ---------------------------------------------------------------------------
// The base class

export interface LossOptions {
  /** Name of the loss instance (default: the class's Keras name, e.g. 'mean_squared_error'). */
  name?: string;
  /** Default 'sum_over_batch_size'. */
  reduction?: Reduction;
  /**
   * dtype of the computation. Default null: the predictions' float dtype
   * (float32 for integer predictions), so a float64 model gets a float64
   * loss. Keras uses floatx (float32) there.
   */
  dtype?: DType | null;
}

/**
 * Base class of all losses. Subclasses implement `call(yTrue, yPred)`,
 * returning per-sample values (usually one per sample, with the last axis
 * reduced). `apply(yTrue, yPred, sampleWeight?)` is Keras's `__call__`: it
 * converts the inputs, calls `call`, merges masks and sample weights and
 * applies the reduction.
 */
export abstract class Loss {
  static readonly className: string = 'Loss';

  name: string;
  readonly reduction: Reduction;
  /** The configured dtype; null follows the predictions' dtype. */
  readonly dtype: DType | null;

  constructor(options: LossOptions = {}) {
    const cls = this.constructor as unknown as { className?: string; name: string };
    const where = cls.className ?? cls.name;
    if (options === null || typeof options !== 'object') throw new TypeError(`${where}: expected an options object. Received: ${describe(options)}`);
    this.name = options.name ?? toSnakeCase(where);
    if (typeof this.name !== 'string') throw new TypeError(`${where}: Received: name=${describe(options.name)}; expected a string.`);
    this.reduction = standardizeReduction(options.reduction, where);
    this.dtype = readDType(options.dtype, where);
  }

  /** Per-sample loss values (no reduction). Inputs are already tensors of the loss's dtype. */
  abstract call(yTrue: Tensor, yPred: Tensor): Tensor;

  /** The dtype `apply` computes in for these predictions. */
  computeDType(yPred: Tensor): DType {
    return this.dtype ?? (isFloat(yPred.dtype) ? yPred.dtype : 'float32');
  }

  /**
   * The loss (Keras's `loss(y_true, y_pred, sample_weight)`): per-sample
   * values from `call`, weighted by `sampleWeight` (broadcast as Keras does:
   * a trailing size-1 axis is squeezed or added first) and by the mask of
   * `yPred` or of the values, then reduced.
   */
  apply(yTrue: TensorLike, yPred: TensorLike, sampleWeight?: TensorLike | null): Tensor {
    const where = this.label();
    const predRaw = toTensor(yPred, where);
    const dtype = this.computeDType(predRaw);
    const yp = ops.cast(predRaw, dtype);
    const yt = ops.cast(toTensor(yTrue, where), dtype);
    const values = this.call(yt, yp);
    if (!(values instanceof Tensor)) throw new TypeError(`${where}: call() returned ${describe(values)}; expected a Tensor of per-sample losses.`);
    const mask = combineMasks(getMask(predRaw), getMask(values));
    return reduceWeightedValues(values, sampleWeight, mask, this.reduction, dtype, where);
  }

  /** How errors name this loss: its class. */
  protected label(): string {
    const cls = this.constructor as unknown as { className?: string; name: string };
    return cls.className ?? cls.name;
  }

  /** The Keras config (snake_case keys). */
  getConfig(): Config {
    return { name: this.name, reduction: this.reduction, dtype: this.dtype };
  }

  /**
   * Builds a loss from its config. The default passes the config's base keys
   * to the constructor; built-in classes map their own keys.
   */
  static fromConfig(this: new (options?: LossOptions) => Loss, config: Config): Loss {
    // User subclasses also receive their own keys (Keras's `cls(**config)`).
    return new this({ ...config, ...baseLossOptions(config, (this as unknown as { className: string }).className) } as LossOptions);
  }

  toString(): string {
    return `<${this.label()} name=${this.name}>`;
  }
}

/** The base options (name, reduction, dtype) from a config; 'auto' (tf.keras 2 files) reads as the default. */
export function baseLossOptions(config: Config, where: string): LossOptions {
  const out: LossOptions = {};
  if (config.name !== undefined && config.name !== null) out.name = config.name as string;
  if ('reduction' in config) out.reduction = config.reduction === 'auto' ? 'sum_over_batch_size' : (config.reduction as Reduction);
  if (config.dtype !== undefined) out.dtype = readDType(config.dtype, `${where}.fromConfig`);
  return out;
}
