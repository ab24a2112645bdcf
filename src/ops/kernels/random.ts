/**
 * Counter-based random numbers. Element `i` of a draw is a pure function of
 * (seed, counter, i): no hidden state, so the same numbers come out eagerly,
 * in the TypeScript interpreter and in ONNX Runtime (the lowering in
 * ../defs/random.ts computes the same uint32 arithmetic with Mul, BitShift
 * and BitwiseXor).
 *
 * The mixing function is Chris Wellons' "lowbias32" (two multiply/xorshift
 * rounds; the constants are from his public hash-prospector results):
 *
 *   mix(x) = x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16
 *
 * Two keys are derived from (seed, counter):
 *
 *   k1 = mix(mix(seed ^ SALT1) ^ counter)
 *   k2 = mix(k1 ^ mix(seed ^ SALT2))
 *
 * (seed, counter) -> (k1, k2) is injective (k2 gives mix(seed ^ SALT2), hence
 * the seed; k1 then gives the counter), and both keys change with the counter.
 * Word `j` of a stream is
 *
 *   bits(j) = mix(mix(j ^ k1) ^ k2)
 *
 * A keyed two-round permutation of j: two streams are not index-shifted copies
 * of each other (as they would be with a single key xored into j).
 *
 * Words become floats exactly (no rounding anywhere, so every backend agrees):
 *   float32: (bits >>> 8) * 2^-24                               24 random bits
 *   float64: ((bits(2j) >>> 5) * 2^26 + (bits(2j+1) >>> 6)) * 2^-53   53 random bits
 * Both are in [0, 1).
 *
 * A draw of `count` outputs of n elements each reads words as if it drew one
 * [n, count] array: output t, element i uses word i * count + t (times 2, plus
 * 0 and 1, for float64).
 */

export const MIX_MUL_1 = 0x7feb352d;
export const MIX_MUL_2 = 0x846ca68b;
export const SEED_SALT_1 = 0x9e3779b9;
export const SEED_SALT_2 = 0x85ebca6b;
export const TWO_POW_M24 = 2 ** -24;
export const TWO_POW_26 = 2 ** 26;
export const TWO_POW_M53 = 2 ** -53;

/** lowbias32 on a uint32 (returned as a uint32 number). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, MIX_MUL_1);
  x ^= x >>> 15;
  x = Math.imul(x, MIX_MUL_2);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The two stream keys of (seed, counter); both are read as uint32 (int32 bit patterns). */
export function streamKeys(seed: number, counter: number): [number, number] {
  const k1 = mix32(mix32((seed ^ SEED_SALT_1) >>> 0) ^ counter);
  const k2 = mix32(k1 ^ mix32((seed ^ SEED_SALT_2) >>> 0));
  return [k1, k2];
}

/** Word j of the stream with keys (k1, k2). */
export function streamWord(j: number, k1: number, k2: number): number {
  return mix32(mix32((j ^ k1) >>> 0) ^ k2);
}

/**
 * Fills `out[i]` (i < n) with float32 uniforms from words i * count + t.
 * The hash is written out inline: this loop runs over every element.
 */
export function fillUniform32(out: Float32Array, k1: number, k2: number, count: number, t: number): void {
  const n = out.length;
  for (let i = 0, j = t; i < n; i++, j += count) {
    let x = j ^ k1;
    x ^= x >>> 16; x = Math.imul(x, MIX_MUL_1); x ^= x >>> 15; x = Math.imul(x, MIX_MUL_2); x ^= x >>> 16;
    x ^= k2;
    x ^= x >>> 16; x = Math.imul(x, MIX_MUL_1); x ^= x >>> 15; x = Math.imul(x, MIX_MUL_2); x ^= x >>> 16;
    out[i] = (x >>> 8) * TWO_POW_M24;
  }
}

/** Fills `out[i]` with float64 uniforms from words 2 (i * count + t) and 2 (i * count + t) + 1. */
export function fillUniform64(out: Float64Array, k1: number, k2: number, count: number, t: number): void {
  const n = out.length;
  const step = 2 * count;
  for (let i = 0, j = 2 * t; i < n; i++, j += step) {
    let hi = j ^ k1;
    hi ^= hi >>> 16; hi = Math.imul(hi, MIX_MUL_1); hi ^= hi >>> 15; hi = Math.imul(hi, MIX_MUL_2); hi ^= hi >>> 16;
    hi ^= k2;
    hi ^= hi >>> 16; hi = Math.imul(hi, MIX_MUL_1); hi ^= hi >>> 15; hi = Math.imul(hi, MIX_MUL_2); hi ^= hi >>> 16;
    let lo = (j + 1) ^ k1;
    lo ^= lo >>> 16; lo = Math.imul(lo, MIX_MUL_1); lo ^= lo >>> 15; lo = Math.imul(lo, MIX_MUL_2); lo ^= lo >>> 16;
    lo ^= k2;
    lo ^= lo >>> 16; lo = Math.imul(lo, MIX_MUL_1); lo ^= lo >>> 15; lo = Math.imul(lo, MIX_MUL_2); lo ^= lo >>> 16;
    out[i] = ((hi >>> 5) * TWO_POW_26 + (lo >>> 6)) * TWO_POW_M53;
  }
}
