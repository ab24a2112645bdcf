/**
 * Source nodes: in-memory slices and tensors, generators, ranges, zip and
 * concatenation.
 */
import { Tensor, TensorSpec } from '../tensor/tensor.ts';
import { tensor } from '../tensor/create.ts';
import { describe, formatShape } from '../tensor/shape.ts';
import type { DType } from '../tensor/dtype.ts';
import { type DatasetNode, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, closeIterator } from './core.ts';
import {
  type Element,
  type ElementSpec,
  type Leaf,
  StringSpec,
  StringTensor,
  componentName,
  isDatasetLike,
  isPlainObject,
  mapLeaves,
  mergeSpecs,
  normalizeElement,
  sliceRow,
  specOfElement,
  unbatchSpec,
} from './structure.ts';

function isNumericNested(x: unknown): boolean {
  if (typeof x === 'number' || typeof x === 'boolean') return true;
  return Array.isArray(x) && x.every(isNumericNested);
}

function isStringNested(x: unknown): boolean {
  if (typeof x === 'string') return true;
  return Array.isArray(x) && x.length > 0 && x.every(isStringNested);
}

function stringTensorFrom(x: unknown[], where: string, path: string): StringTensor<string> {
  const shape: number[] = [];
  for (let cur: unknown = x; Array.isArray(cur); cur = cur[0]) shape.push(cur.length);
  const flat = x.flat(Infinity) as string[];
  if (flat.length !== shape.reduce((p, d) => p * d, 1)) throw new TypeError(`${where}: nested string arrays${componentName(path)} are not rectangular.`);
  return new StringTensor(flat, shape, 'string');
}

/**
 * Converts the argument of fromTensors / fromTensorSlices into an element:
 * nested number arrays and typed arrays are tensors, (nested) string arrays
 * string tensors; other arrays are tuples and plain objects named components.
 */
export function toComponents(x: unknown, where: string, path = ''): Element {
  // Here typed arrays, Uint8Array included, are numbers (image bytes...), as in strata.tensor.
  if (x instanceof Tensor || x instanceof StringTensor || typeof x === 'string') return x as Leaf;
  if (typeof x === 'number' || typeof x === 'boolean') return tensor(x);
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return tensor(x as never);
  if (Array.isArray(x)) {
    if (isNumericNested(x)) {
      try {
        return tensor(x as never);
      } catch (e) {
        throw new TypeError(`${where}${componentName(path)}: ${(e as Error).message} To pass several components, give a list of tensors or typed arrays.`);
      }
    }
    if (isStringNested(x)) return stringTensorFrom(x, where, path);
    return x.map((e, i) => toComponents(e, where, `${path}[${i}]`));
  }
  if (isPlainObject(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, toComponents(v, where, `${path}.${k}`)]));
  const v = (x as { value?: unknown })?.value;
  if (v instanceof Tensor) return v;
  throw new TypeError(`${where}: cannot use ${describe(x)}${componentName(path)}; expected tensors, typed arrays, nested number or string arrays, in arrays or plain objects.`);
}

/** The elements of `x` along its first axis. */
export class TensorSlicesNode implements DatasetNode {
  private readonly components: Element;
  private readonly count: number;

  constructor(x: unknown) {
    const where = 'Dataset.fromTensorSlices';
    this.components = toComponents(x, where);
    let count: number | null = null;
    let first = '';
    mapLeaves(this.components, (leaf, path) => {
      const shape = leaf instanceof Tensor ? leaf.shape : leaf instanceof StringTensor ? leaf.shape : [];
      if (shape.length === 0) throw new Error(`${where}: a scalar${componentName(path)} cannot be sliced; every component needs a first dimension (use fromTensors for a single element).`);
      const n = shape[0] as number;
      if (count === null) {
        count = n;
        first = path;
      } else if (n !== count) {
        throw new Error(`${where}: all components must have the same size in their first dimension; ${first || 'the first component'} has ${count} and ${path} has ${n} (shape ${formatShape(shape)}).`);
      }
      return leaf;
    });
    if (count === null) throw new Error(`${where}: no components given.`);
    this.count = count;
  }

  async *iterate(): AsyncGenerator<Element> {
    for (let i = 0; i < this.count; i++) yield mapLeaves(this.components, (leaf) => sliceRow(leaf, i));
  }

  cardinality(): number {
    return this.count;
  }

  spec(): ElementSpec | null {
    return unbatchSpec(specOfElement(this.components));
  }
}

/** In-memory elements (fromTensors, window contents, the file list of listFiles). */
export class ListNode implements DatasetNode {
  constructor(
    private readonly elements: readonly Element[],
    private readonly elementSpec: ElementSpec | null = elements.length > 0 ? specOfElement(elements[0]) : null,
  ) {}

  async *iterate(): AsyncGenerator<Element> {
    for (const e of this.elements) yield e;
  }

  cardinality(): number {
    return this.elements.length;
  }

  spec(): ElementSpec | null {
    return this.elementSpec;
  }
}

export type GeneratorSource = (...args: never[]) => Iterable<unknown> | AsyncIterable<unknown>;

/** Elements from a (sync or async) generator function, called anew for each pass. */
export class GeneratorNode implements DatasetNode {
  constructor(
    private readonly generator: GeneratorSource,
    private readonly signature: ElementSpec | null,
    private readonly args: readonly unknown[],
  ) {
    if (typeof generator !== 'function') throw new TypeError(`Dataset.fromGenerator: expected a generator function (called once per pass), got ${describe(generator)}.`);
  }

  async *iterate(): AsyncGenerator<Element> {
    const where = 'Dataset.fromGenerator';
    const source = (this.generator as (...a: unknown[]) => unknown)(...this.args) as Iterable<unknown> | AsyncIterable<unknown>;
    const it: Iterator<unknown> | AsyncIterator<unknown> | undefined =
      source && typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
        ? (source as AsyncIterable<unknown>)[Symbol.asyncIterator]()
        : source && typeof (source as Iterable<unknown>)[Symbol.iterator] === 'function'
          ? (source as Iterable<unknown>)[Symbol.iterator]()
          : undefined;
    if (!it) throw new TypeError(`${where}: the generator function must return an iterable or async iterable (call a generator function); it returned ${describe(source)}.`);
    let index = 0;
    let finished = false;
    try {
      for (;;) {
        let r: IteratorResult<unknown>;
        try {
          r = await it.next();
        } catch (e) {
          finished = true;
          throw new Error(`${where}: the generator threw while producing element ${index}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
        }
        if (r.done) {
          finished = true;
          return;
        }
        yield normalizeElement(r.value, `${where}: element ${index}`, this.signature);
        index++;
      }
    } finally {
      if (!finished) await (it.return?.() as unknown);
    }
  }

  cardinality(): number {
    return UNKNOWN_CARDINALITY;
  }

  spec(): ElementSpec | null {
    return this.signature;
  }
}

export class RangeNode implements DatasetNode {
  private readonly count: number;

  constructor(
    private readonly start: number,
    private readonly stop: number,
    private readonly step: number,
    private readonly dtype: DType,
  ) {
    for (const [name, v] of [['start', start], ['stop', stop], ['step', step]] as const) {
      if (!Number.isFinite(v)) throw new RangeError(`Dataset.range: Received: ${name}=${v}; it must be a finite number.`);
    }
    if (step === 0) throw new RangeError('Dataset.range: Received: step=0; step must not be zero.');
    this.count = Math.max(0, Math.ceil((stop - start) / step));
  }

  async *iterate(): AsyncGenerator<Element> {
    for (let i = 0; i < this.count; i++) yield tensor(this.start + i * this.step, [], this.dtype);
  }

  cardinality(): number {
    return this.count;
  }

  spec(): ElementSpec | null {
    return new TensorSpec([], this.dtype);
  }
}

/** Elements of several datasets side by side (a structure of datasets gives a structure of elements). */
export class ZipNode implements DatasetNode {
  private readonly entries: { key: string | number; node: DatasetNode }[];
  private readonly isArray: boolean;

  constructor(datasets: unknown) {
    const where = 'Dataset.zip';
    const nodeOfDs = (d: unknown, key: string | number) => {
      if (!isDatasetLike(d)) throw new TypeError(`${where}: ${typeof key === 'number' ? `argument ${key}` : `'${key}'`} is not a Dataset (got ${describe(d)}).`);
      return (d as unknown as { _node: DatasetNode })._node;
    };
    if (Array.isArray(datasets)) {
      this.isArray = true;
      this.entries = datasets.map((d, i) => ({ key: i, node: nodeOfDs(d, i) }));
    } else if (isPlainObject(datasets)) {
      this.isArray = false;
      this.entries = Object.entries(datasets).map(([k, d]) => ({ key: k, node: nodeOfDs(d, k) }));
    } else {
      throw new TypeError(`${where}: expected an array or an object of datasets, got ${describe(datasets)}.`);
    }
    if (this.entries.length === 0) throw new Error(`${where}: no datasets given.`);
  }

  async *iterate(): AsyncGenerator<Element> {
    const its = this.entries.map((e) => e.node.iterate());
    let finished = false;
    try {
      for (;;) {
        const results = await Promise.all(its.map((it) => it.next()));
        if (results.some((r) => r.done)) {
          finished = true;
          break;
        }
        if (this.isArray) yield results.map((r) => r.value as Element);
        else yield Object.fromEntries(this.entries.map((e, i) => [e.key, results[i].value as Element]));
      }
    } finally {
      void finished;
      await Promise.all(its.map((it) => closeIterator(it)));
    }
  }

  cardinality(): number {
    const cs = this.entries.map((e) => e.node.cardinality());
    const finite = cs.filter((c) => c >= 0);
    if (cs.includes(UNKNOWN_CARDINALITY)) {
      return UNKNOWN_CARDINALITY;
    }
    return finite.length > 0 ? Math.min(...finite) : INFINITE_CARDINALITY;
  }

  spec(): ElementSpec | null {
    const specs = this.entries.map((e) => e.node.spec());
    if (specs.includes(null)) return null;
    return this.isArray ? (specs as ElementSpec[]) : Object.fromEntries(this.entries.map((e, i) => [e.key, specs[i] as ElementSpec]));
  }
}

export class ConcatenateNode implements DatasetNode {
  constructor(
    private readonly a: DatasetNode,
    private readonly b: DatasetNode,
  ) {
    const sa = a.spec();
    const sb = b.spec();
    if (sa && sb && mergeSpecs(sa, sb) === null) {
      throw new TypeError(`Dataset.concatenate: the datasets have incompatible elements: ${describeSpec(sa)} and ${describeSpec(sb)}.`);
    }
  }

  async *iterate(): AsyncGenerator<Element> {
    yield* iterateNode(this.a);
    yield* iterateNode(this.b);
  }

  cardinality(): number {
    const ca = this.a.cardinality();
    const cb = this.b.cardinality();
    if (ca === INFINITE_CARDINALITY || cb === INFINITE_CARDINALITY) return INFINITE_CARDINALITY;
    if (ca < 0 || cb < 0) return UNKNOWN_CARDINALITY;
    return ca + cb;
  }

  spec(): ElementSpec | null {
    return mergeSpecs(this.a.spec(), this.b.spec());
  }
}

function describeSpec(s: ElementSpec): string {
  return String(Array.isArray(s) ? `[${s.map(String).join(', ')}]` : s instanceof TensorSpec || s instanceof StringSpec ? s : JSON.stringify(Object.keys(s)));
}

/** Iterates a node as an async generator (so `return()` closes it). */
export async function* iterateNode<T>(node: DatasetNode<T>): AsyncGenerator<T> {
  const it = node.iterate();
  let done = false;
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!done) await closeIterator(it);
  }
}
