/**
 * 2-D pooling kernels, channels_last (NHWC). Every loop runs innermost over
 * the contiguous channels. Padded positions never take part: max pooling
 * ignores them, average pooling divides by the number of real elements in
 * each window (as TensorFlow does). The gradient of max pooling goes to the
 * first maximum of each window in row-major order (TensorFlow's and ONNX
 * Runtime's choice for ties).
 */
import { allocate, type DType, type TypedArray } from '../../tensor/dtype.ts';
import { type Padding, windowOutputSize, windowPads } from './conv.ts';

export interface PoolGeometry {
  readonly N: number; readonly H: number; readonly W: number; readonly C: number;
  readonly ph: number; readonly pw: number; readonly sh: number; readonly sw: number;
  readonly Ho: number; readonly Wo: number;
  readonly pt: number; readonly pl: number;
}

export function poolGeometry([N, H, W, C]: readonly number[], [ph, pw]: readonly number[], [sh, sw]: readonly number[], padding: Padding): PoolGeometry {
  return {
    N, H, W, C, ph, pw, sh, sw,
    Ho: windowOutputSize(H, ph, sh, 1, padding) as number,
    Wo: windowOutputSize(W, pw, sw, 1, padding) as number,
    pt: windowPads(H, ph, sh, 1, padding)[0],
    pl: windowPads(W, pw, sw, 1, padding)[0],
  };
}


export function maxPool2dValues(x: TypedArray, g: PoolGeometry, dtype: DType): TypedArray {
  const { N, H, W, C, ph, pw, sh, sw, Ho, Wo, pt, pl } = g;
  const out = allocate(dtype, N * Ho * Wo * C);
  let ob = 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < Ho; oh++) {
      const h0 = Math.max(oh * sh - pt, 0), h1 = Math.min(oh * sh - pt + ph, H);
      for (let ow = 0; ow < Wo; ow++, ob += C) {
        const w0 = Math.max(ow * sw - pl, 0), w1 = Math.min(ow * sw - pl + pw, W);
        out.fill(-Infinity, ob, ob + C);
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) {
            const xb = ((n * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++) {
              const v = x[xb + c];
              if (v > out[ob + c] || v !== v) out[ob + c] = v;
            }
          }
        }
      }
    }
  }
  return out;
}

/** dx: each dy element added at the (first) maximum of its window. */
export function maxPool2dGradValues(x: TypedArray, dy: TypedArray, g: PoolGeometry, dtype: DType): TypedArray {
  const { N, H, W, C, ph, pw, sh, sw, Ho, Wo, pt, pl } = g;
  const dx = allocate(dtype, N * H * W * C);
  const best = new Float64Array(C);
  const where = new Int32Array(C);
  let ob = 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < Ho; oh++) {
      const h0 = Math.max(oh * sh - pt, 0), h1 = Math.min(oh * sh - pt + ph, H);
      for (let ow = 0; ow < Wo; ow++, ob += C) {
        const w0 = Math.max(ow * sw - pl, 0), w1 = Math.min(ow * sw - pl + pw, W);
        best.fill(-Infinity);
        where.fill(-1);
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) {
            const xb = ((n * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++) {
              const v = x[xb + c];
              if (v > best[c] || where[c] < 0) {
                best[c] = v;
                where[c] = xb + c;
              }
            }
          }
        }
        for (let c = 0; c < C; c++) if (where[c] >= 0) dx[where[c]] += dy[ob + c];
      }
    }
  }
  return dx;
}

export function avgPool2dValues(x: TypedArray, g: PoolGeometry, dtype: DType): TypedArray {
  const { N, H, W, C, ph, pw, sh, sw, Ho, Wo, pt, pl } = g;
  const out = allocate(dtype, N * Ho * Wo * C);
  const acc = new Float64Array(C);
  let ob = 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < Ho; oh++) {
      const h0 = Math.max(oh * sh - pt, 0), h1 = Math.min(oh * sh - pt + ph, H);
      for (let ow = 0; ow < Wo; ow++, ob += C) {
        const w0 = Math.max(ow * sw - pl, 0), w1 = Math.min(ow * sw - pl + pw, W);
        acc.fill(0);
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) {
            const xb = ((n * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++) acc[c] += x[xb + c];
          }
        }
        const inv = 1 / ((h1 - h0) * (w1 - w0));
        for (let c = 0; c < C; c++) out[ob + c] = acc[c] * inv;
      }
    }
  }
  return out;
}

/** dx: each dy element spread evenly over the real elements of its window. */
export function avgPool2dGradValues(dy: TypedArray, g: PoolGeometry, dtype: DType): TypedArray {
  const { N, H, W, C, ph, pw, sh, sw, Ho, Wo, pt, pl } = g;
  const dx = allocate(dtype, N * H * W * C);
  let ob = 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < Ho; oh++) {
      const h0 = Math.max(oh * sh - pt, 0), h1 = Math.min(oh * sh - pt + ph, H);
      for (let ow = 0; ow < Wo; ow++, ob += C) {
        const w0 = Math.max(ow * sw - pl, 0), w1 = Math.min(ow * sw - pl + pw, W);
        const inv = 1 / ((h1 - h0) * (w1 - w0));
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) {
            const xb = ((n * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++) dx[xb + c] += dy[ob + c] * inv;
          }
        }
      }
    }
  }
  return dx;
}
