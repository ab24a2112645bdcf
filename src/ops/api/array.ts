/** Public shape ops: reshape, expandDims, squeeze, transpose, broadcasting, *Like creation. */
import type { DType } from '../../tensor/dtype.ts';
import { type Shape, formatShape, normalizeAxes, normalizeAxis, sizeOf } from '../../tensor/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { dispatch1 } from '../../engine/dispatch.ts';
import { OpError } from '../../engine/op.ts';
import { shapeOps as S, reshapeTarget } from '../defs/shape.ts';
import { type TensorLike, toTensor } from '../convert.ts';
import { fill } from '../../tensor/create.ts';

/** The static shape of `x` (`null` for dimensions unknown while tracing). */
export function shape(x: TensorLike): Shape {
  return toTensor(x, 'shape').shape;
}

/** Reshapes to `newShape`; one dimension may be -1 (inferred). */
export function reshape(x: TensorLike, newShape: readonly number[]): Tensor {
  const t = toTensor(x, 'reshape');
  if (!Array.isArray(newShape)) throw new OpError('reshape', `Received: newshape=${String(newShape)}; expected an array of integers.`);
  const resolved = reshapeTarget('reshape', t.shape, newShape);
  if (resolved.length === t.shape.length && resolved.every((d, i) => d === t.shape[i] && d !== null)) return t;
  // Pass the resolved target when it is fully known, so graphs carry static shapes.
  const target = resolved.every((d) => d !== null) ? (resolved as number[]) : newShape;
  return dispatch1(S.reshape, [t], { shape: target });
}

/** Inserts size-1 axes at the given output positions. */
export function expandDims(x: TensorLike, axis: number | readonly number[]): Tensor {
  const t = toTensor(x, 'expandDims');
  const list = typeof axis === 'number' ? [axis] : axis;
  const axes = normalizeAxes(list, t.rank + list.length, 'ops.expandDims');
  return dispatch1(S.expandDims, [t], { axes });
}

/** Removes size-1 axes (all of them when `axis` is omitted). */
export function squeeze(x: TensorLike, axis?: number | readonly number[] | null): Tensor {
  const t = toTensor(x, 'squeeze');
  const axes =
    axis === undefined || axis === null
      ? t.shape.flatMap((d, i) => (d === 1 ? [i] : []))
      : normalizeAxes(axis, t.rank, 'ops.squeeze');
  if (axes.length === 0) return t;
  return dispatch1(S.squeeze, [t], { axes });
}

/** Permutes axes (reverses them when `axes` is omitted). */
export function transpose(x: TensorLike, axes?: readonly number[] | null): Tensor {
  const t = toTensor(x, 'transpose');
  const perm = axes ? axes.map((ax) => normalizeAxis(ax, t.rank, 'ops.transpose')) : t.shape.map((_, i) => t.rank - 1 - i);
  if (perm.every((p, i) => p === i)) return t;
  return dispatch1(S.transpose, [t], { perm });
}

export function broadcastTo(x: TensorLike, shape: readonly number[]): Tensor {
  const t = toTensor(x, 'broadcastTo');
  if (t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i])) return t;
  return dispatch1(S.broadcastTo, [t], { shape: [...shape] });
}

/** Broadcasts `x` to the shape of `ref`, read at run time (works with unknown dims). */
export function broadcastLike(x: TensorLike, ref: Tensor): Tensor {
  const t = toTensor(x, 'broadcastLike');
  if (t.shape.length === ref.shape.length && t.shape.every((d, i) => d === ref.shape[i] && d !== null)) return t;
  return dispatch1(S.broadcastLike, [t, ref], {});
}

/** Reshapes `x` to the shape of `ref`, read at run time (works with unknown dims). */
export function reshapeLike(x: TensorLike, ref: Tensor): Tensor {
  const t = toTensor(x, 'reshapeLike');
  if (t.shape.length === ref.shape.length && t.shape.every((d, i) => d === ref.shape[i] && d !== null)) return t;
  if (sizeOf(ref.shape) !== null && sizeOf(t.shape) !== null) {
    if (sizeOf(ref.shape) !== sizeOf(t.shape)) {
      throw new OpError('reshapeLike', `cannot reshape a tensor of shape ${formatShape(t.shape)} into shape ${formatShape(ref.shape)}.`);
    }
    return reshape(t, ref.shape as number[]);
  }
  return dispatch1(S.reshapeLike, [t, ref], {});
}

export function fullLike(x: TensorLike, value: number | boolean, dtype?: DType): Tensor {
  const t = toTensor(x, 'fullLike');
  // A known shape needs no op: the result is a constant (folded into graphs).
  if (!t.shape.includes(null)) return fill(t.shape as number[], value, dtype ?? t.dtype);
  return dispatch1(S.fillLike, [t], { value: Number(value), dtype: dtype ?? t.dtype });
}
export const zerosLike = (x: TensorLike, dtype?: DType): Tensor => fullLike(x, 0, dtype);
export const onesLike = (x: TensorLike, dtype?: DType): Tensor => fullLike(x, 1, dtype);
