/**
 * Matrix multiplication on typed arrays: C += A · B with arbitrary strides
 * for A and B (so transposed operands cost nothing extra), cache-blocked in
 * the GotoBLAS / BLIS way:
 *
 *   for each KC-deep slice of K:       pack B[k0:k0+kc, :] into NR-wide panels
 *     for each MC-tall block of rows:  pack A[i0:i0+mc, k0:k0+kc] into MR-tall panels
 *       for each NR panel, MR panel:   4x8 register-blocked micro-kernel
 *
 * Packed panels are Float64Array for every input dtype, so the micro-kernel's
 * loads are monomorphic; its 32 accumulators are locals (V8 keeps most of them
 * in registers). Edge tiles are computed on zero-padded panels and only the
 * valid part is written back. Small products skip the packing.
 *
 * int32 inputs go through the same path: partial sums are exact in float64
 * up to 2^53, and storing into an Int32Array wraps like int32 arithmetic.
 */
import type { TypedArray } from '../../tensor/dtype.ts';

const MR = 4;
const NR = 8;
/** Maximum depth of a K slice: an A panel (MR x KC) and a B panel (KC x NR) stay in L1. */
const KC = 384;
/** Rows of A packed at once: an MC x KC block stays in L2. */
const MC = 64;
/** Below this many multiply-adds the packing does not pay off. */
const SMALL = 16 * 16 * 16;

/** Scratch panels, reused across calls (kernels never run concurrently). */
let packA = new Float64Array(MC * KC);
let packB = new Float64Array(NR * KC * 64);
const edge = new Float64Array(MR * NR);
let rowScratch = new Float64Array(256);

function ensurePackB(size: number): Float64Array {
  if (packB.length < size) packB = new Float64Array(Math.max(size, packB.length * 2));
  return packB;
}

/**
 * C[i, j] += sum_k A[i, k] * B[k, j] for i < M, j < N, where
 * A[i, k] = a[ao + i * ars + k * acs], B[k, j] = b[bo + k * brs + j * bcs],
 * C[i, j] = c[co + i * ldc + j].
 */
export function gemm(
  M: number, N: number, K: number,
  a: TypedArray, ao: number, ars: number, acs: number,
  b: TypedArray, bo: number, brs: number, bcs: number,
  c: TypedArray, co: number, ldc: number,
): void {
  if (M === 0 || N === 0 || K === 0) return;
  if (M * N * K <= SMALL || N < 4 || M < 2) {
    gemmSmall(M, N, K, a, ao, ars, acs, b, bo, brs, bcs, c, co, ldc);
    return;
  }
  const nPanels = Math.ceil(N / NR);
  const bp = ensurePackB(nPanels * NR * KC);
  if (packA.length < MC * KC) packA = new Float64Array(MC * KC);
  const ap = packA;
  // Equal slices: K = 400 runs as 2 x 200 rather than 384 + 16.
  const kStep = Math.ceil(K / Math.ceil(K / KC));
  for (let k0 = 0; k0 < K; k0 += kStep) {
    const kc = Math.min(kStep, K - k0);
    packPanelsB(b, bo + k0 * brs, brs, bcs, kc, N, bp);
    for (let i0 = 0; i0 < M; i0 += MC) {
      const mc = Math.min(MC, M - i0);
      packPanelsA(a, ao + i0 * ars + k0 * acs, ars, acs, mc, kc, ap);
      macroKernel(mc, N, kc, ap, bp, c, co + i0 * ldc, ldc);
    }
  }
}

/** B[k, j] for k < kc, j < n into NR-wide panels: panel q holds B[k, q*NR + jj] at q*kc*NR + k*NR + jj. */
function packPanelsB(b: TypedArray, bo: number, brs: number, bcs: number, kc: number, n: number, bp: Float64Array): void {
  let o = 0;
  for (let j0 = 0; j0 < n; j0 += NR) {
    const nr = Math.min(NR, n - j0);
    if (nr === NR && bcs === 1) {
      for (let k = 0; k < kc; k++) {
        const s = bo + k * brs + j0;
        bp[o] = b[s]; bp[o + 1] = b[s + 1]; bp[o + 2] = b[s + 2]; bp[o + 3] = b[s + 3];
        bp[o + 4] = b[s + 4]; bp[o + 5] = b[s + 5]; bp[o + 6] = b[s + 6]; bp[o + 7] = b[s + 7];
        o += NR;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const s = bo + k * brs + j0 * bcs;
        let jj = 0;
        for (; jj < nr; jj++) bp[o + jj] = b[s + jj * bcs];
        for (; jj < NR; jj++) bp[o + jj] = 0;
        o += NR;
      }
    }
  }
}

/** A[i, k] for i < mc, k < kc into MR-tall panels: panel p holds A[p*MR + r, k] at p*kc*MR + k*MR + r. */
function packPanelsA(a: TypedArray, ao: number, ars: number, acs: number, mc: number, kc: number, ap: Float64Array): void {
  let o = 0;
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const mr = Math.min(MR, mc - i0);
    const s0 = ao + i0 * ars;
    if (mr === MR) {
      const s1 = s0 + ars, s2 = s1 + ars, s3 = s2 + ars;
      for (let k = 0, ks = 0; k < kc; k++, ks += acs) {
        ap[o] = a[s0 + ks]; ap[o + 1] = a[s1 + ks]; ap[o + 2] = a[s2 + ks]; ap[o + 3] = a[s3 + ks];
        o += MR;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        let r = 0;
        for (; r < mr; r++) ap[o + r] = a[s0 + r * ars + k * acs];
        for (; r < MR; r++) ap[o + r] = 0;
        o += MR;
      }
    }
  }
}

/** C[0:mc, 0:n] += Ap · Bp over one kc slice, one 4x8 tile at a time. */
function macroKernel(mc: number, n: number, kc: number, ap: Float64Array, bp: Float64Array, c: TypedArray, co: number, ldc: number): void {
  for (let j0 = 0, q = 0; j0 < n; j0 += NR, q++) {
    const nr = Math.min(NR, n - j0);
    const bBase = q * kc * NR;
    for (let i0 = 0, p = 0; i0 < mc; i0 += MR, p++) {
      const mr = Math.min(MR, mc - i0);
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c24 = 0, c25 = 0, c26 = 0, c27 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0, c34 = 0, c35 = 0, c36 = 0, c37 = 0;
      let ai = p * kc * MR;
      let bi = bBase;
      for (let k = 0; k < kc; k++, ai += MR, bi += NR) {
        const a0 = ap[ai], a1 = ap[ai + 1], a2 = ap[ai + 2], a3 = ap[ai + 3];
        let v = bp[bi];
        c00 += a0 * v; c10 += a1 * v; c20 += a2 * v; c30 += a3 * v;
        v = bp[bi + 1]; c01 += a0 * v; c11 += a1 * v; c21 += a2 * v; c31 += a3 * v;
        v = bp[bi + 2]; c02 += a0 * v; c12 += a1 * v; c22 += a2 * v; c32 += a3 * v;
        v = bp[bi + 3]; c03 += a0 * v; c13 += a1 * v; c23 += a2 * v; c33 += a3 * v;
        v = bp[bi + 4]; c04 += a0 * v; c14 += a1 * v; c24 += a2 * v; c34 += a3 * v;
        v = bp[bi + 5]; c05 += a0 * v; c15 += a1 * v; c25 += a2 * v; c35 += a3 * v;
        v = bp[bi + 6]; c06 += a0 * v; c16 += a1 * v; c26 += a2 * v; c36 += a3 * v;
        v = bp[bi + 7]; c07 += a0 * v; c17 += a1 * v; c27 += a2 * v; c37 += a3 * v;
      }
      let o = co + i0 * ldc + j0;
      if (mr === MR && nr === NR) {
        c[o] += c00; c[o + 1] += c01; c[o + 2] += c02; c[o + 3] += c03; c[o + 4] += c04; c[o + 5] += c05; c[o + 6] += c06; c[o + 7] += c07;
        o += ldc;
        c[o] += c10; c[o + 1] += c11; c[o + 2] += c12; c[o + 3] += c13; c[o + 4] += c14; c[o + 5] += c15; c[o + 6] += c16; c[o + 7] += c17;
        o += ldc;
        c[o] += c20; c[o + 1] += c21; c[o + 2] += c22; c[o + 3] += c23; c[o + 4] += c24; c[o + 5] += c25; c[o + 6] += c26; c[o + 7] += c27;
        o += ldc;
        c[o] += c30; c[o + 1] += c31; c[o + 2] += c32; c[o + 3] += c33; c[o + 4] += c34; c[o + 5] += c35; c[o + 6] += c36; c[o + 7] += c37;
      } else {
        const t = edge;
        t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03; t[4] = c04; t[5] = c05; t[6] = c06; t[7] = c07;
        t[8] = c10; t[9] = c11; t[10] = c12; t[11] = c13; t[12] = c14; t[13] = c15; t[14] = c16; t[15] = c17;
        t[16] = c20; t[17] = c21; t[18] = c22; t[19] = c23; t[20] = c24; t[21] = c25; t[22] = c26; t[23] = c27;
        t[24] = c30; t[25] = c31; t[26] = c32; t[27] = c33; t[28] = c34; t[29] = c35; t[30] = c36; t[31] = c37;
        for (let r = 0; r < mr; r++, o += ldc) {
          for (let s = 0; s < nr; s++) c[o + s] += t[r * NR + s];
        }
      }
    }
  }
}

/** Unpacked product for small or thin shapes (matrix-vector products, tiny batches). */
function gemmSmall(
  M: number, N: number, K: number,
  a: TypedArray, ao: number, ars: number, acs: number,
  b: TypedArray, bo: number, brs: number, bcs: number,
  c: TypedArray, co: number, ldc: number,
): void {
  if (N <= 2) {
    // Dot products along K.
    for (let i = 0; i < M; i++) {
      const arow = ao + i * ars;
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0, ak = arow, bk = bo + j * bcs; k < K; k++, ak += acs, bk += brs) acc += a[ak] * b[bk];
        c[co + i * ldc + j] += acc;
      }
    }
    return;
  }
  // Row updates: C[i, :] += A[i, k] * B[k, :], accumulated in a float64 row.
  if (rowScratch.length < N) rowScratch = new Float64Array(N);
  const row = rowScratch;
  for (let i = 0; i < M; i++) {
    row.fill(0, 0, N);
    const arow = ao + i * ars;
    for (let k = 0; k < K; k++) {
      const av = a[arow + k * acs];
      const bk = bo + k * brs;
      for (let j = 0, bj = bk; j < N; j++, bj += bcs) row[j] += av * b[bj];
    }
    const o = co + i * ldc;
    for (let j = 0; j < N; j++) c[o + j] += row[j];
  }
}

/**
 * Batched matmul of contiguous operands a[...batchA, M, K] (or [..., K, M]
 * with transposeA) and b[...batchB, K, N] (or [..., N, K]); the batch dims
 * broadcast to `outShape`'s leading dims.
 */
export function matmulValues(
  a: TypedArray, aShape: readonly number[], transposeA: boolean,
  b: TypedArray, bShape: readonly number[], transposeB: boolean,
  out: TypedArray, outShape: readonly number[],
): void {
  const ra = aShape.length, rb = bShape.length, ro = outShape.length;
  const M = outShape[ro - 2], N = outShape[ro - 1];
  const K = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  // Element strides of the logical A (M x K) and B (K x N) matrices.
  const [ars, acs] = transposeA ? [1, M] : [K, 1];
  const [brs, bcs] = transposeB ? [1, K] : [N, 1];
  const aMat = M * K, bMat = K * N, oMat = M * N;
  const batch = out.length / Math.max(oMat, 1);
  if (out.length === 0) return;
  const aBatch = a.length / Math.max(aMat, 1);
  const bBatch = b.length / Math.max(bMat, 1);
  if (bBatch === 1 && !transposeA && aBatch === batch) {
    // b is shared by every batch: one tall product [batch * M, K] x [K, N].
    gemm(batch * M, N, K, a, 0, K, 1, b, 0, brs, bcs, out, 0, N);
    return;
  }
  // Per-batch offsets under broadcasting, walking the output batch index.
  const bdims = outShape.slice(0, ro - 2);
  const nb = bdims.length;
  const aStride = new Array<number>(nb).fill(0);
  const bStride = new Array<number>(nb).fill(0);
  for (let i = nb - 1, sa = aMat, sb = bMat; i >= 0; i--) {
    const ia = i - (nb - (ra - 2));
    const ib = i - (nb - (rb - 2));
    if (ia >= 0) { if (aShape[ia] !== 1) aStride[i] = sa; sa *= aShape[ia]; }
    if (ib >= 0) { if (bShape[ib] !== 1) bStride[i] = sb; sb *= bShape[ib]; }
  }
  const index = new Array<number>(nb).fill(0);
  let ao = 0, bo = 0;
  for (let t = 0; t < batch; t++) {
    gemm(M, N, K, a, ao, ars, acs, b, bo, brs, bcs, out, t * oMat, N);
    for (let d = nb - 1; d >= 0; d--) {
      index[d]++;
      ao += aStride[d];
      bo += bStride[d];
      if (index[d] < bdims[d]) break;
      ao -= aStride[d] * bdims[d];
      bo -= bStride[d] * bdims[d];
      index[d] = 0;
    }
  }
}
