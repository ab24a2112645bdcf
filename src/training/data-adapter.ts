/**
 * Feeding data to fit / evaluate / predict. Arrays and tensors (possibly in
 * lists or objects, for several inputs or outputs) are cut into batches of
 * rows, shuffled each epoch with a seeded permutation; any async iterable of
 * batches (a strata.data.Dataset) is passed through.
 */
import { type TypedArray, allocate } from '../tensor/dtype.ts';
import { formatShape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { tensor, type TensorData } from '../tensor/create.ts';
import { Variable } from '../engine/variable.ts';
import { makeDefaultSeed } from '../ops/api/random.ts';
import { streamKeys, streamWord } from '../ops/kernels/random.ts';

/** One input or target: a tensor, or a list / object of tensors (several inputs or outputs). */
export type Structure = Tensor | Tensor[] | { [name: string]: Tensor };
export type DataLike = Tensor | TensorData | Variable | DataLike[] | { [name: string]: DataLike };

/** A batch as the step functions receive it. */
export interface Batch {
  x: Structure;
  y?: Structure;
  sampleWeight?: Tensor;
}

export function toStructure(x: DataLike, where: string): Structure {
  if (x instanceof Tensor) return x;
  if (x instanceof Variable) return x.value;
  if (ArrayBuffer.isView(x)) return tensor(x as TypedArray);
  if (Array.isArray(x)) {
    // A list of tensors (several inputs) or nested numbers (one input)?
    if (x.length > 0 && x.every((e) => e instanceof Tensor || e instanceof Variable || ArrayBuffer.isView(e))) {
      return x.map((e, i) => toStructure(e, `${where}[${i}]`) as Tensor);
    }
    return tensor(x as TensorData);
  }
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, toStructure(v as DataLike, `${where}.${k}`) as Tensor]));
  throw new TypeError(`${where}: expected tensors, arrays or typed arrays. Received: ${String(x)}`);
}

export function structureLeaves(s: Structure | undefined): Tensor[] {
  if (!s) return [];
  if (s instanceof Tensor) return [s];
  if (Array.isArray(s)) return s;
  return Object.values(s);
}

function mapStructure(s: Structure, fn: (t: Tensor) => Tensor): Structure {
  if (s instanceof Tensor) return fn(s);
  if (Array.isArray(s)) return s.map(fn);
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, fn(v)]));
}

/** Rows `indices` of `t` (along the first axis), as a new tensor. */
export function gatherRows(t: Tensor, indices: ArrayLike<number>): Tensor {
  const values = t.valuesOrThrow('gatherRows');
  const rowSize = t.shape.slice(1).reduce((p: number, d) => p * (d as number), 1);
  const out = allocate(t.dtype, indices.length * rowSize);
  // Contiguous runs of indices are copied in one go.
  for (let i = 0; i < indices.length; ) {
    let j = i + 1;
    while (j < indices.length && indices[j] === indices[j - 1] + 1) j++;
    const start = indices[i] * rowSize;
    out.set(values.subarray(start, start + (j - i) * rowSize), i * rowSize);
    i = j;
  }
  return new Tensor([indices.length, ...t.shape.slice(1)], t.dtype, out);
}

/** Number of samples (first dim), checking that every array agrees. */
export function sampleCount(parts: { name: string; tensors: Tensor[] }[]): number {
  let count: number | null = null;
  let first = '';
  for (const { name, tensors } of parts) {
    for (const t of tensors) {
      if (t.rank === 0) throw new Error(`${name}: expected an array with a first (sample) dimension, received a scalar.`);
      const n = t.shape[0] as number;
      if (count === null) {
        count = n;
        first = `${name} ${formatShape(t.shape)}`;
      } else if (n !== count) {
        throw new Error(`Data cardinality is ambiguous: ${first} has ${count} samples but ${name} ${formatShape(t.shape)} has ${n}. Make sure all arrays contain the same number of samples.`);
      }
    }
  }
  if (count === null) throw new Error('No data given.');
  return count;
}

/** A deterministic permutation of 0..n-1 (Fisher–Yates on the counter-based hash). */
export function permutation(n: number, seed: number, epoch: number): Int32Array {
  const [k1, k2] = streamKeys(seed, epoch);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = streamWord(i, k1, k2) % (i + 1);
    const tmp = p[i];
    p[i] = p[j];
    p[j] = tmp;
  }
  return p;
}

export interface ArrayAdapterOptions {
  batchSize: number;
  shuffle: boolean;
  /** Seed of the shuffling (default: from the global seed, so setRandomSeed makes it reproducible). */
  seed?: number;
  /** Give every sample this weight (from classWeight / sampleWeight). */
  sampleWeight?: Tensor;
}

/** Batches of in-memory arrays. */
export class ArrayDataAdapter {
  readonly numSamples: number;
  readonly batchSize: number;
  private readonly seed: number;

  constructor(
    readonly x: Structure,
    readonly y: Structure | undefined,
    readonly options: ArrayAdapterOptions,
  ) {
    this.numSamples = sampleCount([
      { name: 'x', tensors: structureLeaves(x) },
      { name: 'y', tensors: structureLeaves(y) },
      { name: 'sampleWeight', tensors: options.sampleWeight ? [options.sampleWeight] : [] },
    ]);
    if (!Number.isInteger(options.batchSize) || options.batchSize <= 0) throw new Error(`batchSize must be a positive integer. Received: ${options.batchSize}`);
    this.batchSize = options.batchSize;
    this.seed = options.seed ?? makeDefaultSeed();
  }

  get stepsPerEpoch(): number {
    return Math.ceil(this.numSamples / this.batchSize);
  }

  *batches(epoch: number): Generator<Batch> {
    const order = this.options.shuffle ? permutation(this.numSamples, this.seed, epoch) : null;
    for (let start = 0; start < this.numSamples; start += this.batchSize) {
      const end = Math.min(this.numSamples, start + this.batchSize);
      const idx = order ? order.subarray(start, end) : Int32Array.from({ length: end - start }, (_, i) => start + i);
      const take = (t: Tensor) => gatherRows(t, idx);
      yield {
        x: mapStructure(this.x, take),
        y: this.y ? mapStructure(this.y, take) : undefined,
        sampleWeight: this.options.sampleWeight ? take(this.options.sampleWeight) : undefined,
      };
    }
  }

  /** Splits off the last `fraction` of the samples (before shuffling, as Keras does). */
  static split(x: Structure, y: Structure | undefined, sampleWeight: Tensor | undefined, fraction: number): { train: [Structure, Structure | undefined, Tensor | undefined]; val: [Structure, Structure | undefined, Tensor | undefined] } {
    if (!(fraction > 0 && fraction < 1)) throw new Error(`validationSplit must be in (0, 1). Received: ${fraction}`);
    const n = sampleCount([{ name: 'x', tensors: structureLeaves(x) }]);
    const cut = Math.floor(n * (1 - fraction));
    if (cut === 0 || cut === n) throw new Error(`validationSplit=${fraction} leaves no samples for training or for validation (${n} samples).`);
    const head = Int32Array.from({ length: cut }, (_, i) => i);
    const tail = Int32Array.from({ length: n - cut }, (_, i) => cut + i);
    const part = (idx: Int32Array): [Structure, Structure | undefined, Tensor | undefined] => [
      mapStructure(x, (t) => gatherRows(t, idx)),
      y ? mapStructure(y, (t) => gatherRows(t, idx)) : undefined,
      sampleWeight ? gatherRows(sampleWeight, idx) : undefined,
    ];
    return { train: part(head), val: part(tail) };
  }
}
