/**
 * Broadcasting iteration for elementwise kernels. The output is walked row by
 * row after merging dimensions that are contiguous for every operand, so the
 * op-specific inner loop (one function literal per op, which V8 keeps
 * monomorphic) runs over long rows with a fixed stride per operand (0 or 1
 * for a broadcast or a contiguous operand).
 */
import type { ConcreteShape } from '../../tensor/shape.ts';

export interface BroadcastPlan {
  /** Coalesced output dims; the last one is the row length. */
  readonly dims: number[];
  /** Per operand, the stride of each coalesced dim (0 where broadcast). */
  readonly strides: number[][];
}

export function planBroadcast(out: ConcreteShape, operands: readonly ConcreteShape[]): BroadcastPlan {
  const rank = out.length;
  const strides = operands.map((shape) => {
    const s = new Array<number>(rank).fill(0);
    let acc = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      const o = i + rank - shape.length;
      s[o] = shape[i] === 1 && out[o] !== 1 ? 0 : acc;
      acc *= shape[i];
    }
    return s;
  });
  const dims: number[] = [];
  const merged: number[][] = operands.map(() => []);
  for (let i = 0; i < rank; i++) {
    if (out[i] === 1) continue; // size-1 dims do not affect addressing
    const last = dims.length - 1;
    const canMerge = last >= 0 && strides.every((s, k) => merged[k][last] === s[i] * out[i]);
    if (canMerge) {
      dims[last] *= out[i];
      strides.forEach((s, k) => (merged[k][last] = s[i]));
    } else {
      dims.push(out[i]);
      strides.forEach((s, k) => merged[k].push(s[i]));
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    merged.forEach((m) => m.push(1));
  }
  return { dims, strides: merged };
}

/**
 * Calls `row(offsets, outOffset, length)` for each row of the output, where
 * `offsets[k]` is operand k's starting index and the row strides are
 * `plan.strides[k].at(-1)`.
 */
export function forEachRow(plan: BroadcastPlan, row: (offsets: number[], outOffset: number, length: number) => void): void {
  const { dims, strides } = plan;
  if (dims.some((d) => d === 0)) return;
  const rank = dims.length;
  const rowLength = dims[rank - 1];
  const k = strides.length;
  const offsets = new Array<number>(k).fill(0);
  if (rank === 1) {
    row(offsets, 0, rowLength);
    return;
  }
  const index = new Array<number>(rank - 1).fill(0);
  let outOffset = 0;
  for (;;) {
    row(offsets, outOffset, rowLength);
    outOffset += rowLength;
    // Increment the multi-index over the outer dims, updating operand offsets.
    let d = rank - 2;
    while (d >= 0) {
      index[d]++;
      for (let j = 0; j < k; j++) offsets[j] += strides[j][d];
      if (index[d] < dims[d]) break;
      for (let j = 0; j < k; j++) offsets[j] -= strides[j][d] * dims[d];
      index[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}
