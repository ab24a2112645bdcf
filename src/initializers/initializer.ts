/**
 * The initializer base class (keras.initializers.Initializer), the wrapper
 * for plain initializer functions, seeds, and Keras's fan computation.
 *
 * Initializers run eagerly: layers call them inside `initScope` when they
 * create their weights.
 */
import { type DType, assertDType, isFloat } from '../tensor/dtype.ts';
import { describe, formatShape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { Config } from '../serialization/registry.ts';
import type { KerasObject } from '../serialization/keras-object.ts';
import { isKerasObject } from '../serialization/keras-object.ts';
import { SeedGenerator, type Seed } from '../ops/api/random.ts';
import { readConfig } from './lookup.ts';

/** A plain initializer function, accepted wherever an initializer is. */
export type InitializerFunction = (shape: number[], dtype: DType) => Tensor;

/**
 * Base class of all initializers. Subclasses implement `call(shape, dtype)`
 * and, to be saved in model files, `getConfig()` (Keras's snake_case keys)
 * and a static `fromConfig(config)`.
 */
export abstract class Initializer {
  static readonly className: string = 'Initializer';

  /** A tensor of `shape` and `dtype` (default float32) with the initial values. */
  abstract call(shape: readonly number[], dtype?: DType): Tensor;

  /** The Keras config (snake_case keys). */
  getConfig(): Config {
    return {};
  }

  /**
   * Builds an initializer from its config. The default passes the config to
   * the constructor (Keras's `cls(**config)`); built-in classes map Keras's
   * keys to their options.
   */
  static fromConfig(this: new (options?: never) => Initializer, config: Config): Initializer {
    return new this(config as never);
  }

  /** A new initializer with the same config. */
  clone(): this {
    const cls = this.constructor as unknown as { fromConfig(config: Config): Initializer };
    return cls.fromConfig(this.getConfig()) as this;
  }
}

/**
 * A plain function `(shape, dtype) => Tensor` used as an initializer. It
 * serializes as Keras's function form when registered with
 * `registerSerializable(fn, {package})`.
 */
export class FunctionInitializer extends Initializer {
  static override readonly className: string = 'FunctionInitializer';
  constructor(readonly fn: InitializerFunction) {
    super();
    if (typeof fn !== 'function') throw new TypeError(`FunctionInitializer: Received: ${describe(fn)}; expected a function (shape, dtype) => Tensor.`);
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const s = checkShape(shape, `initializer '${this.fn.name || 'function'}'`);
    const out = this.fn(s, dtype);
    if (!(out instanceof Tensor)) {
      throw new TypeError(`initializer function '${this.fn.name || 'anonymous'}' returned ${describe(out)}; expected a Tensor of shape ${formatShape(s)}.`);
    }
    return out;
  }

  static override fromConfig(): never {
    throw new Error('FunctionInitializer.fromConfig: a function initializer is rebuilt from its registered name (initializers.deserialize), not from a config.');
  }
}

/**
 * Config keys initializers accept and drop: `dtype`, which TensorFlow
 * 1.x-era Keras wrote into initializer configs (old .h5 and model.json files).
 */
export const LEGACY_INITIALIZER_KEYS: readonly string[] = ['dtype'];

/** Checks an initializer's shape argument: an array of non-negative integers. */
export function checkShape(shape: unknown, where: string): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(`${where}: Received: shape=${describe(shape)}; expected an array of non-negative integers.`);
  }
  return [...(shape as number[])];
}

/** Checks the dtype argument; random initializers need a float dtype. */
export function checkDType(dtype: unknown, where: string, floatOnly: boolean): DType {
  const d = assertDType(dtype ?? 'float32', where);
  if (floatOnly && !isFloat(d)) throw new TypeError(`${where}: Received: dtype=${d}; expected a float dtype (float32 or float64).`);
  return d;
}

// ---------------------------------------------------------------------------
// Seeds

/**
 * An initializer's seed, as in Keras 3: an integer makes it deterministic
 * (the same values on every call); a SeedGenerator is drawn from (and
 * advanced) on each call; null draws from the global generator, so
 * `setRandomSeed(s)` makes the values reproducible.
 */
export type InitializerSeed = number | SeedGenerator | null;

export function checkSeed(seed: unknown, where: string): InitializerSeed {
  if (seed === null || seed === undefined) return null;
  if (seed instanceof SeedGenerator) return seed;
  if (typeof seed === 'number' && Number.isSafeInteger(seed)) return seed;
  throw new TypeError(`${where}: Received: seed=${describe(seed)}; expected an integer, a random.SeedGenerator or null.`);
}

/** The `seed` argument for the random ops. */
export function drawArg(seed: InitializerSeed): Seed {
  return seed ?? undefined;
}

/** Keras's config value for a seed: the integer, null, or a serialized SeedGenerator. */
export function seedToConfig(seed: InitializerSeed): number | KerasObject | null {
  if (seed instanceof SeedGenerator) return { module: 'keras.random', class_name: 'SeedGenerator', config: { seed: seed.seed }, registered_name: null };
  return seed;
}

/** Reads a seed from a config (an integer, null, or a serialized SeedGenerator). */
export function seedFromConfig(value: unknown, where: string): InitializerSeed {
  if (isKerasObject(value)) {
    if (value.class_name !== 'SeedGenerator') throw new TypeError(`${where}: Received: seed=${describe(value)}; expected an integer, null or a SeedGenerator config.`);
    const c = readConfig('SeedGenerator', value.config, ['seed', 'name']);
    const s = c.seed === null || c.seed === undefined ? null : checkSeed(c.seed, `${where} (SeedGenerator)`);
    return new SeedGenerator(s as number | null, typeof c.name === 'string' ? { name: c.name } : {});
  }
  return checkSeed(value, where);
}

// ---------------------------------------------------------------------------
// Fans

function normalizeAxes(axes: readonly number[], rank: number, where: string, name: string): number[] {
  return axes.map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new RangeError(`${where}: Received: ${name}=${describe(axes)} for a shape of rank ${rank}; each axis must be an integer in [${-rank}, ${rank - 1}].`);
    }
    return a < 0 ? a + rank : a;
  });
}

/**
 * The number of input and output units of a weight of `shape` (Keras's
 * compute_fans): rank 0 gives (1, 1); rank 1 (n, n); rank 2 (shape[0],
 * shape[1]); higher ranks are convolution kernels (..., in, out) in the
 * channels-last layout, so fan_in = shape[-2] * receptive field and fan_out
 * = shape[-1] * receptive field, the receptive field being prod(shape[:-2]).
 *
 * With `inputAxes` and/or `outputAxes` (Keras 3.15's `input_axes` /
 * `output_axes`, for einsum kernels), fan_in is the product of the input
 * axes and fan_out the product of the output axes; when only one list is
 * given, the other is every remaining axis.
 */
export function computeFans(shape: readonly number[], inputAxes?: readonly number[] | null, outputAxes?: readonly number[] | null): [number, number] {
  const where = 'computeFans';
  if (inputAxes || outputAxes) {
    const rank = shape.length;
    const all = [...Array(rank).keys()];
    const ins = inputAxes ? normalizeAxes(inputAxes, rank, where, 'inputAxes') : null;
    const outs = outputAxes ? normalizeAxes(outputAxes, rank, where, 'outputAxes') : null;
    const i = ins ?? all.filter((a) => !outs!.includes(a));
    const o = outs ?? all.filter((a) => !ins!.includes(a));
    const prod = (axes: number[]) => axes.reduce((p, a) => p * shape[a], 1);
    return [prod(i), prod(o)];
  }
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  const receptiveField = shape.slice(0, -2).reduce((p, d) => p * d, 1);
  return [shape[shape.length - 2] * receptiveField, shape[shape.length - 1] * receptiveField];
}
