/**
 * Weight constraints (keras/src/constraints/constraints.py): projections
 * applied to a weight after each optimizer update. Written with ops, so
 * they run eagerly and inside traced training steps.
 */
import { isFloat } from '../tensor/dtype.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Config } from '../serialization/registry.ts';
import { type TensorLike, toTensor } from '../ops/convert.ts';
import * as ops from '../ops/index.ts';
import { checkAxis, checkNumber, opt, readConfig } from '../initializers/lookup.ts';

/** A plain constraint function: a weight in, the projected weight out. */
export type ConstraintFunction = (w: Tensor) => Tensor;

/** Keras's epsilon (backend.epsilon()), added to norms before dividing. */
const EPSILON = 1e-7;

function floatInput(w: TensorLike, where: string): Tensor {
  const t = toTensor(w, where);
  return isFloat(t.dtype) ? t : ops.cast(t, 'float32');
}

/** The L2 norms of `w` along `axis`, kept as size-1 dims. */
function norms(w: Tensor, axis: number | number[]): Tensor {
  return ops.sqrt(ops.sum(ops.square(w), { axis, keepdims: true }));
}

/**
 * Base class of constraints. Subclasses implement `call(w)`, returning the
 * projected weight. The base class returns `w` unchanged and has the
 * config `{}`.
 */
export class Constraint {
  static readonly className: string = 'Constraint';

  call(w: TensorLike): Tensor {
    return toTensor(w, 'Constraint');
  }

  getConfig(): Config {
    return {};
  }

  /** The default passes the config to the constructor (Keras's `cls(**config)`). */
  static fromConfig(this: new (options?: never) => Constraint, config: Config): Constraint {
    return new this(config as never);
  }
}

/**
 * A plain function `(w) => Tensor` used as a constraint. It serializes as
 * Keras's function form when registered with `registerSerializable`.
 */
export class FunctionConstraint extends Constraint {
  static override readonly className: string = 'FunctionConstraint';
  constructor(readonly fn: ConstraintFunction) {
    super();
    if (typeof fn !== 'function') throw new TypeError('FunctionConstraint: expected a function (w) => Tensor.');
  }
  override call(w: TensorLike): Tensor {
    return this.fn(toTensor(w, 'constraint'));
  }
  static override fromConfig(): never {
    throw new Error('FunctionConstraint.fromConfig: a function constraint is rebuilt from its registered name (constraints.deserialize).');
  }
}

export interface MaxNormOptions {
  /** The largest norm allowed (default 2). */
  maxValue?: number;
  /** The axis (or axes) along which norms are taken (default 0: the incoming weights of each unit of a Dense kernel). */
  axis?: number | number[];
}

/**
 * Rescales the weights incident to each unit so their norm is at most
 * `maxValue`: `w * clip(norm, 0, maxValue) / (epsilon + norm)`.
 * Config: `{"max_value": 2, "axis": 0}`.
 */
export class MaxNorm extends Constraint {
  static override readonly className: string = 'MaxNorm';
  readonly maxValue: number;
  readonly axis: number | number[];

  constructor(options: MaxNormOptions = {}) {
    super();
    this.maxValue = checkNumber('MaxNorm', 'maxValue', options.maxValue ?? 2, { min: 0 });
    this.axis = checkAxis('MaxNorm', options.axis ?? 0);
  }

  override call(w: TensorLike): Tensor {
    const t = floatInput(w, 'MaxNorm');
    const n = norms(t, this.axis);
    const desired = ops.clip(n, 0, this.maxValue);
    return ops.multiply(t, ops.divide(desired, ops.add(n, EPSILON)));
  }

  override getConfig(): Config {
    return { max_value: this.maxValue, axis: this.axis };
  }

  static override fromConfig(config: Config = {}): MaxNorm {
    const c = readConfig('MaxNorm', config, ['max_value', 'axis']);
    return new MaxNorm({ maxValue: opt(c.max_value), axis: opt(c.axis) });
  }
}

export interface MinMaxNormOptions {
  /** The smallest norm allowed (default 0). */
  minValue?: number;
  /** The largest norm allowed (default 1). */
  maxValue?: number;
  /** How strictly to enforce it, in [0, 1]: the new norm is (1 - rate) norm + rate clip(norm) (default 1). */
  rate?: number;
  /** The axis (or axes) along which norms are taken (default 0). */
  axis?: number | number[];
}

/**
 * Rescales the weights incident to each unit so their norm lies in
 * [minValue, maxValue] (moving only a fraction `rate` of the way there).
 * Config: `{"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}`.
 */
export class MinMaxNorm extends Constraint {
  static override readonly className: string = 'MinMaxNorm';
  readonly minValue: number;
  readonly maxValue: number;
  readonly rate: number;
  readonly axis: number | number[];

  constructor(options: MinMaxNormOptions = {}) {
    super();
    const where = 'MinMaxNorm';
    this.minValue = checkNumber(where, 'minValue', options.minValue ?? 0, { min: 0 });
    this.maxValue = checkNumber(where, 'maxValue', options.maxValue ?? 1, { min: 0 });
    if (this.minValue > this.maxValue) {
      throw new RangeError(`${where}: Received: minValue=${this.minValue}, maxValue=${this.maxValue}; expected minValue <= maxValue.`);
    }
    this.rate = checkNumber(where, 'rate', options.rate ?? 1, { min: 0 });
    if (this.rate > 1) throw new RangeError(`${where}: Received: rate=${this.rate}; expected a number in [0, 1].`);
    this.axis = checkAxis(where, options.axis ?? 0);
  }

  override call(w: TensorLike): Tensor {
    const t = floatInput(w, 'MinMaxNorm');
    const n = norms(t, this.axis);
    const clipped = ops.clip(n, this.minValue, this.maxValue);
    const desired = this.rate === 1 ? clipped : ops.add(ops.multiply(clipped, this.rate), ops.multiply(n, 1 - this.rate));
    return ops.multiply(t, ops.divide(desired, ops.add(n, EPSILON)));
  }

  override getConfig(): Config {
    return { min_value: this.minValue, max_value: this.maxValue, rate: this.rate, axis: this.axis };
  }

  static override fromConfig(config: Config = {}): MinMaxNorm {
    const c = readConfig('MinMaxNorm', config, ['min_value', 'max_value', 'rate', 'axis']);
    return new MinMaxNorm({ minValue: opt(c.min_value), maxValue: opt(c.max_value), rate: opt(c.rate), axis: opt(c.axis) });
  }
}

/** Sets negative weights to 0. Config: `{}`. */
export class NonNeg extends Constraint {
  static override readonly className: string = 'NonNeg';

  override call(w: TensorLike): Tensor {
    const t = floatInput(w, 'NonNeg');
    return ops.multiply(t, ops.cast(ops.greaterEqual(t, 0), t.dtype));
  }

  static override fromConfig(config: Config = {}): NonNeg {
    readConfig('NonNeg', config, []);
    return new NonNeg();
  }
}

export interface UnitNormOptions {
  /** The axis (or axes) along which norms are taken (default 0). */
  axis?: number | number[];
}

/** Divides the weights incident to each unit by their norm: `w / (epsilon + norm)`. Config: `{"axis": 0}`. */
export class UnitNorm extends Constraint {
  static override readonly className: string = 'UnitNorm';
  readonly axis: number | number[];

  constructor(options: UnitNormOptions = {}) {
    super();
    this.axis = checkAxis('UnitNorm', options.axis ?? 0);
  }

  override call(w: TensorLike): Tensor {
    const t = floatInput(w, 'UnitNorm');
    return ops.divide(t, ops.add(norms(t, this.axis), EPSILON));
  }

  override getConfig(): Config {
    return { axis: this.axis };
  }

  static override fromConfig(config: Config = {}): UnitNorm {
    const c = readConfig('UnitNorm', config, ['axis']);
    return new UnitNorm({ axis: opt(c.axis) });
  }
}
