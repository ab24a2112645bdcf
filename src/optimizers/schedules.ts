/**
 * `strata.optimizers.schedules` (keras.optimizers.schedules): learning-rate
 * schedules. Each `call(step)` is written with ops, so an optimizer that
 * uses a schedule evaluates it from its `iterations` variable inside a
 * compiled training step as well as eagerly.
 *
 * Formulas, defaults, names and config keys follow Keras 3
 * (keras/src/optimizers/schedules/learning_rate_schedule.py). Values are
 * computed in float32 (the dtype of Keras's `initial_learning_rate`).
 */
import { Tensor } from '../tensor/tensor.ts';
import { scalar } from '../tensor/create.ts';
import { describe } from '../tensor/shape.ts';
import { type Config, registerBuiltin, withCustomObjects } from '../serialization/registry.ts';
import { type KerasObject, UnknownObjectError, deserializeObject, isKerasObject, serializeObject } from '../serialization/keras-object.ts';
import { type TensorLike, toTensor } from '../ops/convert.ts';
import * as ops from '../ops/index.ts';
import { checkNumber, opt, readConfig } from '../initializers/lookup.ts';

const MODULE = 'keras.optimizers.schedules';

/** The step as a tensor: JavaScript integers become int32 (as the optimizer's `iterations`). */
function stepTensor(step: TensorLike, where: string): Tensor {
  if (typeof step === 'number') return scalar(step, Number.isInteger(step) ? 'int32' : 'float32');
  return toTensor(step, where);
}

/**
 * Base class of learning-rate schedules. Subclasses implement `call(step)`
 * with ops (so it traces), `getConfig()` with Keras's keys, and a static
 * `fromConfig`.
 */
export abstract class LearningRateSchedule {
  static readonly className: string = 'LearningRateSchedule';

  /** The learning rate at `step` (a scalar tensor; JavaScript numbers are accepted). */
  abstract call(step: TensorLike): Tensor;

  getConfig(): Config {
    throw new Error(`Learning rate schedule '${this.constructor.name}' must override getConfig() in order to be serializable.`);
  }

  /** The default passes the config to the constructor (Keras's `cls(**config)`). */
  static fromConfig(this: new (options: never) => LearningRateSchedule, config: Config): LearningRateSchedule {
    return new this(config as never);
  }
}

function positive(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${where}: Argument \`${name}\` must be > 0. Received: ${name}=${describe(value)}`);
  }
  return value;
}

function numberArg(where: string, name: string, value: unknown): number {
  return checkNumber(where, name, value);
}

// ---------------------------------------------------------------------------

export interface ExponentialDecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  /** Decay at discrete intervals: `floor(step / decaySteps)`. Default false. */
  staircase?: boolean;
  name?: string;
}

/** `initialLearningRate * decayRate ^ (step / decaySteps)` (the exponent floored when `staircase`). */
export class ExponentialDecay extends LearningRateSchedule {
  static override readonly className: string = 'ExponentialDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;
  readonly name: string;

  constructor(options: ExponentialDecayOptions) {
    super();
    const where = 'ExponentialDecay';
    this.initialLearningRate = numberArg(where, 'initial_learning_rate', options.initialLearningRate);
    this.decaySteps = positive(where, 'decay_steps', options.decaySteps);
    this.decayRate = numberArg(where, 'decay_rate', options.decayRate);
    this.staircase = options.staircase ?? false;
    this.name = options.name ?? 'ExponentialDecay';
  }

  call(step: TensorLike): Tensor {
    let p = ops.divide(ops.cast(stepTensor(step, 'ExponentialDecay'), 'float32'), this.decaySteps);
    if (this.staircase) p = ops.floor(p);
    return ops.multiply(this.initialLearningRate, ops.power(scalar(this.decayRate, 'float32'), p));
  }

  override getConfig(): Config {
    return { initial_learning_rate: this.initialLearningRate, decay_steps: this.decaySteps, decay_rate: this.decayRate, staircase: this.staircase, name: this.name };
  }

  static override fromConfig(config: Config): ExponentialDecay {
    const c = readConfig('ExponentialDecay', config, ['initial_learning_rate', 'decay_steps', 'decay_rate', 'staircase', 'name']);
    return new ExponentialDecay({
      initialLearningRate: c.initial_learning_rate as number,
      decaySteps: c.decay_steps as number,
      decayRate: c.decay_rate as number,
      staircase: opt(c.staircase),
      name: opt(c.name),
    });
  }
}

// ---------------------------------------------------------------------------

export interface PiecewiseConstantDecayOptions {
  /** Strictly increasing step boundaries (cast to the step's dtype, as in Keras). */
  boundaries: readonly number[];
  /** One more value than boundaries. */
  values: readonly number[];
  name?: string;
}

/** `values[0]` while `step <= boundaries[0]`, `values[i]` while `boundaries[i-1] < step <= boundaries[i]`, `values[-1]` after the last boundary. */
export class PiecewiseConstantDecay extends LearningRateSchedule {
  static override readonly className: string = 'PiecewiseConstantDecay';
  readonly boundaries: number[];
  readonly values: number[];
  readonly name: string;

  constructor(options: PiecewiseConstantDecayOptions) {
    super();
    const where = 'PiecewiseConstantDecay';
    const { boundaries, values } = options;
    if (!Array.isArray(boundaries) || !Array.isArray(values)) throw new TypeError(`${where}: boundaries and values must be arrays of numbers.`);
    if (boundaries.length !== values.length - 1) {
      throw new RangeError(
        `${where}: The length of boundaries should be 1 less than the length of values. ` +
          `Received: boundaries=[${boundaries.join(', ')}] of length ${boundaries.length}, and values=[${values.join(', ')}] of length ${values.length}.`,
      );
    }
    if (boundaries.length === 0) throw new RangeError(`${where}: boundaries must not be empty.`);
    boundaries.forEach((b, i) => numberArg(where, `boundaries[${i}]`, b));
    values.forEach((v, i) => numberArg(where, `values[${i}]`, v));
    this.boundaries = [...boundaries];
    this.values = [...values];
    this.name = options.name ?? 'PiecewiseConstant';
  }

  call(step: TensorLike): Tensor {
    const s = stepTensor(step, 'PiecewiseConstantDecay');
    // Boundaries take the step's dtype (an int32 step truncates fractional boundaries, as Keras's cast does).
    const b = this.boundaries.map((x) => ops.cast(scalar(x, 'float64'), s.dtype));
    const indicator = (c: Tensor) => ops.cast(c, 'float32');
    let result = ops.multiply(indicator(ops.lessEqual(s, b[0])), this.values[0]);
    result = ops.add(result, ops.multiply(indicator(ops.greater(s, b[b.length - 1])), this.values[this.values.length - 1]));
    for (let i = 0; i + 1 < b.length; i++) {
      const inRange = ops.logicalAnd(ops.greater(s, b[i]), ops.lessEqual(s, b[i + 1]));
      result = ops.add(result, ops.multiply(indicator(inRange), this.values[i + 1]));
    }
    return result;
  }

  override getConfig(): Config {
    return { boundaries: [...this.boundaries], values: [...this.values], name: this.name };
  }

  static override fromConfig(config: Config): PiecewiseConstantDecay {
    const c = readConfig('PiecewiseConstantDecay', config, ['boundaries', 'values', 'name']);
    return new PiecewiseConstantDecay({ boundaries: c.boundaries as number[], values: c.values as number[], name: opt(c.name) });
  }
}

// ---------------------------------------------------------------------------

export interface PolynomialDecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  /** Default 0.0001. */
  endLearningRate?: number;
  /** Default 1. */
  power?: number;
  /** Continue past `decaySteps` with the next multiple of it. Default false. */
  cycle?: boolean;
  name?: string;
}

/** `(initial - end) * (1 - min(step, decaySteps) / decaySteps) ^ power + end` (with `cycle`, decaySteps grows to the next multiple). */
export class PolynomialDecay extends LearningRateSchedule {
  static override readonly className: string = 'PolynomialDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly endLearningRate: number;
  readonly power: number;
  readonly cycle: boolean;
  readonly name: string;

  constructor(options: PolynomialDecayOptions) {
    super();
    const where = 'PolynomialDecay';
    this.initialLearningRate = numberArg(where, 'initial_learning_rate', options.initialLearningRate);
    this.decaySteps = positive(where, 'decay_steps', options.decaySteps);
    this.endLearningRate = numberArg(where, 'end_learning_rate', options.endLearningRate ?? 0.0001);
    this.power = numberArg(where, 'power', options.power ?? 1.0);
    this.cycle = options.cycle ?? false;
    this.name = options.name ?? 'PolynomialDecay';
  }

  call(step: TensorLike): Tensor {
    let s = ops.cast(stepTensor(step, 'PolynomialDecay'), 'float32');
    let decaySteps: Tensor = scalar(this.decaySteps, 'float32');
    if (this.cycle) {
      // The first multiple of decaySteps above the step (1 at step 0).
      const multiplier = ops.where(ops.equal(s, 0), 1, ops.ceil(ops.divide(s, this.decaySteps)));
      decaySteps = ops.multiply(decaySteps, multiplier);
    } else {
      s = ops.minimum(s, decaySteps);
    }
    const p = ops.divide(s, decaySteps);
    return ops.add(ops.multiply(this.initialLearningRate - this.endLearningRate, ops.power(ops.subtract(1, p), this.power)), this.endLearningRate);
  }

  override getConfig(): Config {
    return {
      initial_learning_rate: this.initialLearningRate,
      decay_steps: this.decaySteps,
      end_learning_rate: this.endLearningRate,
      power: this.power,
      cycle: this.cycle,
      name: this.name,
    };
  }

  static override fromConfig(config: Config): PolynomialDecay {
    const c = readConfig('PolynomialDecay', config, ['initial_learning_rate', 'decay_steps', 'end_learning_rate', 'power', 'cycle', 'name']);
    return new PolynomialDecay({
      initialLearningRate: c.initial_learning_rate as number,
      decaySteps: c.decay_steps as number,
      endLearningRate: opt(c.end_learning_rate),
      power: opt(c.power),
      cycle: opt(c.cycle),
      name: opt(c.name),
    });
  }
}

// ---------------------------------------------------------------------------

export interface InverseTimeDecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  /** Use `floor(step / decaySteps)`. Default false. */
  staircase?: boolean;
  name?: string;
}

/** `initialLearningRate / (1 + decayRate * step / decaySteps)` (the ratio floored when `staircase`). */
export class InverseTimeDecay extends LearningRateSchedule {
  static override readonly className: string = 'InverseTimeDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;
  readonly name: string;

  constructor(options: InverseTimeDecayOptions) {
    super();
    const where = 'InverseTimeDecay';
    this.initialLearningRate = numberArg(where, 'initial_learning_rate', options.initialLearningRate);
    this.decaySteps = positive(where, 'decay_steps', options.decaySteps);
    this.decayRate = numberArg(where, 'decay_rate', options.decayRate);
    this.staircase = options.staircase ?? false;
    this.name = options.name ?? 'InverseTimeDecay';
  }

  call(step: TensorLike): Tensor {
    let p = ops.divide(ops.cast(stepTensor(step, 'InverseTimeDecay'), 'float32'), this.decaySteps);
    if (this.staircase) p = ops.floor(p);
    return ops.divide(this.initialLearningRate, ops.add(1, ops.multiply(this.decayRate, p)));
  }

  override getConfig(): Config {
    return { initial_learning_rate: this.initialLearningRate, decay_steps: this.decaySteps, decay_rate: this.decayRate, staircase: this.staircase, name: this.name };
  }

  static override fromConfig(config: Config): InverseTimeDecay {
    const c = readConfig('InverseTimeDecay', config, ['initial_learning_rate', 'decay_steps', 'decay_rate', 'staircase', 'name']);
    return new InverseTimeDecay({
      initialLearningRate: c.initial_learning_rate as number,
      decaySteps: c.decay_steps as number,
      decayRate: c.decay_rate as number,
      staircase: opt(c.staircase),
      name: opt(c.name),
    });
  }
}

// ---------------------------------------------------------------------------

export interface CosineDecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  /** The final rate as a fraction of the rate the decay starts from. Default 0. */
  alpha?: number;
  name?: string;
  /** Warm up linearly from `initialLearningRate` to this rate over `warmupSteps`, then decay from it. Default null (no warmup). */
  warmupTarget?: number | null;
  /** Default 0. */
  warmupSteps?: number;
}

/** Cosine decay (SGDR without restarts), with an optional linear warmup. */
export class CosineDecay extends LearningRateSchedule {
  static override readonly className: string = 'CosineDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly alpha: number;
  readonly name: string;
  readonly warmupTarget: number | null;
  readonly warmupSteps: number;

  constructor(options: CosineDecayOptions) {
    super();
    const where = 'CosineDecay';
    this.initialLearningRate = numberArg(where, 'initial_learning_rate', options.initialLearningRate);
    this.decaySteps = positive(where, 'decay_steps', options.decaySteps);
    this.alpha = numberArg(where, 'alpha', options.alpha ?? 0.0);
    this.name = options.name ?? 'CosineDecay';
    this.warmupTarget = options.warmupTarget === undefined || options.warmupTarget === null ? null : numberArg(where, 'warmup_target', options.warmupTarget);
    this.warmupSteps = checkNumber(where, 'warmup_steps', options.warmupSteps ?? 0, { min: 0 });
  }

  private decay(step: Tensor, decayFrom: number): Tensor {
    const completed = ops.divide(step, this.decaySteps);
    const cosineDecayed = ops.multiply(0.5, ops.add(1, ops.cos(ops.multiply(Math.PI, completed))));
    const decayed = ops.add(ops.multiply(1 - this.alpha, cosineDecayed), this.alpha);
    return ops.multiply(decayFrom, decayed);
  }

  call(step: TensorLike): Tensor {
    const s = ops.cast(stepTensor(step, 'CosineDecay'), 'float32');
    if (this.warmupTarget === null) return this.decay(ops.minimum(s, this.decaySteps), this.initialLearningRate);
    const target = this.warmupTarget;
    const clipped = ops.minimum(s, this.decaySteps + this.warmupSteps);
    // Keras uses ops.cond; both branches are cheap scalars, so `where` selects without control flow.
    const warm = ops.add(ops.multiply(target - this.initialLearningRate, ops.divide(clipped, this.warmupSteps)), this.initialLearningRate);
    const decayed = this.decay(ops.subtract(clipped, this.warmupSteps), target);
    return ops.where(ops.less(clipped, this.warmupSteps), warm, decayed);
  }

  override getConfig(): Config {
    return {
      initial_learning_rate: this.initialLearningRate,
      decay_steps: this.decaySteps,
      alpha: this.alpha,
      name: this.name,
      warmup_target: this.warmupTarget,
      warmup_steps: this.warmupSteps,
    };
  }

  static override fromConfig(config: Config): CosineDecay {
    const c = readConfig('CosineDecay', config, ['initial_learning_rate', 'decay_steps', 'alpha', 'name', 'warmup_target', 'warmup_steps']);
    return new CosineDecay({
      initialLearningRate: c.initial_learning_rate as number,
      decaySteps: c.decay_steps as number,
      alpha: opt(c.alpha),
      name: opt(c.name),
      warmupTarget: opt(c.warmup_target),
      warmupSteps: opt(c.warmup_steps),
    });
  }
}

// ---------------------------------------------------------------------------

export interface CosineDecayRestartsOptions {
  initialLearningRate: number;
  firstDecaySteps: number;
  /** Each period is `tMul` times longer than the previous one. Default 2. */
  tMul?: number;
  /** Each period starts at `mMul` times the previous period's initial rate. Default 1. */
  mMul?: number;
  /** The minimum rate as a fraction of the initial rate. Default 0. */
  alpha?: number;
  name?: string;
}

/** Cosine decay with warm restarts (SGDR, Loshchilov & Hutter). */
export class CosineDecayRestarts extends LearningRateSchedule {
  static override readonly className: string = 'CosineDecayRestarts';
  readonly initialLearningRate: number;
  readonly firstDecaySteps: number;
  readonly tMul: number;
  readonly mMul: number;
  readonly alpha: number;
  readonly name: string;

  constructor(options: CosineDecayRestartsOptions) {
    super();
    const where = 'CosineDecayRestarts';
    this.initialLearningRate = numberArg(where, 'initial_learning_rate', options.initialLearningRate);
    this.firstDecaySteps = positive(where, 'first_decay_steps', options.firstDecaySteps);
    this.tMul = numberArg(where, 't_mul', options.tMul ?? 2.0);
    this.mMul = numberArg(where, 'm_mul', options.mMul ?? 1.0);
    this.alpha = numberArg(where, 'alpha', options.alpha ?? 0.0);
    this.name = options.name ?? 'SGDRDecay';
  }

  call(step: TensorLike): Tensor {
    const s = ops.cast(stepTensor(step, 'CosineDecayRestarts'), 'float32');
    let completed = ops.divide(s, this.firstDecaySteps);
    let iRestart: Tensor;
    // t_mul is a constant, so the branch Keras takes with ops.cond is chosen here.
    if (this.tMul === 1) {
      iRestart = ops.floor(completed);
      completed = ops.subtract(completed, iRestart);
    } else {
      const tMul = scalar(this.tMul, 'float32');
      iRestart = ops.floor(ops.divide(ops.log(ops.subtract(1, ops.multiply(completed, 1 - this.tMul))), ops.log(tMul)));
      const sumR = ops.divide(ops.subtract(1, ops.power(tMul, iRestart)), 1 - this.tMul);
      completed = ops.divide(ops.subtract(completed, sumR), ops.power(tMul, iRestart));
    }
    const mFac = ops.power(scalar(this.mMul, 'float32'), iRestart);
    const cosineDecayed = ops.multiply(ops.multiply(0.5, mFac), ops.add(1, ops.cos(ops.multiply(Math.PI, completed))));
    const decayed = ops.add(ops.multiply(1 - this.alpha, cosineDecayed), this.alpha);
    return ops.multiply(this.initialLearningRate, decayed);
  }

  override getConfig(): Config {
    return {
      initial_learning_rate: this.initialLearningRate,
      first_decay_steps: this.firstDecaySteps,
      t_mul: this.tMul,
      m_mul: this.mMul,
      alpha: this.alpha,
      name: this.name,
    };
  }

  static override fromConfig(config: Config): CosineDecayRestarts {
    const c = readConfig('CosineDecayRestarts', config, ['initial_learning_rate', 'first_decay_steps', 't_mul', 'm_mul', 'alpha', 'name']);
    return new CosineDecayRestarts({
      initialLearningRate: c.initial_learning_rate as number,
      firstDecaySteps: c.first_decay_steps as number,
      tMul: opt(c.t_mul),
      mMul: opt(c.m_mul),
      alpha: opt(c.alpha),
      name: opt(c.name),
    });
  }
}

// ---------------------------------------------------------------------------

const CLASSES = [ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, CosineDecay, CosineDecayRestarts];
for (const cls of CLASSES) registerBuiltin(MODULE, cls);
const BY_NAME = new Map<string, (typeof CLASSES)[number]>(CLASSES.map((c) => [c.className, c]));

/** Keras's serialized form: `{module: 'keras.optimizers.schedules', class_name, config, registered_name}`. */
export function serialize(schedule: LearningRateSchedule): KerasObject {
  if (!(schedule instanceof LearningRateSchedule)) {
    throw new TypeError(`optimizers.schedules.serialize: expected a LearningRateSchedule. Received: ${describe(schedule)}`);
  }
  return serializeObject(schedule);
}

/** Rebuilds a schedule from its serialized form (Keras 3's or Keras 2's `{class_name, config}`). */
export function deserialize(config: unknown, customObjects?: Record<string, unknown>): LearningRateSchedule {
  const where = 'optimizers.schedules.deserialize';
  if (!isKerasObject(config)) throw new TypeError(`${where}: expected a serialized schedule ({class_name, config, ...}). Received: ${describe(config)}`);
  return withCustomObjects(customObjects as never, () => {
    let obj: unknown;
    try {
      obj = deserializeObject<unknown>(config, MODULE, where);
    } catch (e) {
      if (e instanceof UnknownObjectError) {
        throw new Error(
          `${where}: unknown learning rate schedule '${config.class_name}'. Built-in schedules: ${[...BY_NAME.keys()].map((n) => `'${n}'`).join(', ')}. ` +
            'For a custom schedule, register it with registerSerializable or pass it in customObjects.',
        );
      }
      throw e;
    }
    if (!(obj instanceof LearningRateSchedule)) throw new TypeError(`${where}: '${config.class_name}' is not a LearningRateSchedule (it built ${describe(obj)}).`);
    return obj;
  });
}
