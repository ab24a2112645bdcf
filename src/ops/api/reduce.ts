/**
 * Public reductions. Each takes `axis` (a number, a list, or null/undefined
 * for all axes; negative axes count from the end) and `keepdims`, either
 * positionally (`ops.sum(x, -1, true)`) or as options (`ops.sum(x, {axis: -1, keepdims: true})`).
 */
import { type DType, floatTypeFor, isBool } from '../../tensor/dtype.ts';
import { normalizeAxes, normalizeAxis, sizeOf } from '../../tensor/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { dispatch1 } from '../../engine/dispatch.ts';
import { reduceOps as R } from '../defs/reduce.ts';
import { type TensorLike, toTensor } from '../convert.ts';
import * as m from './math.ts';
import * as a from './array.ts';

export type Axis = number | readonly number[] | null | undefined;
export interface ReduceOptions {
  axis?: Axis;
  keepdims?: boolean;
}

function options(op: string, t: Tensor, axisOrOptions: Axis | ReduceOptions, keepdims?: boolean): { axes: number[]; keepdims: boolean } {
  const isOptions = axisOrOptions !== null && typeof axisOrOptions === 'object' && !Array.isArray(axisOrOptions);
  const opts: ReduceOptions = isOptions ? (axisOrOptions as ReduceOptions) : { axis: axisOrOptions as Axis, keepdims };
  return { axes: normalizeAxes(opts.axis, t.rank, `ops.${op}`), keepdims: opts.keepdims ?? false };
}

function numericInput(x: TensorLike, op: string): Tensor {
  const t = toTensor(x, op);
  return isBool(t.dtype) ? m.cast(t, 'int32') : t;
}

export function sum(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  const t = numericInput(x, 'sum');
  return dispatch1(R.sum, [t], options('sum', t, axis, keepdims));
}

export function max(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  const t = numericInput(x, 'max');
  return dispatch1(R.max, [t], options('max', t, axis, keepdims));
}

export function min(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  const t = numericInput(x, 'min');
  return dispatch1(R.min, [t], options('min', t, axis, keepdims));
}

export function prod(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  const t = numericInput(x, 'prod');
  return dispatch1(R.prod, [t], options('prod', t, axis, keepdims));
}

export function any(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  const t = m.cast(toTensor(x, 'any'), 'bool');
  return dispatch1(R.any, [t], options('any', t, axis, keepdims));
}

export function all(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  const t = m.cast(toTensor(x, 'all'), 'bool');
  return dispatch1(R.all, [t], options('all', t, axis, keepdims));
}

/**
 * `g` summed over those of `axes` along which `like` is 1 and `g` is not, decided from
 * the run-time shapes (for gradients of broadcasts where a dim is unknown when tracing).
 */
export function sumLike(g: Tensor, like: Tensor, axes: readonly number[]): Tensor {
  return dispatch1(R.sumLike, [g, like], { axes });
}

/** Number of elements along `axes` as a scalar of `dtype` (a constant unless a dim is unknown). */
export function reducedSize(x: Tensor, axes: readonly number[], dtype: DType): Tensor {
  const n = sizeOf(axes.map((ax) => x.shape[ax]));
  if (n !== null) return m.cast(n, dtype);
  return dispatch1(R.reducedSize, [x], { axes, dtype });
}

export function mean(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  let t = numericInput(x, 'mean');
  t = m.cast(t, floatTypeFor(t.dtype));
  const opts = options('mean', t, axis, keepdims);
  return m.divide(dispatch1(R.sum, [t], opts), reducedSize(t, opts.axes, t.dtype));
}

/** Population variance (Keras's `ops.var`). */
export function variance(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  let t = numericInput(x, 'var');
  t = m.cast(t, floatTypeFor(t.dtype));
  const opts = options('var', t, axis, keepdims);
  const centered = m.subtract(t, mean(t, { axis: opts.axes, keepdims: true }));
  return mean(m.square(centered), { axis: opts.axes, keepdims: opts.keepdims });
}
export { variance as var };

export function std(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  return m.sqrt(variance(x, axis, keepdims));
}

/** log(sum(exp(x))) computed stably (shifted by the maximum). */
export function logsumexp(x: TensorLike, axis?: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  let t = numericInput(x, 'logsumexp');
  t = m.cast(t, floatTypeFor(t.dtype));
  const opts = options('logsumexp', t, axis, keepdims);
  const peak = max(t, { axis: opts.axes, keepdims: true });
  // An all -inf slice would give inf - inf = NaN; shift by 0 there instead.
  const shift = m.stopGradient(m.where(m.isFinite(peak), peak, 0));
  const summed = sum(m.exp(m.subtract(t, shift)), { axis: opts.axes, keepdims: true });
  const result = m.add(m.log(summed), shift);
  return opts.keepdims || opts.axes.length === 0 ? result : a.squeeze(result, opts.axes);
}

function argOptions(op: string, t: Tensor, axis: number | null | undefined, keepdims: boolean): { t: Tensor; axis: number } {
  if (axis === null || axis === undefined) {
    if (keepdims) throw new Error(`ops.${op}: keepdims=true needs an axis.`);
    return { t: a.reshape(t, [-1]), axis: 0 };
  }
  return { t, axis: normalizeAxis(axis, t.rank, `ops.${op}`) };
}

/** Index of the largest value along `axis` (of the flattened tensor when axis is null). */
export function argmax(x: TensorLike, axis: number | null = null, keepdims = false): Tensor {
  const r = argOptions('argmax', numericInput(x, 'argmax'), axis, keepdims);
  return dispatch1(R.argmax, [r.t], { axis: r.axis, keepdims });
}

export function argmin(x: TensorLike, axis: number | null = null, keepdims = false): Tensor {
  const r = argOptions('argmin', numericInput(x, 'argmin'), axis, keepdims);
  return dispatch1(R.argmin, [r.t], { axis: r.axis, keepdims });
}
