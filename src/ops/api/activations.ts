/**
 * Activation functions (keras.ops.nn names in camelCase). All are
 * composites of elementwise and reduction primitives, so they need no
 * gradient rule or lowering of their own. Keyword arguments may be passed
 * positionally (`leakyRelu(x, 0.1)`) or as options (`leakyRelu(x, {negativeSlope: 0.1})`).
 *
 * Where a function has a kink, the gradient there follows TensorFlow/JAX
 * (relu'(0) = 0, relu6'(6) = 0), and branches that could overflow are fed
 * clamped inputs, so an unused branch never turns a gradient into NaN.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { isBool, isFloat } from '../../tensor/dtype.ts';
import { normalizeAxes } from '../../tensor/shape.ts';
import { OpError } from '../../engine/op.ts';
import { type TensorLike, toTensor } from '../convert.ts';
import * as m from './math.ts';
import * as r from './reduce.ts';

export { sigmoid, tanh } from './math.ts';

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

function float(x: TensorLike, op: string): Tensor {
  const t = toTensor(x, op);
  return isFloat(t.dtype) ? t : m.cast(t, 'float32');
}

function numeric(x: TensorLike, op: string): Tensor {
  const t = toTensor(x, op);
  return isBool(t.dtype) ? m.cast(t, 'int32') : t;
}

/** Reads an optional keyword argument given positionally or in an options object. */
function option<T>(arg: T | Record<string, unknown> | undefined, key: string, fallback: T): T {
  if (arg !== null && typeof arg === 'object' && !Array.isArray(arg)) {
    const v = (arg as Record<string, unknown>)[key];
    return v === undefined ? fallback : (v as T);
  }
  return arg === undefined ? fallback : (arg as T);
}

function checkNumber(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new OpError(op, `Received: ${name}=${String(v)}; expected a finite number.`);
  return v;
}

/** max(x, 0). */
export function relu(x: TensorLike): Tensor {
  // The constant comes first so that the gradient at exactly 0 is 0, as in TensorFlow and JAX.
  return m.maximum(0, numeric(x, 'relu'));
}

/** min(max(x, 0), 6). */
export function relu6(x: TensorLike): Tensor {
  return m.minimum(6, m.maximum(0, numeric(x, 'relu6')));
}

/** x where x >= 0, else negativeSlope * x (Keras 3 default slope 0.2). */
export function leakyRelu(x: TensorLike, negativeSlope: number | { negativeSlope?: number } = 0.2): Tensor {
  const slope = checkNumber('leakyRelu', 'negativeSlope', option(negativeSlope, 'negativeSlope', 0.2));
  const t = float(x, 'leakyRelu');
  // max(x, slope * x) is leaky relu when 0 <= slope <= 1 (two ops instead of three).
  if (slope >= 0 && slope <= 1) return m.maximum(t, m.multiply(t, slope));
  return m.where(m.greaterEqual(t, 0), t, m.multiply(t, slope));
}

/** x where x > 0, else alpha * (exp(x) - 1). */
export function elu(x: TensorLike, alpha: number | { alpha?: number } = 1): Tensor {
  const al = checkNumber('elu', 'alpha', option(alpha, 'alpha', 1));
  const t = float(x, 'elu');
  // expm1 sees min(x, 0): no overflow, so the unused branch cannot make the gradient NaN.
  const negative = m.expm1(m.minimum(t, 0));
  return m.where(m.greater(t, 0), t, al === 1 ? negative : m.multiply(negative, al));
}

/** Scaled exponential linear unit: scale * elu(x, alpha) with the self-normalizing constants. */
export function selu(x: TensorLike): Tensor {
  return m.multiply(elu(x, SELU_ALPHA), SELU_SCALE);
}

/** Continuously differentiable ELU: max(x, 0) + alpha * min(0, exp(x / alpha) - 1), alpha > 0. */
export function celu(x: TensorLike, alpha: number | { alpha?: number } = 1): Tensor {
  const al = checkNumber('celu', 'alpha', option(alpha, 'alpha', 1));
  if (!(al > 0)) throw new OpError('celu', `Received: alpha=${al}; expected alpha > 0.`);
  const t = float(x, 'celu');
  const negative = m.multiply(m.expm1(m.divide(m.minimum(t, 0), al)), al);
  return m.where(m.greater(t, 0), t, negative);
}

/**
 * Gaussian error linear unit. `approximate` (default true, as keras.ops.gelu)
 * uses 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); otherwise the exact
 * x/2 (1 + erf(x / sqrt(2))).
 */
export function gelu(x: TensorLike, approximate: boolean | { approximate?: boolean } = true): Tensor {
  const approx = option(approximate, 'approximate', true);
  const t = float(x, 'gelu');
  const half = m.multiply(t, 0.5);
  if (!approx) return m.multiply(half, m.add(m.erf(m.multiply(t, Math.SQRT1_2)), 1));
  const cube = m.multiply(m.square(t), t);
  const inner = m.multiply(m.add(t, m.multiply(cube, 0.044715)), Math.sqrt(2 / Math.PI));
  return m.multiply(half, m.add(m.tanh(inner), 1));
}

/** relu6(x + 3) / 6 (Keras 3). */
export function hardSigmoid(x: TensorLike): Tensor {
  return m.divide(relu6(m.add(float(x, 'hardSigmoid'), 3)), 6);
}

/** x * hardSigmoid(x). */
export function hardSilu(x: TensorLike): Tensor {
  const t = float(x, 'hardSilu');
  return m.multiply(t, hardSigmoid(t));
}
export const hardSwish = hardSilu;

/** x * sigmoid(x). */
export function silu(x: TensorLike): Tensor {
  const t = float(x, 'silu');
  return m.multiply(t, m.sigmoid(t));
}
export const swish = silu;

/**
 * log(1 + exp(x)), computed as relu(x) + log1p(exp(-|x|)) so it neither
 * overflows nor loses small values. relu is written (x + |x|) / 2, which is
 * exact and gives the true derivative 1/2 at 0.
 */
export function softplus(x: TensorLike): Tensor {
  const t = float(x, 'softplus');
  const ax = m.abs(t);
  return m.add(m.multiply(m.add(t, ax), 0.5), m.log1p(m.exp(m.negative(ax))));
}

/** log(sigmoid(x)) = -softplus(-x), stable for large |x|. */
export function logSigmoid(x: TensorLike): Tensor {
  return m.negative(softplus(m.negative(float(x, 'logSigmoid'))));
}

/** x / (1 + |x|). */
export function softsign(x: TensorLike): Tensor {
  const t = float(x, 'softsign');
  return m.divide(t, m.add(m.abs(t), 1));
}

/** x * tanh(softplus(x)). */
export function mish(x: TensorLike): Tensor {
  const t = float(x, 'mish');
  return m.multiply(t, m.tanh(softplus(t)));
}

/** Clips to [-1, 1]. */
export function hardTanh(x: TensorLike): Tensor {
  return m.minimum(1, m.maximum(-1, float(x, 'hardTanh')));
}

/** x - tanh(x). */
export function tanhShrink(x: TensorLike): Tensor {
  const t = float(x, 'tanhShrink');
  return m.subtract(t, m.tanh(t));
}

/** x where |x| > threshold, else 0. */
export function hardShrink(x: TensorLike, threshold: number | { threshold?: number } = 0.5): Tensor {
  const th = checkNumber('hardShrink', 'threshold', option(threshold, 'threshold', 0.5));
  const t = float(x, 'hardShrink');
  return m.where(m.greater(m.abs(t), th), t, 0);
}

/** x - threshold where x > threshold, x + threshold where x < -threshold, else 0. */
export function softShrink(x: TensorLike, threshold: number | { threshold?: number } = 0.5): Tensor {
  const th = checkNumber('softShrink', 'threshold', option(threshold, 'threshold', 0.5));
  const t = float(x, 'softShrink');
  return m.where(m.greater(t, th), m.subtract(t, th), m.where(m.less(t, -th), m.add(t, th), 0));
}

/** (x + sqrt(x^2 + b)) / 2, a smooth relu (b >= 0, default 4). */
export function squareplus(x: TensorLike, b: number | { b?: number } = 4): Tensor {
  const bb = checkNumber('squareplus', 'b', option(b, 'b', 4));
  if (bb < 0) throw new OpError('squareplus', `Received: b=${bb}; expected b >= 0.`);
  const t = float(x, 'squareplus');
  return m.multiply(m.add(t, m.sqrt(m.add(m.square(t), bb))), 0.5);
}

/** 0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1. */
export function sparsePlus(x: TensorLike): Tensor {
  const t = float(x, 'sparsePlus');
  const middle = m.multiply(m.square(m.add(m.clip(t, -1, 1), 1)), 0.25);
  return m.where(m.greaterEqual(t, 1), t, m.where(m.lessEqual(t, -1), 0, middle));
}

/** 0 for x <= -1, (x + 1) / 2 for -1 < x < 1, 1 for x >= 1. */
export function sparseSigmoid(x: TensorLike): Tensor {
  return m.multiply(m.add(m.clip(float(x, 'sparseSigmoid'), -1, 1), 1), 0.5);
}

/** x where x > threshold, else defaultValue. */
export function threshold(x: TensorLike, thresholdValue: number, defaultValue: number): Tensor {
  checkNumber('threshold', 'threshold', thresholdValue);
  if (typeof defaultValue !== 'number') throw new OpError('threshold', `Received: default_value=${String(defaultValue)}; expected a number.`);
  const t = float(x, 'threshold');
  return m.where(m.greater(t, thresholdValue), t, defaultValue);
}

type AxisArg = number | readonly number[];

function softmaxAxes(op: string, t: Tensor, axis: AxisArg | { axis?: AxisArg } | undefined): number[] {
  const ax = option<AxisArg>(axis as AxisArg | undefined, 'axis', -1);
  if (t.rank === 0) throw new OpError(op, 'Received: a scalar; expected a tensor of rank >= 1.');
  return normalizeAxes(ax, t.rank, `ops.${op}`);
}

/**
 * exp(x) / sum(exp(x)) along `axis` (default -1; a list of axes normalizes
 * over all of them). Shifted by the maximum (through stopGradient: softmax
 * does not depend on the shift), so large logits do not overflow.
 */
export function softmax(x: TensorLike, axis: AxisArg | { axis?: AxisArg } = -1): Tensor {
  const t = float(x, 'softmax');
  const axes = softmaxAxes('softmax', t, axis);
  const e = m.exp(m.subtract(t, m.stopGradient(r.max(t, { axis: axes, keepdims: true }))));
  return m.divide(e, r.sum(e, { axis: axes, keepdims: true }));
}

/** log(softmax(x)) along `axis`, computed as (x - max) - log(sum(exp(x - max))). */
export function logSoftmax(x: TensorLike, axis: AxisArg | { axis?: AxisArg } = -1): Tensor {
  const t = float(x, 'logSoftmax');
  const axes = softmaxAxes('logSoftmax', t, axis);
  const shifted = m.subtract(t, m.stopGradient(r.max(t, { axis: axes, keepdims: true })));
  return m.subtract(shifted, m.log(r.sum(m.exp(shifted), { axis: axes, keepdims: true })));
}
