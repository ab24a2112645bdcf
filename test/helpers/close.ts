/** Numeric comparison helpers for tests. */
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.ts';
import { formatShape } from '../../src/tensor/shape.ts';

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

function flatValues(x: Tensor | ArrayLike<number> | number): ArrayLike<number> {
  if (x instanceof Tensor) return x.dataSync();
  if (typeof x === 'number') return [x];
  return x;
}

/** Asserts |a - b| <= atol + rtol * |b| elementwise (NaNs must match NaNs, infinities must be equal). */
export function assertClose(actual: Tensor | ArrayLike<number> | number, expected: Tensor | ArrayLike<number> | number, tol: Tolerance = {}, label = ''): void {
  const { rtol = 1e-5, atol = 1e-6 } = tol;
  if (actual instanceof Tensor && expected instanceof Tensor) {
    assert.deepEqual(actual.shape, expected.shape, `${label} shape ${formatShape(actual.shape)} != ${formatShape(expected.shape)}`);
  }
  const a = flatValues(actual);
  const b = flatValues(expected);
  assert.equal(a.length, b.length, `${label} length ${a.length} != ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]);
    const y = Number(b[i]);
    if (Number.isNaN(y)) {
      assert.ok(Number.isNaN(x), `${label} [${i}]: expected NaN, got ${x}`);
      continue;
    }
    if (!Number.isFinite(y)) {
      assert.equal(x, y, `${label} [${i}]: expected ${y}, got ${x}`);
      continue;
    }
    const err = Math.abs(x - y);
    assert.ok(err <= atol + rtol * Math.abs(y), `${label} [${i}]: ${x} vs expected ${y} (|diff| ${err.toExponential(2)} > atol ${atol} + rtol ${rtol} * |expected|)`);
  }
}

/** Deterministic pseudo-random numbers for test inputs (independent of Strata's RNG). */
export function testRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** A float64 tensor of uniform values in [lo, hi) from a seeded generator. */
export function randomTensor(shape: number[], seed: number, lo = -1, hi = 1, dtype: 'float32' | 'float64' = 'float64'): Tensor {
  const rand = testRandom(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  const values = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = lo + (hi - lo) * rand();
  return new Tensor(shape, dtype, values);
}
