/**
 * 2-D convolution kernels, channels_last (NHWC input, [kh, kw, C/groups, O]
 * kernel), with their two gradients. Each runs as im2col + the blocked
 * matmul of ./matmul.ts, a chunk of output pixels at a time so the column
 * buffer stays in cache:
 *
 *   forward        out[p, o]   = col[p, :] · w[:, o]            (per group)
 *   input grad     col[p, :]   = dy[p, :] · w[:, :]^T, then col2im (scatter-add)
 *   filter grad    dw[:, o]   += col[:, :]^T · dy[:, o]
 *
 * Depthwise convolutions (one input channel per group) use direct loops over
 * contiguous channels instead: a per-group matmul would be 1 x kh*kw.
 *
 * Padding follows TensorFlow: 'same' pads pad_total = max((ceil(in/s) - 1) * s
 * + (k - 1) * d + 1 - in, 0), with the extra element at the end.
 */
import { allocate, type DType, type TypedArray } from '../../tensor/dtype.ts';
import type { Dim } from '../../tensor/shape.ts';
import { gemm } from './matmul.ts';

export type Padding = 'valid' | 'same';

/** Output length of a sliding window along one axis (null when the input length is unknown). */
export function windowOutputSize(size: Dim, k: number, stride: number, dilation: number, padding: Padding): Dim {
  if (size === null) return null;
  const dk = (k - 1) * dilation + 1;
  if (padding === 'same') return Math.ceil(size / stride);
  return size >= dk ? Math.floor((size - dk) / stride) + 1 : 0;
}

/** [before, after] padding along one axis. */
export function windowPads(size: number, k: number, stride: number, dilation: number, padding: Padding): [number, number] {
  if (padding === 'valid') return [0, 0];
  const dk = (k - 1) * dilation + 1;
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + dk - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Everything a 2-D convolution kernel needs, with the input size known. */
export interface ConvGeometry {
  readonly N: number; readonly H: number; readonly W: number; readonly C: number;
  readonly kh: number; readonly kw: number; readonly O: number; readonly groups: number;
  readonly sh: number; readonly sw: number; readonly dh: number; readonly dw: number;
  readonly Ho: number; readonly Wo: number;
  /** Padding before (top, left). */
  readonly pt: number; readonly pl: number;
}

export function convGeometry(
  [N, H, W, C]: readonly number[], [kh, kw, , O]: readonly number[],
  strides: readonly number[], dilations: readonly number[], padding: Padding, groups: number,
): ConvGeometry {
  const [sh, sw] = strides;
  const [dh, dw] = dilations;
  return {
    N, H, W, C, kh, kw, O, groups, sh, sw, dh, dw,
    Ho: windowOutputSize(H, kh, sh, dh, padding) as number,
    Wo: windowOutputSize(W, kw, sw, dw, padding) as number,
    pt: windowPads(H, kh, sh, dh, padding)[0],
    pl: windowPads(W, kw, sw, dw, padding)[0],
  };
}

/** Output pixels per im2col chunk: about 64K column values. */
function chunkRows(kg: number): number {
  return Math.max(16, Math.min(4096, Math.floor(65536 / Math.max(kg, 1))));
}

/**
 * Fills col[r, :] (r < rows) with the receptive field of output pixel p0 + r
 * for channels [c0, c0 + cg): row layout (ki, kj, c), zeros where padded.
 */
function im2col(x: TypedArray, g: ConvGeometry, c0: number, cg: number, p0: number, rows: number, col: TypedArray): void {
  const { H, W, C, kh, kw, sh, sw, dh, dw, Ho, Wo, pt, pl } = g;
  const kg = kh * kw * cg;
  let ow = p0 % Wo;
  let oh = Math.floor(p0 / Wo) % Ho;
  let n = Math.floor(p0 / (Wo * Ho));
  for (let r = 0; r < rows; r++) {
    let o = r * kg;
    const ih0 = oh * sh - pt;
    const iw0 = ow * sw - pl;
    for (let ki = 0; ki < kh; ki++) {
      const ih = ih0 + ki * dh;
      if (ih < 0 || ih >= H) {
        col.fill(0, o, o + kw * cg);
        o += kw * cg;
        continue;
      }
      const rowBase = (n * H + ih) * W;
      for (let kj = 0; kj < kw; kj++, o += cg) {
        const iw = iw0 + kj * dw;
        if (iw < 0 || iw >= W) {
          col.fill(0, o, o + cg);
          continue;
        }
        const s = (rowBase + iw) * C + c0;
        for (let c = 0; c < cg; c++) col[o + c] = x[s + c];
      }
    }
    if (++ow === Wo) {
      ow = 0;
      if (++oh === Ho) { oh = 0; n++; }
    }
  }
}

/** dx[pixel, c0 + c] += col[r, (ki, kj, c)]: the adjoint of im2col. */
function col2im(col: TypedArray, g: ConvGeometry, c0: number, cg: number, p0: number, rows: number, dx: TypedArray): void {
  const { H, W, C, kh, kw, sh, sw, dh, dw, Ho, Wo, pt, pl } = g;
  const kg = kh * kw * cg;
  let ow = p0 % Wo;
  let oh = Math.floor(p0 / Wo) % Ho;
  let n = Math.floor(p0 / (Wo * Ho));
  for (let r = 0; r < rows; r++) {
    let o = r * kg;
    const ih0 = oh * sh - pt;
    const iw0 = ow * sw - pl;
    for (let ki = 0; ki < kh; ki++) {
      const ih = ih0 + ki * dh;
      if (ih < 0 || ih >= H) {
        o += kw * cg;
        continue;
      }
      const rowBase = (n * H + ih) * W;
      for (let kj = 0; kj < kw; kj++, o += cg) {
        const iw = iw0 + kj * dw;
        if (iw < 0 || iw >= W) continue;
        const s = (rowBase + iw) * C + c0;
        for (let c = 0; c < cg; c++) dx[s + c] += col[o + c];
      }
    }
    if (++ow === Wo) {
      ow = 0;
      if (++oh === Ho) { oh = 0; n++; }
    }
  }
}

/** out[N, Ho, Wo, O] = conv(x[N, H, W, C], w[kh, kw, C/groups, O]). */
export function conv2dValues(x: TypedArray, w: TypedArray, g: ConvGeometry, dtype: DType): TypedArray {
  const { N, Ho, Wo, C, O, groups, kh, kw } = g;
  const P = N * Ho * Wo;
  const out = allocate(dtype, P * O);
  if (P === 0 || O === 0) return out;
  const cg = C / groups;
  const og = O / groups;
  if (cg === 1) {
    depthwiseForward(x, w, g, out);
    return out;
  }
  const kg = kh * kw * cg;
  const chunk = chunkRows(kg);
  const col = allocate(dtype, Math.min(chunk, P) * kg);
  for (let p0 = 0; p0 < P; p0 += chunk) {
    const rows = Math.min(chunk, P - p0);
    for (let gi = 0; gi < groups; gi++) {
      im2col(x, g, gi * cg, cg, p0, rows, col);
      gemm(rows, og, kg, col, 0, kg, 1, w, gi * og, O, 1, out, p0 * O + gi * og, O);
    }
  }
  return out;
}

/** dx[N, H, W, C] from dy[N, Ho, Wo, O] and w: the adjoint of conv2d in x. */
export function conv2dBackpropInputValues(dy: TypedArray, w: TypedArray, g: ConvGeometry, dtype: DType): TypedArray {
  const { N, H, W, Ho, Wo, C, O, groups, kh, kw } = g;
  const dx = allocate(dtype, N * H * W * C);
  const P = N * Ho * Wo;
  if (P === 0 || dx.length === 0) return dx;
  const cg = C / groups;
  const og = O / groups;
  if (cg === 1) {
    depthwiseBackpropInput(dy, w, g, dx);
    return dx;
  }
  const kg = kh * kw * cg;
  const chunk = chunkRows(kg);
  const col = allocate(dtype, Math.min(chunk, P) * kg);
  for (let p0 = 0; p0 < P; p0 += chunk) {
    const rows = Math.min(chunk, P - p0);
    for (let gi = 0; gi < groups; gi++) {
      col.fill(0, 0, rows * kg);
      // col[r, k] = sum_o dy[p0 + r, gi*og + o] * w[k, gi*og + o]
      gemm(rows, kg, og, dy, p0 * O + gi * og, O, 1, w, gi * og, 1, O, col, 0, kg);
      col2im(col, g, gi * cg, cg, p0, rows, dx);
    }
  }
  return dx;
}

/** dw[kh, kw, C/groups, O] from x and dy: the adjoint of conv2d in w. */
export function conv2dBackpropFilterValues(x: TypedArray, dy: TypedArray, g: ConvGeometry, dtype: DType): TypedArray {
  const { N, Ho, Wo, C, O, groups, kh, kw } = g;
  const cg = C / groups;
  const og = O / groups;
  const kg = kh * kw * cg;
  const P = N * Ho * Wo;
  if (cg === 1) {
    const acc = new Float64Array(kh * kw * O);
    if (P > 0) depthwiseBackpropFilter(x, dy, g, acc);
    const dw = allocate(dtype, acc.length);
    dw.set(acc);
    return dw;
  }
  const dw = allocate(dtype, kg * O);
  if (P === 0 || dw.length === 0) return dw;
  const chunk = chunkRows(kg);
  const col = allocate(dtype, Math.min(chunk, P) * kg);
  for (let p0 = 0; p0 < P; p0 += chunk) {
    const rows = Math.min(chunk, P - p0);
    for (let gi = 0; gi < groups; gi++) {
      im2col(x, g, gi * cg, cg, p0, rows, col);
      // dw[k, gi*og + o] += sum_r col[r, k] * dy[p0 + r, gi*og + o]
      gemm(kg, og, rows, col, 0, 1, kg, dy, p0 * O + gi * og, O, 1, dw, gi * og, O);
    }
  }
  return dw;
}

// Depthwise (C/groups == 1): output channel o reads input channel floor(o / mult).

function depthwiseForward(x: TypedArray, w: TypedArray, g: ConvGeometry, out: TypedArray): void {
  const { N, H, W, C, kh, kw, O, sh, sw, dh, dw, Ho, Wo, pt, pl } = g;
  const mult = O / C;
  let ob = 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++, ob += O) {
        for (let ki = 0; ki < kh; ki++) {
          const ih = oh * sh - pt + ki * dh;
          if (ih < 0 || ih >= H) continue;
          for (let kj = 0; kj < kw; kj++) {
            const iw = ow * sw - pl + kj * dw;
            if (iw < 0 || iw >= W) continue;
            const xb = ((n * H + ih) * W + iw) * C;
            const wb = (ki * kw + kj) * O;
            if (mult === 1) {
              for (let c = 0; c < C; c++) out[ob + c] += x[xb + c] * w[wb + c];
            } else {
              for (let c = 0, o = 0; c < C; c++) {
                const xv = x[xb + c];
                for (let m = 0; m < mult; m++, o++) out[ob + o] += xv * w[wb + o];
              }
            }
          }
        }
      }
    }
  }
}

function depthwiseBackpropInput(dy: TypedArray, w: TypedArray, g: ConvGeometry, dx: TypedArray): void {
  const { N, H, W, C, kh, kw, O, sh, sw, dh, dw, Ho, Wo, pt, pl } = g;
  const mult = O / C;
  let ob = 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++, ob += O) {
        for (let ki = 0; ki < kh; ki++) {
          const ih = oh * sh - pt + ki * dh;
          if (ih < 0 || ih >= H) continue;
          for (let kj = 0; kj < kw; kj++) {
            const iw = ow * sw - pl + kj * dw;
            if (iw < 0 || iw >= W) continue;
            const xb = ((n * H + ih) * W + iw) * C;
            const wb = (ki * kw + kj) * O;
            if (mult === 1) {
              for (let c = 0; c < C; c++) dx[xb + c] += dy[ob + c] * w[wb + c];
            } else {
              for (let c = 0, o = 0; c < C; c++) {
                let acc = 0;
                for (let m = 0; m < mult; m++, o++) acc += dy[ob + o] * w[wb + o];
                dx[xb + c] += acc;
              }
            }
          }
        }
      }
    }
  }
}

function depthwiseBackpropFilter(x: TypedArray, dy: TypedArray, g: ConvGeometry, acc: Float64Array): void {
  const { N, H, W, C, kh, kw, O, sh, sw, dh, dw, Ho, Wo, pt, pl } = g;
  const mult = O / C;
  let ob = 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++, ob += O) {
        for (let ki = 0; ki < kh; ki++) {
          const ih = oh * sh - pt + ki * dh;
          if (ih < 0 || ih >= H) continue;
          for (let kj = 0; kj < kw; kj++) {
            const iw = ow * sw - pl + kj * dw;
            if (iw < 0 || iw >= W) continue;
            const xb = ((n * H + ih) * W + iw) * C;
            const wb = (ki * kw + kj) * O;
            if (mult === 1) {
              for (let c = 0; c < C; c++) acc[wb + c] += x[xb + c] * dy[ob + c];
            } else {
              for (let c = 0, o = 0; c < C; c++) {
                const xv = x[xb + c];
                for (let m = 0; m < mult; m++, o++) acc[wb + o] += xv * dy[ob + o];
              }
            }
          }
        }
      }
    }
  }
}
