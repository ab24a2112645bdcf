/**
 * Kernels of the indexing family. Most are copies: contiguous runs move with
 * `TypedArray.prototype.set` on a `subarray` when they are long, and with a
 * plain loop when they are short (a `subarray` view is an allocation, too
 * costly for runs of a few elements). Each op keeps its own inner loop.
 *
 * Shapes are viewed as `outer x n x inner` around the op's axis wherever
 * possible, so a kernel is two or three flat loops.
 */
import { allocate, type DType, type TypedArray } from '../../tensor/dtype.ts';
import { type ConcreteShape, stridesOf } from '../../tensor/shape.ts';
import { OpError } from '../../engine/op.ts';

/** Product of `dims[from..to)`. */
export function product(dims: readonly number[], from = 0, to = dims.length): number {
  let p = 1;
  for (let i = from; i < to; i++) p *= dims[i];
  return p;
}

/** Below this length a loop beats `set(subarray(...))`. */
const SHORT_RUN = 32;

/** Copies `n` contiguous values from `src[si..]` to `dst[di..]` (same element type). */
export function copyRun(src: TypedArray, si: number, dst: TypedArray, di: number, n: number): void {
  if (n >= SHORT_RUN) dst.set(src.subarray(si, si + n), di);
  else for (let k = 0; k < n; k++) dst[di + k] = src[si + k];
}

/** `outer x n x inner` around `axis`. */
export function aroundAxis(shape: ConcreteShape, axis: number): { outer: number; n: number; inner: number } {
  return { outer: product(shape, 0, axis), n: shape[axis], inner: product(shape, axis + 1) };
}

function indexError(op: string, index: number, position: number, axis: number, n: number): OpError {
  const range = n === 0 ? 'the axis is empty, so no index is valid' : `expected indices in [${-n}, ${n})`;
  return new OpError(op, `Received: indices containing ${index} (at flat position ${position}), out of range for axis ${axis} of size ${n}; ${range}.`);
}

/** Wraps negative indices (NumPy style) and checks the range; returns a fresh array. */
export function normalizeIndices(op: string, indices: TypedArray, n: number, axis: number): Int32Array {
  const out = new Int32Array(indices.length);
  for (let j = 0; j < indices.length; j++) {
    let k = indices[j];
    if (k < 0) k += n;
    if (k < 0 || k >= n) throw indexError(op, indices[j], j, axis, n);
    out[j] = k;
  }
  return out;
}

/** Concatenation along `axis`: per outer block, one run per input. */
export function concatValues(inputs: readonly { values: TypedArray; shape: ConcreteShape }[], axis: number, outShape: ConcreteShape, dtype: DType): TypedArray {
  const out = allocate(dtype, product(outShape));
  if (out.length === 0) return out;
  const outer = product(outShape, 0, axis);
  const inner = product(outShape, axis + 1);
  const total = outShape[axis] * inner;
  const chunks = inputs.map((x) => x.shape[axis] * inner);
  if (outer === 1) {
    let offset = 0;
    inputs.forEach((x, k) => {
      out.set(x.values, offset);
      offset += chunks[k];
    });
    return out;
  }
  for (let o = 0; o < outer; o++) {
    let offset = o * total;
    for (let k = 0; k < inputs.length; k++) {
      const c = chunks[k];
      copyRun(inputs[k].values, o * c, out, offset, c);
      offset += c;
    }
  }
  return out;
}

/**
 * A box `[begin, begin + size)` of `values`. Trailing axes taken whole are
 * merged into the copied run, so a slice along the first axis is one copy.
 */
export function sliceValues(values: TypedArray, shape: ConcreteShape, begin: readonly number[], size: readonly number[], dtype: DType): TypedArray {
  const rank = shape.length;
  const out = allocate(dtype, product(size));
  if (out.length === 0) return out;
  if (rank === 0) {
    out[0] = values[0];
    return out;
  }
  const strides = stridesOf(shape);
  // Innermost axis that is not taken whole: runs span it and everything after.
  let d = rank - 1;
  while (d > 0 && size[d] === shape[d]) d--;
  const run = size[d] * strides[d];
  let src = 0;
  for (let i = 0; i < rank; i++) src += begin[i] * strides[i];
  if (d === 0) {
    copyRun(values, src, out, 0, run);
    return out;
  }
  const index = new Array<number>(d).fill(0);
  for (let o = 0; o < out.length; o += run) {
    copyRun(values, src, out, o, run);
    let k = d - 1;
    while (k >= 0) {
      index[k]++;
      src += strides[k];
      if (index[k] < size[k]) break;
      src -= strides[k] * size[k];
      index[k] = 0;
      k--;
    }
  }
  return out;
}

/** Constant padding: fill, then copy each last-axis row of `x` into place. */
export function padValues(values: TypedArray, shape: ConcreteShape, before: readonly number[], outShape: ConcreteShape, value: number, dtype: DType): TypedArray {
  const rank = shape.length;
  const out = allocate(dtype, product(outShape));
  if (value !== 0) out.fill(value);
  if (values.length === 0) return out;
  if (rank === 0) {
    out[0] = values[0];
    return out;
  }
  const outStrides = stridesOf(outShape);
  const row = shape[rank - 1];
  let dst = 0;
  for (let i = 0; i < rank; i++) dst += before[i] * outStrides[i];
  const index = new Array<number>(rank - 1).fill(0);
  for (let src = 0; src < values.length; src += row) {
    copyRun(values, src, out, dst, row);
    let k = rank - 2;
    while (k >= 0) {
      index[k]++;
      dst += outStrides[k];
      if (index[k] < shape[k]) break;
      dst -= outStrides[k] * shape[k];
      index[k] = 0;
      k--;
    }
  }
  return out;
}

/** Reverses `axes`. Adjacent axes with the same flip status are merged first. */
export function flipValues(values: TypedArray, shape: ConcreteShape, axes: readonly number[], dtype: DType): TypedArray {
  const out = allocate(dtype, values.length);
  if (values.length === 0) return out;
  const dims: number[] = [];
  const flipped: boolean[] = [];
  shape.forEach((n, i) => {
    const f = axes.includes(i);
    if (n === 1) return; // flipping or not is the same
    if (dims.length > 0 && flipped[flipped.length - 1] === f) dims[dims.length - 1] *= n;
    else {
      dims.push(n);
      flipped.push(f);
    }
  });
  if (dims.length === 0) {
    out[0] = values[0];
    return out;
  }
  const rank = dims.length;
  const strides = stridesOf(dims);
  let src = 0;
  const steps = strides.map((s, i) => {
    if (!flipped[i]) return s;
    src += (dims[i] - 1) * s;
    return -s;
  });
  const row = dims[rank - 1];
  const rowFlipped = flipped[rank - 1];
  const index = new Array<number>(rank - 1).fill(0);
  for (let o = 0; o < out.length; o += row) {
    if (rowFlipped) {
      for (let k = 0, s = src; k < row; k++, s--) out[o + k] = values[s];
    } else {
      copyRun(values, src, out, o, row);
    }
    let k = rank - 2;
    while (k >= 0) {
      index[k]++;
      src += steps[k];
      if (index[k] < dims[k]) break;
      src -= steps[k] * dims[k];
      index[k] = 0;
      k--;
    }
  }
  return out;
}

/** Gather along an axis: `out[o, j, :] = x[o, indices[j], :]` (indices already normalized). */
export function takeValues(x: TypedArray, outer: number, n: number, inner: number, indices: Int32Array, dtype: DType): TypedArray {
  const m = indices.length;
  const out = allocate(dtype, outer * m * inner);
  if (out.length === 0) return out;
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const xo = o * n, oo = o * m;
      for (let j = 0; j < m; j++) out[oo + j] = x[xo + indices[j]];
    }
    return out;
  }
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) copyRun(x, (o * n + indices[j]) * inner, out, (o * m + j) * inner, inner);
  }
  return out;
}

/** The adjoint of `takeValues`: `out = data; out[o, indices[j], :] += updates[o, j, :]`. */
export function scatterAddValues(data: TypedArray, outer: number, n: number, inner: number, indices: Int32Array, updates: TypedArray): TypedArray {
  const out = data.slice();
  const m = indices.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const dst = (o * n + indices[j]) * inner;
      const src = (o * m + j) * inner;
      for (let i = 0; i < inner; i++) out[dst + i] += updates[src + i];
    }
  }
  return out;
}

/**
 * Gather elements along an axis: `out[o, j, i] = x[o, indices[o, j, i], i]`
 * with `indices` of shape `outer x m x inner`; negative indices wrap.
 */
export function takeAlongAxisValues(op: string, x: TypedArray, outer: number, n: number, inner: number, indices: TypedArray, m: number, axis: number, dtype: DType): TypedArray {
  const out = allocate(dtype, indices.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const p0 = (o * m + j) * inner;
      for (let i = 0; i < inner; i++) {
        let k = indices[p0 + i];
        if (k < 0) k += n;
        if (k < 0 || k >= n) throw indexError(op, indices[p0 + i], p0 + i, axis, n);
        out[p0 + i] = x[(o * n + k) * inner + i];
      }
    }
  }
  return out;
}

/** The adjoint of `takeAlongAxisValues`: `out = data; out[o, indices[o, j, i], i] += updates[o, j, i]`. */
export function scatterAddAlongAxisValues(op: string, data: TypedArray, outer: number, n: number, inner: number, indices: TypedArray, m: number, axis: number, updates: TypedArray): TypedArray {
  const out = data.slice();
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const p0 = (o * m + j) * inner;
      for (let i = 0; i < inner; i++) {
        let k = indices[p0 + i];
        if (k < 0) k += n;
        if (k < 0 || k >= n) throw indexError(op, indices[p0 + i], p0 + i, axis, n);
        out[(o * n + k) * inner + i] += updates[p0 + i];
      }
    }
  }
  return out;
}

/**
 * The `k` largest (or smallest) values of each last-axis row, in order, and
 * their indices. Ties go to the lower index; NaN counts as the largest value.
 * Small k keeps a sorted buffer of the best k; otherwise the row's indices
 * are merge-sorted (stable, comparisons inline: a comparator callback is
 * several times slower).
 */
export function topKValues(values: TypedArray, rows: number, n: number, k: number, largest: boolean, dtype: DType): [TypedArray, Int32Array] {
  const outValues = allocate(dtype, rows * k);
  const outIndices = new Int32Array(rows * k);
  if (k === 0 || rows === 0) return [outValues, outIndices];
  const select = k <= 16 && k < n;
  const order = new Int32Array(select ? k : n);
  const scratch = select ? order : new Int32Array(n);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    const sorted = select ? selectBest(values, base, n, k, largest, order) : mergeSortRow(values, base, n, largest, order, scratch);
    const o = r * k;
    for (let j = 0; j < k; j++) {
      const idx = sorted[j];
      outIndices[o + j] = idx;
      outValues[o + j] = values[base + idx];
    }
  }
  return [outValues, outIndices];
}

/** The best `k` indices of a row, in order, kept by insertion into `best` (a later index never passes an equal value). */
function selectBest(v: TypedArray, base: number, n: number, k: number, desc: boolean, best: Int32Array): Int32Array {
  let count = 0;
  for (let j = 0; j < n; j++) {
    const x = v[base + j];
    let pos = count;
    while (pos > 0) {
      const y = v[base + best[pos - 1]];
      const before = desc ? x > y || (x !== x && y === y) : x < y || (y !== y && x === x);
      if (!before) break;
      pos--;
    }
    if (pos >= k) continue;
    const last = count < k ? count++ : k - 1;
    for (let i = last; i > pos; i--) best[i] = best[i - 1];
    best[pos] = j;
  }
  return best;
}

/** Stable bottom-up merge sort of a row's indices (insertion-sorted runs of 16 first); returns the buffer holding the result. */
function mergeSortRow(v: TypedArray, base: number, n: number, desc: boolean, a: Int32Array, b: Int32Array): Int32Array {
  const RUN = 16;
  for (let i = 0; i < n; i++) a[i] = i;
  for (let lo = 0; lo < n; lo += RUN) {
    const hi = Math.min(lo + RUN, n);
    for (let i = lo + 1; i < hi; i++) {
      const p = a[i];
      const x = v[base + p];
      let j = i - 1;
      while (j >= lo) {
        const q = a[j];
        const y = v[base + q];
        const before = desc ? x > y || (x !== x && y === y) : x < y || (y !== y && x === x);
        if (!before) break;
        a[j + 1] = q;
        j--;
      }
      a[j + 1] = p;
    }
  }
  let src = a, dst = b;
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n), hi = Math.min(lo + 2 * width, n);
      let i = lo, j = mid, o = lo;
      while (i < mid && j < hi) {
        const p = src[i], q = src[j];
        const x = v[base + p], y = v[base + q];
        // The right element goes first only when strictly before the left one (stability).
        const rightFirst = desc ? y > x || (y !== y && x === x) : y < x || (x !== x && y === y);
        if (rightFirst) {
          dst[o++] = q;
          j++;
        } else {
          dst[o++] = p;
          i++;
        }
      }
      while (i < mid) dst[o++] = src[i++];
      while (j < hi) dst[o++] = src[j++];
    }
    const t = src;
    src = dst;
    dst = t;
  }
  return src;
}

/** Inclusive running sum along the middle axis of `outer x n x inner` (from the end when `reverse`). */
export function cumsumValues(values: TypedArray, outer: number, n: number, inner: number, reverse: boolean, dtype: DType): TypedArray {
  const out = allocate(dtype, values.length);
  if (out.length === 0) return out;
  const block = n * inner;
  if (inner === 1) {
    // The running value is read back from the output, so float32 rounds and int32 wraps at every step (as ONNX CumSum does).
    for (let o = 0; o < outer; o++) {
      const b = o * n;
      if (reverse) {
        out[b + n - 1] = values[b + n - 1];
        for (let j = n - 2; j >= 0; j--) out[b + j] = out[b + j + 1] + values[b + j];
      } else {
        out[b] = values[b];
        for (let j = 1; j < n; j++) out[b + j] = out[b + j - 1] + values[b + j];
      }
    }
    return out;
  }
  for (let o = 0; o < outer; o++) {
    const b = o * block;
    if (reverse) {
      const last = b + (n - 1) * inner;
      copyRun(values, last, out, last, inner);
      for (let j = n - 2; j >= 0; j--) {
        const row = b + j * inner;
        for (let i = 0; i < inner; i++) out[row + i] = out[row + inner + i] + values[row + i];
      }
    } else {
      copyRun(values, b, out, b, inner);
      for (let j = 1; j < n; j++) {
        const row = b + j * inner;
        for (let i = 0; i < inner; i++) out[row + i] = out[row - inner + i] + values[row + i];
      }
    }
  }
  return out;
}
