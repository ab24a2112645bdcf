/**
 * Transformation nodes. Each `iterate()` starts an independent pass over its
 * input, so a dataset can be iterated again (each epoch is a new pass) and
 * state such as a shuffle order or a partly filled cache never leaks from a
 * failed pass into the next.
 */
import { availableParallelism } from 'node:os';
import { TensorSpec } from '../tensor/tensor.ts';
import { tensor } from '../tensor/create.ts';
import { streamKeys, streamWord } from '../ops/kernels/random.ts';
import {
  AUTOTUNE,
  BufferedIterator,
  type DatasetNode,
  INFINITE_CARDINALITY,
  MapIterator,
  UNKNOWN_CARDINALITY,
  closeIterator,
  describeFn,
  makeDataset,
  mapError,
  nodeOf,
  toElement,
  truthy,
} from './core.ts';
import { ListNode, iterateNode } from './sources.ts';
import {
  DatasetSpec,
  type Element,
  type ElementSpec,
  type PaddedShapes,
  type PaddingValues,
  batchSpec,
  combine,
  mapSpec,
  padAndStack,
  paddedBatchSpec,
  specOfElement,
  stackElements,
  unbatchSpec,
  unstackElement,
} from './structure.ts';
import { defaultWorkerCount, isWorkerFunction, type WorkerFunction, workerPool } from './workers.ts';

export function checkCount(value: unknown, where: string, name: string, { allowMinusOne = false, min = 0 } = {}): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || (value < min && !(allowMinusOne && value === -1))) {
    throw new RangeError(`${where}: Received: ${name}=${String(value)}; expected an integer >= ${min}${allowMinusOne ? ' (or -1)' : ''}.`);
  }
  return value;
}

/** Folds any safe integer into an int32 seed. */
function foldSeed(seed: number): number {
  const low = seed | 0;
  const high = Math.floor(seed / 4294967296) | 0;
  return low ^ Math.imul(high, 0x9e3779b1);
}

// ---------------------------------------------------------------------------
// map / filter

export type MapFn = (element: never) => unknown;

export interface MapOptions {
  /** Calls in flight at once (AUTOTUNE: max(4, CPU cores)); default 1, in order. */
  numParallelCalls?: number;
  /** With several calls in flight, keep the input order (default true). */
  deterministic?: boolean;
  /** The structure the function returns (TensorSpec / StringSpec leaves); values are converted and checked. */
  outputSignature?: ElementSpec;
}

export class MapNode implements DatasetNode {
  private learned: ElementSpec | null = null;
  private readonly parallelism: number;
  private readonly fnName: string;

  constructor(
    private readonly input: DatasetNode,
    private readonly fn: MapFn | WorkerFunction,
    private readonly options: MapOptions,
  ) {
    const where = 'Dataset.map';
    const worker = isWorkerFunction(fn);
    if (!worker && typeof fn !== 'function') throw new TypeError(`${where}: expected a function (or a workerFunction), got ${typeof fn}.`);
    const n = options.numParallelCalls;
    if (n === undefined || n === null) this.parallelism = worker ? defaultWorkerCount() : 1;
    else if (n === AUTOTUNE) this.parallelism = worker ? defaultWorkerCount() : Math.max(4, availableParallelism());
    else this.parallelism = checkCount(n, where, 'numParallelCalls', { min: 1 });
    this.fnName = worker ? `worker function ${(fn as WorkerFunction).name}` : describeFn(fn as MapFn, 'map function');
  }

  iterate(): AsyncIterator<Element> {
    const where = 'Dataset.map';
    const sig = this.options.outputSignature ?? null;
    const wrap = (e: unknown, index: number) => mapError(e, index, this.fnName, where);
    const learn = (el: Element) => {
      if (this.learned === null && sig === null) this.learned = specOfElement(el);
      return el;
    };
    if (isWorkerFunction(this.fn)) {
      const pool = workerPool(this.fn, this.parallelism);
      // Twice the workers in flight, so a worker never waits for the main thread to hand it the next element.
      return new MapIterator<Element, Element>(this.input.iterate(), async (v) => learn(toElement(await pool.call(v), '', sig)), this.parallelism * 2, this.options.deterministic ?? true, wrap);
    }
    const fn = this.fn as (x: Element) => unknown;
    if (this.parallelism > 1) {
      return new MapIterator<Element, Element>(this.input.iterate(), async (v) => learn(toElement(await fn(v), '', sig)), this.parallelism, this.options.deterministic ?? true, wrap);
    }
    const input = this.input;
    return (async function* () {
      let index = 0;
      for await (const v of iterateNode(input)) {
        let out: unknown;
        try {
          out = fn(v);
          if (out && typeof (out as Promise<unknown>).then === 'function') out = await out;
          out = toElement(out, '', sig);
        } catch (e) {
          throw wrap(e, index);
        }
        index++;
        yield learn(out as Element);
      }
    })();
  }

  cardinality(): number {
    return this.input.cardinality();
  }

  spec(): ElementSpec | null {
    return this.options.outputSignature ?? this.learned;
  }
}

/**
 * scan: a map with state. `fn(state, element)` returns `[newState, output]`;
 * each pass starts again from `initialState` (tf.data's scan).
 */
export class ScanNode implements DatasetNode {
  private learned: ElementSpec | null = null;

  constructor(
    private readonly input: DatasetNode,
    private readonly initialState: unknown,
    private readonly fn: (state: never, element: never) => unknown,
  ) {
    if (typeof fn !== 'function') throw new TypeError(`Dataset.scan: expected a function (state, element) => [newState, output], got ${typeof fn}.`);
  }

  async *iterate(): AsyncGenerator<Element> {
    const where = 'Dataset.scan';
    const name = describeFn(this.fn, 'scan function');
    let state = this.initialState;
    let index = 0;
    for await (const v of iterateNode(this.input)) {
      let out: Element;
      try {
        let r = (this.fn as (s: unknown, x: Element) => unknown)(state, v);
        if (r && typeof (r as Promise<unknown>).then === 'function') r = await r;
        if (!Array.isArray(r) || r.length !== 2) throw new TypeError(`the scan function must return [newState, output], got ${Array.isArray(r) ? `a list of ${r.length}` : typeof r}.`);
        state = r[0];
        out = toElement(r[1], '', null);
      } catch (e) {
        throw mapError(e, index, name, where);
      }
      index++;
      if (this.learned === null) this.learned = specOfElement(out);
      yield out;
    }
  }

  cardinality(): number {
    return this.input.cardinality();
  }

  spec(): ElementSpec | null {
    return this.learned;
  }
}

export class FilterNode implements DatasetNode {
  constructor(
    private readonly input: DatasetNode,
    private readonly predicate: (x: never) => unknown,
  ) {
    if (typeof predicate !== 'function') throw new TypeError(`Dataset.filter: expected a predicate function, got ${typeof predicate}.`);
  }

  async *iterate(): AsyncGenerator<Element> {
    const where = 'Dataset.filter';
    const name = describeFn(this.predicate, 'predicate');
    let index = 0;
    for await (const v of iterateNode(this.input)) {
      let keep: boolean;
      try {
        let r = (this.predicate as (x: Element) => unknown)(v);
        if (r && typeof (r as Promise<unknown>).then === 'function') r = await r;
        keep = truthy(r, where);
      } catch (e) {
        throw mapError(e, index, name, where);
      }
      index++;
      if (keep) yield v;
    }
  }

  cardinality(): number {
    return UNKNOWN_CARDINALITY;
  }

  spec(): ElementSpec | null {
    return this.input.spec();
  }
}

// ---------------------------------------------------------------------------
// batching

function batchCardinality(n: number, size: number, drop: boolean): number {
  if (n < 0) return n;
  return drop ? Math.floor(n / size) : Math.ceil(n / size);
}

export class BatchNode implements DatasetNode {
  constructor(
    private readonly input: DatasetNode,
    private readonly size: number,
    private readonly dropRemainder: boolean,
  ) {
    checkCount(size, 'Dataset.batch', 'batchSize', { min: 1 });
  }

  async *iterate(): AsyncGenerator<Element> {
    let buffer: Element[] = [];
    let start = 0;
    for await (const v of iterateNode(this.input)) {
      buffer.push(v);
      if (buffer.length === this.size) {
        const s = start;
        yield stackElements(buffer, 'Dataset.batch', (i) => s + i);
        start += buffer.length;
        buffer = [];
      }
    }
    if (buffer.length > 0 && !this.dropRemainder) yield stackElements(buffer, 'Dataset.batch', (i) => start + i);
  }

  cardinality(): number {
    return batchCardinality(this.input.cardinality(), this.size, this.dropRemainder);
  }

  spec(): ElementSpec | null {
    return batchSpec(this.input.spec(), this.dropRemainder ? this.size : null);
  }
}

export interface PaddedBatchOptions {
  /** Per component: the padded shape (a number per dim, or null / -1 for the longest in the batch). Default: longest. */
  paddedShapes?: PaddedShapes;
  /** Per component (or one value for all): the padding value; default 0, '' for strings. */
  paddingValues?: PaddingValues;
  dropRemainder?: boolean;
}

export class PaddedBatchNode implements DatasetNode {
  constructor(
    private readonly input: DatasetNode,
    private readonly size: number,
    private readonly options: PaddedBatchOptions,
  ) {
    checkCount(size, 'Dataset.paddedBatch', 'batchSize', { min: 1 });
  }

  async *iterate(): AsyncGenerator<Element> {
    const { paddedShapes, paddingValues, dropRemainder = false } = this.options;
    let buffer: Element[] = [];
    let start = 0;
    for await (const v of iterateNode(this.input)) {
      buffer.push(v);
      if (buffer.length === this.size) {
        const s = start;
        yield padAndStack(buffer, paddedShapes, paddingValues, 'Dataset.paddedBatch', (i) => s + i);
        start += buffer.length;
        buffer = [];
      }
    }
    if (buffer.length > 0 && !dropRemainder) yield padAndStack(buffer, paddedShapes, paddingValues, 'Dataset.paddedBatch', (i) => start + i);
  }

  cardinality(): number {
    return batchCardinality(this.input.cardinality(), this.size, this.options.dropRemainder ?? false);
  }

  spec(): ElementSpec | null {
    // Padded dims come from paddedShapes (it used to report the input's dims, not the padded ones).
    return paddedBatchSpec(this.input.spec(), this.options.dropRemainder ? this.size : null, this.options.paddedShapes);
  }
}

export class UnbatchNode implements DatasetNode {
  constructor(private readonly input: DatasetNode) {}

  async *iterate(): AsyncGenerator<Element> {
    let index = 0;
    for await (const v of iterateNode(this.input)) {
      for (const row of unstackElement(v, 'Dataset.unbatch', index)) yield row;
      index++;
    }
  }

  cardinality(): number {
    return this.input.cardinality() === INFINITE_CARDINALITY ? INFINITE_CARDINALITY : UNKNOWN_CARDINALITY;
  }

  spec(): ElementSpec | null {
    return unbatchSpec(this.input.spec());
  }
}

/** unbatch, then batches of `sizes` (cycled through). */
export class RebatchNode implements DatasetNode {
  private readonly sizes: number[];

  constructor(
    private readonly input: DatasetNode,
    sizes: number | readonly number[],
    private readonly dropRemainder: boolean,
  ) {
    this.sizes = (Array.isArray(sizes) ? [...sizes] : [sizes as number]).map((s) => checkCount(s, 'Dataset.rebatch', 'batchSize', { min: 1 }));
    if (this.sizes.length === 0) throw new RangeError('Dataset.rebatch: batchSize must not be an empty list.');
  }

  async *iterate(): AsyncGenerator<Element> {
    let k = 0;
    let buffer: Element[] = [];
    let start = 0;
    let index = 0;
    for await (const v of iterateNode(this.input)) {
      for (const row of unstackElement(v, 'Dataset.rebatch', index)) {
        buffer.push(row);
        if (buffer.length === this.sizes[k % this.sizes.length]) {
          const s = start;
          yield stackElements(buffer, 'Dataset.rebatch', (i) => s + i);
          start += buffer.length;
          buffer = [];
          k++;
        }
      }
      index++;
    }
    if (buffer.length > 0 && !this.dropRemainder) yield stackElements(buffer, 'Dataset.rebatch', (i) => start + i);
  }

  cardinality(): number {
    return this.input.cardinality() === INFINITE_CARDINALITY ? INFINITE_CARDINALITY : UNKNOWN_CARDINALITY;
  }

  spec(): ElementSpec | null {
    const fixed = this.dropRemainder && this.sizes.every((s) => s === this.sizes[0]) ? this.sizes[0] : null;
    return batchSpec(unbatchSpec(this.input.spec()), fixed);
  }
}

// ---------------------------------------------------------------------------
// shuffle / repeat / take / skip / shard / enumerate

export interface ShuffleOptions {
  /** Same seed, same order on every run and machine (default: from the global seed, see random.setRandomSeed). */
  seed?: number;
  /** A new order for each pass (epoch); default true. */
  reshuffleEachIteration?: boolean;
}

/**
 * tf.data's shuffle buffer: fill `bufferSize` elements, then repeatedly
 * output a random one and put the next input element in its place. Draws
 * come from the counter-based hash of (seed, pass number), so an order
 * depends only on the seed and how many passes came before.
 */
export class ShuffleNode implements DatasetNode {
  private passes = 0;
  private readonly seed: number;

  constructor(
    private readonly input: DatasetNode,
    private readonly bufferSize: number,
    seed: number,
    private readonly reshuffle: boolean,
  ) {
    checkCount(bufferSize, 'Dataset.shuffle', 'bufferSize', { min: 1 });
    if (!Number.isSafeInteger(seed)) throw new TypeError(`Dataset.shuffle: Received: seed=${seed}; expected an integer.`);
    this.seed = foldSeed(seed);
  }

  async *iterate(): AsyncGenerator<Element> {
    const pass = this.reshuffle ? this.passes++ : 0;
    const [k1, k2] = streamKeys(this.seed, pass);
    let draw = 0;
    const buffer: Element[] = [];
    const it = this.input.iterate();
    let done = false;
    try {
      while (buffer.length < this.bufferSize) {
        const r = await it.next();
        if (r.done) {
          done = true;
          break;
        }
        buffer.push(r.value);
      }
      while (buffer.length > 0) {
        const j = streamWord(draw++, k1, k2) % buffer.length;
        const out = buffer[j];
        let replaced = false;
        if (!done) {
          const r = await it.next();
          if (r.done) done = true;
          else {
            buffer[j] = r.value;
            replaced = true;
          }
        }
        if (!replaced) {
          buffer[j] = buffer[buffer.length - 1];
          buffer.pop();
        }
        yield out;
      }
    } finally {
      if (!done) await closeIterator(it);
    }
  }

  cardinality(): number {
    return this.input.cardinality();
  }

  spec(): ElementSpec | null {
    return this.input.spec();
  }
}

export class RepeatNode implements DatasetNode {
  constructor(
    private readonly input: DatasetNode,
    private readonly count: number,
  ) {
    checkCount(count, 'Dataset.repeat', 'count', { allowMinusOne: true });
  }

  async *iterate(): AsyncGenerator<Element> {
    for (let pass = 0; this.count === -1 || pass < this.count; pass++) {
      let produced = 0;
      for await (const v of iterateNode(this.input)) {
        produced++;
        yield v;
      }
      // An empty dataset repeated forever is empty (as in tf.data), not a busy loop.
      if (produced === 0) return;
    }
  }

  cardinality(): number {
    const n = this.input.cardinality();
    if (this.count === -1) return n === 0 ? 0 : INFINITE_CARDINALITY;
    if (n === INFINITE_CARDINALITY) return this.count === 0 ? 0 : INFINITE_CARDINALITY;
    if (n === UNKNOWN_CARDINALITY) return this.count === 0 ? 0 : UNKNOWN_CARDINALITY;
    return n * this.count;
  }

  spec(): ElementSpec | null {
    return this.input.spec();
  }
}

export class TakeNode implements DatasetNode {
  constructor(
    private readonly input: DatasetNode,
    private readonly count: number,
  ) {
    checkCount(count, 'Dataset.take', 'count', { allowMinusOne: true });
  }

  async *iterate(): AsyncGenerator<Element> {
    if (this.count === 0) return;
    let i = 0;
    for await (const v of iterateNode(this.input)) {
      yield v;
      if (++i === this.count) return;
    }
  }

  cardinality(): number {
    const n = this.input.cardinality();
    if (this.count === -1) return n;
    if (n === INFINITE_CARDINALITY) return this.count;
    if (n === UNKNOWN_CARDINALITY) return this.count === 0 ? 0 : UNKNOWN_CARDINALITY;
    return Math.min(n, this.count);
  }

  spec(): ElementSpec | null {
    return this.input.spec();
  }
}

export class SkipNode implements DatasetNode {
  constructor(
    private readonly input: DatasetNode,
    private readonly count: number,
  ) {
    checkCount(count, 'Dataset.skip', 'count', { allowMinusOne: true });
  }

  async *iterate(): AsyncGenerator<Element> {
    let i = 0;
    for await (const v of iterateNode(this.input)) {
      if (this.count === -1 || i++ < this.count) continue;
      yield v;
    }
  }

  cardinality(): number {
    const n = this.input.cardinality();
    // skip(-1) of an infinite dataset never ends (it skips forever): infinite, as tf.data says.
    if (n < 0) return n;
    if (this.count === -1) return 0;
    return Math.max(0, n - this.count);
  }

  spec(): ElementSpec | null {
    return this.input.spec();
  }
}

export class ShardNode implements DatasetNode {
  constructor(
    private readonly input: DatasetNode,
    private readonly numShards: number,
    private readonly index: number,
  ) {
    checkCount(numShards, 'Dataset.shard', 'numShards', { min: 1 });
    checkCount(index, 'Dataset.shard', 'index');
    if (index >= numShards) throw new RangeError(`Dataset.shard: Received: index=${index}; it must be less than numShards=${numShards}.`);
  }

  async *iterate(): AsyncGenerator<Element> {
    let i = 0;
    for await (const v of iterateNode(this.input)) {
      if (i++ % this.numShards === this.index) yield v;
    }
  }

  cardinality(): number {
    const n = this.input.cardinality();
    if (n < 0) return n;
    return Math.floor(n / this.numShards) + (n % this.numShards > this.index ? 1 : 0);
  }

  spec(): ElementSpec | null {
    return this.input.spec();
  }
}

export class EnumerateNode implements DatasetNode {
  constructor(
    private readonly input: DatasetNode,
    private readonly start: number,
  ) {
    if (!Number.isInteger(start)) throw new TypeError(`Dataset.enumerate: Received: start=${start}; expected an integer.`);
  }

  async *iterate(): AsyncGenerator<Element> {
    let i = this.start;
    for await (const v of iterateNode(this.input)) yield [tensor(i++, [], 'int32'), v];
  }

  cardinality(): number {
    return this.input.cardinality();
  }

  spec(): ElementSpec | null {
    const s = this.input.spec();
    return s === null ? null : [new TensorSpec([], 'int32'), s];
  }
}

// ---------------------------------------------------------------------------
// prefetch

/** Largest buffer AUTOTUNE grows a prefetch to. */
export const AUTOTUNE_MAX_PREFETCH = 16;

export class PrefetchNode implements DatasetNode {
  constructor(
    private readonly input: DatasetNode,
    private readonly bufferSize: number,
  ) {
    if (bufferSize !== AUTOTUNE) checkCount(bufferSize, 'Dataset.prefetch', 'bufferSize');
  }

  iterate(): AsyncIterator<Element> {
    if (this.bufferSize === 0) return this.input.iterate();
    if (this.bufferSize === AUTOTUNE) return new BufferedIterator(this.input.iterate(), 1, { maxCapacity: AUTOTUNE_MAX_PREFETCH });
    return new BufferedIterator(this.input.iterate(), this.bufferSize);
  }

  cardinality(): number {
    return this.input.cardinality();
  }

  spec(): ElementSpec | null {
    return this.input.spec();
  }
}

// ---------------------------------------------------------------------------
// interleave / flatMap

export interface InterleaveOptions {
  /** Input elements open at once (default AUTOTUNE: the number of CPU cores, as in tf.data). */
  cycleLength?: number;
  /** Consecutive elements taken from each before moving on (default 1). */
  blockLength?: number;
  /** With more than 1 (or AUTOTUNE), each open dataset is read ahead in the background. */
  numParallelCalls?: number;
  /** With parallel reads, take from whichever open dataset has an element ready (default true: keep the order). */
  deterministic?: boolean;
}

type DatasetFn = (x: never) => unknown;

/**
 * groupByWindow: elements go to the group of their key; a group that reaches
 * its window size is handed to `reduce` (as a dataset) at once and the
 * dataset it returns is read out before more input is read; at the end the
 * unfinished groups are reduced in ascending key order (as tf.data).
 */
export class GroupByWindowNode implements DatasetNode {
  constructor(
    private readonly input: DatasetNode,
    private readonly keyFn: (element: never) => unknown,
    private readonly reduceFn: (key: never, window: never) => unknown,
    private readonly windowSize: (key: number) => number,
    private readonly where = 'Dataset.groupByWindow',
  ) {
    if (typeof keyFn !== 'function') throw new TypeError(`${where}: expected a key function, got ${typeof keyFn}.`);
    if (typeof reduceFn !== 'function') throw new TypeError(`${where}: expected a reduce function returning a Dataset, got ${typeof reduceFn}.`);
  }

  async *iterate(): AsyncGenerator<Element> {
    const where = this.where;
    const keyName = describeFn(this.keyFn, 'key function');
    const groups = new Map<number, Element[]>();
    const reduce = async function* (this: GroupByWindowNode, key: number, elements: Element[]): AsyncGenerator<Element> {
      const out = await (this.reduceFn as (k: unknown, w: unknown) => unknown)(tensor(key, [], 'int32'), makeDataset(new ListNode(elements)));
      for await (const e of iterateNode(nodeOf<Element>(out, `${where}: the reduce function's result`))) yield e;
    }.bind(this);
    let index = 0;
    for await (const v of iterateNode(this.input)) {
      let key: number;
      try {
        let k = (this.keyFn as (x: Element) => unknown)(v);
        if (k && typeof (k as Promise<unknown>).then === 'function') k = await k;
        key = groupKey(k, where);
      } catch (e) {
        throw mapError(e, index, keyName, where);
      }
      index++;
      const size = checkCount(this.windowSize(key), where, `the window size of key ${key}`, { min: 1 });
      const group = groups.get(key) ?? [];
      group.push(v);
      groups.set(key, group);
      if (group.length >= size) {
        groups.delete(key);
        yield* reduce(key, group);
      }
    }
    for (const key of [...groups.keys()].sort((a, b) => a - b)) yield* reduce(key, groups.get(key)!);
  }

  cardinality(): number {
    return this.input.cardinality() === INFINITE_CARDINALITY ? INFINITE_CARDINALITY : UNKNOWN_CARDINALITY;
  }

  spec(): ElementSpec | null {
    return null;
  }
}

/** A group key: an integer, or an integer scalar tensor (tf.data's int64 key). */
function groupKey(k: unknown, where: string): number {
  const t = k as { rank?: unknown; item?: () => unknown } | null;
  const value = typeof k === 'number' ? k : t && typeof t === 'object' && t.rank === 0 && typeof t.item === 'function' ? Number(t.item()) : Number.NaN;
  if (!Number.isInteger(value)) throw new TypeError(`${where}: the key function must return an integer (or an integer scalar tensor), got ${describeValue(k)}.`);
  return value;
}

function describeValue(v: unknown): string {
  if (v && typeof v === 'object' && 'shape' in v) return `a tensor of shape [${(v as { shape: unknown[] }).shape.join(', ')}]`;
  return typeof v === 'number' ? String(v) : typeof v;
}

export class InterleaveNode implements DatasetNode {
  private readonly cycleLength: number;
  private readonly blockLength: number;
  private readonly parallel: boolean;
  private readonly deterministic: boolean;

  constructor(
    private readonly input: DatasetNode,
    private readonly fn: DatasetFn,
    options: InterleaveOptions,
    private readonly where = 'Dataset.interleave',
  ) {
    if (typeof fn !== 'function') throw new TypeError(`${where}: expected a function returning a Dataset, got ${typeof fn}.`);
    const c = options.cycleLength ?? AUTOTUNE;
    this.cycleLength = c === AUTOTUNE ? availableParallelism() : checkCount(c, where, 'cycleLength', { min: 1 });
    this.blockLength = checkCount(options.blockLength ?? 1, where, 'blockLength', { min: 1 });
    const p = options.numParallelCalls;
    this.parallel = p !== undefined && p !== null && (p === AUTOTUNE || checkCount(p, where, 'numParallelCalls', { min: 1 }) > 1);
    this.deterministic = options.deterministic ?? true;
  }

  async *iterate(): AsyncGenerator<Element> {
    const name = describeFn(this.fn, 'function');
    const slots: ({ it: AsyncIterator<Element>; buffered: BufferedIterator<Element> | null } | null)[] = new Array(this.cycleLength).fill(null);
    const input = this.input.iterate();
    let endOfInput = false;
    let open = 0;
    let cycle = 0;
    let block = 0;
    let inputIndex = 0;
    const advance = () => {
      block = 0;
      cycle = (cycle + 1) % this.cycleLength;
    };
    try {
      while (!endOfInput || open > 0) {
        const slot = slots[cycle];
        if (slot) {
          if (!this.deterministic && slot.buffered && !slot.buffered.ready()) {
            // Take from another open dataset that already has an element, if any.
            const other = slots.findIndex((s) => s !== null && s.buffered !== null && s.buffered.ready());
            if (other >= 0 && other !== cycle) {
              cycle = other;
              block = 0;
              continue;
            }
          }
          const r = await slot.it.next();
          if (!r.done) {
            yield r.value;
            block++;
            if (block === this.blockLength) advance();
            continue;
          }
          slots[cycle] = null;
          open--;
          advance();
        } else if (!endOfInput) {
          const r = await input.next();
          if (r.done) {
            endOfInput = true;
            continue;
          }
          let ds: unknown;
          try {
            ds = (this.fn as (x: Element) => unknown)(r.value);
            if (ds && typeof (ds as Promise<unknown>).then === 'function') ds = await ds;
          } catch (e) {
            throw mapError(e, inputIndex, name, this.where);
          }
          const node = nodeOf<Element>(ds, `${this.where}: the ${name} returned for element ${inputIndex}`);
          inputIndex++;
          const raw = node.iterate();
          const buffered = this.parallel ? new BufferedIterator(raw, Math.max(2, this.blockLength)).start() : null;
          slots[cycle] = { it: buffered ?? raw, buffered };
          open++;
        } else {
          advance();
        }
      }
    } finally {
      await Promise.all(slots.map((s) => closeIterator(s?.it)));
      if (!endOfInput) await closeIterator(input);
    }
  }

  cardinality(): number {
    return this.input.cardinality() === 0 ? 0 : UNKNOWN_CARDINALITY;
  }

  spec(): ElementSpec | null {
    return null;
  }
}

// ---------------------------------------------------------------------------
// window

export interface WindowOptions {
  /** Elements between the starts of consecutive windows (default: size). */
  shift?: number;
  /** Elements between the members of a window (default 1). */
  stride?: number;
  /** Drop windows with fewer than `size` elements at the end (default false). */
  dropRemainder?: boolean;
}

export class WindowNode implements DatasetNode {
  private readonly shift: number;
  private readonly stride: number;
  private readonly dropRemainder: boolean;

  constructor(
    private readonly input: DatasetNode,
    private readonly size: number,
    options: WindowOptions,
  ) {
    checkCount(size, 'Dataset.window', 'size', { min: 1 });
    this.shift = checkCount(options.shift ?? size, 'Dataset.window', 'shift', { min: 1 });
    this.stride = checkCount(options.stride ?? 1, 'Dataset.window', 'stride', { min: 1 });
    this.dropRemainder = options.dropRemainder ?? false;
  }

  async *iterate(): AsyncGenerator<Element> {
    const span = (this.size - 1) * this.stride + 1;
    const it = this.input.iterate();
    const buffer: Element[] = [];
    let bufferStart = 0; // index of buffer[0]
    let start = 0;
    let done = false;
    let windowIndex = 0;
    const spec = this.input.spec();
    try {
      for (;;) {
        while (!done && bufferStart + buffer.length < start + span) {
          const r = await it.next();
          if (r.done) done = true;
          else buffer.push(r.value);
        }
        const available = bufferStart + buffer.length; // elements seen so far
        if (start >= available) return;
        const members: Element[] = [];
        for (let k = start; k < Math.min(start + span, available); k += this.stride) members.push(buffer[k - bufferStart]);
        if (members.length < this.size && this.dropRemainder) return;
        const first = windowIndex;
        yield combine(members, (leaves, path) => makeDataset(new ListNode(leaves, spec ? componentSpec(spec, path) : undefined)) as unknown as Element, 'Dataset.window', (i) => first * this.shift + i * this.stride);
        windowIndex++;
        start += this.shift;
        const drop = Math.min(buffer.length, start - bufferStart);
        if (drop > 0) {
          buffer.splice(0, drop);
          bufferStart += drop;
        }
      }
    } finally {
      if (!done) await closeIterator(it);
    }
  }

  cardinality(): number {
    const n = this.input.cardinality();
    if (n < 0) return n;
    if (!this.dropRemainder) return Math.ceil(n / this.shift);
    const span = (this.size - 1) * this.stride + 1;
    return n < span ? 0 : Math.floor((n - span) / this.shift) + 1;
  }

  spec(): ElementSpec | null {
    const s = this.input.spec();
    if (s === null) return null;
    return mapSpec(s, (leaf) => new DatasetSpec(leaf));
  }
}

function componentSpec(spec: ElementSpec, path: string): ElementSpec | undefined {
  let cur: unknown = spec;
  for (const m of path.matchAll(/\[(\d+)\]|\.([^.[]+)/g)) {
    if (cur === undefined || cur === null) return undefined;
    cur = m[1] !== undefined ? (cur as unknown[])[Number(m[1])] : (cur as Record<string, unknown>)[m[2]];
  }
  return cur as ElementSpec | undefined;
}

