/**
 * The loss classes (keras.losses.MeanSquaredError, ...): each wraps its loss
 * function (LossFunctionWrapper) with the reduction and sample weights of
 * `Loss.apply`, and has Keras's config keys.
 */
import { describe } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Config } from '../serialization/registry.ts';
import { isKerasObject } from '../serialization/keras-object.ts';
import { readConfig, resolveFunction, serializeFunction, type AnyFunction, type SerializedFunction } from '../initializers/lookup.ts';
import { Loss, type LossOptions, baseLossOptions, squeezeOrExpandToSameRank, withLossLabel } from './loss.ts';
import {
  type BinaryFocalCrossentropyOptions,
  type CrossentropyOptions,
  type LossFunction,
  type SparseCrossentropyOptions,
  LOSS_FUNCTIONS,
  LOSS_FUNCTION_ALIASES,
  binaryCrossentropy,
  binaryFocalCrossentropy,
  categoricalCrossentropy,
  categoricalHinge,
  cosineSimilarity,
  hinge,
  huber,
  klDivergence,
  logCosh,
  lossFunctionName,
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredError,
  meanSquaredLogarithmicError,
  poisson,
  sparseCategoricalCrossentropy,
  squaredHinge,
} from './functions.ts';

const BASE_KEYS = ['name', 'reduction', 'dtype'];

const snakeToCamel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const camelToSnake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/** Reads a loss config: base keys plus the class's own (snake_case → camelCase options); unknown keys are errors. */
function readLossConfig<T extends LossOptions>(className: string, config: Config, ownKeys: readonly string[]): T {
  const c = readConfig(className, config, [...BASE_KEYS, ...ownKeys]);
  const out: Record<string, unknown> = { ...baseLossOptions(c, className) };
  for (const key of ownKeys) if (key in c) out[snakeToCamel(key)] = c[key] === null && key !== 'ignore_class' ? undefined : c[key];
  return out as T;
}

function checkBool(where: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${where}: Received: ${name}=${describe(v)}; expected a boolean.`);
  return v;
}

function checkNumber(where: string, name: string, v: unknown, min?: number, max?: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (min !== undefined && v < min) || (max !== undefined && v > max)) {
    const range = min !== undefined && max !== undefined ? ` in [${min}, ${max}]` : min !== undefined ? ` >= ${min}` : '';
    throw new RangeError(`${where}: Received: ${name}=${describe(v)}; expected a finite number${range}.`);
  }
  return v;
}

function checkAxis(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${where}: Received: axis=${describe(v)}; \`axis\` must be an integer.`);
  return v;
}

// ---------------------------------------------------------------------------
// Function serialization

/**
 * A loss function's serialized form: the Keras name of a built-in
 * ('mean_squared_error'), or Keras's function form for a function
 * registered with `registerSerializable`.
 */
export function serializeLossFunction(fn: AnyFunction, where = 'losses.serialize'): string | SerializedFunction {
  const name = lossFunctionName(fn);
  if (name) return name;
  return serializeFunction(fn, where);
}

/**
 * How a wrapper's config refers to its function: Keras's function form,
 * `{module: 'keras.losses', class_name: 'function', config: name,
 * registered_name: name}` for a built-in (what Keras writes there), the
 * registered form for a user function.
 */
export function lossFunctionReference(fn: AnyFunction, where: string): SerializedFunction {
  const name = lossFunctionName(fn);
  if (name) return { module: 'keras.losses', class_name: 'function', config: name, registered_name: name };
  return serializeFunction(fn, where);
}

/** A loss function from a name (built-ins, aliases, registered functions) or Keras's function form. */
export function deserializeLossFunction(value: unknown, where: string): LossFunction {
  if (typeof value === 'string') {
    const builtin = LOSS_FUNCTIONS.get(LOSS_FUNCTION_ALIASES[value] ?? value);
    if (builtin) return builtin;
    const custom = resolveFunction(value, value, null);
    if (custom) return custom as unknown as LossFunction;
    throw new Error(`${where}: unknown loss function '${value}'. Register it with registerSerializable, or pass it in customObjects.`);
  }
  if (isKerasObject(value) && value.class_name === 'function') {
    const name = typeof value.config === 'string' ? value.config : '';
    const builtin = LOSS_FUNCTIONS.get(LOSS_FUNCTION_ALIASES[name] ?? name);
    if (builtin && (!value.registered_name || value.registered_name === name || !value.registered_name.includes('>'))) return builtin;
    const custom = resolveFunction(name, value.registered_name, value.module);
    if (custom) return custom as unknown as LossFunction;
    throw new Error(
      `${where}: unknown loss function '${value.registered_name ?? name}'. Register it with registerSerializable` +
        `${value.registered_name?.includes('>') ? `(fn, {package: '${value.registered_name.split('>')[0]}'})` : ''}, or pass it in customObjects.`,
    );
  }
  throw new TypeError(`${where}: expected a loss function name or a serialized function. Received: ${describe(value)}`);
}

// ---------------------------------------------------------------------------
// LossFunctionWrapper

export interface LossFunctionWrapperOptions extends LossOptions {
  /** Extra options passed to the function as its third argument (Keras's `**kwargs`). */
  fnOptions?: Record<string, unknown>;
}

/**
 * A loss from a function `(yTrue, yPred, options?) => per-sample values`
 * (keras.losses.LossFunctionWrapper). y_true and y_pred pass through
 * Keras's squeeze-or-expand first.
 */
export class LossFunctionWrapper extends Loss {
  static override readonly className: string = 'LossFunctionWrapper';
  readonly fn: LossFunction;
  readonly fnOptions: Record<string, unknown>;

  constructor(fn: LossFunction | ((yTrue: Tensor, yPred: Tensor) => Tensor), options: LossFunctionWrapperOptions = {}) {
    if (typeof fn !== 'function') throw new TypeError(`LossFunctionWrapper: Received: fn=${describe(fn)}; expected a function (yTrue, yPred) => Tensor.`);
    const { fnOptions, ...base } = options;
    super({ ...base, name: base.name ?? lossFunctionName(fn) ?? (fn.name || 'loss_function_wrapper') });
    this.fn = fn as LossFunction;
    this.fnOptions = { ...(fnOptions ?? {}) };
  }

  call(yTrue: Tensor, yPred: Tensor): Tensor {
    const [yt, yp] = squeezeOrExpandToSameRank(yTrue, yPred);
    const hasOptions = Object.keys(this.fnOptions).length > 0;
    return withLossLabel(this.label(), () => (hasOptions ? this.fn(yt, yp, this.fnOptions as never) : this.fn(yt, yp)));
  }

  protected override label(): string {
    const cls = this.constructor as typeof LossFunctionWrapper;
    if (cls !== LossFunctionWrapper) return cls.className;
    return `LossFunctionWrapper(${lossFunctionName(this.fn) ?? (this.fn.name || 'function')})`;
  }

  override getConfig(): Config {
    const config: Config = { ...super.getConfig(), fn: lossFunctionReference(this.fn, `${this.label()}.getConfig`) };
    for (const [k, v] of Object.entries(this.fnOptions)) config[camelToSnake(k)] = v;
    return config;
  }

  static override fromConfig(config: Config): Loss {
    const where = 'LossFunctionWrapper.fromConfig';
    if (config === null || typeof config !== 'object' || !('fn' in config)) throw new TypeError(`${where}: the config needs 'fn' (the loss function's name or serialized form).`);
    const { fn, name, reduction, dtype, ...rest } = config;
    const fnOptions: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest)) fnOptions[snakeToCamel(k)] = v;
    return new LossFunctionWrapper(deserializeLossFunction(fn, where), { ...baseLossOptions({ name, reduction, dtype }, 'LossFunctionWrapper'), fnOptions });
  }
}

/** The base config without `fn` (what Keras's built-in loss classes write). */
function baseConfig(loss: Loss): Config {
  return { name: loss.name, reduction: loss.reduction, dtype: loss.dtype };
}

// ---------------------------------------------------------------------------
// Regression

/** mean(square(y_true - y_pred)) (keras.losses.MeanSquaredError, name 'mean_squared_error'). */
export class MeanSquaredError extends LossFunctionWrapper {
  static override readonly className: string = 'MeanSquaredError';
  constructor(options: LossOptions = {}) {
    super(meanSquaredError, { ...options, name: options.name ?? 'mean_squared_error' });
  }
  override getConfig(): Config {
    return baseConfig(this);
  }
  static override fromConfig(config: Config): MeanSquaredError {
    return new MeanSquaredError(readLossConfig('MeanSquaredError', config, []));
  }
}

/** mean(abs(y_true - y_pred)) (name 'mean_absolute_error'). */
export class MeanAbsoluteError extends LossFunctionWrapper {
  static override readonly className: string = 'MeanAbsoluteError';
  constructor(options: LossOptions = {}) {
    super(meanAbsoluteError, { ...options, name: options.name ?? 'mean_absolute_error' });
  }
  override getConfig(): Config {
    return baseConfig(this);
  }
  static override fromConfig(config: Config): MeanAbsoluteError {
    return new MeanAbsoluteError(readLossConfig('MeanAbsoluteError', config, []));
  }
}

/** 100 * mean(abs((y_true - y_pred) / y_true)) (name 'mean_absolute_percentage_error'). */
export class MeanAbsolutePercentageError extends LossFunctionWrapper {
  static override readonly className: string = 'MeanAbsolutePercentageError';
  constructor(options: LossOptions = {}) {
    super(meanAbsolutePercentageError, { ...options, name: options.name ?? 'mean_absolute_percentage_error' });
  }
  override getConfig(): Config {
    return baseConfig(this);
  }
  static override fromConfig(config: Config): MeanAbsolutePercentageError {
    return new MeanAbsolutePercentageError(readLossConfig('MeanAbsolutePercentageError', config, []));
  }
}

/** mean(square(log(y_true + 1) - log(y_pred + 1))) (name 'mean_squared_logarithmic_error'). */
export class MeanSquaredLogarithmicError extends LossFunctionWrapper {
  static override readonly className: string = 'MeanSquaredLogarithmicError';
  constructor(options: LossOptions = {}) {
    super(meanSquaredLogarithmicError, { ...options, name: options.name ?? 'mean_squared_logarithmic_error' });
  }
  override getConfig(): Config {
    return baseConfig(this);
  }
  static override fromConfig(config: Config): MeanSquaredLogarithmicError {
    return new MeanSquaredLogarithmicError(readLossConfig('MeanSquaredLogarithmicError', config, []));
  }
}

export interface CosineSimilarityOptions extends LossOptions {
  /** The feature axis. Default -1. */
  axis?: number;
}

/** -sum(l2_normalize(y_true) * l2_normalize(y_pred), axis) (name 'cosine_similarity'). */
export class CosineSimilarity extends LossFunctionWrapper {
  static override readonly className: string = 'CosineSimilarity';
  readonly axis: number;
  constructor(options: CosineSimilarityOptions = {}) {
    const axis = checkAxis('CosineSimilarity', options.axis ?? -1);
    const { axis: _a, ...base } = options;
    super(cosineSimilarity as LossFunction, { ...base, name: base.name ?? 'cosine_similarity', fnOptions: { axis } });
    this.axis = axis;
  }
  override getConfig(): Config {
    return { ...baseConfig(this), axis: this.axis };
  }
  static override fromConfig(config: Config): CosineSimilarity {
    return new CosineSimilarity(readLossConfig('CosineSimilarity', config, ['axis']));
  }
}

export interface HuberOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear. Default 1. */
  delta?: number;
}

/** The Huber loss (name 'huber_loss'). */
export class Huber extends LossFunctionWrapper {
  static override readonly className: string = 'Huber';
  readonly delta: number;
  constructor(options: HuberOptions = {}) {
    const delta = checkNumber('Huber', 'delta', options.delta ?? 1, 0);
    const { delta: _d, ...base } = options;
    super(huber as LossFunction, { ...base, name: base.name ?? 'huber_loss', fnOptions: { delta } });
    this.delta = delta;
  }
  override getConfig(): Config {
    // Keras's Huber.get_config leaves delta out (so a reloaded Keras Huber has delta 1); Strata keeps it.
    return { ...baseConfig(this), delta: this.delta };
  }
  static override fromConfig(config: Config): Huber {
    return new Huber(readLossConfig('Huber', config, ['delta']));
  }
}

/** mean(log(cosh(y_pred - y_true))) (name 'log_cosh'). */
export class LogCosh extends LossFunctionWrapper {
  static override readonly className: string = 'LogCosh';
  constructor(options: LossOptions = {}) {
    super(logCosh, { ...options, name: options.name ?? 'log_cosh' });
  }
  override getConfig(): Config {
    return baseConfig(this);
  }
  static override fromConfig(config: Config): LogCosh {
    return new LogCosh(readLossConfig('LogCosh', config, []));
  }
}

// ---------------------------------------------------------------------------
// Probabilistic

/** sum(y_true * log(y_true / y_pred)) (name 'kl_divergence'). */
export class KLDivergence extends LossFunctionWrapper {
  static override readonly className: string = 'KLDivergence';
  constructor(options: LossOptions = {}) {
    super(klDivergence, { ...options, name: options.name ?? 'kl_divergence' });
  }
  override getConfig(): Config {
    return baseConfig(this);
  }
  static override fromConfig(config: Config): KLDivergence {
    return new KLDivergence(readLossConfig('KLDivergence', config, []));
  }
}

/** mean(y_pred - y_true * log(y_pred)) (name 'poisson'). */
export class Poisson extends LossFunctionWrapper {
  static override readonly className: string = 'Poisson';
  constructor(options: LossOptions = {}) {
    super(poisson, { ...options, name: options.name ?? 'poisson' });
  }
  override getConfig(): Config {
    return baseConfig(this);
  }
  static override fromConfig(config: Config): Poisson {
    return new Poisson(readLossConfig('Poisson', config, []));
  }
}

export interface CrossentropyLossOptions extends LossOptions, CrossentropyOptions {}

function crossentropyOptions(where: string, options: CrossentropyOptions): Required<CrossentropyOptions> {
  return {
    fromLogits: checkBool(where, 'from_logits', options.fromLogits ?? false),
    labelSmoothing: checkNumber(where, 'label_smoothing', options.labelSmoothing ?? 0, 0, 1),
    axis: checkAxis(where, options.axis ?? -1),
  };
}

/** Binary crossentropy (name 'binary_crossentropy'). */
export class BinaryCrossentropy extends LossFunctionWrapper {
  static override readonly className: string = 'BinaryCrossentropy';
  readonly fromLogits: boolean;
  readonly labelSmoothing: number;
  readonly axis: number;
  constructor(options: CrossentropyLossOptions = {}) {
    const own = crossentropyOptions('BinaryCrossentropy', options);
    const { fromLogits: _f, labelSmoothing: _l, axis: _a, ...base } = options;
    super(binaryCrossentropy as LossFunction, { ...base, name: base.name ?? 'binary_crossentropy', fnOptions: own });
    ({ fromLogits: this.fromLogits, labelSmoothing: this.labelSmoothing, axis: this.axis } = own);
  }
  override getConfig(): Config {
    return { ...baseConfig(this), from_logits: this.fromLogits, label_smoothing: this.labelSmoothing, axis: this.axis };
  }
  static override fromConfig(config: Config): BinaryCrossentropy {
    return new BinaryCrossentropy(readLossConfig('BinaryCrossentropy', config, ['from_logits', 'label_smoothing', 'axis']));
  }
}

export interface BinaryFocalCrossentropyLossOptions extends LossOptions, BinaryFocalCrossentropyOptions {}

/** Focal binary crossentropy (name 'binary_focal_crossentropy'). */
export class BinaryFocalCrossentropy extends LossFunctionWrapper {
  static override readonly className: string = 'BinaryFocalCrossentropy';
  readonly applyClassBalancing: boolean;
  readonly alpha: number;
  readonly gamma: number;
  readonly fromLogits: boolean;
  readonly labelSmoothing: number;
  readonly axis: number;
  constructor(options: BinaryFocalCrossentropyLossOptions = {}) {
    const where = 'BinaryFocalCrossentropy';
    const own = {
      ...crossentropyOptions(where, options),
      applyClassBalancing: checkBool(where, 'apply_class_balancing', options.applyClassBalancing ?? false),
      alpha: checkNumber(where, 'alpha', options.alpha ?? 0.25, 0, 1),
      gamma: checkNumber(where, 'gamma', options.gamma ?? 2, 0),
    };
    const { fromLogits: _f, labelSmoothing: _l, axis: _a, applyClassBalancing: _b, alpha: _al, gamma: _g, ...base } = options;
    super(binaryFocalCrossentropy as LossFunction, { ...base, name: base.name ?? 'binary_focal_crossentropy', fnOptions: own });
    this.applyClassBalancing = own.applyClassBalancing;
    this.alpha = own.alpha;
    this.gamma = own.gamma;
    this.fromLogits = own.fromLogits;
    this.labelSmoothing = own.labelSmoothing;
    this.axis = own.axis;
  }
  override getConfig(): Config {
    return {
      ...baseConfig(this),
      from_logits: this.fromLogits,
      label_smoothing: this.labelSmoothing,
      axis: this.axis,
      apply_class_balancing: this.applyClassBalancing,
      alpha: this.alpha,
      gamma: this.gamma,
    };
  }
  static override fromConfig(config: Config): BinaryFocalCrossentropy {
    return new BinaryFocalCrossentropy(
      readLossConfig('BinaryFocalCrossentropy', config, ['apply_class_balancing', 'alpha', 'gamma', 'from_logits', 'label_smoothing', 'axis']),
    );
  }
}

/** Crossentropy with one-hot labels (name 'categorical_crossentropy'). */
export class CategoricalCrossentropy extends LossFunctionWrapper {
  static override readonly className: string = 'CategoricalCrossentropy';
  readonly fromLogits: boolean;
  readonly labelSmoothing: number;
  readonly axis: number;
  constructor(options: CrossentropyLossOptions = {}) {
    const own = crossentropyOptions('CategoricalCrossentropy', options);
    const { fromLogits: _f, labelSmoothing: _l, axis: _a, ...base } = options;
    super(categoricalCrossentropy as LossFunction, { ...base, name: base.name ?? 'categorical_crossentropy', fnOptions: own });
    ({ fromLogits: this.fromLogits, labelSmoothing: this.labelSmoothing, axis: this.axis } = own);
  }
  override getConfig(): Config {
    return { ...baseConfig(this), from_logits: this.fromLogits, label_smoothing: this.labelSmoothing, axis: this.axis };
  }
  static override fromConfig(config: Config): CategoricalCrossentropy {
    return new CategoricalCrossentropy(readLossConfig('CategoricalCrossentropy', config, ['from_logits', 'label_smoothing', 'axis']));
  }
}

export interface SparseCrossentropyLossOptions extends LossOptions, SparseCrossentropyOptions {}

/**
 * Crossentropy with integer class ids (name 'sparse_categorical_crossentropy').
 * With `ignoreClass`, samples with that label are masked out: the default
 * reduction then averages over the other samples only.
 */
export class SparseCategoricalCrossentropy extends LossFunctionWrapper {
  static override readonly className: string = 'SparseCategoricalCrossentropy';
  readonly fromLogits: boolean;
  readonly ignoreClass: number | null;
  readonly axis: number;
  constructor(options: SparseCrossentropyLossOptions = {}) {
    const where = 'SparseCategoricalCrossentropy';
    const fromLogits = checkBool(where, 'from_logits', options.fromLogits ?? false);
    const ignoreClass = options.ignoreClass ?? null;
    if (ignoreClass !== null && (typeof ignoreClass !== 'number' || !Number.isInteger(ignoreClass))) {
      throw new TypeError(`${where}: Received: ignore_class=${describe(ignoreClass)}; expected an integer class id or null.`);
    }
    const axis = checkAxis(where, options.axis ?? -1);
    const { fromLogits: _f, ignoreClass: _i, axis: _a, ...base } = options;
    super(sparseCategoricalCrossentropy as LossFunction, { ...base, name: base.name ?? 'sparse_categorical_crossentropy', fnOptions: { fromLogits, ignoreClass, axis } });
    this.fromLogits = fromLogits;
    this.ignoreClass = ignoreClass;
    this.axis = axis;
  }
  override getConfig(): Config {
    const config: Config = { ...baseConfig(this), from_logits: this.fromLogits, ignore_class: this.ignoreClass };
    // Older Keras 3 releases have no `axis` argument here; write it only when it is not the default.
    if (this.axis !== -1) config.axis = this.axis;
    return config;
  }
  static override fromConfig(config: Config): SparseCategoricalCrossentropy {
    return new SparseCategoricalCrossentropy(readLossConfig('SparseCategoricalCrossentropy', config, ['from_logits', 'ignore_class', 'axis']));
  }
}

// ---------------------------------------------------------------------------
// Hinge

/** mean(max(1 - y_true * y_pred, 0)) with labels -1/1 (name 'hinge'). */
export class Hinge extends LossFunctionWrapper {
  static override readonly className: string = 'Hinge';
  constructor(options: LossOptions = {}) {
    super(hinge, { ...options, name: options.name ?? 'hinge' });
  }
  override getConfig(): Config {
    return baseConfig(this);
  }
  static override fromConfig(config: Config): Hinge {
    return new Hinge(readLossConfig('Hinge', config, []));
  }
}

/** mean(square(max(1 - y_true * y_pred, 0))) (name 'squared_hinge'). */
export class SquaredHinge extends LossFunctionWrapper {
  static override readonly className: string = 'SquaredHinge';
  constructor(options: LossOptions = {}) {
    super(squaredHinge, { ...options, name: options.name ?? 'squared_hinge' });
  }
  override getConfig(): Config {
    return baseConfig(this);
  }
  static override fromConfig(config: Config): SquaredHinge {
    return new SquaredHinge(readLossConfig('SquaredHinge', config, []));
  }
}

/** max(neg - pos + 1, 0) (name 'categorical_hinge'). */
export class CategoricalHinge extends LossFunctionWrapper {
  static override readonly className: string = 'CategoricalHinge';
  constructor(options: LossOptions = {}) {
    super(categoricalHinge, { ...options, name: options.name ?? 'categorical_hinge' });
  }
  override getConfig(): Config {
    return baseConfig(this);
  }
  static override fromConfig(config: Config): CategoricalHinge {
    return new CategoricalHinge(readLossConfig('CategoricalHinge', config, []));
  }
}

/** Every built-in loss class. */
export const LOSS_CLASSES = [
  LossFunctionWrapper,
  MeanSquaredError,
  MeanAbsoluteError,
  MeanAbsolutePercentageError,
  MeanSquaredLogarithmicError,
  CosineSimilarity,
  Huber,
  LogCosh,
  KLDivergence,
  Poisson,
  BinaryCrossentropy,
  BinaryFocalCrossentropy,
  CategoricalCrossentropy,
  SparseCategoricalCrossentropy,
  Hinge,
  SquaredHinge,
  CategoricalHinge,
] as const;
