/**
 * Reduction driver. Axes are first made contiguous (by transposing when they
 * are not), so every reduction sees `outer x reduced x inner` blocks. Each op
 * brings two function literals: one that folds a contiguous run (inner == 1)
 * and one that folds a whole row into an accumulator row.
 */
import { allocate, type DType, type TypedArray } from '../../tensor/dtype.ts';
import type { ConcreteShape } from '../../tensor/shape.ts';
import { transposeValues } from './transpose.ts';

export interface Reducer {
  /** Fold `n` contiguous values starting at `start`. */
  run(x: TypedArray, start: number, n: number): number;
  /** acc[ai..ai+n) ⊕= x[xi..xi+n). */
  row(acc: Float64Array, x: TypedArray, xi: number, n: number): void;
  init: number;
}

export interface ReduceLayout {
  values: TypedArray;
  outer: number;
  reduced: number;
  inner: number;
}

/** Rearranges `values` so that `axes` (sorted) form one contiguous block. */
export function reduceLayout(values: TypedArray, shape: ConcreteShape, axes: readonly number[], dtype: DType): ReduceLayout {
  const prod = (dims: number[]) => dims.reduce((p, d) => p * d, 1);
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  if (axes.length === 0) return { values, outer: values.length, reduced: 1, inner: 1 };
  if (contiguous) {
    const first = axes[0], last = axes[axes.length - 1];
    return {
      values,
      outer: prod(shape.slice(0, first)),
      reduced: prod(shape.slice(first, last + 1)),
      inner: prod(shape.slice(last + 1)),
    };
  }
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  return {
    values: transposeValues(values, shape, perm, dtype),
    outer: prod(kept.map((i) => shape[i])),
    reduced: prod(axes.map((i) => shape[i])),
    inner: 1,
  };
}

export function reduceValues(r: Reducer, values: TypedArray, shape: ConcreteShape, axes: readonly number[], inDType: DType, outDType: DType): TypedArray {
  const { values: v, outer, reduced, inner } = reduceLayout(values, shape, axes, inDType);
  const out = allocate(outDType, outer * inner);
  if (inner === 1) {
    for (let o = 0; o < outer; o++) out[o] = r.run(v, o * reduced, reduced);
    return out;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(r.init);
    for (let k = 0; k < reduced; k++) r.row(acc, v, (o * reduced + k) * inner, inner);
    out.set(acc, o * inner);
  }
  return out;
}

/** Index of the max (or min) along one axis; ties resolve to the first index. */
export function argReduce(values: TypedArray, shape: ConcreteShape, axis: number, dtype: DType, pickMax: boolean): Int32Array {
  const { values: v, outer, reduced, inner } = reduceLayout(values, shape, [axis], dtype);
  const out = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = v[o * reduced * inner + i];
      let bestIndex = 0;
      for (let k = 1; k < reduced; k++) {
        const x = v[(o * reduced + k) * inner + i];
        if (best !== best) break; // NaN wins, as in NumPy
        if (pickMax ? x > best || x !== x : x < best || x !== x) {
          best = x;
          bestIndex = k;
        }
      }
      out[o * inner + i] = bestIndex;
    }
  }
  return out;
}
