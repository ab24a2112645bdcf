/** Transposition (a copy: Strata's tensors are always contiguous). */
import { allocate, type DType, type TypedArray } from '../../tensor/dtype.ts';
import { type ConcreteShape, stridesOf } from '../../tensor/shape.ts';

export function transposeValues(values: TypedArray, shape: ConcreteShape, perm: readonly number[], dtype: DType): TypedArray {
  const rank = shape.length;
  const out = allocate(dtype, values.length);
  if (values.length === 0) return out;
  if (perm.every((p, i) => p === i)) {
    out.set(values);
    return out;
  }
  const inStrides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]);
  // Stride in the input of each output dimension.
  const strides = perm.map((p) => inStrides[p]);
  if (rank === 2) {
    const [rows, cols] = outShape;
    const [s0, s1] = strides;
    // Blocked to stay in cache for large matrices.
    const B = 32;
    for (let i0 = 0; i0 < rows; i0 += B) {
      for (let j0 = 0; j0 < cols; j0 += B) {
        const i1 = Math.min(rows, i0 + B), j1 = Math.min(cols, j0 + B);
        for (let i = i0; i < i1; i++) {
          for (let j = j0; j < j1; j++) out[i * cols + j] = values[i * s0 + j * s1];
        }
      }
    }
    return out;
  }
  const inner = outShape[rank - 1];
  const innerStride = strides[rank - 1];
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o += inner) {
    for (let k = 0, s = src; k < inner; k++, s += innerStride) out[o + k] = values[s];
    let d = rank - 2;
    while (d >= 0) {
      index[d]++;
      src += strides[d];
      if (index[d] < outShape[d]) break;
      src -= strides[d] * outShape[d];
      index[d] = 0;
      d--;
    }
  }
  return out;
}
