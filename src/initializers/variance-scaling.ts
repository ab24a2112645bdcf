/**
 * VarianceScaling and its presets GlorotUniform, GlorotNormal, HeUniform,
 * HeNormal, LecunUniform, LecunNormal
 * (keras/src/initializers/random_initializers.py).
 */
import type { DType } from '../tensor/dtype.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { describe } from '../tensor/shape.ts';
import type { Config } from '../serialization/registry.ts';
import * as random from '../ops/api/random.ts';
import { type InitializerSeed, checkDType, checkShape, computeFans, drawArg, seedFromConfig, LEGACY_INITIALIZER_KEYS } from './initializer.ts';
import { RandomInitializer } from './random.ts';
import { checkChoice, checkNumber, opt, readConfig } from './lookup.ts';

export type FanMode = 'fan_in' | 'fan_out' | 'fan_avg';
export type VarianceScalingDistribution = 'truncated_normal' | 'untruncated_normal' | 'uniform';

const MODES: readonly FanMode[] = ['fan_in', 'fan_out', 'fan_avg'];
const DISTRIBUTIONS: readonly VarianceScalingDistribution[] = ['truncated_normal', 'untruncated_normal', 'uniform'];

/**
 * The standard deviation of a standard normal truncated to [-2, 2]: the
 * truncated draw's stddev is divided by it so the result has the variance asked for.
 */
export const TRUNCATED_NORMAL_STDDEV = 0.87962566103423978;

export interface VarianceScalingOptions {
  /** Scaling factor, > 0 (default 1). */
  scale?: number;
  /** Which fan divides `scale` (default 'fan_in'). */
  mode?: FanMode;
  /** 'truncated_normal' (default; 'normal' is accepted for it), 'untruncated_normal' or 'uniform'. */
  distribution?: VarianceScalingDistribution | 'normal';
  seed?: InitializerSeed;
  /** Axes of the weight that are inputs, for fan_in (Keras 3.15 `input_axes`; default: Keras's compute_fans). */
  inputAxes?: number[] | null;
  /** Axes of the weight that are outputs, for fan_out (Keras 3.15 `output_axes`). */
  outputAxes?: number[] | null;
}

function checkAxesList(where: string, name: string, v: unknown): number[] | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' && Number.isInteger(v)) return [v];
  if (Array.isArray(v) && v.every((a) => Number.isInteger(a))) return [...(v as number[])];
  throw new TypeError(`${where}: Received: ${name}=${describe(v)}; expected a list of integer axes or null.`);
}

/**
 * Values whose variance adapts to the weight's shape: with n = fan_in,
 * fan_out or (fan_in + fan_out) / 2 (at least 1), a (truncated) normal
 * distribution with stddev sqrt(scale / n), or a uniform one in
 * [-sqrt(3 scale / n), sqrt(3 scale / n)].
 *
 * Keras config: `{"seed": null, "scale": 1.0, "mode": "fan_in", "distribution":
 * "truncated_normal"}`. Keras 3.15 adds `input_axes`/`output_axes`; Strata
 * reads them and writes them only when set, so its files also load in
 * earlier Keras 3 releases, which reject the keys.
 */
export class VarianceScaling extends RandomInitializer {
  static override readonly className: string = 'VarianceScaling';
  readonly scale: number;
  readonly mode: FanMode;
  readonly distribution: VarianceScalingDistribution;
  readonly inputAxes: number[] | null;
  readonly outputAxes: number[] | null;

  constructor(options: VarianceScalingOptions = {}) {
    const where = new.target.className;
    super(options.seed, where);
    this.scale = checkNumber(where, 'scale', options.scale ?? 1, { min: 0, exclusive: true });
    this.mode = checkChoice(where, 'mode', options.mode ?? 'fan_in', MODES);
    let distribution: unknown = options.distribution ?? 'truncated_normal';
    if (typeof distribution === 'string') distribution = distribution.toLowerCase();
    if (distribution === 'normal') distribution = 'truncated_normal';
    this.distribution = checkChoice(where, 'distribution', distribution, DISTRIBUTIONS);
    this.inputAxes = checkAxesList(where, 'inputAxes', options.inputAxes);
    this.outputAxes = checkAxesList(where, 'outputAxes', options.outputAxes);
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const where = (this.constructor as typeof VarianceScaling).className;
    const s = checkShape(shape, where);
    const d = checkDType(dtype, where, true);
    const [fanIn, fanOut] = computeFans(s, this.inputAxes, this.outputAxes);
    const n = this.mode === 'fan_in' ? fanIn : this.mode === 'fan_out' ? fanOut : (fanIn + fanOut) / 2;
    const variance = this.scale / Math.max(1, n);
    const seed = drawArg(this.seed);
    if (this.distribution === 'truncated_normal') {
      return random.truncatedNormal(s, { mean: 0, stddev: Math.sqrt(variance) / TRUNCATED_NORMAL_STDDEV, dtype: d, seed });
    }
    if (this.distribution === 'untruncated_normal') return random.normal(s, { mean: 0, stddev: Math.sqrt(variance), dtype: d, seed });
    const limit = Math.sqrt(3 * variance);
    return random.uniform(s, { minval: -limit, maxval: limit, dtype: d, seed });
  }

  /** `input_axes`/`output_axes`, only when set. */
  protected axesConfig(): Config {
    const c: Config = {};
    if (this.inputAxes) c.input_axes = [...this.inputAxes];
    if (this.outputAxes) c.output_axes = [...this.outputAxes];
    return c;
  }

  override getConfig(): Config {
    return { ...super.getConfig(), scale: this.scale, mode: this.mode, distribution: this.distribution, ...this.axesConfig() };
  }

  static override fromConfig(config: Config = {}): VarianceScaling {
    const c = readConfig('VarianceScaling', config, ['seed', 'scale', 'mode', 'distribution', 'input_axes', 'output_axes'], LEGACY_INITIALIZER_KEYS);
    return new VarianceScaling({
      scale: opt(c.scale),
      mode: opt(c.mode),
      distribution: opt(c.distribution),
      seed: seedFromConfig(c.seed, 'VarianceScaling.fromConfig'),
      inputAxes: opt(c.input_axes),
      outputAxes: opt(c.output_axes),
    });
  }
}

/** Options of the presets: only the seed (and Keras 3.15's fan axes). */
export interface PresetOptions {
  seed?: InitializerSeed;
  inputAxes?: number[] | null;
  outputAxes?: number[] | null;
}

const PRESET_KEYS = ['seed', 'input_axes', 'output_axes'];

function presetOptions(className: string, config: Config): PresetOptions {
  const c = readConfig(className, config, PRESET_KEYS, LEGACY_INITIALIZER_KEYS);
  return { seed: seedFromConfig(c.seed, `${className}.fromConfig`), inputAxes: opt(c.input_axes), outputAxes: opt(c.output_axes) };
}

/** A VarianceScaling preset: its config is only `{"seed": ...}` (plus set fan axes). */
abstract class VarianceScalingPreset extends VarianceScaling {
  override getConfig(): Config {
    return { seed: super.getConfig().seed, ...this.axesConfig() };
  }
}

/** Uniform in [-limit, limit], limit = sqrt(6 / (fan_in + fan_out)). Config `{"seed": null}`. */
export class GlorotUniform extends VarianceScalingPreset {
  static override readonly className: string = 'GlorotUniform';
  constructor(options: PresetOptions = {}) {
    super({ ...options, scale: 1, mode: 'fan_avg', distribution: 'uniform' });
  }
  static override fromConfig(config: Config = {}): GlorotUniform {
    return new GlorotUniform(presetOptions('GlorotUniform', config));
  }
}

/** Truncated normal with stddev sqrt(2 / (fan_in + fan_out)). Config `{"seed": null}`. */
export class GlorotNormal extends VarianceScalingPreset {
  static override readonly className: string = 'GlorotNormal';
  constructor(options: PresetOptions = {}) {
    super({ ...options, scale: 1, mode: 'fan_avg', distribution: 'truncated_normal' });
  }
  static override fromConfig(config: Config = {}): GlorotNormal {
    return new GlorotNormal(presetOptions('GlorotNormal', config));
  }
}

/** Uniform in [-limit, limit], limit = sqrt(6 / fan_in). Config `{"seed": null}`. */
export class HeUniform extends VarianceScalingPreset {
  static override readonly className: string = 'HeUniform';
  constructor(options: PresetOptions = {}) {
    super({ ...options, scale: 2, mode: 'fan_in', distribution: 'uniform' });
  }
  static override fromConfig(config: Config = {}): HeUniform {
    return new HeUniform(presetOptions('HeUniform', config));
  }
}

/** Truncated normal with stddev sqrt(2 / fan_in). Config `{"seed": null}`. */
export class HeNormal extends VarianceScalingPreset {
  static override readonly className: string = 'HeNormal';
  constructor(options: PresetOptions = {}) {
    super({ ...options, scale: 2, mode: 'fan_in', distribution: 'truncated_normal' });
  }
  static override fromConfig(config: Config = {}): HeNormal {
    return new HeNormal(presetOptions('HeNormal', config));
  }
}

/** Uniform in [-limit, limit], limit = sqrt(3 / fan_in). Config `{"seed": null}`. */
export class LecunUniform extends VarianceScalingPreset {
  static override readonly className: string = 'LecunUniform';
  constructor(options: PresetOptions = {}) {
    super({ ...options, scale: 1, mode: 'fan_in', distribution: 'uniform' });
  }
  static override fromConfig(config: Config = {}): LecunUniform {
    return new LecunUniform(presetOptions('LecunUniform', config));
  }
}

/** Truncated normal with stddev sqrt(1 / fan_in). Config `{"seed": null}`. */
export class LecunNormal extends VarianceScalingPreset {
  static override readonly className: string = 'LecunNormal';
  constructor(options: PresetOptions = {}) {
    super({ ...options, scale: 1, mode: 'fan_in', distribution: 'truncated_normal' });
  }
  static override fromConfig(config: Config = {}): LecunNormal {
    return new LecunNormal(presetOptions('LecunNormal', config));
  }
}
