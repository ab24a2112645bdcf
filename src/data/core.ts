/**
 * The machinery under `Dataset`: a dataset is a `DatasetNode` (a recipe that
 * starts a new pass with `iterate()`), and the `Dataset` class wraps one. The
 * nodes here and in sources.ts / transforms.ts never import dataset.ts; the
 * few that must create a Dataset (window, the files read by a dataset of
 * file names) do it through `makeDataset`, which dataset.ts registers.
 *
 * Everything in this file runs on the main thread. Work overlaps with the
 * consumer in two ways: `BufferedIterator` (prefetch) pulls upstream elements
 * in the background while the consumer awaits something else (a compiled
 * step running in the graph worker, I/O), and `MapIterator` keeps several map
 * calls in flight (async functions, or calls to worker threads).
 */
import { type Element, type ElementSpec, DATASET, type DatasetLike, InvalidElementError, isDatasetLike, normalizeElement } from './structure.ts';

/** tf.data.AUTOTUNE: let the pipeline choose buffer sizes and parallelism. */
export const AUTOTUNE = -1;
/** `cardinality()` of a dataset that never ends (`repeat()` without a count). */
export const INFINITE_CARDINALITY = -1;
/** `cardinality()` when the number of elements is not known before iterating (filter, files, generators). */
export const UNKNOWN_CARDINALITY = -2;

export interface DatasetNode<T = Element> {
  /** Starts a new pass over the elements. */
  iterate(): AsyncIterator<T>;
  /** The number of elements, INFINITE_CARDINALITY or UNKNOWN_CARDINALITY. */
  cardinality(): number;
  /** The element structure, or null when it is only known after producing an element. */
  spec(): ElementSpec | null;
}

/** What the nodes need of a Dataset (defined in dataset.ts). */
export interface DatasetHandle<T = Element> extends DatasetLike, AsyncIterable<T> {
  readonly _node: DatasetNode<T>;
}

let factory: ((node: DatasetNode<Element>) => DatasetHandle) | null = null;

/** @internal dataset.ts registers the Dataset constructor here. */
export function setDatasetFactory(f: (node: DatasetNode<Element>) => DatasetHandle): void {
  factory = f;
}

export function makeDataset<T>(node: DatasetNode<T>): DatasetHandle<T> {
  if (!factory) throw new Error('strata.data: import Dataset from the strata.data namespace (src/data/index.ts).');
  return factory(node as DatasetNode<Element>) as unknown as DatasetHandle<T>;
}

export function nodeOf<T>(x: unknown, where: string): DatasetNode<T> {
  if (isDatasetLike(x) && (x as unknown as DatasetHandle)._node) return (x as unknown as DatasetHandle<T>)._node;
  throw new TypeError(`${where}: expected a Dataset, got ${x === null ? 'null' : typeof x === 'object' ? (x.constructor?.name ?? 'an object') : typeof x}.`);
}

export { DATASET };

// ---------------------------------------------------------------------------
// Iterator helpers

/** Closes an iterator, ignoring errors (it may already have failed). */
export async function closeIterator(it: AsyncIterator<unknown> | null | undefined): Promise<void> {
  if (!it?.return) return;
  try {
    await it.return();
  } catch {
    // already failed or finished
  }
}

/** Resolved by the next `notify()`; lets background loops and consumers wait for each other. */
export class Signal {
  private waiters: (() => void)[] = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/**
 * Background loops run in microtasks while their upstream completes
 * synchronously; this lets timers and I/O (such as the graph worker's reply
 * to a training step) in every few milliseconds.
 */
export class Yielder {
  private last = performance.now();
  async maybeYield(): Promise<void> {
    const now = performance.now();
    if (now - this.last < 4) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.last = performance.now();
  }
}

type Slot<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'end' };

/**
 * Prefetching: a background loop pulls upstream elements into a buffer of at
 * most `capacity` while the consumer does other work. With `autotune`, the
 * buffer starts at 1 element and doubles (up to `maxCapacity`) each time the
 * consumer finds it empty.
 */
export class BufferedIterator<T> implements AsyncIterator<T> {
  private readonly queue: Slot<T>[] = [];
  private readonly itemReady = new Signal();
  private readonly spaceReady = new Signal();
  private started = false;
  private loopDone = false;
  private closed = false;
  private inflight: Promise<unknown> | null = null;

  constructor(
    private readonly upstream: AsyncIterator<T>,
    private capacity: number,
    private readonly autotune: { maxCapacity: number } | null = null,
  ) {}

  private async loop(): Promise<void> {
    const yielder = new Yielder();
    try {
      while (!this.closed) {
        if (this.queue.length >= this.capacity) {
          await this.spaceReady.wait();
          continue;
        }
        let r: IteratorResult<T>;
        try {
          const p = this.upstream.next();
          this.inflight = p;
          r = await p;
        } catch (error) {
          this.queue.push({ kind: 'error', error });
          break;
        } finally {
          this.inflight = null;
        }
        if (this.closed) break;
        if (r.done) {
          this.queue.push({ kind: 'end' });
          break;
        }
        this.queue.push({ kind: 'value', value: r.value });
        this.itemReady.notify();
        await yielder.maybeYield();
      }
    } finally {
      this.loopDone = true;
      this.itemReady.notify();
    }
  }

  /** Starts reading ahead now rather than at the first `next()`. */
  start(): this {
    if (!this.started && !this.closed) {
      this.started = true;
      void this.loop();
    }
    return this;
  }

  /** Whether `next()` would answer without waiting. */
  ready(): boolean {
    return this.queue.length > 0 || this.loopDone;
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.closed) return { done: true, value: undefined };
    this.start();
    while (this.queue.length === 0) {
      if (this.loopDone) return { done: true, value: undefined };
      if (this.autotune && this.capacity < this.autotune.maxCapacity) {
        this.capacity = Math.min(this.autotune.maxCapacity, this.capacity * 2);
        this.spaceReady.notify();
      }
      await this.itemReady.wait();
    }
    const slot = this.queue.shift()!;
    this.spaceReady.notify();
    if (slot.kind === 'value') return { done: false, value: slot.value };
    this.closed = true;
    if (slot.kind === 'error') {
      void closeIterator(this.upstream);
      throw slot.error;
    }
    return { done: true, value: undefined };
  }

  async return(): Promise<IteratorResult<T>> {
    if (!this.closed || this.started) {
      this.closed = true;
      this.spaceReady.notify();
      if (this.inflight) await this.inflight.catch(() => undefined);
      await closeIterator(this.upstream);
    }
    this.closed = true;
    this.queue.length = 0;
    return { done: true, value: undefined };
  }
}

// ---------------------------------------------------------------------------
// Parallel map

export interface MapCall<T, U> {
  /** Starts one call; the promise may reject. */
  (value: T, index: number): Promise<U> | U;
}

export function mapError(e: unknown, index: number, fnName: string, where = 'Dataset.map'): Error {
  const message = e instanceof Error ? e.message : String(e);
  const what = e instanceof InvalidElementError ? 'returned an unusable value for' : 'threw on';
  const err = new Error(`${where}: the ${fnName} ${what} element ${index} (counting from 0 in this pass): ${message}`, { cause: e });
  if (e instanceof Error && e.stack) err.stack = `${err.name}: ${err.message}\n${e.stack.split('\n').slice(1).join('\n')}`;
  return err;
}

interface MapSlot<U> {
  promise: Promise<Slot<U>>;
  settled: boolean;
}

/**
 * Runs `call` on upstream elements with up to `parallelism` calls in flight
 * (and at most that many finished results waiting), in the background. The
 * upstream is read one element at a time. In deterministic mode results come
 * out in input order; otherwise in the order they finish.
 */
export class MapIterator<T, U> implements AsyncIterator<U> {
  private readonly slots: MapSlot<U>[] = [];
  private readonly changed = new Signal();
  private started = false;
  private upstreamDone = false;
  private closed = false;
  private count = 0;
  private inflight: Promise<unknown> | null = null;

  constructor(
    private readonly upstream: AsyncIterator<T>,
    private readonly call: MapCall<T, U>,
    private readonly parallelism: number,
    private readonly deterministic: boolean,
    private readonly wrapError: (e: unknown, index: number) => Error,
  ) {}

  private async fill(): Promise<void> {
    const yielder = new Yielder();
    while (!this.closed) {
      if (this.slots.length >= this.parallelism) {
        await this.changed.wait();
        continue;
      }
      let r: IteratorResult<T>;
      try {
        const p = this.upstream.next();
        this.inflight = p;
        r = await p;
      } catch (error) {
        this.slots.push({ promise: Promise.resolve({ kind: 'error', error }), settled: true });
        this.upstreamDone = true;
        break;
      } finally {
        this.inflight = null;
      }
      if (this.closed) break;
      if (r.done) {
        this.upstreamDone = true;
        break;
      }
      const index = this.count++;
      const value = r.value;
      const slot: MapSlot<U> = { promise: null as never, settled: false };
      slot.promise = Promise.resolve()
        .then(() => this.call(value, index))
        .then(
          (v): Slot<U> => ({ kind: 'value', value: v }),
          (e): Slot<U> => ({ kind: 'error', error: this.wrapError(e, index) }),
        )
        .then((s) => {
          slot.settled = true;
          this.changed.notify();
          return s;
        });
      this.slots.push(slot);
      this.changed.notify();
      await yielder.maybeYield();
    }
    this.upstreamDone = true;
    this.changed.notify();
  }

  async next(): Promise<IteratorResult<U>> {
    if (this.closed) return { done: true, value: undefined };
    if (!this.started) {
      this.started = true;
      void this.fill();
    }
    for (;;) {
      // A slot leaves the list only once settled, so at most `parallelism` calls are ever in flight.
      const i = this.deterministic ? (this.slots[0]?.settled ? 0 : -1) : this.slots.findIndex((s) => s.settled);
      if (i >= 0) {
        const [slot] = this.slots.splice(i, 1);
        this.changed.notify();
        const s = await slot.promise;
        if (s.kind === 'value') return { done: false, value: s.value };
        await this.return();
        throw (s as { error: unknown }).error;
      }
      if (this.upstreamDone && this.slots.length === 0) {
        this.closed = true;
        return { done: true, value: undefined };
      }
      await this.changed.wait();
    }
  }

  async return(): Promise<IteratorResult<U>> {
    if (!this.closed) {
      this.closed = true;
      this.changed.notify();
      if (this.inflight) await this.inflight.catch(() => undefined);
      // Let calls already started finish (their results are dropped) before closing upstream.
      await Promise.all(this.slots.map((s) => s.promise));
      this.slots.length = 0;
      await closeIterator(this.upstream);
    }
    return { done: true, value: undefined };
  }
}

/** Normalises a function's result into an element (see normalizeElement). */
export function toElement(value: unknown, where: string, signature?: ElementSpec | null): Element {
  return normalizeElement(value, where, signature ?? null);
}

/** `map function 'name'` (or just the kind for an anonymous function), for error messages. */
export function describeFn(fn: unknown, kind: string): string {
  const name = (fn as { name?: unknown })?.name;
  return typeof name === 'string' && name !== '' ? `${kind} '${name}'` : kind;
}

/** Reads a boolean from a predicate's result: a boolean, a number or a one-element tensor. */
export function truthy(x: unknown, where: string): boolean {
  if (typeof x === 'boolean') return x;
  if (typeof x === 'number') return x !== 0;
  const t = x as { valuesOrThrow?: (m: string) => ArrayLike<number>; shape?: readonly number[] };
  if (t && typeof t.valuesOrThrow === 'function') {
    const v = t.valuesOrThrow('filter');
    if (v.length !== 1) throw new Error(`${where}: the predicate returned a tensor of shape [${t.shape?.join(', ')}]; it must return a boolean or a scalar tensor.`);
    return v[0] !== 0;
  }
  throw new TypeError(`${where}: the predicate must return a boolean (or a scalar bool tensor); it returned ${x === null ? 'null' : typeof x}.`);
}
