/**
 * Normalization: `(x - mean) / sqrt(variance)` per index of the kept `axis`
 * (or the inverse, `mean + x * sqrt(variance)`, with `invert`). The mean and
 * variance are given to the constructor (and saved in the config), or
 * learned from data with `adapt(data)`, which stores them in the
 * non-trainable weights `mean` and `variance` (Keras's layout, with the
 * legacy `count`), so they are saved and loaded with the other weights.
 */
import { Tensor } from '../../tensor/tensor.ts';
import { tensor } from '../../tensor/create.ts';
import { type Shape, formatShape } from '../../tensor/shape.ts';
import type { Variable } from '../../engine/variable.ts';
import { currentTracer } from '../../engine/tracing.ts';
import * as ops from '../../ops/index.ts';
import type { TensorLike } from '../../ops/convert.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { InputSpec } from '../input-spec.ts';
import { type InputShape, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

/** A mean or variance given directly: a number, nested arrays, a typed array or a tensor. */
export type NormalizationValue = number | readonly unknown[] | ArrayLike<number> | Tensor;
/** JSON form of a given mean or variance (as in Keras's config). */
type JsonValue = number | JsonValue[];

export interface NormalizationOptions extends LayerOptions {
  /**
   * The axis or axes that get their own mean and variance (default -1, the
   * features). null: one mean and variance for every element.
   */
  axis?: number | readonly number[] | null;
  /** The mean to use; give `variance` with it, or call `adapt` instead. */
  mean?: NormalizationValue | null;
  variance?: NormalizationValue | null;
  /** Apply the inverse transformation (default false). */
  invert?: boolean;
}

/** Keras's backend epsilon: the smallest standard deviation divided by. */
const EPSILON = 1e-7;

function toJson(where: string, name: string, v: NormalizationValue): JsonValue {
  if (typeof v === 'number') return v;
  if (v instanceof Tensor) return v.arraySync() as JsonValue;
  if (ArrayBuffer.isView(v)) return Array.from(v as ArrayLike<number>);
  if (Array.isArray(v)) return v.map((e) => toJson(where, name, e as NormalizationValue));
  throw new Error(`${where}: ${name} must be a number, nested arrays of numbers or a tensor. Received: ${name}=${String(v)}`);
}

function shapeOfJson(v: JsonValue): number[] {
  return typeof v === 'number' ? [] : [v.length, ...(v.length > 0 ? shapeOfJson(v[0]) : [])];
}

export class Normalization extends Layer {
  static override readonly className = 'Normalization';
  /** The kept axes as given ([] for axis null). */
  readonly axis: number[];
  readonly invert: boolean;
  /** The mean and variance given to the constructor (JSON form), or null when learned with `adapt`. */
  readonly inputMean: JsonValue | null;
  readonly inputVariance: JsonValue | null;
  /** The learned statistics (made in build when no mean and variance were given). */
  adaptMean: Variable | null = null;
  adaptVariance: Variable | null = null;
  /** Kept for compatibility with Keras files (Keras no longer updates it). */
  count: Variable | null = null;
  #keepAxis: number[] = [];
  #reduceAxis: number[] = [];
  #broadcastShape: number[] = [];
  #meanAndVarShape: number[] = [];
  #builtShape: Shape | null = null;
  #meanConstant: Tensor | null = null;
  #varianceConstant: Tensor | null = null;

  constructor(options: NormalizationOptions = {}) {
    super(options);
    const where = this.where;
    const axis = options.axis === undefined ? -1 : options.axis;
    const list = axis === null ? [] : typeof axis === 'number' ? [axis] : Array.isArray(axis) ? [...axis] : null;
    if (!list || !list.every((a) => Number.isInteger(a))) {
      throw new Error(`${where}: axis must be an integer, a list of integers or null. Received: axis=${JSON.stringify(options.axis)}`);
    }
    this.axis = list;
    this.invert = options.invert ?? false;
    const mean = options.mean ?? null;
    const variance = options.variance ?? null;
    if ((mean === null) !== (variance === null)) {
      throw new Error(`${where}: when setting values directly, both mean and variance must be set. Received: mean=${JSON.stringify(mean)} and variance=${JSON.stringify(variance)}`);
    }
    this.inputMean = mean === null ? null : toJson(where, 'mean', mean);
    this.inputVariance = variance === null ? null : toJson(where, 'variance', variance);
    if (this.inputMean !== null) {
      const ms = shapeOfJson(this.inputMean);
      const vs = shapeOfJson(this.inputVariance!);
      if (ms.length !== vs.length || ms.some((d, i) => d !== vs[i])) {
        throw new Error(`${where}: when setting values directly, mean and variance must have the same shape. Received: mean shape ${formatShape(ms)} and variance shape ${formatShape(vs)}`);
      }
      if (ms.length > this.axis.length) {
        throw new Error(`${where}: the rank of mean must be at most the number of axes (${this.axis.length}). Received: mean shape ${formatShape(ms)} for axis ${JSON.stringify(this.axis)}`);
      }
    }
    this.supportsMasking = true;
  }

  private get where(): string {
    return `Normalization '${this.name}'`;
  }

  override build(inputShape: InputShape): void {
    const shape = inputShape as Shape;
    const ndim = shape.length;
    if (this.axis.some((a) => a < -ndim || a >= ndim)) {
      throw new Error(`${this.where}: all axis values must be in the range [-ndim, ndim). Received inputs with ndim=${ndim}, while axis=${JSON.stringify(this.axis)}`);
    }
    this.#keepAxis = [...new Set(this.axis.map((a) => (a < 0 ? a + ndim : a)))].sort((a, b) => a - b);
    for (const d of this.#keepAxis) {
      if (shape[d] === null) {
        throw new Error(`${this.where}: the dimensions of the kept axes must be known. Received axis=${JSON.stringify(this.axis)}, input shape ${formatShape(shape)}, with axis ${d} unknown.`);
      }
    }
    this.#reduceAxis = Array.from({ length: ndim }, (_, i) => i).filter((d) => !this.#keepAxis.includes(d));
    this.#broadcastShape = Array.from({ length: ndim }, (_, d) => (this.#keepAxis.includes(d) ? (shape[d] as number) : 1));
    this.#meanAndVarShape = this.#keepAxis.map((d) => shape[d] as number);
    this.#builtShape = shape;
    this.inputSpec = new InputSpec({ ndim, axes: Object.fromEntries(this.#keepAxis.map((d) => [d, shape[d] as number])) });

    if (this.inputMean === null) {
      this.adaptMean = this.addWeight({ name: 'mean', shape: this.#meanAndVarShape, initializer: 'zeros', trainable: false });
      this.adaptVariance = this.addWeight({ name: 'variance', shape: this.#meanAndVarShape, initializer: 'ones', trainable: false });
      this.count = this.addWeight({ name: 'count', shape: [], dtype: 'int32', initializer: 'zeros', trainable: false });
      return;
    }
    // Given values: scalars broadcast everywhere; otherwise their dims line up with the kept axes from the right.
    const place = (v: JsonValue, name: string): Tensor => {
      let t = tensor(v as never, undefined, this.computeDtype);
      if (t.rank > 0) {
        const expanded = new Array<number>(ndim).fill(1);
        for (let i = 1; i <= t.rank; i++) expanded[this.#keepAxis[this.#keepAxis.length - i]] = t.shape[t.rank - i] as number;
        if (expanded.some((d, i) => d !== 1 && d !== this.#broadcastShape[i])) {
          throw new Error(`${this.where}: ${name} of shape ${formatShape(t.shape)} cannot be broadcast to the kept axes ${JSON.stringify(this.axis)} of an input of shape ${formatShape(shape)}.`);
        }
        t = ops.reshape(t, expanded);
      }
      return ops.broadcastTo(t, this.#broadcastShape);
    };
    this.#meanConstant = place(this.inputMean, 'mean');
    this.#varianceConstant = place(this.inputVariance!, 'variance');
  }

  override call(inputs: Tensor): Tensor {
    const x = inputs.dtype === this.computeDtype ? inputs : ops.cast(inputs, this.computeDtype);
    let mean: Tensor;
    let variance: Tensor;
    if (this.adaptMean && this.adaptVariance) {
      mean = ops.cast(ops.reshape(this.adaptMean, this.#broadcastShape), x.dtype);
      variance = ops.cast(ops.reshape(this.adaptVariance, this.#broadcastShape), x.dtype);
    } else {
      mean = this.#meanConstant!;
      variance = this.#varianceConstant!;
    }
    const std = ops.maximum(ops.sqrt(variance), EPSILON);
    return this.invert ? ops.add(mean, ops.multiply(x, std)) : ops.divide(ops.subtract(x, mean), std);
  }

  /**
   * Computes the mean and variance of `data` for each index of the kept axes
   * (over every other axis) and stores them in the layer's weights. `data` is
   * one tensor (or nested arrays), or an array of tensors taken as batches
   * (combined exactly, as if concatenated along the batch axis). Builds the
   * layer from the data's shape if needed. Runs eagerly.
   */
  adapt(data: TensorLike | readonly Tensor[]): void {
    if (currentTracer()) throw new Error(`${this.where}: adapt() runs eagerly; call it outside traced functions.`);
    if (this.inputMean !== null) {
      throw new Error(`${this.where}: adapt() learns the mean and variance, but they were given to the constructor. Create the layer without mean and variance to adapt it.`);
    }
    const isBatchList = Array.isArray(data) && data.length > 0 && data.every((b) => b instanceof Tensor);
    const batches: Tensor[] = isBatchList ? [...(data as Tensor[])] : [data instanceof Tensor ? data : tensor(data as never)];
    if (Array.isArray(data) && data.length === 0) throw new Error(`${this.where}: adapt() received no data (an empty array). Pass a tensor or an array of batches.`);
    batches.forEach((b, i) => {
      if (b.isSymbolic) throw new Error(`${this.where}: adapt() needs concrete data; batch ${i} is a symbolic tensor.`);
    });
    if (!this.built) this.buildFromShape(batches[0].shape);
    const built = this.#builtShape!;
    for (const b of batches) {
      const mismatch = b.rank !== built.length || this.#keepAxis.some((d) => b.shape[d] !== built[d]);
      if (mismatch) {
        throw new Error(`${this.where}: the layer was built with input shape ${formatShape(built)}, but adapt() received data of shape ${formatShape(b.shape)}: the kept axes ${JSON.stringify(this.axis)} must match.`);
      }
    }
    const reduce = this.#reduceAxis;
    const stats = (b: Tensor): [Tensor, Tensor, number] => {
      const x = ops.cast(b, 'float64');
      if (reduce.length === 0) return [x, ops.zerosLike(x), 1];
      return [ops.mean(x, { axis: reduce }), ops.variance(x, { axis: reduce }), reduce.reduce((n, d) => n * (b.shape[d] as number), 1)];
    };
    let [totalMean, totalVariance, totalCount] = stats(batches[0]);
    for (const b of batches.slice(1)) {
      // Combine with the lack-of-fit sum of squares, as Keras does.
      const [batchMean, batchVariance, batchCount] = stats(b);
      totalCount += batchCount;
      const batchWeight = batchCount / totalCount;
      const existingWeight = 1 - batchWeight;
      const newMean = ops.add(ops.multiply(totalMean, existingWeight), ops.multiply(batchMean, batchWeight));
      totalVariance = ops.add(
        ops.multiply(ops.add(totalVariance, ops.square(ops.subtract(totalMean, newMean))), existingWeight),
        ops.multiply(ops.add(batchVariance, ops.square(ops.subtract(batchMean, newMean))), batchWeight),
      );
      totalMean = newMean;
    }
    this.adaptMean!.assign(ops.cast(ops.reshape(totalMean, this.#meanAndVarShape), this.adaptMean!.dtype));
    this.adaptVariance!.assign(ops.cast(ops.reshape(totalVariance, this.#meanAndVarShape), this.adaptVariance!.dtype));
  }

  override getConfig(): Config {
    return { ...super.getConfig(), axis: [...this.axis], invert: this.invert, mean: this.inputMean, variance: this.inputVariance };
  }

  static override fromConfig(config: Config): Normalization {
    const axis = config.axis === undefined ? -1 : (config.axis as number | number[] | null);
    return new Normalization({
      ...baseOptionsFromConfig(config),
      axis,
      invert: (config.invert as boolean | undefined) ?? false,
      mean: (config.mean as NormalizationValue | null | undefined) ?? null,
      variance: (config.variance as NormalizationValue | null | undefined) ?? null,
    });
  }
}
registerBuiltin('keras.layers', Normalization);
