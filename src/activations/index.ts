/**
 * `strata.activations` (keras.activations): activation functions by their
 * Keras names, `get`, `serialize` and `deserialize`.
 *
 * Every function is built on `ops`, so it runs eagerly and inside traced
 * functions. Defaults follow keras.activations where they differ from
 * keras.ops: `gelu` here is exact by default (approximate=false).
 *
 * Built-ins serialize to their Keras name ('relu'); a custom function
 * registered with `registerSerializable(fn, {package})` serializes to
 * `{module: null, class_name: 'function', config: '<name>', registered_name: '<package>><name>'}`.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { normalizeAxis, formatShape, describe } from '../tensor/shape.ts';
import { range } from '../tensor/create.ts';
import { isFloat } from '../tensor/dtype.ts';
import { isKerasObject, deserializeObject, serializeObject } from '../serialization/keras-object.ts';
import { withCustomObjects, type Config } from '../serialization/registry.ts';
import { type TensorLike, toTensor } from '../ops/convert.ts';
import * as ops from '../ops/index.ts';
import { type AnyFunction, type Serialized, type SerializedLike, resolveFunction, serializeFunction, validNames } from '../initializers/lookup.ts';

export type { Serialized, SerializedFunction, SerializedLike } from '../initializers/lookup.ts';

/** An activation: a tensor in, a tensor of the same shape out. */
export type Activation = (x: Tensor) => Tensor;

/** Anything `get` accepts: a Keras name, a function, a serialized function, or null/undefined (linear). */
export type ActivationIdentifier = string | Activation | SerializedLike | null | undefined;

function float(x: TensorLike, where: string): Tensor {
  const t = toTensor(x, where);
  return isFloat(t.dtype) ? t : ops.cast(t, 'float32');
}

export interface ReluOptions {
  /** Slope below the threshold (default 0). */
  negativeSlope?: number;
  /** Saturation value (default none). */
  maxValue?: number | null;
  /** Values at or below it are damped or set to 0 (default 0). */
  threshold?: number;
}

/**
 * Rectified linear unit (keras.activations.relu): max(x, 0) by default;
 * with options, `x` above `threshold` (clipped at `maxValue`) and
 * `negativeSlope * (x - threshold)` below it.
 */
export function relu(x: TensorLike, options: ReluOptions = {}): Tensor {
  const slope = options.negativeSlope ?? 0;
  const maxValue = options.maxValue ?? null;
  const threshold = options.threshold ?? 0;
  for (const [name, v] of [['negativeSlope', slope], ['threshold', threshold], ['maxValue', maxValue ?? 0]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`activations.relu: Received: ${name}=${describe(v)}; expected a finite number.`);
  }
  if (slope === 0 && maxValue === null && threshold === 0) return ops.relu(x);
  let t = float(x, 'relu');
  if (slope !== 0 && maxValue === null && threshold === 0) return ops.leakyRelu(t, slope);
  const negativePart = slope !== 0 ? ops.relu(threshold !== 0 ? ops.add(ops.negative(t), threshold) : ops.negative(t)) : null;
  const original = t;
  let clipMax = maxValue !== null;
  if (threshold !== 0) t = ops.multiply(original, ops.cast(ops.greater(original, threshold), original.dtype));
  else if (maxValue === 6) {
    t = ops.relu6(original);
    clipMax = false;
  } else t = ops.relu(original);
  if (clipMax) t = ops.clip(t, 0, maxValue!);
  if (negativePart) t = ops.subtract(t, ops.multiply(negativePart, slope));
  return t;
}

/** x for x >= 0, negativeSlope * x otherwise (default slope 0.2). */
export function leakyRelu(x: TensorLike, negativeSlope: number | { negativeSlope?: number } = 0.2): Tensor {
  return ops.leakyRelu(x, negativeSlope);
}

/** min(max(x, 0), 6). */
export const relu6 = ops.relu6;

/** exp(x) / sum(exp(x)) along `axis` (default -1). */
export function softmax(x: TensorLike, axis: number | readonly number[] | { axis?: number | readonly number[] } = -1): Tensor {
  return ops.softmax(x, axis);
}

/** max(x, 0) + alpha * min(0, exp(x / alpha) - 1) (default alpha 1). */
export function celu(x: TensorLike, alpha: number | { alpha?: number } = 1): Tensor {
  return ops.celu(x, alpha);
}

/** x for x > 0, alpha * (exp(x) - 1) otherwise (default alpha 1). */
export function elu(x: TensorLike, alpha: number | { alpha?: number } = 1): Tensor {
  return ops.elu(x, alpha);
}

/** Scaled exponential linear unit. */
export const selu = ops.selu;
/** log(1 + exp(x)). */
export const softplus = ops.softplus;
/** x / (1 + |x|). */
export const softsign = ops.softsign;

/** (x + sqrt(x^2 + b)) / 2 (default b 4). */
export function squareplus(x: TensorLike, b: number | { b?: number } = 4): Tensor {
  return ops.squareplus(x, b);
}

/** x - threshold above threshold, x + threshold below -threshold, else 0 (default 0.5). */
export function softShrink(x: TensorLike, threshold: number | { threshold?: number } = 0.5): Tensor {
  return ops.softShrink(x, threshold);
}

/** 0 for x <= -1, (x + 1)^2 / 4 for |x| < 1, x for x >= 1. */
export const sparsePlus = ops.sparsePlus;
/** x * sigmoid(x) (also 'swish'). */
export const silu = ops.silu;
export const swish = silu;

/**
 * Gaussian error linear unit, exact by default as keras.activations.gelu
 * (x/2 (1 + erf(x / sqrt(2)))); `approximate: true` uses the tanh form.
 */
export function gelu(x: TensorLike, approximate: boolean | { approximate?: boolean } = false): Tensor {
  const approx = typeof approximate === 'object' && approximate !== null ? (approximate.approximate ?? false) : approximate;
  return ops.gelu(x, approx);
}

/** Gated linear unit: splits `x` in two halves a, b along `axis` (default -1) and returns a * sigmoid(b). */
export function glu(x: TensorLike, axis: number | { axis?: number } = -1): Tensor {
  const t = float(x, 'glu');
  const ax = normalizeAxis(typeof axis === 'object' ? (axis.axis ?? -1) : axis, t.rank, 'activations.glu');
  const n = t.shape[ax];
  if (n === null || n % 2 !== 0) {
    throw new RangeError(`activations.glu: the size of axis ${ax} must be known and divisible by 2. Received: x.shape=${formatShape(t.shape)} with axis=${ax}.`);
  }
  const [a, b] = ops.split(t, 2, ax);
  return ops.multiply(a, ops.sigmoid(b));
}

/** Hyperbolic tangent. */
export const tanh = ops.tanh;
/** x - tanh(x). */
export const tanhShrink = ops.tanhShrink;

/** x where x > threshold, else defaultValue (both required, as in Keras). */
export function threshold(x: TensorLike, thresholdValue: number, defaultValue: number): Tensor {
  if (thresholdValue === undefined || defaultValue === undefined) {
    throw new TypeError('activations.threshold: needs `threshold` and `default_value`: call it as threshold(x, threshold, defaultValue).');
  }
  return ops.threshold(x, thresholdValue, defaultValue);
}

/** 1 / (1 + exp(-x)). */
export const sigmoid = ops.sigmoid;
/** 0 for x <= -1, (x + 1) / 2 for |x| < 1, 1 for x >= 1. */
export const sparseSigmoid = ops.sparseSigmoid;
/** exp(x). */
export const exponential = ops.exp;
/** relu6(x + 3) / 6. */
export const hardSigmoid = ops.hardSigmoid;
/** x * hardSigmoid(x) (also 'hard_swish'). */
export const hardSilu = ops.hardSilu;
export const hardSwish = hardSilu;
/** Clips to [-1, 1]. */
export const hardTanh = ops.hardTanh;

/** x where |x| > threshold, else 0 (default 0.5). */
export function hardShrink(x: TensorLike, threshold: number | { threshold?: number } = 0.5): Tensor {
  return ops.hardShrink(x, threshold);
}

/** The identity (what `null` or 'linear' gives). */
export function linear(x: TensorLike): Tensor {
  return toTensor(x, 'linear');
}

/** x * tanh(softplus(x)). */
export const mish = ops.mish;

/** log(softmax(x)) along `axis` (default -1). */
export function logSoftmax(x: TensorLike, axis: number | readonly number[] | { axis?: number | readonly number[] } = -1): Tensor {
  return ops.logSoftmax(x, axis);
}

/** log(sigmoid(x)). */
export const logSigmoid = ops.logSigmoid;

/**
 * Sparsemax along `axis` (default -1): the Euclidean projection of x onto
 * the probability simplex, max(x - tau, 0) with tau chosen so the outputs
 * sum to 1; many outputs are exactly 0.
 */
export function sparsemax(x: TensorLike, axis: number | { axis?: number } = -1): Tensor {
  const t = float(x, 'sparsemax');
  if (t.rank === 0) throw new RangeError('activations.sparsemax: Received: a scalar; expected a tensor of rank >= 1.');
  const ax = normalizeAxis(typeof axis === 'object' ? (axis.axis ?? -1) : axis, t.rank, 'activations.sparsemax');
  const n = t.shape[ax];
  if (n === null) throw new RangeError(`activations.sparsemax: the size of axis ${ax} must be known. Received: x.shape=${formatShape(t.shape)}.`);
  const sorted = ops.flip(ops.sort(t, ax), ax); // descending
  const kShape = t.shape.map((_, i) => (i === ax ? n : 1));
  const k = ops.reshape(range(1, n + 1, 1, t.dtype), kShape);
  const cumulative = ops.cumsum(sorted, ax);
  const support = ops.cast(ops.greater(ops.add(ops.multiply(sorted, k), 1), cumulative), t.dtype);
  const supportSize = ops.sum(support, { axis: ax, keepdims: true });
  const tau = ops.divide(ops.subtract(ops.sum(ops.multiply(sorted, support), { axis: ax, keepdims: true }), 1), supportSize);
  return ops.maximum(ops.subtract(t, tau), 0);
}

// ---------------------------------------------------------------------------
// Names

const BUILTINS: ReadonlyMap<string, AnyFunction> = new Map<string, AnyFunction>([
  ['relu', relu],
  ['leaky_relu', leakyRelu],
  ['relu6', relu6],
  ['softmax', softmax],
  ['celu', celu],
  ['elu', elu],
  ['selu', selu],
  ['softplus', softplus],
  ['softsign', softsign],
  ['squareplus', squareplus],
  ['soft_shrink', softShrink],
  ['sparse_plus', sparsePlus],
  ['silu', silu],
  ['swish', swish],
  ['gelu', gelu],
  ['glu', glu],
  ['tanh', tanh],
  ['tanh_shrink', tanhShrink],
  ['threshold', threshold],
  ['sigmoid', sigmoid],
  ['sparse_sigmoid', sparseSigmoid],
  ['exponential', exponential],
  ['hard_sigmoid', hardSigmoid],
  ['hard_silu', hardSilu],
  ['hard_swish', hardSwish],
  ['hard_tanh', hardTanh],
  ['hard_shrink', hardShrink],
  ['linear', linear],
  ['mish', mish],
  ['log_softmax', logSoftmax],
  ['log_sigmoid', logSigmoid],
  ['sparsemax', sparsemax],
]);

/** The Keras name each built-in serializes to (aliases map to the function's own name: swish → 'silu'). */
const NAME_OF = new Map<AnyFunction, string>();
for (const [name, fn] of BUILTINS) if (name !== 'swish' && name !== 'hard_swish') NAME_OF.set(fn, name);
// The ops functions with the same meaning and defaults serialize under the same names.
const OPS_ALIASES: [AnyFunction, string][] = [
  [ops.relu, 'relu'],
  [ops.leakyRelu, 'leaky_relu'],
  [ops.softmax, 'softmax'],
  [ops.celu, 'celu'],
  [ops.elu, 'elu'],
  [ops.squareplus, 'squareplus'],
  [ops.softShrink, 'soft_shrink'],
  [ops.hardShrink, 'hard_shrink'],
  [ops.logSoftmax, 'log_softmax'],
];
for (const [fn, name] of OPS_ALIASES) NAME_OF.set(fn, name);

/** Every accepted name. */
export const names: readonly string[] = [...BUILTINS.keys()];

/** Activation objects that are not functions (a layer used as an activation), by the function wrapping them. */
const wrappedObjects = new WeakMap<AnyFunction, object>();

function unknownName(name: string, where: string): never {
  const snake = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  const hint = snake !== name && BUILTINS.has(snake) ? ` Did you mean '${snake}'?` : '';
  throw new Error(`${where}: unknown activation '${name}'.${hint} Valid names: ${validNames(BUILTINS.keys())}; or a function registered with registerSerializable.`);
}

function fromName(name: string, where: string): Activation {
  const builtin = BUILTINS.get(name);
  if (builtin) return builtin as Activation;
  const custom = resolveFunction(name, name, null);
  if (custom) return custom as unknown as Activation;
  return unknownName(name, where);
}

function fromObject(value: Serialized, where: string): Activation {
  if (value.class_name === 'function') {
    const name = typeof value.config === 'string' ? value.config : '';
    const builtin = BUILTINS.get(name);
    // Keras's public-function form ({"module": "keras.activations", "config": "relu", "registered_name": "relu"}).
    if (builtin && value.module?.startsWith('keras') && (!value.registered_name || value.registered_name === name)) return builtin as Activation;
    const custom = resolveFunction(name, value.registered_name, value.module);
    if (custom) return custom as unknown as Activation;
    if (builtin && !value.registered_name) return builtin as Activation;
    const label = value.registered_name && value.registered_name !== name ? `${value.registered_name} (function ${name})` : name;
    throw new Error(
      `${where}: unknown activation function '${label}'. Register it before loading with registerSerializable(${name || 'fn'}` +
        `${value.registered_name?.includes('>') ? `, {package: '${value.registered_name.split('>')[0]}'}` : ''}), or pass it in customObjects.`,
    );
  }
  // An object used as an activation (e.g. a layer): rebuild it and call it.
  const obj = deserializeObject<unknown>(value as never, 'keras.activations', where);
  if (typeof obj === 'function') return obj as Activation;
  const callable = obj as { apply?: (x: Tensor) => unknown; call?: (x: Tensor) => unknown };
  const method = typeof callable.apply === 'function' ? 'apply' : typeof callable.call === 'function' ? 'call' : null;
  if (!method) throw new TypeError(`${where}: '${value.class_name}' does not build a function or a callable object (it built ${describe(obj)}).`);
  const fn: Activation = (x) => (callable[method] as (x: Tensor) => Tensor).call(obj, x);
  wrappedObjects.set(fn, obj as object);
  return fn;
}

/**
 * An activation function from a Keras name ('relu', 'swish', ...), a
 * function (returned as is), a serialized function, or null/undefined
 * (linear).
 */
export function get(identifier: ActivationIdentifier): Activation {
  const where = 'activations.get';
  if (identifier === null || identifier === undefined) return linear;
  if (typeof identifier === 'function') return identifier;
  if (typeof identifier === 'string') return fromName(identifier, where);
  if (isKerasObject(identifier)) return fromObject(identifier as Serialized, where);
  throw new TypeError(`${where}: could not interpret activation identifier ${describe(identifier)}. Pass a name (${validNames(BUILTINS.keys())}), a function or a serialized function.`);
}

/**
 * The Keras form of an activation: the name string for built-ins ('relu';
 * null gives 'linear'), Keras's function form for registered custom
 * functions, the object form for wrapped objects.
 */
export function serialize(activation: Activation | AnyFunction | null | undefined): string | Serialized {
  const where = 'activations.serialize';
  if (activation === null || activation === undefined) return 'linear';
  if (typeof activation !== 'function') throw new TypeError(`${where}: expected a function. Received: ${describe(activation)}`);
  const name = NAME_OF.get(activation as AnyFunction);
  if (name) return name;
  const wrapped = wrappedObjects.get(activation as AnyFunction);
  if (wrapped) return serializeObject(wrapped as { getConfig(): Config; constructor: unknown });
  return serializeFunction(activation as AnyFunction, where);
}

/** Rebuilds an activation function from a name or a serialized function; `customObjects` resolves user functions by name. */
export function deserialize(config: string | SerializedLike, customObjects?: Record<string, unknown>): Activation {
  const where = 'activations.deserialize';
  return withCustomObjects(customObjects as Record<string, AnyFunction> | undefined, () => {
    if (typeof config === 'string') return fromName(config, where);
    if (isKerasObject(config)) return fromObject(config as Serialized, where);
    throw new TypeError(`${where}: expected a name or a serialized function. Received: ${describe(config)}`);
  });
}
