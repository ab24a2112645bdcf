/**
 * Random initializers: RandomUniform, RandomNormal, TruncatedNormal
 * (keras/src/initializers/random_initializers.py), drawn with
 * src/ops/api/random.ts.
 */
import type { DType } from '../tensor/dtype.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Config } from '../serialization/registry.ts';
import * as random from '../ops/api/random.ts';
import { Initializer, type InitializerSeed, checkDType, checkSeed, checkShape, drawArg, seedFromConfig, seedToConfig, LEGACY_INITIALIZER_KEYS } from './initializer.ts';
import { checkNumber, opt, readConfig } from './lookup.ts';

/**
 * Base of the initializers that draw random numbers. `seed`: an integer
 * gives the same values on every call; a `random.SeedGenerator` is
 * advanced by each call; null (the default) draws from the global
 * generator, which `setRandomSeed` resets.
 */
export abstract class RandomInitializer extends Initializer {
  readonly seed: InitializerSeed;

  constructor(seed: unknown, where: string) {
    super();
    this.seed = checkSeed(seed, where);
  }

  /** Keras's base config: `{"seed": <int | null | SeedGenerator>}`. */
  override getConfig(): Config {
    return { seed: seedToConfig(this.seed) };
  }
}

export interface RandomUniformOptions {
  /** Lower bound, inclusive (default -0.05). */
  minval?: number;
  /** Upper bound, exclusive (default 0.05). */
  maxval?: number;
  seed?: InitializerSeed;
}

/** Uniform values in [minval, maxval). Keras config: `{"seed": null, "minval": -0.05, "maxval": 0.05}`. */
export class RandomUniform extends RandomInitializer {
  static override readonly className: string = 'RandomUniform';
  readonly minval: number;
  readonly maxval: number;

  constructor(options: RandomUniformOptions = {}) {
    super(options.seed, 'RandomUniform');
    this.minval = checkNumber('RandomUniform', 'minval', options.minval ?? -0.05);
    this.maxval = checkNumber('RandomUniform', 'maxval', options.maxval ?? 0.05);
    if (!(this.minval <= this.maxval)) {
      throw new RangeError(`RandomUniform: Received: minval=${this.minval}, maxval=${this.maxval}; expected minval <= maxval.`);
    }
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return random.uniform(checkShape(shape, 'RandomUniform'), {
      minval: this.minval,
      maxval: this.maxval,
      dtype: checkDType(dtype, 'RandomUniform', true),
      seed: drawArg(this.seed),
    });
  }

  override getConfig(): Config {
    return { ...super.getConfig(), minval: this.minval, maxval: this.maxval };
  }

  static override fromConfig(config: Config = {}): RandomUniform {
    const c = readConfig('RandomUniform', config, ['seed', 'minval', 'maxval'], LEGACY_INITIALIZER_KEYS);
    return new RandomUniform({ minval: opt(c.minval), maxval: opt(c.maxval), seed: seedFromConfig(c.seed, 'RandomUniform.fromConfig') });
  }
}

export interface RandomNormalOptions {
  /** Mean (default 0). */
  mean?: number;
  /** Standard deviation, >= 0 (default 0.05). */
  stddev?: number;
  seed?: InitializerSeed;
}

function normalParams(where: string, options: RandomNormalOptions): { mean: number; stddev: number } {
  return {
    mean: checkNumber(where, 'mean', options.mean ?? 0),
    stddev: checkNumber(where, 'stddev', options.stddev ?? 0.05, { min: 0 }),
  };
}

/** Normally distributed values. Keras config: `{"seed": null, "mean": 0.0, "stddev": 0.05}`. */
export class RandomNormal extends RandomInitializer {
  static override readonly className: string = 'RandomNormal';
  readonly mean: number;
  readonly stddev: number;

  constructor(options: RandomNormalOptions = {}) {
    super(options.seed, 'RandomNormal');
    ({ mean: this.mean, stddev: this.stddev } = normalParams('RandomNormal', options));
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return random.normal(checkShape(shape, 'RandomNormal'), {
      mean: this.mean,
      stddev: this.stddev,
      dtype: checkDType(dtype, 'RandomNormal', true),
      seed: drawArg(this.seed),
    });
  }

  override getConfig(): Config {
    return { ...super.getConfig(), mean: this.mean, stddev: this.stddev };
  }

  static override fromConfig(config: Config = {}): RandomNormal {
    const c = readConfig('RandomNormal', config, ['seed', 'mean', 'stddev'], LEGACY_INITIALIZER_KEYS);
    return new RandomNormal({ mean: opt(c.mean), stddev: opt(c.stddev), seed: seedFromConfig(c.seed, 'RandomNormal.fromConfig') });
  }
}

/**
 * Normal values with those beyond two standard deviations from the mean
 * redrawn. Keras config: `{"seed": null, "mean": 0.0, "stddev": 0.05}`.
 */
export class TruncatedNormal extends RandomInitializer {
  static override readonly className: string = 'TruncatedNormal';
  readonly mean: number;
  readonly stddev: number;

  constructor(options: RandomNormalOptions = {}) {
    super(options.seed, 'TruncatedNormal');
    ({ mean: this.mean, stddev: this.stddev } = normalParams('TruncatedNormal', options));
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return random.truncatedNormal(checkShape(shape, 'TruncatedNormal'), {
      mean: this.mean,
      stddev: this.stddev,
      dtype: checkDType(dtype, 'TruncatedNormal', true),
      seed: drawArg(this.seed),
    });
  }

  override getConfig(): Config {
    return { ...super.getConfig(), mean: this.mean, stddev: this.stddev };
  }

  static override fromConfig(config: Config = {}): TruncatedNormal {
    const c = readConfig('TruncatedNormal', config, ['seed', 'mean', 'stddev'], LEGACY_INITIALIZER_KEYS);
    return new TruncatedNormal({ mean: opt(c.mean), stddev: opt(c.stddev), seed: seedFromConfig(c.seed, 'TruncatedNormal.fromConfig') });
  }
}
