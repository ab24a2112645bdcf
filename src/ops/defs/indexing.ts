/**
 * Indexing and array primitives: concatenate, slice, constant pad, take
 * (gather along an axis), takeAlongAxis (gather elements), the two
 * scatter-adds that are their adjoints, flip, topK and cumsum. Axes arrive
 * normalized (non-negative) from the public wrappers in ../api/indexing.ts,
 * which also hold the composites (stack, split, tile, repeat, oneHot, sort,
 * reflect/symmetric padding, cumprod ...).
 */
import type { DType } from '../../tensor/dtype.ts';
import { type Dim, type Shape, formatShape } from '../../tensor/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { defineOps, OpError, type TensorType } from '../../engine/op.ts';
import { ONNX_TYPE, type OnnxEmitter } from '../../engine/onnx-types.ts';
import { dispatch1 } from '../../engine/dispatch.ts';
import {
  aroundAxis, concatValues, cumsumValues, flipValues, normalizeIndices, padValues, product,
  scatterAddAlongAxisValues, scatterAddValues, sliceValues, takeAlongAxisValues, takeValues, topKValues,
} from '../kernels/indexing.ts';
import * as a from '../api/array.ts';
import * as ix from '../api/indexing.ts';

export interface AxisAttrs {
  readonly axis: number;
}
export interface SliceAttrs {
  /** Per axis, the first index (negative counts from the end). */
  readonly begin: readonly number[];
  /** Per axis, one past the last index (negative counts from the end; null: to the end). */
  readonly end: readonly (number | null)[];
}
export interface PadAttrs {
  /** Per axis, [before, after] (non-negative). */
  readonly padWidth: readonly (readonly number[])[];
  readonly value: number;
}
export interface TopKAttrs {
  /** How many values per row; -1 for the whole last axis (sorting). */
  readonly k: number;
  readonly largest: boolean;
}
export interface CumsumAttrs {
  readonly axis: number;
  readonly reverse: boolean;
}

export interface IndexingOpsAttrs {
  concatenate: AxisAttrs;
  slice: SliceAttrs;
  pad: PadAttrs;
  take: AxisAttrs;
  scatterAdd: AxisAttrs;
  takeAlongAxis: AxisAttrs;
  scatterAddAlongAxis: AxisAttrs;
  flip: { readonly axes: readonly number[] };
  topK: TopKAttrs;
  cumsum: CumsumAttrs;
}

const NUMERIC: readonly DType[] = ['float32', 'float64', 'int32'];

/** ONNX ends that mean "through the end" and "through the start" (for negative steps). */
const TO_END = Number.MAX_SAFE_INTEGER;
const TO_START = -Number.MAX_SAFE_INTEGER;

function checkAxis(op: string, axis: number, rank: number, arg = 'axis'): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) {
    const expected = rank === 0 ? 'a scalar has no axis' : `expected an axis in [0, ${rank})`;
    throw new OpError(op, `Received: ${arg}=${axis} for a tensor of rank ${rank}; ${expected}.`);
  }
}

function checkNumeric(op: string, t: TensorType, arg: string): void {
  if (!NUMERIC.includes(t.dtype)) throw new OpError(op, `Received: ${arg} with dtype ${t.dtype}; expected one of ${NUMERIC.join(', ')}.`);
}

function checkIndices(op: string, t: TensorType): void {
  if (t.dtype !== 'int32') throw new OpError(op, `Received: indices with dtype ${t.dtype}; expected int32 indices.`);
}

/** Two dims that must agree: the known one wins; two different known sizes are an error. */
function mergeDim(op: string, a: Dim, b: Dim, what: () => string): Dim {
  if (a === null) return b;
  if (b === null || a === b) return a;
  throw new OpError(op, what());
}

/** Resolves one axis of a slice against a known size; null when out of range. */
function resolveSlice(b: number, e: number | null, n: number): [number, number] | null {
  const rb = b < 0 ? b + n : b;
  const re = e === null ? n : e < 0 ? e + n : e;
  return rb >= 0 && rb <= re && re <= n ? [rb, re] : null;
}

function inferSlice([x]: readonly TensorType[], { begin, end }: SliceAttrs): TensorType[] {
  const rank = x.shape.length;
  if (begin.length !== rank || end.length !== rank) {
    throw new OpError('slice', `Received: begin=${JSON.stringify(begin)} and end=${JSON.stringify(end)} for a tensor of rank ${rank}; expected one entry per axis.`);
  }
  const shape = x.shape.map((n, d) => {
    const b = begin[d], e = end[d];
    if (!Number.isInteger(b) || (e !== null && !Number.isInteger(e))) {
      throw new OpError('slice', `Received: begin=${b}, end=${e} for axis ${d}; expected integers.`);
    }
    if (n !== null) {
      const r = resolveSlice(b, e, n);
      if (!r) {
        throw new OpError('slice', `Received: begin=${b}, end=${e === null ? 'None' : e} for axis ${d} of size ${n} (shape ${formatShape(x.shape)}); expected 0 <= begin <= end <= ${n} after counting negative values from the end.`);
      }
      return r[1] - r[0];
    }
    // Unknown size: the length is known only when both ends count from the same side.
    if (e === null) return b < 0 ? -b : null;
    if ((b >= 0) === (e >= 0)) {
      if (e < b) throw new OpError('slice', `Received: begin=${b}, end=${e} for axis ${d}; end must not come before begin.`);
      return e - b;
    }
    return null;
  });
  return [{ shape, dtype: x.dtype }];
}

/** The dims of a slice's start in a known shape. */
function sliceBegins(shape: readonly number[], { begin }: SliceAttrs): number[] {
  return shape.map((n, d) => (begin[d] < 0 ? begin[d] + n : begin[d]));
}

/** One-axis slice through the primitive (negative bounds allowed; null end: to the end). */
export function sliceAxis(x: Tensor, axis: number, begin: number, end: number | null): Tensor {
  const b = x.shape.map(() => 0);
  const e: (number | null)[] = x.shape.map(() => null);
  b[axis] = begin;
  e[axis] = end;
  return sliceOp(x, { begin: b, end: e });
}

// Typed wrappers for the rules that run this family's own primitives with attrs the public functions do not expose.
function sliceOp(x: Tensor, attrs: SliceAttrs): Tensor {
  return dispatch1(indexingOps.slice, [x], attrs);
}
function cumsumOp(x: Tensor, attrs: CumsumAttrs): Tensor {
  return dispatch1(indexingOps.cumsum, [x], attrs);
}

function inferConcat(inputs: readonly TensorType[], { axis }: AxisAttrs): TensorType[] {
  if (inputs.length === 0) throw new OpError('concatenate', 'Received: an empty list of tensors; expected at least one.');
  const first = inputs[0];
  const rank = first.shape.length;
  if (rank === 0) throw new OpError('concatenate', 'Received: scalar tensors (rank 0); concatenation needs tensors of rank 1 or more.');
  checkAxis('concatenate', axis, rank);
  const shape: Dim[] = [...first.shape];
  let along: Dim = first.shape[axis];
  inputs.forEach((t, i) => {
    if (i === 0) return;
    if (t.dtype !== first.dtype) {
      throw new OpError('concatenate', `Received: tensor 0 with dtype ${first.dtype} and tensor ${i} with dtype ${t.dtype}; all tensors must have the same dtype.`);
    }
    if (t.shape.length !== rank) {
      throw new OpError('concatenate', `Received: tensor 0 of shape ${formatShape(first.shape)} and tensor ${i} of shape ${formatShape(t.shape)}; all tensors must have the same rank.`);
    }
    for (let d = 0; d < rank; d++) {
      if (d === axis) continue;
      shape[d] = mergeDim('concatenate', shape[d], t.shape[d], () =>
        `Received: tensor 0 of shape ${formatShape(first.shape)} and tensor ${i} of shape ${formatShape(t.shape)}; all dimensions except axis ${axis} must match (dimension ${d} differs).`);
    }
    along = along === null || t.shape[axis] === null ? null : along + (t.shape[axis] as number);
  });
  shape[axis] = along;
  return [{ shape, dtype: first.dtype }];
}

/**
 * Where each input of a concatenation sits along the axis, as slice bounds
 * of the output: offsets from the start while the sizes before are known,
 * from the end while the sizes after are known.
 */
function concatBounds(sizes: readonly Dim[]): [number, number | null][] {
  return sizes.map((_, i) => {
    const before = sizes.slice(0, i);
    const through = sizes.slice(0, i + 1);
    const from = sizes.slice(i);
    const after = sizes.slice(i + 1);
    const known = (ds: readonly Dim[]) => ds.every((d) => d !== null);
    const total = (ds: readonly Dim[]) => ds.reduce<number>((p, d) => p + (d as number), 0);
    let begin: number;
    if (known(before)) begin = total(before);
    else if (known(from)) begin = -total(from);
    else throw unknownConcatSize(sizes);
    let end: number | null;
    if (known(through)) end = total(through);
    else if (known(after)) end = total(after) === 0 ? null : -total(after);
    else throw unknownConcatSize(sizes);
    return [begin, end];
  });
}

function unknownConcatSize(sizes: readonly Dim[]): OpError {
  return new OpError('concatenate', `the gradient needs the sizes of the inputs along the concatenation axis, but more than one is unknown (sizes ${formatShape(sizes)}).`);
}

/** Checks `updates` against the shape a take of `indices` from `data` along `axis` would have. */
function takeShape(data: Shape, indices: Shape, axis: number): Dim[] {
  return [...data.slice(0, axis), ...indices, ...data.slice(axis + 1)];
}

function inferAlongAxis(op: string, x: TensorType, indices: TensorType, axis: number, xArg = 'x'): Dim[] {
  checkIndices(op, indices);
  const rank = x.shape.length;
  checkAxis(op, axis, rank);
  if (indices.shape.length !== rank) {
    throw new OpError(op, `Received: indices of shape ${formatShape(indices.shape)} for ${xArg} of shape ${formatShape(x.shape)}; indices must have the same rank as ${xArg} (${rank}).`);
  }
  return indices.shape.map((d, i) => {
    if (i === axis) return d;
    return mergeDim(op, x.shape[i], d, () =>
      `Received: indices of shape ${formatShape(indices.shape)} for ${xArg} of shape ${formatShape(x.shape)}; all dimensions except axis ${axis} must match (dimension ${i} differs).`);
  });
}

function transposePerm(rank: number, axis: number, count: number): number[] {
  // Moves axes [axis, axis + count) to the front, keeping the others in order.
  const front = Array.from({ length: count }, (_, i) => axis + i);
  const rest = Array.from({ length: rank }, (_, i) => i).filter((i) => i < axis || i >= axis + count);
  return [...front, ...rest];
}

function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

function maybeTranspose(b: OnnxEmitter, x: string, perm: readonly number[]): string {
  return perm.every((p, i) => p === i) ? x : b.op('Transpose', [x], { perm });
}

export const indexingOps = defineOps<IndexingOpsAttrs>()({
  concatenate: {
    name: 'concatenate',
    infer: inferConcat,
    kernel: (inputs, { axis }, [out]) => [concatValues(inputs, axis, out.shape, out.dtype)],
    grad: ({ inputs, dys: [dy], attrs: { axis }, needsInputGrad }) => {
      const bounds = concatBounds(inputs.map((t) => t.shape[axis]));
      return inputs.map((_, i) => (needsInputGrad[i] ? sliceAxis(dy, axis, bounds[i][0], bounds[i][1]) : null));
    },
    toOnnx: (b, inputs, { axis }) => [b.op('Concat', inputs, { axis })],
  },

  slice: {
    name: 'slice',
    infer: inferSlice,
    kernel: ([x], attrs, [out]) => [sliceValues(x.values, x.shape, sliceBegins(x.shape, attrs), out.shape, x.dtype)],
    // The gradient is dy padded with zeros back to x's extent.
    grad: ({ inputs: [x], dys: [dy], attrs: { begin, end } }) => {
      const widths = x.shape.map((n, d) => {
        const b = begin[d], e = end[d];
        const needSize = () =>
          new OpError('slice', `the gradient needs the size of axis ${d} of the sliced tensor (shape ${formatShape(x.shape)}), which is unknown, to place begin=${b}, end=${e}.`);
        let before: number, after: number;
        if (b >= 0) before = b;
        else if (n !== null) before = b + n;
        else throw needSize();
        if (e === null) after = 0;
        else if (e < 0) after = -e;
        else if (n !== null) after = n - e;
        else throw needSize();
        return [before, after];
      });
      return [ix.pad(dy, widths)];
    },
    toOnnx: (b, [x], { begin, end }, { inputs: [t] }) => {
      if (t.shape.length === 0) return [b.op('Identity', [x])];
      const axes = t.shape.map((_, i) => i);
      return [b.op('Slice', [x, b.int64s(begin), b.int64s(end.map((e) => (e === null ? TO_END : e))), b.int64s(axes)])];
    },
  },

  pad: {
    name: 'pad',
    infer: ([x], { padWidth }) => {
      const rank = x.shape.length;
      if (padWidth.length !== rank) {
        throw new OpError('pad', `Received: pad_width=${JSON.stringify(padWidth)} for a tensor of rank ${rank}; expected one [before, after] pair per axis.`);
      }
      const shape = x.shape.map((n, d) => {
        const w = padWidth[d];
        if (w.length !== 2 || !w.every((v) => Number.isInteger(v) && v >= 0)) {
          throw new OpError('pad', `Received: pad_width=${JSON.stringify(w)} for axis ${d}; expected [before, after] with non-negative integers.`);
        }
        return n === null ? null : n + w[0] + w[1];
      });
      return [{ shape, dtype: x.dtype }];
    },
    kernel: ([x], { padWidth, value }, [out]) => [padValues(x.values, x.shape, padWidth.map((w) => w[0]), out.shape, value, x.dtype)],
    grad: ({ dys: [dy], attrs: { padWidth } }) => [
      sliceOp(dy, { begin: padWidth.map((w) => w[0]), end: padWidth.map((w) => (w[1] === 0 ? null : -w[1])) }),
    ],
    toOnnx: (b, [x], { padWidth, value }, { inputs: [t] }) => {
      if (padWidth.length === 0) return [b.op('Identity', [x])];
      const pads = [...padWidth.map((w) => w[0]), ...padWidth.map((w) => w[1])];
      return [b.op('Pad', [x, b.int64s(pads), b.scalar(value, t.dtype)], { mode: 'constant' })];
    },
  },

  take: {
    name: 'take',
    infer: ([x, indices], { axis }) => {
      checkIndices('take', indices);
      checkAxis('take', axis, x.shape.length);
      return [{ shape: takeShape(x.shape, indices.shape, axis), dtype: x.dtype }];
    },
    kernel: ([x, indices], { axis }, [out]) => {
      const { outer, n, inner } = aroundAxis(x.shape, axis);
      return [takeValues(x.values, outer, n, inner, normalizeIndices('take', indices.values, n, axis), out.dtype)];
    },
    grad: ({ inputs: [x, indices], dys: [dy], attrs: { axis } }) => [ix.scatterAdd(a.zerosLike(x), indices, dy, axis), null],
    // ONNX Gather wraps negative indices like NumPy.
    toOnnx: (b, [x, indices], { axis }) => [b.op('Gather', [x, indices], { axis })],
  },

  scatterAdd: {
    name: 'scatterAdd',
    infer: ([data, indices, updates], { axis }) => {
      checkNumeric('scatterAdd', data, 'data');
      checkIndices('scatterAdd', indices);
      checkAxis('scatterAdd', axis, data.shape.length);
      if (updates.dtype !== data.dtype) {
        throw new OpError('scatterAdd', `Received: data with dtype ${data.dtype} and updates with dtype ${updates.dtype}; they must have the same dtype.`);
      }
      const expected = takeShape(data.shape, indices.shape, axis);
      const fits = updates.shape.length === expected.length && updates.shape.every((d, i) => d === null || expected[i] === null || d === expected[i]);
      if (!fits) {
        throw new OpError('scatterAdd', `Received: updates of shape ${formatShape(updates.shape)}; with data of shape ${formatShape(data.shape)}, indices of shape ${formatShape(indices.shape)} and axis=${axis} they must have shape ${formatShape(expected)}.`);
      }
      return [{ shape: data.shape, dtype: data.dtype }];
    },
    kernel: ([data, indices, updates], { axis }) => {
      const { outer, n, inner } = aroundAxis(data.shape, axis);
      return [scatterAddValues(data.values, outer, n, inner, normalizeIndices('scatterAdd', indices.values, n, axis), updates.values)];
    },
    grad: ({ inputs: [, indices], dys: [dy], attrs: { axis }, needsInputGrad }) => [dy, null, needsInputGrad[2] ? ix.take(dy, indices, axis) : null],
    // ScatterND addresses leading axes: move `axis` (and the index dims of updates) to the front.
    toOnnx: (b, [data, indices, updates], { axis }, { inputs: [dt, it] }) => {
      const rank = dt.shape.length;
      const q = it.shape.length;
      const dataPerm = transposePerm(rank, axis, 1);
      const updPerm = transposePerm(rank - 1 + q, axis, q);
      const idx = b.op('Unsqueeze', [b.op('Cast', [indices], { to: ONNX_TYPE.int64 }), b.int64s([-1])]);
      const scattered = b.op('ScatterND', [maybeTranspose(b, data, dataPerm), idx, maybeTranspose(b, updates, updPerm)], { reduction: 'add' });
      return [maybeTranspose(b, scattered, inversePerm(dataPerm))];
    },
  },

  takeAlongAxis: {
    name: 'takeAlongAxis',
    infer: ([x, indices], { axis }) => [{ shape: inferAlongAxis('takeAlongAxis', x, indices, axis), dtype: x.dtype }],
    kernel: ([x, indices], { axis }, [out]) => {
      const { outer, n, inner } = aroundAxis(x.shape, axis);
      return [takeAlongAxisValues('takeAlongAxis', x.values, outer, n, inner, indices.values, indices.shape[axis], axis, out.dtype)];
    },
    grad: ({ inputs: [x, indices], dys: [dy], attrs: { axis } }) => [ix.scatterAddAlongAxis(a.zerosLike(x), indices, dy, axis), null],
    toOnnx: (b, [x, indices], { axis }) => [b.op('GatherElements', [x, indices], { axis })],
  },

  scatterAddAlongAxis: {
    name: 'scatterAddAlongAxis',
    infer: ([data, indices, updates], { axis }) => {
      checkNumeric('scatterAddAlongAxis', data, 'data');
      if (updates.dtype !== data.dtype) {
        throw new OpError('scatterAddAlongAxis', `Received: data with dtype ${data.dtype} and updates with dtype ${updates.dtype}; they must have the same dtype.`);
      }
      const idxShape = inferAlongAxis('scatterAddAlongAxis', data, indices, axis, 'data');
      const fits = updates.shape.length === idxShape.length && updates.shape.every((d, i) => d === null || idxShape[i] === null || d === idxShape[i]);
      if (!fits) {
        throw new OpError('scatterAddAlongAxis', `Received: updates of shape ${formatShape(updates.shape)} and indices of shape ${formatShape(indices.shape)}; they must have the same shape.`);
      }
      return [{ shape: data.shape, dtype: data.dtype }];
    },
    kernel: ([data, indices, updates], { axis }) => {
      const { outer, n, inner } = aroundAxis(data.shape, axis);
      return [scatterAddAlongAxisValues('scatterAddAlongAxis', data.values, outer, n, inner, indices.values, indices.shape[axis], axis, updates.values)];
    },
    grad: ({ inputs: [, indices], dys: [dy], attrs: { axis }, needsInputGrad }) => [dy, null, needsInputGrad[2] ? ix.takeAlongAxis(dy, indices, axis) : null],
    toOnnx: (b, [data, indices, updates], { axis }) => [b.op('ScatterElements', [data, indices, updates], { axis, reduction: 'add' })],
  },

  flip: {
    name: 'flip',
    infer: ([x], { axes }) => {
      const rank = x.shape.length;
      for (const ax of axes) checkAxis('flip', ax, rank);
      if (new Set(axes).size !== axes.length) throw new OpError('flip', `Received: axis=${JSON.stringify(axes)} with a repeated axis.`);
      return [{ shape: x.shape, dtype: x.dtype }];
    },
    kernel: ([x], { axes }) => [flipValues(x.values, x.shape, axes, x.dtype)],
    grad: ({ dys: [dy], attrs: { axes } }) => [ix.flip(dy, axes)],
    toOnnx: (b, [x], { axes }) => {
      if (axes.length === 0) return [b.op('Identity', [x])];
      const minus = axes.map(() => -1);
      return [b.op('Slice', [x, b.int64s(minus), b.int64s(axes.map(() => TO_START)), b.int64s(axes), b.int64s(minus)])];
    },
  },

  topK: {
    name: 'topK',
    infer: ([x], { k }) => {
      checkNumeric('topK', x, 'x');
      const rank = x.shape.length;
      if (rank === 0) throw new OpError('topK', 'Received: a scalar (rank 0); expected a tensor of rank 1 or more (top_k works along the last axis).');
      const n = x.shape[rank - 1];
      if (!Number.isInteger(k) || k < -1) throw new OpError('topK', `Received: k=${k}; expected a non-negative integer.`);
      if (k > 0 && n !== null && k > n) {
        throw new OpError('topK', `Received: k=${k} for a last axis of size ${n} (shape ${formatShape(x.shape)}); k must be at most ${n}.`);
      }
      const shape = [...x.shape.slice(0, -1), k === -1 ? n : k];
      return [{ shape, dtype: x.dtype }, { shape, dtype: 'int32' }];
    },
    kernel: ([x], { largest }, [out]) => {
      const n = x.shape[x.shape.length - 1];
      const k = out.shape[out.shape.length - 1];
      const rows = product(x.shape, 0, x.shape.length - 1);
      return topKValues(x.values, rows, n, k, largest, x.dtype);
    },
    // The values are a permutation of part of x: send each gradient back to where its value came from.
    grad: ({ inputs: [x], outputs: [, indices], dys: [dy] }) => [ix.scatterAddAlongAxis(a.zerosLike(x), indices, dy, x.shape.length - 1)],
    toOnnx: (b, [x], { k, largest }) => {
      // Always sorted: ONNX leaves the order of an unsorted TopK unspecified, the eager kernel sorts.
      const kInput = k === -1 ? b.op('Slice', [b.op('Shape', [x]), b.int64s([-1]), b.int64s([TO_END])]) : b.int64s([k]);
      const [values, indices] = b.node('TopK', [x, kInput], { axis: -1, largest: largest ? 1 : 0, sorted: 1 }, { outputs: 2 });
      return [values, b.op('Cast', [indices], { to: ONNX_TYPE.int32 })];
    },
  },

  cumsum: {
    name: 'cumsum',
    infer: ([x], { axis }) => {
      checkNumeric('cumsum', x, 'x');
      checkAxis('cumsum', axis, x.shape.length);
      return [{ shape: x.shape, dtype: x.dtype }];
    },
    kernel: ([x], { axis, reverse }) => {
      const { outer, n, inner } = aroundAxis(x.shape, axis);
      return [cumsumValues(x.values, outer, n, inner, reverse, x.dtype)];
    },
    // Each input feeds every later output: the adjoint is the running sum taken from the other end.
    grad: ({ dys: [dy], attrs: { axis, reverse } }) => [cumsumOp(dy, { axis, reverse: !reverse })],
    toOnnx: (b, [x], { axis, reverse }) => [b.op('CumSum', [x, b.scalar(axis, 'int64')], { reverse: reverse ? 1 : 0 })],
  },
});
