/**
 * Shape primitives: reshape, expandDims, squeeze, transpose, broadcastTo,
 * and the "like" ops that take a shape from another tensor at run time
 * (needed when a traced graph has unknown dimensions, e.g. the batch).
 */
import { allocate, type DType } from '../../tensor/dtype.ts';
import { type Dim, broadcastShapes, formatShape, sizeOf } from '../../tensor/shape.ts';
import { defineOps, nonDifferentiable, OpError } from '../../engine/op.ts';
import { broadcastValues } from '../kernels/elementwise.ts';
import { transposeValues } from '../kernels/transpose.ts';
import * as a from '../api/array.ts';

export interface ShapeOpsAttrs {
  reshape: { readonly shape: readonly number[] };
  expandDims: { readonly axes: readonly number[] };
  squeeze: { readonly axes: readonly number[] };
  transpose: { readonly perm: readonly number[] };
  broadcastTo: { readonly shape: readonly number[] };
  broadcastLike: Record<string, never>;
  reshapeLike: Record<string, never>;
  fillLike: { readonly value: number; readonly dtype: DType };
}

/** Resolves a reshape target (-1 allowed once) against an input shape that may have unknown dims. */
export function reshapeTarget(op: string, from: readonly Dim[], to: readonly number[]): Dim[] {
  const unknown = to.filter((d) => d === -1).length;
  if (unknown > 1) throw new OpError(op, `Received: shape=${JSON.stringify(to)}; only one dimension can be -1.`);
  for (const d of to) {
    if (!Number.isInteger(d) || d < -1) throw new OpError(op, `Received: shape=${JSON.stringify(to)}; dimensions must be integers >= 0, or -1 once.`);
  }
  const size = sizeOf(from);
  const known = to.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  if (size === null) {
    return to.map((d) => (d === -1 ? null : d));
  }
  if (unknown === 1) {
    if (known === 0 || size % known !== 0) {
      throw new OpError(op, `cannot reshape a tensor of shape ${formatShape(from)} (${size} elements) into shape ${JSON.stringify(to)}.`);
    }
    return to.map((d) => (d === -1 ? size / known : d));
  }
  if (known !== size) {
    throw new OpError(op, `cannot reshape a tensor of shape ${formatShape(from)} (${size} elements) into shape ${formatShape(to)} (${known} elements).`);
  }
  return [...to];
}

/**
 * The stored value of `value` as `dtype`. For bool it is `value != 0` (NaN is
 * true), as in NumPy and as `cast` does: filling a Uint8Array with 0.5 stored
 * 0 (false) eagerly while the lowering's bool constant was true, so
 * fullLike(x, 0.5, 'bool') differed between eager and compiled code.
 */
function fillValue(value: number, dtype: DType): number {
  return dtype === 'bool' ? (value !== 0 ? 1 : 0) : value;
}

export const shapeOps = defineOps<ShapeOpsAttrs>()({
  reshape: {
    name: 'reshape',
    infer: ([x], { shape }) => [{ shape: reshapeTarget('reshape', x.shape, shape), dtype: x.dtype }],
    kernel: ([x]) => [x.values],
    grad: ({ inputs: [x], dys: [dy] }) => [a.reshapeLike(dy, x)],
    toOnnx: (b, [x], { shape }) => [b.op('Reshape', [x, b.int64s(shape)], shape.includes(0) ? { allowzero: 1 } : {})],
  },
  expandDims: {
    name: 'expandDims',
    infer: ([x], { axes }) => {
      const rank = x.shape.length + axes.length;
      const shape: Dim[] = [];
      let src = 0;
      for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : x.shape[src++]);
      if (axes.some((ax) => ax < 0 || ax >= rank)) throw new OpError('expandDims', `Received: axis=${JSON.stringify(axes)} for an output of rank ${rank}.`);
      return [{ shape, dtype: x.dtype }];
    },
    kernel: ([x]) => [x.values],
    grad: ({ dys: [dy], attrs: { axes } }) => [a.squeeze(dy, axes)],
    toOnnx: (b, [x], { axes }) => [b.op('Unsqueeze', [x, b.int64s(axes)])],
  },
  squeeze: {
    name: 'squeeze',
    infer: ([x], { axes }) => {
      for (const ax of axes) {
        if (ax < 0 || ax >= x.shape.length) throw new OpError('squeeze', `Received: axis=${ax} for a tensor of rank ${x.shape.length}.`);
        if (x.shape[ax] !== 1 && x.shape[ax] !== null) {
          throw new OpError('squeeze', `cannot squeeze axis ${ax} of shape ${formatShape(x.shape)}: its size is ${x.shape[ax]}, not 1.`);
        }
      }
      return [{ shape: x.shape.filter((_, i) => !axes.includes(i)), dtype: x.dtype }];
    },
    kernel: ([x]) => [x.values],
    grad: ({ inputs: [x], dys: [dy] }) => [a.reshapeLike(dy, x)],
    toOnnx: (b, [x], { axes }) => [b.op('Squeeze', [x, b.int64s(axes)])],
  },
  transpose: {
    name: 'transpose',
    infer: ([x], { perm }) => {
      const rank = x.shape.length;
      const sorted = [...perm].sort((p, q) => p - q);
      if (perm.length !== rank || sorted.some((p, i) => p !== i)) {
        throw new OpError('transpose', `Received: axes=${JSON.stringify(perm)} for a tensor of rank ${rank}; expected a permutation of 0..${rank - 1}.`);
      }
      return [{ shape: perm.map((p) => x.shape[p]), dtype: x.dtype }];
    },
    kernel: ([x], { perm }) => [transposeValues(x.values, x.shape, perm, x.dtype)],
    grad: ({ dys: [dy], attrs: { perm } }) => {
      const inverse = new Array<number>(perm.length);
      perm.forEach((p, i) => (inverse[p] = i));
      return [a.transpose(dy, inverse)];
    },
    toOnnx: (b, [x], { perm }) => [b.op('Transpose', [x], { perm })],
  },
  broadcastTo: {
    name: 'broadcastTo',
    infer: ([x], { shape }) => {
      if (x.shape.length > shape.length) {
        throw new OpError('broadcastTo', `cannot broadcast a tensor of shape ${formatShape(x.shape)} to the lower-rank shape ${formatShape(shape)}.`);
      }
      const out = broadcastShapes(x.shape, shape, 'ops.broadcastTo');
      if (out.some((d, i) => d !== shape[i] && d !== null)) {
        throw new OpError('broadcastTo', `cannot broadcast a tensor of shape ${formatShape(x.shape)} to shape ${formatShape(shape)}.`);
      }
      return [{ shape: [...shape], dtype: x.dtype }];
    },
    kernel: ([x], _attrs, [out]) => [broadcastValues(x, out.shape, out.dtype)],
    // The engine sums the gradient back over the broadcast axes.
    grad: ({ dys: [dy] }) => [dy],
    toOnnx: (b, [x], { shape }) => [b.op('Expand', [x, b.int64s(shape)])],
  },
  broadcastLike: {
    name: 'broadcastLike',
    infer: ([x, ref]) => [{ shape: broadcastShapes(x.shape, ref.shape, 'ops.broadcastLike'), dtype: x.dtype }],
    kernel: ([x], _attrs, [out]) => [broadcastValues(x, out.shape, out.dtype)],
    grad: ({ dys: [dy] }) => [dy, null],
    shapeOnlyInputs: [1],
    toOnnx: (b, [x, ref]) => [b.op('Expand', [x, b.op('Shape', [ref])])],
  },
  reshapeLike: {
    name: 'reshapeLike',
    infer: ([x, ref]) => {
      const [xs, rs] = [sizeOf(x.shape), sizeOf(ref.shape)];
      if (xs !== null && rs !== null && xs !== rs) {
        throw new OpError('reshapeLike', `cannot reshape a tensor of shape ${formatShape(x.shape)} into shape ${formatShape(ref.shape)}.`);
      }
      return [{ shape: ref.shape, dtype: x.dtype }];
    },
    kernel: ([x]) => [x.values],
    grad: ({ inputs: [x], dys: [dy] }) => [a.reshapeLike(dy, x), null],
    shapeOnlyInputs: [1],
    toOnnx: (b, [x, ref]) => [b.op('Reshape', [x, b.op('Shape', [ref])], { allowzero: 1 })],
  },
  fillLike: {
    name: 'fillLike',
    infer: ([ref], { dtype }) => [{ shape: ref.shape, dtype }],
    kernel: ([ref], { value, dtype }) => {
      const out = allocate(dtype, ref.values.length);
      if (value !== 0) out.fill(fillValue(value, dtype));
      return [out];
    },
    grad: nonDifferentiable("'fillLike' (zerosLike / onesLike / fullLike) depends only on the shape of its input"),
    shapeOnlyInputs: [0],
    toOnnx: (b, [ref], { value, dtype }) => [b.op('Expand', [b.scalar(fillValue(value, dtype), dtype), b.op('Shape', [ref])])],
  },
});
