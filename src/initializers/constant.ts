/**
 * Constant initializers: Zeros, Ones, Constant, Identity
 * (keras/src/initializers/constant_initializers.py).
 */
import type { DType } from '../tensor/dtype.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { zeros, eye, fill } from '../tensor/create.ts';
import { formatShape } from '../tensor/shape.ts';
import type { Config } from '../serialization/registry.ts';
import { isKerasObject } from '../serialization/keras-object.ts';
import * as m from '../ops/api/math.ts';
import { Initializer, checkDType, checkShape, LEGACY_INITIALIZER_KEYS } from './initializer.ts';
import { checkNumber, opt, readConfig } from './lookup.ts';

/** All zeros. Keras config: `{}`. */
export class Zeros extends Initializer {
  static override readonly className: string = 'Zeros';

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return zeros(checkShape(shape, 'Zeros'), checkDType(dtype, 'Zeros', false));
  }

  static override fromConfig(config: Config = {}): Zeros {
    readConfig('Zeros', config, [], LEGACY_INITIALIZER_KEYS);
    return new Zeros();
  }
}

/** All ones. Keras config: `{}`. */
export class Ones extends Initializer {
  static override readonly className: string = 'Ones';

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return fill(checkShape(shape, 'Ones'), 1, checkDType(dtype, 'Ones', false));
  }

  static override fromConfig(config: Config = {}): Ones {
    readConfig('Ones', config, [], LEGACY_INITIALIZER_KEYS);
    return new Ones();
  }
}

export interface ConstantOptions {
  /** The value of every element (default 0). */
  value?: number;
}

/** Every element set to `value`. Keras config: `{"value": 0.0}`. */
export class Constant extends Initializer {
  static override readonly className: string = 'Constant';
  readonly value: number;

  /** `new Constant(3)` or `new Constant({value: 3})`. */
  constructor(options: ConstantOptions | number = {}) {
    super();
    const value = typeof options === 'number' ? options : (options.value ?? 0);
    this.value = checkNumber('Constant', 'value', value);
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return fill(checkShape(shape, 'Constant'), this.value, checkDType(dtype, 'Constant', false));
  }

  override getConfig(): Config {
    return { value: this.value };
  }

  static override fromConfig(config: Config = {}): Constant {
    const c = readConfig('Constant', config, ['value'], LEGACY_INITIALIZER_KEYS);
    let value = opt<unknown>(c.value);
    // A NumPy or tensor scalar is serialized as {"class_name": "__numpy__", "config": {"value": v, "dtype": ...}}.
    if (isKerasObject(value) && (value.class_name === '__numpy__' || value.class_name === '__tensor__')) value = value.config.value;
    return new Constant({ value: value as number | undefined });
  }
}

export interface IdentityOptions {
  /** Multiplies the identity matrix (default 1). */
  gain?: number;
}

/**
 * The identity matrix (2D shapes only; rectangular shapes get ones on the
 * main diagonal), times `gain`. Keras 3 exports it as Identity, identity
 * and IdentityInitializer (older 3.x releases wrote `IdentityInitializer`
 * in files; both names load). Config: `{"gain": 1.0}`; Keras itself writes
 * `{}` and so loses a non-default gain, which Strata keeps.
 */
export class Identity extends Initializer {
  static override readonly className: string = 'Identity';
  readonly gain: number;

  constructor(options: IdentityOptions = {}) {
    super();
    this.gain = checkNumber('Identity', 'gain', options.gain ?? 1);
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const s = checkShape(shape, 'Identity');
    if (s.length !== 2) {
      throw new RangeError(`Identity: the identity initializer can only make 2D matrices. Received: shape=${formatShape(s)} of rank ${s.length}.`);
    }
    const d = checkDType(dtype, 'Identity', false);
    const i = eye(s[0], s[1], d);
    if (this.gain === 1) return i;
    const scaled = m.multiply(i, this.gain);
    return scaled.dtype === d ? scaled : m.cast(scaled, d);
  }

  override getConfig(): Config {
    return { gain: this.gain };
  }

  static override fromConfig(config: Config = {}): Identity {
    const c = readConfig('Identity', config, ['gain'], LEGACY_INITIALIZER_KEYS);
    return new Identity({ gain: opt<number>(c.gain) });
  }
}
