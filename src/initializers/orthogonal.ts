/**
 * Orthogonal (keras.initializers.Orthogonal, also exported as
 * OrthogonalInitializer and orthogonal).
 */
import type { DType } from '../tensor/dtype.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { formatShape } from '../tensor/shape.ts';
import { tensor, zeros } from '../tensor/create.ts';
import type { Config } from '../serialization/registry.ts';
import { initScope } from '../engine/tracing.ts';
import * as random from '../ops/api/random.ts';
import * as m from '../ops/api/math.ts';
import * as a from '../ops/api/array.ts';
import { type InitializerSeed, checkDType, checkShape, drawArg, seedFromConfig, LEGACY_INITIALIZER_KEYS } from './initializer.ts';
import { RandomInitializer } from './random.ts';
import { checkNumber, opt, readConfig } from './lookup.ts';

/**
 * The thin QR decomposition of a rows x cols matrix (rows >= cols, row-major
 * float64) by Householder reflections. Returns Q (rows x cols, orthonormal
 * columns, row-major) and the diagonal of R. Runs once per initializer
 * call, eagerly, so plain float64 arithmetic is enough.
 */
export function householderQR(values: Float64Array, rows: number, cols: number): { q: Float64Array; rDiag: Float64Array } {
  const r = Float64Array.from(values);
  const vs: Float64Array[] = [];
  const rDiag = new Float64Array(cols);
  for (let k = 0; k < cols; k++) {
    const len = rows - k;
    const v = new Float64Array(len);
    let norm2 = 0;
    for (let i = 0; i < len; i++) {
      v[i] = r[(k + i) * cols + k];
      norm2 += v[i] * v[i];
    }
    const norm = Math.sqrt(norm2);
    // Reflect x onto alpha e1 with alpha of the opposite sign to x0 (no cancellation).
    const alpha = v[0] >= 0 ? -norm : norm;
    v[0] -= alpha;
    let vNorm2 = 0;
    for (let i = 0; i < len; i++) vNorm2 += v[i] * v[i];
    if (vNorm2 > 0) {
      const inv = 1 / Math.sqrt(vNorm2);
      for (let i = 0; i < len; i++) v[i] *= inv;
      // R[k:, k:] -= 2 v (v^T R[k:, k:])
      for (let j = k; j < cols; j++) {
        let dot = 0;
        for (let i = 0; i < len; i++) dot += v[i] * r[(k + i) * cols + j];
        dot *= 2;
        for (let i = 0; i < len; i++) r[(k + i) * cols + j] -= dot * v[i];
      }
    }
    vs.push(v);
    rDiag[k] = r[k * cols + k];
  }
  // Q = H_0 H_1 ... H_{cols-1} applied to the first `cols` columns of the identity.
  const q = new Float64Array(rows * cols);
  for (let j = 0; j < cols; j++) q[j * cols + j] = 1;
  for (let k = cols - 1; k >= 0; k--) {
    const v = vs[k];
    const len = rows - k;
    for (let j = 0; j < cols; j++) {
      let dot = 0;
      for (let i = 0; i < len; i++) dot += v[i] * q[(k + i) * cols + j];
      dot *= 2;
      if (dot !== 0) for (let i = 0; i < len; i++) q[(k + i) * cols + j] -= dot * v[i];
    }
  }
  return { q, rDiag };
}

export interface OrthogonalOptions {
  /** Multiplies the orthogonal matrix (default 1). */
  gain?: number;
  seed?: InitializerSeed;
}

/**
 * An orthogonal matrix: the Q factor of the QR decomposition of a matrix
 * of normal values, with each column's sign set so R has a positive
 * diagonal, times `gain`. A shape (d0, ..., dn-1, c) is filled as the
 * matrix (d0 * ... * dn-1, c), so conv kernels work; with fewer rows than
 * columns the rows are orthonormal, otherwise the columns are.
 *
 * Keras config: `{"seed": null, "gain": 1.0}` (older Keras 3 releases named
 * the class OrthogonalInitializer; both names load).
 */
export class Orthogonal extends RandomInitializer {
  static override readonly className: string = 'Orthogonal';
  readonly gain: number;

  constructor(options: OrthogonalOptions = {}) {
    super(options.seed, 'Orthogonal');
    this.gain = checkNumber('Orthogonal', 'gain', options.gain ?? 1);
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const s = checkShape(shape, 'Orthogonal');
    const d = checkDType(dtype, 'Orthogonal', true);
    if (s.length < 2) {
      throw new RangeError(`Orthogonal: the tensor to initialize must be at least two-dimensional. Received: shape=${formatShape(s)} of rank ${s.length}.`);
    }
    const rows = s.slice(0, -1).reduce((p, x) => p * x, 1);
    const cols = s[s.length - 1];
    if (rows === 0 || cols === 0) return zeros(s, d);
    const tall = Math.max(rows, cols);
    const wide = Math.min(rows, cols);
    return initScope(() => {
      const normal = random.normal([tall, wide], { dtype: 'float64', seed: drawArg(this.seed) });
      const { q, rDiag } = householderQR(normal.dataSync() as Float64Array, tall, wide);
      const signs = tensor(Float64Array.from(rDiag, (x) => (x < 0 ? -1 : 1)), [wide], 'float64');
      let out = m.multiply(tensor(q, [tall, wide], 'float64'), signs);
      if (rows < cols) out = a.transpose(out);
      if (this.gain !== 1) out = m.multiply(out, this.gain);
      return m.cast(a.reshape(out, s), d);
    });
  }

  override getConfig(): Config {
    return { ...super.getConfig(), gain: this.gain };
  }

  static override fromConfig(config: Config = {}): Orthogonal {
    const c = readConfig('Orthogonal', config, ['seed', 'gain'], LEGACY_INITIALIZER_KEYS);
    return new Orthogonal({ gain: opt(c.gain), seed: seedFromConfig(c.seed, 'Orthogonal.fromConfig') });
  }
}
