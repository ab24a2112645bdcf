/**
 * Naive reference implementations used to check kernels independently:
 * plain multi-index loops, no shared code with src/ops/kernels.
 */
import { Tensor } from '../../src/tensor/tensor.ts';

export function refBroadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Value of `t` at the output multi-index `idx` under broadcasting. */
export function refAt(t: Tensor, idx: readonly number[]): number {
  const v = t.dataSync();
  let offset = 0;
  let stride = 1;
  for (let i = t.rank - 1; i >= 0; i--) {
    const d = t.shape[i] as number;
    const k = d === 1 ? 0 : idx[idx.length - t.rank + i];
    offset += k * stride;
    stride *= d;
  }
  return v[offset];
}

export function refIndices(shape: readonly number[]): number[][] {
  const out: number[][] = [];
  const n = shape.reduce((p, d) => p * d, 1);
  for (let flat = 0; flat < n; flat++) {
    const idx: number[] = [];
    let r = flat;
    for (let i = shape.length - 1; i >= 0; i--) {
      idx.unshift(r % shape[i]);
      r = Math.floor(r / shape[i]);
    }
    out.push(idx);
  }
  return out;
}

/** Elementwise map over broadcast inputs. */
export function refMap(inputs: Tensor[], f: (...xs: number[]) => number): number[] {
  const shape = inputs.map((t) => t.shape as number[]).reduce(refBroadcastShape, []);
  return refIndices(shape).map((idx) => f(...inputs.map((t) => refAt(t, idx))));
}
