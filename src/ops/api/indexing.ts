/**
 * Public indexing and array ops (keras.ops names in camelCase): joining and
 * splitting, slicing, gathering, padding, tiling, flipping, one-hot, top-k
 * and sorting, running sums and products.
 *
 * Primitives (in ../defs/indexing.ts): concatenate, slice, pad (constant),
 * take, takeAlongAxis, scatterAdd, scatterAddAlongAxis, flip, topK, cumsum.
 * Everything else here is composed from them and from shape ops.
 */
import { isBool, type DType, isFloat } from '../../tensor/dtype.ts';
import { type Dim, describe, formatShape, isConcrete, normalizeAxes, normalizeAxis } from '../../tensor/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { tensor } from '../../tensor/create.ts';
import { dispatch, dispatch1 } from '../../engine/dispatch.ts';
import { OpError } from '../../engine/op.ts';
import { indexingOps as I, sliceAxis } from '../defs/indexing.ts';
import { type TensorLike, promoteOperands, toTensor } from '../convert.ts';
import * as m from './math.ts';
import * as a from './array.ts';

function tensorList(op: string, xs: readonly TensorLike[]): Tensor[] {
  if (!Array.isArray(xs)) throw new TypeError(`ops.${op}: expected a list of tensors. Received: ${describe(xs)}`);
  if (xs.length === 0) throw new OpError(op, 'Received: an empty list of tensors; expected at least one.');
  return promoteOperands(op, xs, m.cast);
}

function indicesTensor(op: string, indices: TensorLike): Tensor {
  const t = toTensor(indices, op, 'int32');
  if (t.dtype !== 'int32') throw new OpError(op, `Received: indices with dtype ${t.dtype}; expected integer indices (int32).`);
  return t;
}

function numericTensor(op: string, x: TensorLike): Tensor {
  const t = toTensor(x, op);
  return isBool(t.dtype) ? m.cast(t, 'int32') : t;
}

function checkCount(op: string, name: string, v: unknown, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new OpError(op, `Received: ${name}=${describe(v)}; expected an integer >= ${min}.`);
  }
  return v;
}

// ---------------------------------------------------------------------------
// Joining and splitting

/** Joins tensors along an existing axis. Mixed dtypes are promoted. */
export function concatenate(xs: readonly TensorLike[], axis = 0): Tensor {
  const ts = tensorList('concatenate', xs);
  const rank = ts[0].rank;
  if (rank === 0) throw new OpError('concatenate', 'Received: scalar tensors (rank 0); concatenation needs tensors of rank 1 or more.');
  const ax = normalizeAxis(axis, rank, 'ops.concatenate');
  if (ts.length === 1) return ts[0];
  return dispatch1(I.concatenate, ts, { axis: ax });
}

/** Joins tensors of the same shape along a new axis. */
export function stack(xs: readonly TensorLike[], axis = 0): Tensor {
  const ts = tensorList('stack', xs);
  const first = ts[0];
  ts.forEach((t, i) => {
    const same = t.rank === first.rank && t.shape.every((d, k) => d === null || first.shape[k] === null || d === first.shape[k]);
    if (!same) {
      throw new OpError('stack', `Received: tensor 0 of shape ${formatShape(first.shape)} and tensor ${i} of shape ${formatShape(t.shape)}; all tensors must have the same shape.`);
    }
  });
  const ax = normalizeAxis(axis, first.rank + 1, 'ops.stack');
  return concatenate(ts.map((t) => a.expandDims(t, ax)), ax);
}

export interface UnstackOptions {
  /** Number of pieces; needed only when the axis size is unknown (while tracing). */
  num?: number | null;
  axis?: number;
}

/** Splits a tensor into the slices along `axis`, removing that axis. */
export function unstack(x: TensorLike, options: UnstackOptions = {}): Tensor[] {
  const t = toTensor(x, 'unstack');
  const ax = normalizeAxis(options.axis ?? 0, t.rank, 'ops.unstack');
  let n = t.shape[ax];
  const num = options.num ?? null;
  if (num !== null) checkCount('unstack', 'num', num);
  if (n === null) {
    if (num === null) {
      throw new OpError('unstack', `cannot unstack axis ${ax} of shape ${formatShape(t.shape)}: its size is unknown. Pass num to say how many pieces to expect.`);
    }
    n = num;
  } else if (num !== null && num !== n) {
    throw new OpError('unstack', `Received: num=${num} for axis ${ax} of size ${n} (shape ${formatShape(t.shape)}); num must match the size.`);
  }
  return Array.from({ length: n }, (_, i) => a.squeeze(sliceAxis(t, ax, i, i + 1), ax));
}

/**
 * Splits into equal sections (an integer, which must divide the axis size)
 * or at the given split points (like NumPy's `array_split` indices).
 */
export function split(x: TensorLike, indicesOrSections: number | readonly number[], axis = 0): Tensor[] {
  const t = toTensor(x, 'split');
  const ax = normalizeAxis(axis, t.rank, 'ops.split');
  const n = t.shape[ax];
  let points: number[];
  if (typeof indicesOrSections === 'number') {
    const sections = checkCount('split', 'indices_or_sections', indicesOrSections, 1);
    if (n === null) {
      throw new OpError('split', `cannot split axis ${ax} of shape ${formatShape(t.shape)} into ${sections} equal sections: its size is unknown. Pass split points instead.`);
    }
    if (n % sections !== 0) {
      throw new OpError('split', `Received: indices_or_sections=${sections} for axis ${ax} of size ${n}; the sections must be equal, so ${sections} must divide ${n}.`);
    }
    points = Array.from({ length: sections - 1 }, (_, i) => ((i + 1) * n) / sections);
  } else if (Array.isArray(indicesOrSections)) {
    points = [...indicesOrSections];
    points.forEach((p, i) => {
      if (!Number.isInteger(p) || p < 0 || (i > 0 && p < points[i - 1]) || (n !== null && p > n)) {
        throw new OpError('split', `Received: indices_or_sections=${JSON.stringify(indicesOrSections)} for axis ${ax} of size ${n ?? 'None'}; split points must be non-decreasing integers in [0, ${n ?? 'size'}].`);
      }
    });
  } else {
    throw new OpError('split', `Received: indices_or_sections=${describe(indicesOrSections)}; expected an integer or an array of split points.`);
  }
  const bounds = [0, ...points];
  return bounds.map((b, i) => sliceAxis(t, ax, b, i + 1 < bounds.length ? bounds[i + 1] : null));
}

// ---------------------------------------------------------------------------
// Slicing and gathering

/**
 * The block of `x` starting at `startIndices` with the given `shape` (Keras
 * `ops.slice`); a size of -1 takes everything to the end of that axis.
 */
export function slice(x: TensorLike, startIndices: readonly number[], shape: readonly number[]): Tensor {
  const t = toTensor(x, 'slice');
  if (!Array.isArray(startIndices) || !Array.isArray(shape) || startIndices.length !== t.rank || shape.length !== t.rank) {
    throw new OpError('slice', `Received: start_indices=${describe(startIndices)} and shape=${describe(shape)} for a tensor of rank ${t.rank}; expected one entry per axis in each.`);
  }
  const end = t.shape.map((n, d) => {
    const b = startIndices[d], s = shape[d];
    if (!Number.isInteger(b) || b < 0) throw new OpError('slice', `Received: start_indices=${JSON.stringify(startIndices)}; entry ${d} must be a non-negative integer.`);
    if (!Number.isInteger(s) || s < -1) throw new OpError('slice', `Received: shape=${JSON.stringify(shape)}; entry ${d} must be a non-negative integer, or -1 for "to the end".`);
    if (n !== null && (b > n || (s !== -1 && b + s > n))) {
      throw new OpError('slice', `Received: start_indices=${JSON.stringify(startIndices)} and shape=${JSON.stringify(shape)} for a tensor of shape ${formatShape(t.shape)}; along axis ${d} the slice [${b}, ${s === -1 ? 'end' : b + s}) exceeds the size ${n}.`);
    }
    return s === -1 ? null : b + s;
  });
  if (t.shape.every((n, d) => startIndices[d] === 0 && (end[d] === null || end[d] === n))) return t;
  return dispatch1(I.slice, [t], { begin: [...startIndices], end });
}

/**
 * Elements of `x` at `indices` along `axis` (of the flattened `x` when axis
 * is null). The result has shape `x.shape[:axis] + indices.shape +
 * x.shape[axis+1:]`. Negative indices count from the end; an index out of
 * range is an error.
 */
export function take(x: TensorLike, indices: TensorLike, axis: number | null = null): Tensor {
  let t = toTensor(x, 'take');
  const idx = indicesTensor('take', indices);
  let ax = 0;
  if (axis === null || axis === undefined) t = a.reshape(t, [-1]);
  else ax = normalizeAxis(axis, t.rank, 'ops.take');
  return dispatch1(I.take, [t, idx], { axis: ax });
}

/**
 * NumPy's `take_along_axis`: `out[..., j, ...] = x[..., indices[..., j, ...], ...]`
 * along `axis`. The other axes of `x` and `indices` broadcast against each
 * other. With axis null both are flattened.
 */
export function takeAlongAxis(x: TensorLike, indices: TensorLike, axis: number | null = null): Tensor {
  let t = toTensor(x, 'takeAlongAxis');
  let idx = indicesTensor('takeAlongAxis', indices);
  let ax: number;
  if (axis === null || axis === undefined) {
    t = a.reshape(t, [-1]);
    idx = a.reshape(idx, [-1]);
    ax = 0;
  } else {
    ax = normalizeAxis(axis, t.rank, 'ops.takeAlongAxis');
    if (idx.rank !== t.rank) {
      throw new OpError('takeAlongAxis', `Received: indices of shape ${formatShape(idx.shape)} for x of shape ${formatShape(t.shape)}; indices must have the same rank as x (${t.rank}).`);
    }
    [t, idx] = broadcastExceptAxis('takeAlongAxis', t, idx, ax);
  }
  return dispatch1(I.takeAlongAxis, [t, idx], { axis: ax });
}

/** Broadcasts the non-axis dims of `x` and `indices` against each other (static sizes only where they differ). */
function broadcastExceptAxis(op: string, x: Tensor, idx: Tensor, axis: number): [Tensor, Tensor] {
  const xTarget: Dim[] = [...x.shape];
  const iTarget: Dim[] = [...idx.shape];
  let xChange = false, iChange = false;
  for (let d = 0; d < x.rank; d++) {
    if (d === axis) continue;
    const dx = x.shape[d], di = idx.shape[d];
    if (dx === di || (dx === null && di !== 1) || (di === null && dx !== 1)) continue;
    if (dx === 1) {
      xTarget[d] = di;
      xChange = true;
    } else if (di === 1) {
      iTarget[d] = dx;
      iChange = true;
    } else {
      throw new OpError(op, `Received: x of shape ${formatShape(x.shape)} and indices of shape ${formatShape(idx.shape)}; dimension ${d} (${dx} and ${di}) cannot be broadcast (sizes must match or one must be 1).`);
    }
  }
  const expand = (t: Tensor, target: Dim[], change: boolean): Tensor => {
    if (!change) return t;
    if (!isConcrete(target)) {
      throw new OpError(op, `cannot broadcast a tensor of shape ${formatShape(t.shape)} to ${formatShape(target)} while a size is unknown; give x and indices the same sizes on the axes other than ${axis}.`);
    }
    return a.broadcastTo(t, target);
  };
  return [expand(x, xTarget, xChange), expand(idx, iTarget, iChange)];
}

/**
 * `data` with `updates` added at `indices` along `axis` (duplicate indices
 * accumulate): the adjoint of `take`. `updates` has the shape
 * `data.shape[:axis] + indices.shape + data.shape[axis+1:]`. (A Strata
 * extra, used by the gradient of `take`.)
 */
export function scatterAdd(data: TensorLike, indices: TensorLike, updates: TensorLike, axis = 0): Tensor {
  const [d, u] = promoteOperands('scatterAdd', [data, updates], m.cast).map((t) => (isBool(t.dtype) ? m.cast(t, 'int32') : t));
  const idx = indicesTensor('scatterAdd', indices);
  return dispatch1(I.scatterAdd, [d, idx, u], { axis: normalizeAxis(axis, d.rank, 'ops.scatterAdd') });
}

/**
 * `data` with `updates[..., j, ...]` added at `indices[..., j, ...]` along
 * `axis` (duplicates accumulate): the adjoint of `takeAlongAxis`. `indices`
 * and `updates` have the same shape. (A Strata extra.)
 */
export function scatterAddAlongAxis(data: TensorLike, indices: TensorLike, updates: TensorLike, axis = -1): Tensor {
  const [d, u] = promoteOperands('scatterAddAlongAxis', [data, updates], m.cast).map((t) => (isBool(t.dtype) ? m.cast(t, 'int32') : t));
  const idx = indicesTensor('scatterAddAlongAxis', indices);
  return dispatch1(I.scatterAddAlongAxis, [d, idx, u], { axis: normalizeAxis(axis, d.rank, 'ops.scatterAddAlongAxis') });
}

// ---------------------------------------------------------------------------
// Padding, tiling, repeating, flipping

export type PadMode = 'constant' | 'reflect' | 'symmetric';
export type PadWidth = number | readonly number[] | readonly (readonly number[])[];

/** NumPy-style pad widths: n, [n], [before, after], or one [before, after] per axis (or one for all). */
function padWidths(padWidth: PadWidth, rank: number): number[][] {
  const bad = () => new OpError('pad', `Received: pad_width=${describe(padWidth)} for a tensor of rank ${rank}; expected an integer, [before, after], or one [before, after] pair per axis, all non-negative integers.`);
  let pairs: number[][];
  if (typeof padWidth === 'number') pairs = Array.from({ length: rank }, () => [padWidth, padWidth]);
  else if (!Array.isArray(padWidth)) throw bad();
  else if (padWidth.every((v) => typeof v === 'number')) {
    const flat = padWidth as readonly number[];
    if (flat.length === 1) pairs = Array.from({ length: rank }, () => [flat[0], flat[0]]);
    else if (flat.length === 2) pairs = Array.from({ length: rank }, () => [flat[0], flat[1]]);
    else throw bad();
  } else {
    const list = padWidth as readonly (readonly number[])[];
    if (!list.every((p) => Array.isArray(p) && (p.length === 1 || p.length === 2))) throw bad();
    const norm = list.map((p) => (p.length === 1 ? [p[0], p[0]] : [p[0], p[1]]));
    if (norm.length === 1) pairs = Array.from({ length: rank }, () => norm[0]);
    else if (norm.length === rank) pairs = norm;
    else throw bad();
  }
  if (!pairs.every((p) => p.every((v) => Number.isInteger(v) && v >= 0))) throw bad();
  return pairs;
}

/**
 * Pads `x`. Modes: 'constant' (with `constantValues`), 'reflect' (mirror
 * without repeating the edge; pads must be smaller than the axis) and
 * 'symmetric' (mirror repeating the edge; pads at most the axis size).
 */
export function pad(x: TensorLike, padWidth: PadWidth, mode: PadMode = 'constant', constantValues: number | boolean | null = null): Tensor {
  const t = toTensor(x, 'pad');
  const widths = padWidths(padWidth, t.rank);
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'symmetric') {
    throw new OpError('pad', `Received: mode=${describe(mode)}; expected 'constant', 'reflect' or 'symmetric'.`);
  }
  if (mode !== 'constant' && constantValues !== null && constantValues !== undefined && Number(constantValues) !== 0) {
    throw new OpError('pad', `Received: constant_values=${constantValues} with mode='${mode}'; constant values apply only to mode='constant'.`);
  }
  if (widths.every(([b, e]) => b === 0 && e === 0)) return t;
  if (mode === 'constant') {
    let value = Number(constantValues ?? 0);
    if (isBool(t.dtype)) value = value ? 1 : 0;
    else if (!isFloat(t.dtype)) value = Math.trunc(value);
    return dispatch1(I.pad, [t], { padWidth: widths, value });
  }
  // Mirror padding: per axis, flipped slices joined on both sides.
  let y = t;
  widths.forEach(([before, after], ax) => {
    if (before === 0 && after === 0) return;
    const n = y.shape[ax];
    const limit = mode === 'reflect' ? 'smaller than' : 'at most';
    if (n !== null && (mode === 'reflect' ? Math.max(before, after) >= n : Math.max(before, after) > n)) {
      throw new OpError('pad', `Received: pad_width=[${before}, ${after}] for axis ${ax} of size ${n} with mode='${mode}'; the padding must be ${limit} the size of the axis.`);
    }
    const skip = mode === 'reflect' ? 1 : 0;
    const parts: Tensor[] = [];
    if (before > 0) parts.push(flip(sliceAxis(y, ax, skip, skip + before), ax));
    parts.push(y);
    if (after > 0) parts.push(flip(sliceAxis(y, ax, -(after + skip), skip === 0 ? null : -skip), ax));
    y = concatenate(parts, ax);
  });
  return y;
}

/** Repeats the whole tensor `repeats[i]` times along axis i (NumPy `tile`). */
export function tile(x: TensorLike, repeats: number | readonly number[]): Tensor {
  let t = toTensor(x, 'tile');
  const reps = typeof repeats === 'number' ? [repeats] : Array.isArray(repeats) ? [...repeats] : null;
  if (!reps || !reps.every((r) => Number.isInteger(r) && r >= 0)) {
    throw new OpError('tile', `Received: repeats=${describe(repeats)}; expected a non-negative integer or an array of them.`);
  }
  if (reps.length > t.rank) t = a.expandDims(t, Array.from({ length: reps.length - t.rank }, (_, i) => i));
  while (reps.length < t.rank) reps.unshift(1);
  reps.forEach((r, ax) => {
    if (r === 1) return;
    t = r === 0 ? sliceAxis(t, ax, 0, 0) : concatenate(Array.from({ length: r }, () => t), ax);
  });
  return t;
}

/**
 * Repeats each element `repeats` times along `axis` (of the flattened tensor
 * when axis is null); `repeats` may also give one count per element.
 */
export function repeat(x: TensorLike, repeats: number | readonly number[], axis: number | null = null): Tensor {
  let t = toTensor(x, 'repeat');
  let ax = 0;
  if (axis === null || axis === undefined) t = a.reshape(t, [-1]);
  else ax = normalizeAxis(axis, t.rank, 'ops.repeat');
  const n = t.shape[ax];
  const counts = typeof repeats === 'number' ? null : Array.isArray(repeats) ? repeats : undefined;
  if (counts === undefined) throw new OpError('repeat', `Received: repeats=${describe(repeats)}; expected a non-negative integer or an array of them.`);
  if (counts !== null && counts.length === 1) return repeat(t, counts[0], ax);
  if (counts === null) {
    const r = checkCount('repeat', 'repeats', repeats);
    if (r === 1) return t;
    if (n === null) throw new OpError('repeat', `cannot repeat along axis ${ax} of shape ${formatShape(t.shape)}: its size is unknown.`);
    const indices = new Int32Array(n * r);
    for (let i = 0; i < indices.length; i++) indices[i] = Math.floor(i / r);
    return dispatch1(I.take, [t, tensor(indices, [indices.length], 'int32')], { axis: ax });
  }
  if (n === null || counts.length !== n) {
    throw new OpError('repeat', `Received: repeats with ${counts.length} entries for axis ${ax} of size ${n ?? 'None'} (shape ${formatShape(t.shape)}); expected one count per element.`);
  }
  counts.forEach((c) => checkCount('repeat', 'repeats', c));
  const indices = new Int32Array(counts.reduce((p, c) => p + c, 0));
  let k = 0;
  counts.forEach((c, i) => indices.fill(i, k, (k += c)));
  return dispatch1(I.take, [t, tensor(indices, [indices.length], 'int32')], { axis: ax });
}

/** Reverses the order of elements along `axis` (all axes when null). */
export function flip(x: TensorLike, axis: number | readonly number[] | null = null): Tensor {
  const t = toTensor(x, 'flip');
  const axes = normalizeAxes(axis, t.rank, 'ops.flip').filter((ax) => t.shape[ax] !== 1);
  if (axes.length === 0) return t;
  return dispatch1(I.flip, [t], { axes });
}

// ---------------------------------------------------------------------------
// One-hot, top-k, sorting

export interface OneHotOptions {
  axis?: number;
  dtype?: DType;
}

/**
 * One-hot encoding: a new axis of size `numClasses` (last by default) that
 * is 1 at the class index. Negative or out-of-range classes (and non-integer
 * float values) give all zeros, as in TensorFlow.
 */
export function oneHot(x: TensorLike, numClasses: number, options: OneHotOptions = {}): Tensor {
  const t = numericTensor('oneHot', x);
  const n = checkCount('oneHot', 'num_classes', numClasses);
  const dtype = options.dtype ?? 'float32';
  const ax = normalizeAxis(options.axis ?? -1, t.rank + 1, 'ops.oneHot');
  const classesShape = Array.from({ length: t.rank + 1 }, (_, i) => (i === ax ? n : 1));
  const classes = tensor(Int32Array.from({ length: n }, (_, i) => i), classesShape, 'int32');
  return m.cast(m.equal(a.expandDims(t, ax), classes), dtype);
}

/**
 * The `k` largest values along the last axis and their indices (int32).
 * Results are always sorted, largest first; ties keep the lower index first.
 */
export function topK(x: TensorLike, k: number, sorted = true): [Tensor, Tensor] {
  void sorted; // the values always come sorted (allowed when sorted=false)
  const t0 = toTensor(x, 'topK');
  const t = isBool(t0.dtype) ? m.cast(t0, 'int32') : t0;
  checkCount('topK', 'k', k);
  const [values, indices] = dispatch(I.topK, [t], { k, largest: true });
  return [isBool(t0.dtype) ? m.cast(values, 'bool') : values, indices];
}

/** Ascending stable sort along `axis` (through topK over the whole axis, moved last). */
function sortAlong(op: string, x: TensorLike, axis: number | null): [Tensor, Tensor, DType] {
  let t = toTensor(x, op);
  const dtype = t.dtype;
  if (isBool(dtype)) t = m.cast(t, 'int32');
  let ax: number;
  if (axis === null || axis === undefined) {
    t = a.reshape(t, [-1]);
    ax = 0;
  } else ax = normalizeAxis(axis, t.rank, `ops.${op}`);
  const last = t.rank - 1;
  const perm = t.shape.map((_, i) => (i === ax ? last : i === last ? ax : i));
  const [values, indices] = dispatch(I.topK, [a.transpose(t, perm)], { k: -1, largest: false });
  return [a.transpose(values, perm), a.transpose(indices, perm), dtype];
}

/** Sorted copy along `axis` (ascending; the flattened tensor when null). */
export function sort(x: TensorLike, axis: number | null = -1): Tensor {
  const [values, , dtype] = sortAlong('sort', x, axis);
  return values.dtype === dtype ? values : m.cast(values, dtype);
}

/** Indices that sort `x` along `axis` (ascending, stable: ties keep their order). */
export function argsort(x: TensorLike, axis: number | null = -1): Tensor {
  return sortAlong('argsort', x, axis)[1];
}

// ---------------------------------------------------------------------------
// Running sums and products

function scanInput(op: string, x: TensorLike, axis: number | null, dtype: DType | null | undefined): { t: Tensor; axis: number } {
  let t = toTensor(x, op);
  if (dtype) t = m.cast(t, dtype);
  if (isBool(t.dtype)) t = m.cast(t, 'int32');
  if (axis === null || axis === undefined) return { t: a.reshape(t, [-1]), axis: 0 };
  return { t, axis: normalizeAxis(axis, t.rank, `ops.${op}`) };
}

/** Running sum along `axis` (of the flattened tensor when null). Booleans count as int32. */
export function cumsum(x: TensorLike, axis: number | null = null, dtype: DType | null = null): Tensor {
  const { t, axis: ax } = scanInput('cumsum', x, axis, dtype);
  return dispatch1(I.cumsum, [t], { axis: ax, reverse: false });
}

/**
 * Running product along `axis` (of the flattened tensor when null). Composed
 * as a log-depth scan (each step multiplies by the running value shifted by
 * 1, 2, 4, ... places), so gradients are exact even with zeros.
 */
export function cumprod(x: TensorLike, axis: number | null = null, dtype: DType | null = null): Tensor {
  const { t, axis: ax } = scanInput('cumprod', x, axis, dtype);
  const n = t.shape[ax];
  if (n === null) throw new OpError('cumprod', `needs the size of axis ${ax} (shape ${formatShape(t.shape)}), which is unknown while tracing.`);
  let y = t;
  for (let s = 1; s < n; s *= 2) {
    const widths = t.shape.map((_, d) => (d === ax ? [s, 0] : [0, 0]));
    const shifted = dispatch1(I.pad, [sliceAxis(y, ax, 0, n - s)], { padWidth: widths, value: 1 });
    y = m.multiply(y, shifted);
  }
  return y;
}
