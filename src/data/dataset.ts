/**
 * `strata.data.Dataset`: tf.data's Dataset in camelCase. A dataset is lazy
 * (a recipe; nothing runs until it is iterated), async-iterable
 * (`for await (const batch of ds)`) and re-iterable: every iteration is a new
 * pass from the start (an epoch), with its own shuffle order.
 *
 * Everything runs on the main thread except `map` with a `workerFunction`
 * (worker threads). Overlap with the consumer comes from `prefetch` (a
 * background loop that keeps a buffer filled while the consumer awaits, for
 * example, a compiled training step, which runs in the graph worker) and
 * from `map(fn, {numParallelCalls})` (several calls in flight: async
 * functions overlap their waiting; worker functions run in parallel).
 */
import { Tensor } from '../tensor/tensor.ts';
import type { DType } from '../tensor/dtype.ts';
import { makeDefaultSeed } from '../ops/api/random.ts';
import { type DatasetHandle, type DatasetNode, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, closeIterator, setDatasetFactory, nodeOf } from './core.ts';
import { ConcatenateNode, type GeneratorSource, GeneratorNode, ListNode, RangeNode, TensorSlicesNode, ZipNode, toComponents } from './sources.ts';
import {
  BatchNode,
  EnumerateNode,
  FilterNode,
  GroupByWindowNode,
  InterleaveNode,
  type InterleaveOptions,
  MapNode,
  type MapOptions,
  PaddedBatchNode,
  type PaddedBatchOptions,
  PrefetchNode,
  RebatchNode,
  RepeatNode,
  ScanNode,
  ShardNode,
  ShuffleNode,
  type ShuffleOptions,
  SkipNode,
  TakeNode,
  UnbatchNode,
  WindowNode,
  type WindowOptions,
} from './transforms.ts';
import { FileCacheNode, MemoryCacheNode } from './cache.ts';
import { glob } from './files/glob.ts';
import { DATASET, type Batched, type Element, type ElementSpec, type Normalized, type PaddedShapes, type PaddingValues, type Slices, type Unbatched, isLeafSpec, specOfElement, toSpec } from './structure.ts';
import type { WorkerFunction } from './workers.ts';

/** The element of `window` for elements of type T: a dataset per component. */
export type Windowed<T> = [Element] extends [T]
  ? Element
  : T extends Tensor | string | Uint8Array
  ? Dataset<T>
  : T extends readonly unknown[]
    ? { -readonly [K in keyof T]: Windowed<T[K]> }
    : T extends object
      ? { -readonly [K in keyof T]: Windowed<T[K]> }
      : Dataset<T>;

type Zipped<S> = { -readonly [K in keyof S]: S[K] extends Dataset<infer E> ? E : never };

export interface FromGeneratorOptions {
  /** The structure of the elements (TensorSpec / StringSpec leaves, or {shape, dtype}); values are converted and checked. */
  outputSignature?: unknown;
  /** Arguments passed to the generator function. */
  args?: readonly unknown[];
}

export interface ListFilesOptions {
  /** Shuffle the file names (default true, as in tf.data). */
  shuffle?: boolean;
  seed?: number;
}

export class Dataset<T = Element> implements AsyncIterable<T>, DatasetHandle<T> {
  readonly [DATASET] = true as const;
  /** @internal */
  readonly _node: DatasetNode<T>;

  constructor(node: DatasetNode<T>) {
    this._node = node;
  }

  // -------------------------------------------------------------------------
  // Sources

  /** The slices of `x` along its first dimension (tensors, typed arrays, nested arrays, strings; in arrays or objects). */
  static fromTensorSlices<const S>(x: S): Dataset<Slices<S>> {
    return new Dataset(new TensorSlicesNode(x) as unknown as DatasetNode<Slices<S>>);
  }

  /** A dataset of one element: `x`. */
  static fromTensors<const S>(x: S): Dataset<Normalized<S>> {
    const el = toComponents(x, 'Dataset.fromTensors');
    return new Dataset(new ListNode([el]) as unknown as DatasetNode<Normalized<S>>);
  }

  /**
   * Elements from a generator function (sync or async), called once per
   * pass. With `outputSignature`, each element is converted to its dtypes and
   * checked against its shapes.
   */
  static fromGenerator<E = Element>(generator: GeneratorSource, options: FromGeneratorOptions = {}): Dataset<E> {
    const sig = options.outputSignature === undefined ? null : toSpec(options.outputSignature, 'Dataset.fromGenerator');
    return new Dataset(new GeneratorNode(generator, sig, options.args ?? []) as unknown as DatasetNode<E>);
  }

  /** `range(stop)` or `range(start, stop, step?)`: scalar tensors (int32 for integer arguments, else float32, unless `dtype` is given). */
  static range(start: number, stop?: number, step = 1, options: { dtype?: DType } = {}): Dataset<Tensor> {
    if (stop === undefined) {
      stop = start;
      start = 0;
    }
    const dtype = options.dtype ?? ([start, stop, step].every(Number.isInteger) ? 'int32' : 'float32');
    return new Dataset(new RangeNode(start, stop, step, dtype) as unknown as DatasetNode<Tensor>);
  }

  /** Elements of several datasets side by side, as an array (`zip([a, b])`) or an object (`zip({x: a, y: b})`); ends with the shortest. */
  static zip<const S extends readonly Dataset<unknown>[] | { [k: string]: Dataset<unknown> }>(datasets: S): Dataset<Zipped<S>> {
    return new Dataset(new ZipNode(datasets) as unknown as DatasetNode<Zipped<S>>);
  }

  /**
   * The files matching one or more glob patterns (`*`, `?`, `[a-z]`, `**`),
   * as a dataset of paths. Matched now; an error when nothing matches.
   * Shuffled unless `shuffle: false` (as in tf.data), with `seed`.
   */
  static listFiles(pattern: string | readonly string[], options: ListFilesOptions = {}): Dataset<string> {
    const patterns = typeof pattern === 'string' ? [pattern] : [...pattern];
    const files = [...new Set(patterns.flatMap((p) => glob(p)))].sort();
    if (files.length === 0) throw new Error(`Dataset.listFiles: no files match ${patterns.map((p) => `'${p}'`).join(', ')}.`);
    const ds = new Dataset<string>(new ListNode(files) as unknown as DatasetNode<string>);
    return options.shuffle === false ? ds : ds.shuffle(files.length, { seed: options.seed });
  }

  // -------------------------------------------------------------------------
  // Iteration and inspection

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this._node.iterate();
  }

  /**
   * The structure of the elements (TensorSpec / StringSpec leaves); null
   * when it is only known after producing an element (after `map` without
   * `outputSignature`, until the first element has been produced).
   */
  get elementSpec(): ElementSpec | null {
    return this._node.spec();
  }

  /** The spec, producing the first element of a new pass if needed. */
  async resolveElementSpec(): Promise<ElementSpec | null> {
    const known = this._node.spec();
    if (known !== null) return known;
    const it = this._node.iterate();
    try {
      const r = await it.next();
      return r.done ? null : specOfElement(r.value as Element);
    } finally {
      await closeIterator(it);
    }
  }

  /** The number of elements, or INFINITE_CARDINALITY (-1), or UNKNOWN_CARDINALITY (-2). */
  cardinality(): number {
    return this._node.cardinality();
  }

  /** All elements of one pass, in an array (not for infinite datasets). */
  async toArray(): Promise<T[]> {
    if (this.cardinality() === INFINITE_CARDINALITY) throw new Error('Dataset.toArray: the dataset is infinite; take(n) first.');
    const out: T[] = [];
    for await (const x of this) out.push(x);
    return out;
  }

  /** Folds the elements of one pass: `reduce(initial, (state, element) => state)`. */
  async reduce<S>(initial: S, fn: (state: S, element: T) => S | Promise<S>): Promise<S> {
    let s = initial;
    for await (const x of this) s = await fn(s, x);
    return s;
  }

  // -------------------------------------------------------------------------
  // Transformations

  /**
   * Applies `fn` to each element. `fn` may be async; numbers, typed arrays
   * and nested arrays it returns become tensors. With `numParallelCalls`
   * (or AUTOTUNE), several calls are in flight, in the background, and
   * results keep the input order unless `deterministic: false`. A
   * `workerFunction` runs in worker threads. An error names the element.
   */
  map<U>(fn: ((element: T) => U | Promise<U>) | WorkerFunction<T, U>, options: MapOptions = {}): Dataset<Normalized<Awaited<U>>> {
    const opts = options.outputSignature === undefined ? options : { ...options, outputSignature: toSpec(options.outputSignature, 'Dataset.map') };
    return new Dataset(new MapNode(this._node as DatasetNode, fn as never, opts) as unknown as DatasetNode<Normalized<Awaited<U>>>);
  }

  /**
   * A map with state: `fn(state, element)` returns `[newState, output]`
   * (may be async); every pass starts from `initialState` (tf.data's scan).
   */
  scan<S, U>(initialState: S, fn: (state: S, element: T) => readonly [S, U] | Promise<readonly [S, U]>): Dataset<Normalized<U>> {
    return new Dataset(new ScanNode(this._node as DatasetNode, initialState, fn as never) as unknown as DatasetNode<Normalized<U>>);
  }

  /** Keeps the elements for which `predicate` returns true (a boolean or a scalar bool tensor; may be async). */
  filter(predicate: (element: T) => unknown): Dataset<T> {
    return new Dataset(new FilterNode(this._node as DatasetNode, predicate as never) as unknown as DatasetNode<T>);
  }

  /** Stacks `batchSize` consecutive elements (the last batch may be smaller unless `dropRemainder`). */
  batch(batchSize: number, options: { dropRemainder?: boolean } = {}): Dataset<Batched<T>> {
    return new Dataset(new BatchNode(this._node as DatasetNode, batchSize, options.dropRemainder ?? false) as unknown as DatasetNode<Batched<T>>);
  }

  /** Like batch, padding each component to the longest in the batch (or to `paddedShapes`) with `paddingValues` (default 0 / ''). */
  paddedBatch(batchSize: number, options: PaddedBatchOptions = {}): Dataset<Batched<T>> {
    return new Dataset(new PaddedBatchNode(this._node as DatasetNode, batchSize, options) as unknown as DatasetNode<Batched<T>>);
  }

  /** Splits each element along its first dimension. */
  unbatch(): Dataset<Unbatched<T>> {
    return new Dataset(new UnbatchNode(this._node as DatasetNode) as unknown as DatasetNode<Unbatched<T>>);
  }

  /** Re-batches batched elements into batches of `batchSize` (a list is cycled through). */
  rebatch(batchSize: number | readonly number[], options: { dropRemainder?: boolean } = {}): Dataset<T> {
    return new Dataset(new RebatchNode(this._node as DatasetNode, batchSize, options.dropRemainder ?? false) as unknown as DatasetNode<T>);
  }

  /**
   * Shuffles with a buffer of `bufferSize` elements (a buffer as large as the
   * dataset gives a uniform permutation). The same seed gives the same
   * order on every run; each pass (epoch) has a new order unless
   * `reshuffleEachIteration: false`.
   */
  shuffle(bufferSize: number, options: ShuffleOptions = {}): Dataset<T> {
    const seed = options.seed ?? makeDefaultSeed();
    return new Dataset(new ShuffleNode(this._node as DatasetNode, bufferSize, seed, options.reshuffleEachIteration ?? true) as unknown as DatasetNode<T>);
  }

  /** Repeats the dataset `count` times (forever when omitted or -1). */
  repeat(count = -1): Dataset<T> {
    return new Dataset(new RepeatNode(this._node as DatasetNode, count) as unknown as DatasetNode<T>);
  }

  /** The first `count` elements (-1: all). */
  take(count: number): Dataset<T> {
    return new Dataset(new TakeNode(this._node as DatasetNode, count) as unknown as DatasetNode<T>);
  }

  /** All but the first `count` elements (-1: none). */
  skip(count: number): Dataset<T> {
    return new Dataset(new SkipNode(this._node as DatasetNode, count) as unknown as DatasetNode<T>);
  }

  /** Every `numShards`-th element, starting at `index`. */
  shard(numShards: number, index: number): Dataset<T> {
    return new Dataset(new ShardNode(this._node as DatasetNode, numShards, index) as unknown as DatasetNode<T>);
  }

  /** `[index, element]` pairs, the index an int32 scalar tensor counting from `start`. */
  enumerate(start = 0): Dataset<[Tensor, T]> {
    return new Dataset(new EnumerateNode(this._node as DatasetNode, start) as unknown as DatasetNode<[Tensor, T]>);
  }

  /**
   * Caches the elements of the first complete pass: in memory with no
   * argument (every element is kept: opt in only when they fit), or in a
   * file that later passes, and later runs, read instead of the input.
   */
  cache(filename?: string): Dataset<T> {
    const node = filename === undefined || filename === '' ? new MemoryCacheNode(this._node as DatasetNode) : new FileCacheNode(this._node as DatasetNode, filename);
    return new Dataset(node as unknown as DatasetNode<T>);
  }

  /**
   * Produces up to `bufferSize` elements ahead in the background while the
   * consumer works. AUTOTUNE starts at 1 and doubles the buffer (up to 16)
   * each time the consumer has to wait.
   */
  prefetch(bufferSize: number): Dataset<T> {
    return new Dataset(new PrefetchNode(this._node as DatasetNode, bufferSize) as unknown as DatasetNode<T>);
  }

  /**
   * Maps each element to a dataset and interleaves their elements:
   * `cycleLength` open at once, `blockLength` consecutive elements from each
   * (tf.data's order). With `numParallelCalls`, open datasets read ahead in
   * the background.
   */
  interleave<U>(fn: (element: T) => Dataset<U> | Promise<Dataset<U>>, options: InterleaveOptions = {}): Dataset<U> {
    return new Dataset(new InterleaveNode(this._node as DatasetNode, fn as never, options) as unknown as DatasetNode<U>);
  }

  /** Maps each element to a dataset and concatenates them. */
  flatMap<U>(fn: (element: T) => Dataset<U> | Promise<Dataset<U>>): Dataset<U> {
    return new Dataset(new InterleaveNode(this._node as DatasetNode, fn as never, { cycleLength: 1, blockLength: 1 }, 'Dataset.flatMap') as unknown as DatasetNode<U>);
  }

  /**
   * Windows of `size` elements, each a dataset (per component, for
   * structured elements), starting every `shift` elements and taking every
   * `stride`-th element. Use `flatMap((w) => w.batch(size))` to get tensors.
   */
  window(size: number, options: WindowOptions = {}): Dataset<Windowed<T>> {
    return new Dataset(new WindowNode(this._node as DatasetNode, size, options) as unknown as DatasetNode<Windowed<T>>);
  }

  /**
   * Groups elements by `keyFunc` (an integer, or an integer scalar tensor) and
   * hands each group of `windowSize` elements (a number, or a function of the
   * key) to `reduceFunc(key, windowDataset)` as soon as it is full; the
   * datasets it returns are concatenated. Unfinished groups are reduced at the
   * end, in ascending key order (tf.data's group_by_window).
   */
  groupByWindow<U>(keyFunc: (element: T) => number | Tensor | Promise<number | Tensor>, reduceFunc: (key: Tensor, window: Dataset<T>) => Dataset<U> | Promise<Dataset<U>>, windowSize: number | ((key: number) => number)): Dataset<U> {
    const size = typeof windowSize === 'function' ? windowSize : () => windowSize;
    return new Dataset(new GroupByWindowNode(this._node as DatasetNode, keyFunc as never, reduceFunc as never, size) as unknown as DatasetNode<U>);
  }

  /**
   * Batches elements of similar length together (tf.data's
   * bucket_by_sequence_length): an element of length L goes to the bucket i
   * with boundaries[i-1] <= L < boundaries[i] and is batched with
   * `bucketBatchSizes[i]` others of its bucket, padded to the longest in the
   * batch (or to `paddedShapes`; with `padToBucketBoundary`, unknown dims to
   * the bucket's boundary - 1), or not padded with `noPadding`.
   */
  bucketBySequenceLength(
    elementLengthFunc: (element: T) => number | Tensor | Promise<number | Tensor>,
    bucketBoundaries: readonly number[],
    bucketBatchSizes: readonly number[],
    options: BucketOptions = {},
  ): Dataset<Batched<T>> {
    const where = 'Dataset.bucketBySequenceLength';
    if (!Array.isArray(bucketBoundaries) || bucketBoundaries.some((b, i) => !Number.isInteger(b) || b <= 0 || (i > 0 && b <= bucketBoundaries[i - 1]))) {
      throw new RangeError(`${where}: Received: bucketBoundaries=${JSON.stringify(bucketBoundaries)}; expected increasing positive integers.`);
    }
    if (!Array.isArray(bucketBatchSizes) || bucketBatchSizes.length !== bucketBoundaries.length + 1 || bucketBatchSizes.some((b) => !Number.isInteger(b) || b <= 0)) {
      throw new RangeError(`${where}: Received: bucketBatchSizes=${JSON.stringify(bucketBatchSizes)}; expected ${bucketBoundaries.length + 1} positive integers (one more than the boundaries).`);
    }
    const bucketOf = async (element: T): Promise<number> => {
      let length = elementLengthFunc(element);
      if (length && typeof (length as Promise<unknown>).then === 'function') length = await length;
      const n = length instanceof Tensor ? Number(length.item()) : length;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new TypeError(`${where}: the element length function must return a non-negative integer, got ${String(n)}.`);
      let bucket = 0;
      while (bucket < bucketBoundaries.length && n >= bucketBoundaries[bucket]) bucket++;
      return bucket;
    };
    const dropRemainder = options.dropRemainder ?? false;
    const inputSpec = this.elementSpec;
    const batchBucket = (key: Tensor, window: Dataset<T>): Dataset<Batched<T>> => {
      const bucket = Number(key.item());
      const size = bucketBatchSizes[bucket];
      if (options.noPadding) return window.batch(size, { dropRemainder });
      let paddedShapes = options.paddedShapes;
      if (options.padToBucketBoundary) {
        if (bucket === bucketBoundaries.length) {
          throw new RangeError(`${where}: with padToBucketBoundary, every element must be shorter than the last boundary (${bucketBoundaries.at(-1)}).`);
        }
        const spec = paddedShapes ?? inputSpec;
        if (spec === null || spec === undefined) throw new Error(`${where}: padToBucketBoundary needs the element shapes: pass paddedShapes, or give the dataset an elementSpec (e.g. fromGenerator's outputSignature).`);
        paddedShapes = fillUnknownDims(spec, bucketBoundaries[bucket] - 1);
      }
      return window.paddedBatch(size, { paddedShapes, paddingValues: options.paddingValues, dropRemainder });
    };
    return this.groupByWindow(bucketOf, batchBucket, (key) => bucketBatchSizes[key]);
  }

  /** This dataset's elements followed by `other`'s. */
  concatenate<U>(other: Dataset<U>): Dataset<T | U> {
    return new Dataset(new ConcatenateNode(this._node as DatasetNode, nodeOf(other, 'Dataset.concatenate')) as unknown as DatasetNode<T | U>);
  }

  /** `transformation(this)`: for reusable pipeline pieces. */
  apply<U>(transformation: (ds: Dataset<T>) => Dataset<U>): Dataset<U> {
    const out = transformation(this);
    if (!(out instanceof Dataset)) throw new TypeError(`Dataset.apply: the transformation must return a Dataset; it returned ${out === null ? 'null' : typeof out}.`);
    return out;
  }

  toString(): string {
    const c = this.cardinality();
    const card = c === INFINITE_CARDINALITY ? 'infinite' : c === UNKNOWN_CARDINALITY ? 'unknown' : String(c);
    const spec = this.elementSpec;
    return `Dataset(cardinality=${card}, elementSpec=${spec === null ? 'unknown' : describeSpec(spec)})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

export interface BucketOptions {
  /** Per component: the padded shape (null / -1: the longest in the batch). */
  paddedShapes?: PaddedShapes;
  paddingValues?: PaddingValues;
  /** Pad unknown dims to the bucket's boundary - 1 instead of the longest in the batch. */
  padToBucketBoundary?: boolean;
  /** Batch without padding (every element of a batch must then have the same shape). */
  noPadding?: boolean;
  dropRemainder?: boolean;
}

/** Padded shapes from an element spec (or padded shapes): unknown dims become `filler`. */
function fillUnknownDims(spec: ElementSpec | PaddedShapes, filler: number): PaddedShapes {
  if (isLeafSpec(spec)) {
    const shape = 'shape' in spec ? (spec as { shape: readonly (number | null)[] }).shape : [];
    return shape.map((d) => (d === null || d === -1 ? filler : d));
  }
  if (Array.isArray(spec) && spec.every((d) => d === null || typeof d === 'number')) return (spec as (number | null)[]).map((d) => (d === null || d === -1 ? filler : d));
  if (Array.isArray(spec)) return spec.map((s) => fillUnknownDims(s as ElementSpec, filler)) as PaddedShapes;
  return Object.fromEntries(Object.entries(spec as Record<string, ElementSpec>).map(([k, v]) => [k, fillUnknownDims(v, filler)])) as PaddedShapes;
}

function describeSpec(s: ElementSpec): string {
  if (Array.isArray(s)) return `[${s.map(describeSpec).join(', ')}]`;
  if (s && typeof s === 'object' && Object.getPrototypeOf(s) === Object.prototype) return `{${Object.entries(s).map(([k, v]) => `${k}: ${describeSpec(v as ElementSpec)}`).join(', ')}}`;
  return String(s);
}

setDatasetFactory((node) => new Dataset(node));
