/**
 * `strata.random`: keras.random in camelCase.
 *
 * Every draw goes through one primitive, `randomUniform(seed, counter)`,
 * whose values are a pure function of (seed, counter, element index), so
 * eager code, the interpreter and compiled ONNX graphs draw the same
 * numbers (bit for bit for uniform draws; see ../kernels/random.ts).
 *
 * `seed` arguments follow Keras 3:
 * - an integer: deterministic and stateless (every call gives the same values);
 * - a `SeedGenerator`: draws from it and advances it;
 * - `null`/omitted: draws from the global SeedGenerator (advances it);
 * - a pair `[seed, counter]` (numbers or int32 scalar tensors): a stateless
 *   draw at an explicit stream position (TensorFlow's stateless ops).
 *
 * A SeedGenerator keeps its seed and counter in int32 Variables. Traced
 * functions therefore read them as graph inputs and return the incremented
 * counter, so a compiled function and eager code continue the same stream.
 */
import { type DType, assertDType, isFloat } from '../../tensor/dtype.ts';
import { type Dim, type Shape, describe, formatShape, normalizeAxis } from '../../tensor/shape.ts';
import { Tensor } from '../../tensor/tensor.ts';
import { tensor } from '../../tensor/create.ts';
import { dispatch } from '../../engine/dispatch.ts';
import { withTracer } from '../../engine/tracing.ts';
import { Variable } from '../../engine/variable.ts';
import { randomOps as R } from '../defs/random.ts';
import { mix32, streamKeys, streamWord } from '../kernels/random.ts';
import { type TensorLike, toTensor } from '../convert.ts';
import * as m from './math.ts';
import * as a from './array.ts';
import * as r from './reduce.ts';
import * as ix from './indexing.ts';

/** Folds any safe integer into an int32 (high bits are mixed in, not dropped). */
function foldSeed(seed: number): number {
  const low = seed | 0;
  const high = Math.floor(seed / 4294967296) | 0;
  return high === 0 || high === -1 ? low : (low ^ mix32(high >>> 0)) | 0;
}

function checkIntegerSeed(seed: unknown, where: string): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new TypeError(`${where}: Received: seed=${describe(seed)}; expected an integer.`);
  }
  return seed;
}

// ---------------------------------------------------------------------------
// Seeds made in JavaScript (for SeedGenerators created without a seed, and
// for other components that need a default seed). Reproducible after
// setRandomSeed; a fresh process starts from a random global seed.

let globalSeed: number = (Math.random() * 2 ** 31) | 0;
let defaultSeedCount = 0;

/**
 * A new seed (a positive int32) from the global seed: the n-th call after
 * `setRandomSeed(s)` always returns the same value. Keras draws these from
 * Python's `random` module, which `set_random_seed` also seeds.
 */
export function makeDefaultSeed(): number {
  const [k1, k2] = streamKeys(globalSeed, 0x5eed);
  return (streamWord(defaultSeedCount++, k1, k2) & 0x7fffffff) || 1;
}

// ---------------------------------------------------------------------------

export interface SeedGeneratorOptions {
  name?: string;
}

/**
 * A source of seeds for random ops (keras.random.SeedGenerator). Holds its
 * seed and a counter in non-trainable int32 Variables; `next()` returns both
 * as scalar tensors and increments the counter with `assign`, so it works
 * the same eagerly and inside traced functions.
 */
export class SeedGenerator {
  readonly name: string;
  /** The seed (int32 scalar). */
  readonly seedState: Variable;
  /** The number of draws so far (int32 scalar; wraps after 2^32 draws). */
  readonly counter: Variable;
  private initialSeed: number;

  constructor(seed: number | null = null, options: SeedGeneratorOptions = {}) {
    const value = seed === null || seed === undefined ? makeDefaultSeed() : checkIntegerSeed(seed, 'random.SeedGenerator');
    this.name = options.name ?? 'seed_generator';
    this.initialSeed = value;
    this.seedState = new Variable(tensor(foldSeed(value), [], 'int32'), { name: `${this.name}_seed`, trainable: false });
    this.counter = new Variable(tensor(0, [], 'int32'), { name: `${this.name}_counter`, trainable: false });
  }

  /** The integer seed this generator was created (or last reseeded) with. */
  get seed(): number {
    return this.initialSeed;
  }

  /**
   * The (seed, counter) int32 scalars for the next draw; increments the
   * counter. Uses only variable reads and `assign`, never the values, so it
   * works while tracing.
   */
  next(): [Tensor, Tensor] {
    const seed = this.seedState.read();
    const counter = this.counter.read();
    this.counter.assign(m.add(counter, 1));
    return [seed, counter];
  }

  /** Sets a new seed and restarts the counter at 0. */
  reseed(seed: number): void {
    checkIntegerSeed(seed, 'random.SeedGenerator.reseed');
    this.initialSeed = seed;
    this.seedState.assign(tensor(foldSeed(seed), [], 'int32'));
    this.counter.assign(tensor(0, [], 'int32'));
  }

  getConfig(): { seed: number; name: string } {
    return { seed: this.initialSeed, name: this.name };
  }
}

let globalGenerator: SeedGenerator | null = null;

/** The generator used by random ops called without a seed (created on first use). */
export function getGlobalSeedGenerator(): SeedGenerator {
  // Its variables are created eagerly even when first needed inside a traced function.
  globalGenerator ??= withTracer(null, () => new SeedGenerator(globalSeed, { name: 'global_seed_generator' }));
  return globalGenerator;
}

/**
 * Makes random ops, SeedGenerators created without a seed, and everything
 * built on them reproducible (keras.utils.set_random_seed). The global
 * generator is reseeded in place (its counter restarts at 0), so compiled
 * functions that read it follow the new seed too.
 */
export function setRandomSeed(seed: number): void {
  checkIntegerSeed(seed, 'setRandomSeed');
  globalSeed = foldSeed(seed);
  defaultSeedCount = 0;
  if (globalGenerator) withTracer(null, () => globalGenerator!.reseed(seed));
  else getGlobalSeedGenerator();
}
export { setRandomSeed as setSeed };

export type Seed = number | SeedGenerator | readonly [TensorLike, TensorLike] | null | undefined;

function seedScalar(x: TensorLike, where: string): Tensor {
  if (typeof x === 'number') return tensor(foldSeed(checkIntegerSeed(x, where)), [], 'int32');
  const t = toTensor(x, where);
  if (t.dtype !== 'int32' || t.rank !== 0) {
    throw new TypeError(`${where}: Received: a seed tensor with dtype ${t.dtype} and shape ${formatShape(t.shape)}; expected an int32 scalar.`);
  }
  return t;
}

/** The (seed, counter) inputs of the primitive for a `seed` argument (Keras's draw_seed). */
export function drawSeed(seed: Seed, where = 'random'): [Tensor, Tensor] {
  if (seed instanceof SeedGenerator) return seed.next();
  if (seed === null || seed === undefined) return getGlobalSeedGenerator().next();
  if (typeof seed === 'number') return [seedScalar(seed, where), tensor(0, [], 'int32')];
  if (Array.isArray(seed) && seed.length === 2) return [seedScalar(seed[0], where), seedScalar(seed[1], where)];
  throw new TypeError(
    `${where}: Received: seed=${describe(seed)}; expected an integer, a SeedGenerator, a pair [seed, counter] or null.`,
  );
}

function checkShape(shape: unknown, where: string, like: Tensor | undefined): Shape {
  if (!Array.isArray(shape) || shape.some((d) => !(d === null || (Number.isInteger(d) && d >= 0)))) {
    throw new TypeError(`${where}: Received: shape=${describe(shape)}; expected an array of non-negative integers.`);
  }
  if (shape.includes(null) && !like) {
    throw new TypeError(
      `${where}: Received: shape=${formatShape(shape as Dim[])} with unknown (null) dims; pass \`like\`, a tensor whose dims fill them in at run time.`,
    );
  }
  return shape as Shape;
}

function floatDType(dtype: DType | undefined, where: string): DType {
  const d = assertDType(dtype ?? 'float32', where);
  if (!isFloat(d)) throw new TypeError(`${where}: Received: dtype=${d}; expected a float dtype (float32 or float64).`);
  return d;
}

/**
 * `count` independent arrays of uniform values in [0, 1) from one draw of
 * the primitive (for composites: normal uses two). `like` fills in the null
 * dims of `shape` at run time.
 */
export function drawUniform(shape: Shape, dtype: DType, seed: Seed, count = 1, like?: Tensor, where = 'random.uniform'): Tensor[] {
  checkShape(shape, where, like);
  // Resolve what is known now; `like` is passed (as a shape-only input) only for dims still unknown.
  const resolved = like && like.rank === shape.length ? shape.map((d, i) => d ?? like.shape[i]) : [...shape];
  const [s, c] = drawSeed(seed, where);
  if (resolved.every((d) => d !== null)) return dispatch(R.randomUniform, [s, c], { shape: resolved, dtype, count });
  return dispatch(R.randomUniform, [s, c, like!], { shape: [...shape], dtype, count });
}

interface DrawOptions {
  dtype?: DType;
  seed?: Seed;
  /** A tensor whose run-time dims replace the null dims of `shape` (same rank). */
  like?: Tensor;
}

export interface UniformOptions extends DrawOptions {
  minval?: TensorLike;
  maxval?: TensorLike;
}

/** Uniform values in [minval, maxval) (keras.random.uniform). */
export function uniform(shape: Shape, options: UniformOptions = {}): Tensor {
  const where = 'random.uniform';
  const dtype = floatDType(options.dtype, where);
  const { minval = 0, maxval = 1 } = options;
  const [u] = drawUniform(shape, dtype, options.seed, 1, options.like, where);
  if (minval === 0 && maxval === 1) return u;
  return m.add(m.multiply(u, m.subtract(maxval, minval)), minval);
}

export interface NormalOptions extends DrawOptions {
  mean?: TensorLike;
  stddev?: TensorLike;
}

/** Box-Muller radius sqrt(-2 log(1 - u)); 1 - u is exact and in (0, 1], so the log is finite. */
const boxMullerRadius = (u: Tensor): Tensor => m.sqrt(m.multiply(m.log(m.subtract(1, u)), -2));

function affine(z: Tensor, mean: TensorLike, stddev: TensorLike): Tensor {
  const scaled = stddev === 1 ? z : m.multiply(z, stddev);
  return mean === 0 ? scaled : m.add(scaled, mean);
}

/**
 * Normally distributed values (keras.random.normal), by the Box-Muller
 * transform of two uniform draws. float32 values reach at most about 5.8
 * standard deviations (the uniforms have 24 bits), float64 about 8.6.
 */
export function normal(shape: Shape, options: NormalOptions = {}): Tensor {
  const where = 'random.normal';
  const dtype = floatDType(options.dtype, where);
  const [u1, u2] = drawUniform(shape, dtype, options.seed, 2, options.like, where);
  const z = m.multiply(boxMullerRadius(u1), m.cos(m.multiply(u2, 2 * Math.PI)));
  return affine(z, options.mean ?? 0, options.stddev ?? 1);
}

/** erf(sqrt(2)) = 2 Phi(2) - 1: the probability mass within two standard deviations. */
const ERF_SQRT2 = 0.9544997361036416;

/**
 * erfinv(x) for |x| <= erf(sqrt(2)), from the central branch of M. Giles'
 * single-precision approximation ("Approximating the erfinv function", GPU
 * Computing Gems, 2010): with w = -log(1 - x^2) - 2.5, erfinv(x) = x p(w)
 * for a degree-8 polynomial p. In that range w < 5, so the tail branch is
 * never needed; the error is below 2e-7 (relative).
 */
function erfinvCentral(x: Tensor): Tensor {
  const coefficients = [
    2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 2.1858087e-4, -1.25372503e-3, -4.17768164e-3, 0.246640727, 1.50140941,
  ];
  const w = m.subtract(m.negative(m.log(m.subtract(1, m.square(x)))), 2.5);
  let p = m.add(m.multiply(w, coefficients[0]), coefficients[1]);
  for (let i = 2; i < coefficients.length; i++) p = m.add(m.multiply(p, w), coefficients[i]);
  return m.multiply(p, x);
}

/**
 * Normal values with those more than two standard deviations from the mean
 * redrawn (keras.random.truncatedNormal). Sampled exactly rather than by
 * rejection: one uniform draw is mapped through the inverse normal CDF
 * restricted to [-2, 2] standard deviations, z = sqrt(2) erfinv((2u - 1) erf(sqrt(2))).
 * The inverse is accurate to about 2e-7 (float32 level, also for float64).
 */
export function truncatedNormal(shape: Shape, options: NormalOptions = {}): Tensor {
  const where = 'random.truncatedNormal';
  const dtype = floatDType(options.dtype, where);
  const [u] = drawUniform(shape, dtype, options.seed, 1, options.like, where);
  const x = m.multiply(m.subtract(m.multiply(u, 2), 1), ERF_SQRT2);
  const z = m.clip(m.multiply(erfinvCentral(x), Math.SQRT2), -2, 2);
  return affine(z, options.mean ?? 0, options.stddev ?? 1);
}

export interface RandintOptions {
  dtype?: DType;
  seed?: Seed;
  like?: Tensor;
}

/**
 * Random integers in [minval, maxval) (keras.random.randint). Drawn from
 * 53-bit uniforms, so the bias is below 2^-21 for any int32 range.
 */
export function randint(shape: Shape, minval: number, maxval: number, options: RandintOptions = {}): Tensor {
  const where = 'random.randint';
  const dtype = assertDType(options.dtype ?? 'int32', where);
  if (dtype !== 'int32') throw new TypeError(`${where}: Received: dtype=${dtype}; expected an integer dtype (int32).`);
  for (const [name, v] of [['minval', minval], ['maxval', maxval]] as const) {
    if (!Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 31) throw new TypeError(`${where}: Received: ${name}=${describe(v)}; expected an int32 integer.`);
  }
  if (maxval <= minval) throw new RangeError(`${where}: Received: minval=${minval}, maxval=${maxval}; expected minval < maxval.`);
  const [u] = drawUniform(shape, 'float64', options.seed, 1, options.like, where);
  const span = maxval - minval;
  // floor(u * span) <= span - 1 except when the product rounds up to span.
  const k = m.minimum(m.floor(m.multiply(u, span)), span - 1);
  return m.cast(m.add(k, minval), dtype);
}

export interface BernoulliOptions {
  p?: TensorLike;
  seed?: Seed;
  like?: Tensor;
}

/** Booleans that are true with probability `p` (default 0.5). */
export function bernoulli(shape: Shape, options: BernoulliOptions = {}): Tensor {
  const where = 'random.bernoulli';
  const [u] = drawUniform(shape, 'float32', options.seed, 1, options.like, where);
  return m.less(u, options.p ?? 0.5);
}

export interface DropoutOptions {
  /** Shape of the mask, broadcast against `inputs`; null dims take the inputs' dims. */
  noiseShape?: readonly Dim[] | null;
  seed?: Seed;
}

/**
 * Zeroes each value with probability `rate` and scales the others by
 * 1 / (1 - rate) (keras.random.dropout).
 */
export function dropout(inputs: TensorLike, rate: number, options: DropoutOptions = {}): Tensor {
  const where = 'random.dropout';
  const x = toTensor(inputs, 'dropout');
  if (!isFloat(x.dtype)) throw new TypeError(`${where}: Received: inputs with dtype ${x.dtype}; expected a float tensor.`);
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new RangeError(`${where}: Received: rate=${describe(rate)}; expected a number in [0, 1).`);
  }
  let noiseShape: Dim[] = [...x.shape];
  if (options.noiseShape) {
    if (!Array.isArray(options.noiseShape) || options.noiseShape.length !== x.rank) {
      throw new TypeError(`${where}: Received: noiseShape=${describe(options.noiseShape)} for inputs of shape ${formatShape(x.shape)}; expected the same rank.`);
    }
    noiseShape = options.noiseShape.map((d, i) => (d === null ? x.shape[i] : d));
    for (const [i, d] of noiseShape.entries()) {
      if (d !== null && d !== 1 && x.shape[i] !== null && d !== x.shape[i]) {
        throw new TypeError(`${where}: Received: noiseShape=${describe(options.noiseShape)} for inputs of shape ${formatShape(x.shape)}; each dim must be 1 or the inputs' dim.`);
      }
    }
  }
  if (rate === 0) return x;
  const keep = 1 - rate;
  const [u] = drawUniform(noiseShape, 'float32', options.seed, 1, x, where);
  return m.where(m.less(u, keep), m.divide(x, keep), 0);
}

export interface CategoricalOptions {
  dtype?: DType;
  seed?: Seed;
}

/**
 * Samples class indices from unnormalized log-probabilities `logits` of
 * shape [batch, numClasses]; returns [batch, numSamples]
 * (keras.random.categorical). Uses the Gumbel-max trick: the argmax of
 * logits + Gumbel noise is distributed as softmax(logits).
 */
export function categorical(logits: TensorLike, numSamples: number, options: CategoricalOptions = {}): Tensor {
  const where = 'random.categorical';
  let l = toTensor(logits, 'categorical');
  if (!isFloat(l.dtype)) l = m.cast(l, 'float32');
  if (l.rank !== 2) {
    throw new TypeError(`${where}: Received: logits with shape ${formatShape(l.shape)}; expected a 2D tensor [batch_size, num_classes].`);
  }
  if (!Number.isInteger(numSamples) || numSamples < 0) {
    throw new TypeError(`${where}: Received: numSamples=${describe(numSamples)}; expected a non-negative integer.`);
  }
  const dtype = assertDType(options.dtype ?? 'int32', where);
  const [batch, classes] = l.shape;
  const row = a.expandDims(l, 1); // [batch, 1, classes]
  const [u] = drawUniform([batch, numSamples, classes], l.dtype, options.seed, 1, row, where);
  // Gumbel noise -log(-log(u)); u = 0 gives -inf, which is never the argmax.
  const gumbel = m.negative(m.log(m.negative(m.log(u))));
  return m.cast(r.argmax(m.add(row, gumbel), -1), dtype);
}

export interface ShuffleOptions {
  axis?: number;
  seed?: Seed;
}

/**
 * A random permutation of `x` along `axis` (keras.random.shuffle): sorts
 * random keys and gathers with the sorted order.
 */
export function shuffle(x: TensorLike, options: ShuffleOptions = {}): Tensor {
  const where = 'random.shuffle';
  const t = toTensor(x, 'shuffle');
  if (t.rank === 0) throw new TypeError(`${where}: Received: a scalar; expected a tensor of rank >= 1.`);
  const axis = normalizeAxis(options.axis ?? 0, t.rank, where);
  // One key per position along `axis` (drawn with size-1 dims elsewhere, so an unknown length comes from `t`).
  const keyShape = t.shape.map((d, i) => (i === axis ? d : 1));
  const [keys] = drawUniform(keyShape, 'float64', options.seed, 1, t, where);
  return ix.take(t, ix.argsort(a.reshape(keys, [-1]), 0), axis);
}
