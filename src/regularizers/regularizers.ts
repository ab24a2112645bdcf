/**
 * Weight regularizers (keras/src/regularizers/regularizers.py): penalties
 * added to the loss. Written with ops, so they run eagerly and inside
 * traced functions and are differentiable.
 */
import { isFloat } from '../tensor/dtype.ts';
import { formatShape } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { eye, zeros } from '../tensor/create.ts';
import type { Config } from '../serialization/registry.ts';
import { type TensorLike, toTensor } from '../ops/convert.ts';
import * as ops from '../ops/index.ts';
import { checkChoice, checkNumber, opt, readConfig } from '../initializers/lookup.ts';

/** A plain regularizer function: a weight in, a scalar penalty out. */
export type RegularizerFunction = (x: Tensor) => Tensor;

/** Keras's epsilon (backend.epsilon()), the floor of norms in `normalize`. */
const EPSILON = 1e-7;

function floatInput(x: TensorLike, where: string): Tensor {
  const t = toTensor(x, where);
  return isFloat(t.dtype) ? t : ops.cast(t, 'float32');
}

/** A penalty factor: a finite number >= 0 (Keras's validate_float_arg). */
function factor(where: string, name: string, value: unknown): number {
  return checkNumber(where, name, value, { min: 0 });
}

/**
 * Base class of regularizers. Subclasses implement `call(x)`, returning a
 * scalar penalty, and `getConfig()`.
 */
export abstract class Regularizer {
  static readonly className: string = 'Regularizer';

  /** The penalty for the weight `x` (a scalar tensor of x's float dtype). */
  abstract call(x: TensorLike): Tensor;

  /** The Keras config; Keras's base class has none, so subclasses must define it. */
  getConfig(): Config {
    throw new Error(`${(this.constructor as typeof Regularizer).className}.getConfig: this regularizer does not implement getConfig(), so it cannot be saved.`);
  }

  /** The default passes the config to the constructor (Keras's `cls(**config)`). */
  static fromConfig(this: new (options?: never) => Regularizer, config: Config): Regularizer {
    return new this(config as never);
  }
}

/**
 * A plain function `(x) => Tensor` used as a regularizer. It serializes as
 * Keras's function form when registered with `registerSerializable`.
 */
export class FunctionRegularizer extends Regularizer {
  static override readonly className: string = 'FunctionRegularizer';
  constructor(readonly fn: RegularizerFunction) {
    super();
    if (typeof fn !== 'function') throw new TypeError('FunctionRegularizer: expected a function (x) => Tensor.');
  }
  call(x: TensorLike): Tensor {
    return this.fn(toTensor(x, 'regularizer'));
  }
  static override fromConfig(): never {
    throw new Error('FunctionRegularizer.fromConfig: a function regularizer is rebuilt from its registered name (regularizers.deserialize).');
  }
}

export interface L1L2Options {
  /** L1 factor, >= 0 (default 0). */
  l1?: number;
  /** L2 factor, >= 0 (default 0). */
  l2?: number;
}

/**
 * `l1 * sum(|x|) + l2 * sum(x^2)`. Defaults 0 and 0, as Keras 3's class
 * (the string 'l1_l2' gives 0.01 and 0.01). Config: `{"l1": 0.0, "l2": 0.0}`.
 */
export class L1L2 extends Regularizer {
  static override readonly className: string = 'L1L2';
  readonly l1: number;
  readonly l2: number;

  constructor(options: L1L2Options = {}) {
    super();
    this.l1 = factor('L1L2', 'l1', opt(options.l1) ?? 0);
    this.l2 = factor('L1L2', 'l2', opt(options.l2) ?? 0);
  }

  call(x: TensorLike): Tensor {
    const t = floatInput(x, 'L1L2');
    let penalty = zeros([], t.dtype);
    if (this.l1) penalty = ops.add(penalty, ops.multiply(ops.sum(ops.abs(t)), this.l1));
    if (this.l2) penalty = ops.add(penalty, ops.multiply(ops.sum(ops.square(t)), this.l2));
    return penalty;
  }

  override getConfig(): Config {
    return { l1: this.l1, l2: this.l2 };
  }

  static override fromConfig(config: Config = {}): L1L2 {
    const c = readConfig('L1L2', config, ['l1', 'l2']);
    return new L1L2({ l1: opt(c.l1), l2: opt(c.l2) });
  }
}

export interface L1Options {
  /** L1 factor, >= 0 (default 0.01). */
  l1?: number;
}

/** `l1 * sum(|x|)`. Config: `{"l1": 0.01}`. */
export class L1 extends Regularizer {
  static override readonly className: string = 'L1';
  readonly l1: number;

  /** `new L1(0.1)` or `new L1({l1: 0.1})`. */
  constructor(options: L1Options | number = {}) {
    super();
    const v = typeof options === 'number' ? options : opt<number>(options.l1);
    this.l1 = factor('L1', 'l1', v ?? 0.01);
  }

  call(x: TensorLike): Tensor {
    return ops.multiply(ops.sum(ops.abs(floatInput(x, 'L1'))), this.l1);
  }

  override getConfig(): Config {
    return { l1: this.l1 };
  }

  static override fromConfig(config: Config = {}): L1 {
    const c = readConfig('L1', config, ['l1']);
    return new L1({ l1: opt(c.l1) });
  }
}

export interface L2Options {
  /** L2 factor, >= 0 (default 0.01). */
  l2?: number;
}

/** `l2 * sum(x^2)`. Config: `{"l2": 0.01}`. */
export class L2 extends Regularizer {
  static override readonly className: string = 'L2';
  readonly l2: number;

  /** `new L2(0.1)` or `new L2({l2: 0.1})`. */
  constructor(options: L2Options | number = {}) {
    super();
    const v = typeof options === 'number' ? options : opt<number>(options.l2);
    this.l2 = factor('L2', 'l2', v ?? 0.01);
  }

  call(x: TensorLike): Tensor {
    return ops.multiply(ops.sum(ops.square(floatInput(x, 'L2'))), this.l2);
  }

  override getConfig(): Config {
    return { l2: this.l2 };
  }

  static override fromConfig(config: Config = {}): L2 {
    const c = readConfig('L2', config, ['l2']);
    return new L2({ l2: opt(c.l2) });
  }
}

export type OrthogonalRegularizerMode = 'rows' | 'columns';

export interface OrthogonalRegularizerOptions {
  /** Factor, >= 0 (default 0.01). */
  factor?: number;
  /** Make the rows (default) or the columns of the 2D weight orthogonal. */
  mode?: OrthogonalRegularizerMode;
}

/**
 * Pushes the rows (or columns) of a 2D weight towards orthogonality:
 * `factor * 0.5 * sum(|P - diag(P)|) / (n (n - 1) / 2)`, where P is the
 * matrix of dot products of the L2-normalized rows (columns) and n their
 * number, i.e. factor times the mean |cosine| over pairs.
 * Config: `{"factor": 0.01, "mode": "rows"}`.
 */
export class OrthogonalRegularizer extends Regularizer {
  static override readonly className: string = 'OrthogonalRegularizer';
  readonly factor: number;
  readonly mode: OrthogonalRegularizerMode;

  constructor(options: OrthogonalRegularizerOptions = {}) {
    super();
    this.factor = factor('OrthogonalRegularizer', 'factor', opt(options.factor) ?? 0.01);
    this.mode = checkChoice('OrthogonalRegularizer', 'mode', options.mode ?? 'rows', ['rows', 'columns'] as const);
  }

  call(x: TensorLike): Tensor {
    const where = 'OrthogonalRegularizer';
    const t = floatInput(x, where);
    if (t.rank !== 2) throw new RangeError(`${where}: inputs must have rank 2. Received: inputs.shape=${formatShape(t.shape)}.`);
    const rows = this.mode === 'rows';
    const size = t.shape[rows ? 0 : 1];
    if (size === null) throw new RangeError(`${where}: the number of ${this.mode} must be known. Received: inputs.shape=${formatShape(t.shape)}.`);
    if (size < 2) {
      throw new RangeError(`${where}: mode='${this.mode}' needs at least 2 ${this.mode} to compare. Received: inputs.shape=${formatShape(t.shape)}.`);
    }
    // Keras's normalize: x * min(rsqrt(sum(x^2)), 1 / epsilon) along the vectors' axis.
    const axis = rows ? 1 : 0;
    const invNorm = ops.minimum(ops.rsqrt(ops.sum(ops.square(t), { axis, keepdims: true })), 1 / EPSILON);
    const n = ops.multiply(t, invNorm);
    const product = rows ? ops.matmul(n, ops.transpose(n)) : ops.matmul(ops.transpose(n), n);
    const offDiagonal = ops.multiply(product, ops.subtract(1, eye(size, size, t.dtype)));
    const numPairs = (size * (size - 1)) / 2;
    return ops.multiply(ops.sum(ops.abs(offDiagonal)), (this.factor * 0.5) / numPairs);
  }

  override getConfig(): Config {
    return { factor: this.factor, mode: this.mode };
  }

  static override fromConfig(config: Config = {}): OrthogonalRegularizer {
    const c = readConfig('OrthogonalRegularizer', config, ['factor', 'mode']);
    return new OrthogonalRegularizer({ factor: opt(c.factor), mode: opt(c.mode) });
  }
}
