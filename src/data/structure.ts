/**
 * Elements of a dataset and their structure.
 *
 * An element is a leaf or a nested structure of leaves: arrays (tuples) and
 * plain objects (named components), to any depth. Leaves are
 * - `Tensor` (float32, float64, int32, bool);
 * - a string scalar: a JavaScript `string` (text) or a `Uint8Array` (bytes,
 *   such as a TFRecord record), since Strata tensors hold numbers only;
 * - `StringTensor`: an n-dimensional array of strings or byte strings (what a
 *   batch of string scalars becomes);
 * - `SparseTensor` (variable-length features parsed by `parseExample`);
 * - a `Dataset` (the elements of `window`).
 *
 * `elementSpec` describes the structure with `TensorSpec`, `StringSpec`,
 * `SparseTensorSpec` and `DatasetSpec` leaves; `null` dims are unknown.
 */
import { type DType, type TypedArray, allocate, isDType } from '../tensor/dtype.ts';
import { type Dim, type Shape, describe, formatShape } from '../tensor/shape.ts';
import { Tensor, TensorSpec } from '../tensor/tensor.ts';
import { tensor } from '../tensor/create.ts';

// ---------------------------------------------------------------------------
// Leaves that are not tensors

export type StringDType = 'string' | 'bytes';

/** An n-dimensional array of strings (`dtype: 'string'`) or byte strings (`'bytes'`, Uint8Array values). */
export class StringTensor<V extends string | Uint8Array = string | Uint8Array> {
  readonly shape: readonly number[];
  readonly values: readonly V[];
  readonly dtype: StringDType;

  constructor(values: readonly V[], shape?: readonly number[], dtype?: StringDType) {
    this.shape = Object.freeze([...(shape ?? [values.length])]);
    const size = this.shape.reduce((p, d) => p * d, 1);
    if (size !== values.length) throw new Error(`StringTensor: ${values.length} values cannot have shape ${formatShape(this.shape)} (${size} elements).`);
    this.values = values;
    this.dtype = dtype ?? (values.length > 0 && values[0] instanceof Uint8Array ? 'bytes' : 'string');
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The values as nested arrays. */
  toArray(): unknown {
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return this.values[offset];
      let stride = 1;
      for (let d = dim + 1; d < this.shape.length; d++) stride *= this.shape[d];
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  toString(): string {
    const show = (v: V) => (typeof v === 'string' ? JSON.stringify(v) : `<${v.length} bytes>`);
    const vals = this.values.length > 8 ? [...this.values.slice(0, 8).map(show), '...'] : this.values.map(show);
    return `StringTensor(shape=${formatShape(this.shape)}, dtype=${this.dtype}, [${vals.join(', ')}])`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/**
 * A sparse array in coordinate form (what `parseExample` returns for a
 * `VarLenFeature`): `indices` is int32 [nnz, rank], `values` has nnz entries.
 */
export class SparseTensor {
  constructor(
    readonly indices: Tensor,
    readonly values: Tensor | StringTensor,
    readonly denseShape: readonly number[],
  ) {}

  /** The dense array, with `defaultValue` (0 or '') where no value is given. */
  toDense(defaultValue?: number | string): Tensor | StringTensor {
    const size = this.denseShape.reduce((p, d) => p * d, 1);
    const idx = this.indices.valuesOrThrow('SparseTensor.toDense');
    const rank = this.denseShape.length;
    const flatIndex = (k: number) => {
      let f = 0;
      for (let d = 0; d < rank; d++) f = f * this.denseShape[d] + idx[k * rank + d];
      return f;
    };
    if (this.values instanceof StringTensor) {
      const out = new Array<string | Uint8Array>(size).fill((defaultValue as string) ?? (this.values.dtype === 'bytes' ? new Uint8Array(0) : ''));
      this.values.values.forEach((v, k) => (out[flatIndex(k)] = v));
      return new StringTensor(out, this.denseShape, this.values.dtype);
    }
    const vals = this.values.valuesOrThrow('SparseTensor.toDense');
    const out = allocate(this.values.dtype, size);
    if (defaultValue !== undefined) out.fill(Number(defaultValue));
    for (let k = 0; k < vals.length; k++) out[flatIndex(k)] = vals[k];
    return new Tensor(this.denseShape, this.values.dtype, out);
  }

  toString(): string {
    return `SparseTensor(denseShape=${formatShape(this.denseShape)}, nnz=${this.indices.shape[0]}, values=${String(this.values)})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

// ---------------------------------------------------------------------------
// Specs

/** The spec of string leaves (`string`, `Uint8Array` or `StringTensor`). */
export class StringSpec {
  readonly shape: Shape;
  constructor(shape: Shape = [], readonly dtype: StringDType = 'string') {
    this.shape = Object.freeze([...shape]);
  }
  toString(): string {
    return `StringSpec(shape=${formatShape(this.shape)}, dtype=${this.dtype})`;
  }
}

export class SparseTensorSpec {
  readonly shape: Shape;
  constructor(shape: Shape, readonly dtype: DType | StringDType) {
    this.shape = Object.freeze([...shape]);
  }
  toString(): string {
    return `SparseTensorSpec(shape=${formatShape(this.shape)}, dtype=${this.dtype})`;
  }
}

/** The spec of a dataset-valued element (from `window`). */
export class DatasetSpec {
  constructor(readonly elementSpec: ElementSpec | null) {}
  toString(): string {
    return `DatasetSpec(${specToString(this.elementSpec)})`;
  }
}

export type LeafSpec = TensorSpec | StringSpec | SparseTensorSpec | DatasetSpec;
export type ElementSpec = LeafSpec | readonly ElementSpec[] | { readonly [name: string]: ElementSpec };

export function isLeafSpec(s: unknown): s is LeafSpec {
  return s instanceof TensorSpec || s instanceof StringSpec || s instanceof SparseTensorSpec || s instanceof DatasetSpec;
}

export function specToString(s: ElementSpec | null): string {
  if (s === null) return 'unknown';
  if (isLeafSpec(s)) return s.toString();
  if (Array.isArray(s)) return `[${s.map(specToString).join(', ')}]`;
  return `{${Object.entries(s).map(([k, v]) => `${k}: ${specToString(v)}`).join(', ')}}`;
}

// ---------------------------------------------------------------------------
// Element types

/** Marks a Dataset (defined in core.ts, recognised here without importing it). */
export const DATASET = Symbol.for('strata.data.Dataset');

export interface DatasetLike {
  readonly [DATASET]: true;
}

export type Leaf = Tensor | string | Uint8Array | StringTensor | SparseTensor | DatasetLike;
export type Element = Leaf | readonly Element[] | { readonly [name: string]: Element };

export function isDatasetLike(x: unknown): x is DatasetLike {
  return typeof x === 'object' && x !== null && (x as { [DATASET]?: unknown })[DATASET] === true;
}

export function isLeaf(x: unknown): x is Leaf {
  return x instanceof Tensor || typeof x === 'string' || x instanceof Uint8Array || x instanceof StringTensor || x instanceof SparseTensor || isDatasetLike(x);
}

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** ` component [0].image` (or '' for the whole element), for error messages. */
export function componentName(path: string): string {
  return path === '' ? '' : ` (component ${path})`;
}

function childPath(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : `${path}.${key}`;
}

/** The leaves of an element, depth first (object keys in insertion order). */
export function flatten(el: Element, out: Leaf[] = []): Leaf[] {
  if (isLeaf(el)) out.push(el);
  else if (Array.isArray(el)) for (const e of el) flatten(e, out);
  else for (const v of Object.values(el as Record<string, Element>)) flatten(v, out);
  return out;
}

/** Rebuilds a structure shaped like `template` from `fn(leaf, path)`. */
export function mapLeaves(el: Element, fn: (leaf: Leaf, path: string) => Element, path = ''): Element {
  if (isLeaf(el)) return fn(el, path);
  if (Array.isArray(el)) return el.map((e, i) => mapLeaves(e, fn, childPath(path, i)));
  const out: Record<string, Element> = {};
  for (const [k, v] of Object.entries(el as Record<string, Element>)) out[k] = mapLeaves(v, fn, childPath(path, k));
  return out;
}

function structureKind(x: unknown): string {
  if (isLeaf(x)) return 'a leaf';
  if (Array.isArray(x)) return `an array of ${x.length}`;
  return `an object with keys {${Object.keys(x as object).join(', ')}}`;
}

/**
 * Combines elements of the same structure leaf by leaf: `fn(leaves, path)`
 * gets the i-th element's leaf at each position. A structure mismatch is an
 * error naming the element (`indexOf(i)`) and the component.
 */
export function combine(elements: readonly Element[], fn: (leaves: Leaf[], path: string) => Element, where: string, indexOf: (i: number) => number): Element {
  const walk = (parts: readonly unknown[], path: string): Element => {
    const first = parts[0];
    for (let i = 1; i < parts.length; i++) {
      const p = parts[i];
      const same = isLeaf(first)
        ? isLeaf(p)
        : Array.isArray(first)
          ? Array.isArray(p) && p.length === first.length
          : !isLeaf(p) && !Array.isArray(p) && typeof p === 'object' && p !== null && sameKeys(first as object, p as object);
      if (!same) {
        throw new Error(`${where}: element ${indexOf(i)} has a different structure from element ${indexOf(0)}${componentName(path)}: ${structureKind(p)} instead of ${structureKind(first)}.`);
      }
    }
    if (isLeaf(first)) return fn(parts as Leaf[], path);
    if (Array.isArray(first)) return first.map((_, k) => walk(parts.map((p) => (p as unknown[])[k]), childPath(path, k)));
    const out: Record<string, Element> = {};
    for (const k of Object.keys(first as object)) out[k] = walk(parts.map((p) => (p as Record<string, unknown>)[k]), childPath(path, k));
    return out;
  };
  return walk(elements, '');
}

function sameKeys(a: object, b: object): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k));
}

// ---------------------------------------------------------------------------
// Specs of values

export function leafSpec(leaf: Leaf): LeafSpec {
  if (leaf instanceof Tensor) return new TensorSpec(leaf.shape, leaf.dtype);
  if (typeof leaf === 'string') return new StringSpec([], 'string');
  if (leaf instanceof Uint8Array) return new StringSpec([], 'bytes');
  if (leaf instanceof StringTensor) return new StringSpec(leaf.shape, leaf.dtype);
  if (leaf instanceof SparseTensor) return new SparseTensorSpec(leaf.denseShape, leaf.values.dtype);
  return new DatasetSpec(null);
}

export function specOfElement(el: Element): ElementSpec {
  if (isLeaf(el)) return leafSpec(el);
  if (Array.isArray(el)) return el.map(specOfElement);
  return Object.fromEntries(Object.entries(el as Record<string, Element>).map(([k, v]) => [k, specOfElement(v)]));
}

/** Maps the leaf specs of a spec. */
export function mapSpec(spec: ElementSpec, fn: (leaf: LeafSpec) => ElementSpec): ElementSpec {
  if (isLeafSpec(spec)) return fn(spec);
  if (Array.isArray(spec)) return spec.map((s) => mapSpec(s, fn));
  return Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, mapSpec(v as ElementSpec, fn)]));
}

function withShape(s: LeafSpec, shape: Shape): LeafSpec {
  if (s instanceof TensorSpec) return new TensorSpec(shape, s.dtype);
  if (s instanceof StringSpec) return new StringSpec(shape, s.dtype);
  if (s instanceof SparseTensorSpec) return new SparseTensorSpec(shape, s.dtype);
  return s;
}

export function batchSpec(spec: ElementSpec | null, batchDim: Dim): ElementSpec | null {
  if (spec === null) return null;
  return mapSpec(spec, (s) => (s instanceof DatasetSpec ? s : withShape(s, [batchDim, ...s.shape])));
}

export function unbatchSpec(spec: ElementSpec | null): ElementSpec | null {
  if (spec === null) return null;
  return mapSpec(spec, (s) => (s instanceof DatasetSpec ? s : withShape(s, s.shape.slice(1))));
}

/** The most specific spec compatible with both (differing dims become null); null when the structures differ. */
export function mergeSpecs(a: ElementSpec | null, b: ElementSpec | null): ElementSpec | null {
  if (a === null || b === null) return null;
  if (isLeafSpec(a) || isLeafSpec(b)) {
    if (!isLeafSpec(a) || !isLeafSpec(b) || a.constructor !== b.constructor) return null;
    if (a instanceof DatasetSpec) return a;
    const sa = a as TensorSpec | StringSpec | SparseTensorSpec;
    const sb = b as TensorSpec | StringSpec | SparseTensorSpec;
    if (sa.dtype !== sb.dtype) return null;
    const shape = sa.shape.length === sb.shape.length ? sa.shape.map((d, i) => (d === sb.shape[i] ? d : null)) : null;
    if (!shape) return null;
    return withShape(a, shape);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return null;
  if (Array.isArray(a)) {
    const bb = b as readonly ElementSpec[];
    if (a.length !== bb.length) return null;
    const out = a.map((s, i) => mergeSpecs(s, bb[i]));
    return out.includes(null) ? null : (out as ElementSpec[]);
  }
  const ao = a as Record<string, ElementSpec>;
  const bo = b as Record<string, ElementSpec>;
  if (!sameKeys(ao, bo)) return null;
  const out: Record<string, ElementSpec> = {};
  for (const k of Object.keys(ao)) {
    const m = mergeSpecs(ao[k], bo[k]);
    if (m === null) return null;
    out[k] = m;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Normalising what user functions return

/** A value a function returned (or a generator yielded) that cannot be a dataset element. */
export class InvalidElementError extends TypeError {
  override name = 'InvalidElementError';
}

const pre = (where: string) => (where ? `${where}: ` : '');

function isStringArray(x: unknown): boolean {
  if (typeof x === 'string') return true;
  return Array.isArray(x) && x.length > 0 && x.every(isStringArray);
}

function isNumericArray(x: unknown): boolean {
  if (typeof x === 'number' || typeof x === 'boolean') return true;
  return Array.isArray(x) && x.length > 0 && x.every(isNumericArray);
}

/**
 * Turns what a map function or generator produced into an element: numbers
 * and booleans become scalar tensors (float32 / bool), typed arrays other
 * than Uint8Array become 1-D tensors, rectangular nested arrays of numbers
 * become tensors (of strings: StringTensors), other arrays are tuples and plain objects named components. With a signature, leaves are converted to its dtypes and
 * checked against its shapes.
 */
export function normalizeElement(value: unknown, where: string, signature?: ElementSpec | null, path = ''): Element {
  if (signature) return conformToSpec(value, signature, where, path);
  if (value instanceof Tensor) {
    if (value.isSymbolic) throw new InvalidElementError(`${pre(where)}got a symbolic tensor${componentName(path)}; dataset functions run eagerly and must return values.`);
    return value;
  }
  if (typeof value === 'string' || value instanceof Uint8Array || value instanceof StringTensor || value instanceof SparseTensor || isDatasetLike(value)) return value as Leaf;
  if (typeof value === 'number' || typeof value === 'boolean') return tensor(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return tensor(value as TypedArray);
  if (Array.isArray(value)) {
    // Rectangular nested numbers are one tensor; any other array is a tuple of components.
    if (value.length > 0 && isNumericArray(value)) {
      try {
        return tensor(value as never);
      } catch {
        // ragged: a tuple
      }
    }
    if (value.length > 0 && isStringArray(value)) {
      const shape: number[] = [];
      for (let cur: unknown = value; Array.isArray(cur); cur = cur[0]) shape.push(cur.length);
      const flat = value.flat(Infinity) as string[];
      if (flat.length === shape.reduce((p, d) => p * d, 1)) return new StringTensor(flat, shape, 'string');
    }
    return value.map((v, i) => normalizeElement(v, where, null, childPath(path, i)));
  }
  if (isPlainObject(value)) {
    const out: Record<string, Element> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalizeElement(v, where, null, childPath(path, k));
    return out;
  }
  const v = (value as { value?: unknown })?.value;
  if (v instanceof Tensor) return v; // a Variable
  throw new InvalidElementError(`${pre(where)}cannot use ${describe(value)}${componentName(path)} as part of a dataset element; expected tensors, numbers, typed arrays, strings or Uint8Array bytes, in arrays or plain objects.`);
}

function conformToSpec(value: unknown, spec: ElementSpec, where: string, path: string): Element {
  if (spec instanceof TensorSpec) {
    let t: Tensor;
    if (value instanceof Tensor) t = value;
    else if (typeof (value as { value?: unknown })?.value === 'object' && (value as { value: unknown }).value instanceof Tensor) t = (value as { value: Tensor }).value;
    else if (typeof value === 'number' || typeof value === 'boolean' || Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView))) {
      try {
        t = tensor(value as never, undefined, spec.dtype);
      } catch (e) {
        throw new InvalidElementError(`${pre(where)}cannot convert ${describe(value)}${componentName(path)} to ${spec}: ${(e as Error).message}`);
      }
      if (spec.shape.length !== t.rank && spec.shape.every((d) => d !== null)) {
        const size = spec.shape.reduce((p: number, d) => p * (d as number), 1);
        if (size === t.size) t = new Tensor(spec.shape as number[], t.dtype, t._values);
      }
    } else {
      throw new InvalidElementError(`${pre(where)}expected a value for ${spec}${componentName(path)}, got ${describe(value)}.`);
    }
    if (t.dtype !== spec.dtype) throw new InvalidElementError(`${pre(where)}a tensor of dtype ${t.dtype}${componentName(path)} does not match the signature's ${spec}.`);
    if (!spec.isCompatibleWith(t)) throw new InvalidElementError(`${pre(where)}a tensor of shape ${formatShape(t.shape)}${componentName(path)} does not match the signature's ${spec}.`);
    return t;
  }
  if (spec instanceof StringSpec) {
    if (spec.shape.length === 0) {
      if (typeof value === 'string' && spec.dtype === 'string') return value;
      if (value instanceof Uint8Array && spec.dtype === 'bytes') return value;
      if (typeof value === 'string' && spec.dtype === 'bytes') return new TextEncoder().encode(value);
      if (value instanceof Uint8Array && spec.dtype === 'string') return new TextDecoder().decode(value);
      throw new InvalidElementError(`${pre(where)}expected a ${spec.dtype} scalar for ${spec}${componentName(path)}, got ${describe(value)}.`);
    }
    let st: StringTensor;
    if (value instanceof StringTensor) st = value;
    else if (Array.isArray(value) && value.flat(Infinity).every((v) => typeof v === 'string' || v instanceof Uint8Array)) {
      const shape: number[] = [];
      for (let cur: unknown = value; Array.isArray(cur); cur = cur[0]) shape.push(cur.length);
      st = new StringTensor(value.flat(Infinity) as (string | Uint8Array)[], shape, spec.dtype);
    } else throw new InvalidElementError(`${pre(where)}expected strings for ${spec}${componentName(path)}, got ${describe(value)}.`);
    if (st.shape.length !== spec.shape.length || !spec.shape.every((d, i) => d === null || d === st.shape[i])) {
      throw new InvalidElementError(`${pre(where)}strings of shape ${formatShape(st.shape)}${componentName(path)} do not match the signature's ${spec}.`);
    }
    return st;
  }
  if (spec instanceof SparseTensorSpec || spec instanceof DatasetSpec) {
    if (!isLeaf(value)) throw new InvalidElementError(`${pre(where)}expected a value for ${spec}${componentName(path)}, got ${describe(value)}.`);
    return value;
  }
  if (Array.isArray(spec)) {
    if (!Array.isArray(value) || value.length !== spec.length) {
      throw new InvalidElementError(`${pre(where)}expected an array of ${spec.length} components${componentName(path)} (the signature ${specToString(spec)}), got ${describe(value)}.`);
    }
    return spec.map((s, i) => conformToSpec(value[i], s, where, childPath(path, i)));
  }
  if (!isPlainObject(value)) throw new InvalidElementError(`${pre(where)}expected an object with keys {${Object.keys(spec).join(', ')}}${componentName(path)}, got ${describe(value)}.`);
  const out: Record<string, Element> = {};
  for (const [k, s] of Object.entries(spec)) {
    if (!(k in value)) throw new InvalidElementError(`${pre(where)}the element has no component '${k}'${componentName(path)} required by the signature.`);
    out[k] = conformToSpec(value[k], s as ElementSpec, where, childPath(path, k));
  }
  const extra = Object.keys(value).filter((k) => !(k in spec));
  if (extra.length) throw new InvalidElementError(`${pre(where)}the element has components {${extra.join(', ')}}${componentName(path)} that the signature does not list.`);
  return out;
}

/** Parses a user-given signature: TensorSpec / StringSpec leaves, or `{shape, dtype}` objects. */
export function toSpec(sig: unknown, where: string): ElementSpec {
  if (isLeafSpec(sig)) return sig;
  if (Array.isArray(sig)) return sig.map((s) => toSpec(s, where));
  if (isPlainObject(sig)) {
    if (Array.isArray(sig.shape) && typeof sig.dtype === 'string' && Object.keys(sig).every((k) => k === 'shape' || k === 'dtype' || k === 'name')) {
      if (sig.dtype === 'string' || sig.dtype === 'bytes') return new StringSpec(sig.shape as Dim[], sig.dtype);
      if (isDType(sig.dtype)) return new TensorSpec(sig.shape as Dim[], sig.dtype);
    }
    return Object.fromEntries(Object.entries(sig).map(([k, v]) => [k, toSpec(v, where)]));
  }
  throw new TypeError(`${where}: the signature must be made of TensorSpec / StringSpec (or {shape, dtype}) in arrays and objects; got ${describe(sig)}.`);
}

// ---------------------------------------------------------------------------
// Batching

function shapeOf(leaf: Leaf): readonly number[] | null {
  if (leaf instanceof Tensor) return leaf.shape as number[];
  if (leaf instanceof StringTensor) return leaf.shape;
  if (typeof leaf === 'string' || leaf instanceof Uint8Array) return [];
  return null;
}

function leafKind(leaf: Leaf): string {
  if (leaf instanceof Tensor) return `a ${leaf.dtype} tensor`;
  if (typeof leaf === 'string' || (leaf instanceof StringTensor && leaf.dtype === 'string')) return 'strings';
  if (leaf instanceof Uint8Array || leaf instanceof StringTensor) return 'bytes';
  if (leaf instanceof SparseTensor) return 'a SparseTensor';
  return 'a dataset';
}

function stringValues(leaf: Leaf): readonly (string | Uint8Array)[] {
  if (typeof leaf === 'string' || leaf instanceof Uint8Array) return [leaf];
  return (leaf as StringTensor).values;
}

/**
 * Stacks elements along a new first axis (what `batch` does). `indexOf(i)`
 * gives the element's index in the pass, for error messages.
 */
export function stackElements(elements: readonly Element[], where: string, indexOf: (i: number) => number): Element {
  return combine(
    elements,
    (leaves, path) => {
      const first = leaves[0];
      const shape = shapeOf(first);
      if (shape === null) throw new Error(`${where}: cannot batch ${leafKind(first)}${componentName(path)}. ${first instanceof SparseTensor ? 'Batch the serialized records and parse them with parseExample instead.' : ''}`.trim());
      for (let i = 1; i < leaves.length; i++) {
        const l = leaves[i];
        const s = shapeOf(l);
        if (leafKind(l) !== leafKind(first)) throw new Error(`${where}: element ${indexOf(i)} has ${leafKind(l)}${componentName(path)} where element ${indexOf(0)} has ${leafKind(first)}.`);
        if (s === null || s.length !== shape.length || s.some((d, k) => d !== shape[k])) {
          throw new Error(`${where}: cannot batch element ${indexOf(i)}${componentName(path)}: its shape ${formatShape(s ?? [])} differs from the shape ${formatShape(shape)} of element ${indexOf(0)}. Use paddedBatch to batch elements of different shapes.`);
        }
      }
      if (first instanceof Tensor) {
        const size = first.size as number;
        const out = allocate(first.dtype, size * leaves.length);
        for (let i = 0; i < leaves.length; i++) out.set((leaves[i] as Tensor).valuesOrThrow('batch'), i * size);
        return new Tensor([leaves.length, ...shape], first.dtype, out);
      }
      const values: (string | Uint8Array)[] = [];
      for (const l of leaves) for (const v of stringValues(l)) values.push(v);
      return new StringTensor(values, [leaves.length, ...shape], first instanceof StringTensor ? first.dtype : typeof first === 'string' ? 'string' : 'bytes');
    },
    where,
    indexOf,
  );
}

export type PaddedShapes = readonly (number | null)[] | PaddedShapes[] | { [k: string]: PaddedShapes };
export type PaddingValues = number | boolean | string | readonly PaddingValues[] | { [k: string]: PaddingValues };

function lookup(struct: unknown, path: string): unknown {
  if (struct === undefined || struct === null) return undefined;
  if (path === '') return struct;
  let cur: unknown = struct;
  for (const m of path.matchAll(/\[(\d+)\]|\.([^.[]+)/g)) {
    if (cur === undefined || cur === null || typeof cur !== 'object') return undefined;
    cur = m[1] !== undefined ? (cur as unknown[])[Number(m[1])] : (cur as Record<string, unknown>)[m[2]];
  }
  return cur;
}

function isShapeList(x: unknown): x is (number | null)[] {
  return Array.isArray(x) && x.every((d) => d === null || typeof d === 'number');
}

/**
 * The spec of `paddedBatch`'s output. A number in `paddedShapes` fixes that
 * dim (every batch has exactly it, as in tf.data); other padded dims are
 * unknown: the longest in the batch, and the input's dims may only be learned
 * from a first element (map without outputSignature), so they are not kept.
 */
export function paddedBatchSpec(spec: ElementSpec | null, batchDim: Dim, paddedShapes: PaddedShapes | undefined): ElementSpec | null {
  if (spec === null) return null;
  const walk = (s: ElementSpec, path: string): ElementSpec => {
    if (s instanceof TensorSpec || s instanceof StringSpec) {
      const given = lookup(paddedShapes, path);
      const fixed = isShapeList(given) && given.length === s.shape.length ? given : null;
      return withShape(s, [batchDim, ...s.shape.map((_, d) => (fixed && fixed[d] !== null && fixed[d] !== -1 ? fixed[d] : null))]);
    }
    if (isLeafSpec(s)) return s instanceof DatasetSpec ? s : withShape(s, [batchDim, ...s.shape]);
    if (Array.isArray(s)) return s.map((x, i) => walk(x, childPath(path, i)));
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, walk(v as ElementSpec, childPath(path, k))]));
  };
  return walk(spec, '');
}

/** Pads elements to a common shape, then stacks them (what `paddedBatch` does). */
export function padAndStack(elements: readonly Element[], paddedShapes: PaddedShapes | undefined, paddingValues: PaddingValues | undefined, where: string, indexOf: (i: number) => number): Element {
  return combine(
    elements,
    (leaves, path) => {
      const first = leaves[0];
      if (!(first instanceof Tensor || first instanceof StringTensor || typeof first === 'string' || first instanceof Uint8Array)) {
        throw new Error(`${where}: cannot batch ${leafKind(first)}${componentName(path)}.`);
      }
      const shapes = leaves.map((l, i) => {
        if (leafKind(l) !== leafKind(first)) throw new Error(`${where}: element ${indexOf(i)} has ${leafKind(l)}${componentName(path)} where element ${indexOf(0)} has ${leafKind(first)}.`);
        const s = shapeOf(l)!;
        if (s.length !== shapeOf(first)!.length) throw new Error(`${where}: element ${indexOf(i)}${componentName(path)} has rank ${s.length} (shape ${formatShape(s)}) but element ${indexOf(0)} has rank ${shapeOf(first)!.length}; paddedBatch pads dimensions, it cannot add them.`);
        return s;
      });
      const rank = shapes[0].length;
      const given = lookup(paddedShapes, path);
      if (given !== undefined && !isShapeList(given)) throw new TypeError(`${where}: paddedShapes${componentName(path)} must be a list of dims (numbers, or null / -1 for the longest in the batch); got ${describe(given)}.`);
      if (given && given.length !== rank) throw new Error(`${where}: paddedShapes${componentName(path)} ${formatShape(given)} has rank ${given.length} but the elements have rank ${rank}.`);
      const target = Array.from({ length: rank }, (_, d) => {
        const g = given?.[d];
        const longest = Math.max(...shapes.map((s) => s[d]));
        if (g === null || g === undefined || g === -1) return longest;
        shapes.forEach((s, i) => {
          if (s[d] > g) throw new Error(`${where}: element ${indexOf(i)}${componentName(path)} has shape ${formatShape(s)}, larger than the padded shape ${formatShape(given!)} in dimension ${d}.`);
        });
        return g;
      });
      const pv = typeof paddingValues === 'object' && paddingValues !== null ? lookup(paddingValues, path) : paddingValues;
      const size = target.reduce((p, d) => p * d, 1);
      const n = leaves.length;
      if (first instanceof Tensor) {
        if (pv !== undefined && typeof pv !== 'number' && typeof pv !== 'boolean') throw new TypeError(`${where}: the padding value${componentName(path)} of a ${first.dtype} tensor must be a number; got ${describe(pv)}.`);
        const out = allocate(first.dtype, size * n);
        if (pv !== undefined && pv !== 0) out.fill(Number(pv));
        leaves.forEach((l, i) => copyPadded((l as Tensor).valuesOrThrow('paddedBatch'), shapes[i], out, i * size, target));
        return new Tensor([n, ...target], first.dtype, out);
      }
      const dtype = first instanceof StringTensor ? first.dtype : typeof first === 'string' ? 'string' : 'bytes';
      const fillValue = pv !== undefined ? pv : dtype === 'bytes' ? new Uint8Array(0) : '';
      if (typeof fillValue !== 'string' && !(fillValue instanceof Uint8Array)) throw new TypeError(`${where}: the padding value${componentName(path)} of strings must be a string; got ${describe(pv)}.`);
      const out = new Array<string | Uint8Array>(size * n).fill(fillValue);
      leaves.forEach((l, i) => copyPadded(stringValues(l), shapes[i], out, i * size, target));
      return new StringTensor(out, [n, ...target], dtype);
    },
    where,
    indexOf,
  );
}

/** Copies a row-major array of shape `src` into the top-left corner of a `dst` block at `offset`. */
function copyPadded<T>(values: ArrayLike<T>, src: readonly number[], out: { [i: number]: T }, offset: number, dst: readonly number[]): void {
  const rank = src.length;
  if (rank === 0) {
    out[offset] = values[0];
    return;
  }
  const dstStrides = new Array<number>(rank).fill(1);
  const srcStrides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) {
    dstStrides[d] = dstStrides[d + 1] * dst[d + 1];
    srcStrides[d] = srcStrides[d + 1] * src[d + 1];
  }
  const inner = src[rank - 1];
  const rows = src.slice(0, -1).reduce((p, d) => p * d, 1);
  const isTyped = ArrayBuffer.isView(values) && ArrayBuffer.isView(out);
  for (let r = 0; r < rows; r++) {
    let rem = r;
    let so = 0;
    let doff = offset;
    for (let d = rank - 2; d >= 0; d--) {
      const idx = rem % src[d];
      rem = Math.floor(rem / src[d]);
      so += idx * srcStrides[d];
      doff += idx * dstStrides[d];
    }
    if (isTyped) (out as unknown as TypedArray).set((values as unknown as TypedArray).subarray(so, so + inner), doff);
    else for (let k = 0; k < inner; k++) out[doff + k] = values[so + k];
  }
}

/** Splits an element along its first axis (what `unbatch` does). */
export function unstackElement(el: Element, where: string, index: number): Element[] {
  const leaves = flatten(el);
  let n: number | null = null;
  let firstPath = '';
  mapLeaves(el, (leaf, path) => {
    const shape = shapeOf(leaf);
    if (shape === null || shape.length === 0) throw new Error(`${where}: element ${index}${componentName(path)} is ${shape === null ? leafKind(leaf) : 'a scalar'}; unbatch needs arrays with a first (batch) dimension.`);
    if (n === null) {
      n = shape[0];
      firstPath = path;
    } else if (shape[0] !== n) {
      throw new Error(`${where}: element ${index} has components with different batch sizes: ${n}${componentName(firstPath)} and ${shape[0]}${componentName(path)}.`);
    }
    return leaf;
  });
  if (leaves.length === 0 || n === null) return [];
  const count = n as number;
  const out: Element[] = [];
  for (let i = 0; i < count; i++) out.push(mapLeaves(el, (leaf) => sliceRow(leaf, i)));
  return out;
}

/** Row i of a tensor or string tensor (a copy: rows never share a large buffer). */
export function sliceRow(leaf: Leaf, i: number): Leaf {
  if (leaf instanceof Tensor) {
    const rowShape = leaf.shape.slice(1) as number[];
    const size = rowShape.reduce((p, d) => p * d, 1);
    return new Tensor(rowShape, leaf.dtype, leaf.valuesOrThrow('slice').slice(i * size, (i + 1) * size));
  }
  const st = leaf as StringTensor;
  const rowShape = st.shape.slice(1);
  if (rowShape.length === 0) return st.values[i];
  const size = rowShape.reduce((p, d) => p * d, 1);
  return new StringTensor(st.values.slice(i * size, (i + 1) * size), rowShape, st.dtype);
}

// ---------------------------------------------------------------------------
// Elements across threads (worker map)

type Wire = unknown;

/** Encodes an element for postMessage; tensor values are copied into their own buffers, listed in `transfer`. */
export function toWire(el: Element, transfer: ArrayBuffer[]): Wire {
  const own = (a: TypedArray | Uint8Array) => {
    const copy = a.slice();
    transfer.push(copy.buffer as ArrayBuffer);
    return copy;
  };
  const enc = (x: Element): Wire => {
    if (x instanceof Tensor) return { $: 't', s: x.shape, d: x.dtype, v: own(x.valuesOrThrow('worker map')) };
    if (typeof x === 'string') return x;
    if (x instanceof Uint8Array) return { $: 'b', v: own(x) };
    if (x instanceof StringTensor) return { $: 'S', s: x.shape, d: x.dtype, v: x.values.map((v) => (typeof v === 'string' ? v : own(v))) };
    if (x instanceof SparseTensor) return { $: 'sp', i: enc(x.indices), v: enc(x.values), s: x.denseShape };
    if (isDatasetLike(x)) throw new Error('Datasets cannot be sent to a worker map function.');
    if (Array.isArray(x)) return x.map(enc);
    return { $: 'o', v: Object.fromEntries(Object.entries(x as Record<string, Element>).map(([k, v]) => [k, enc(v)])) };
  };
  return enc(el);
}

export function fromWire(w: Wire): Element {
  if (typeof w === 'string') return w;
  if (Array.isArray(w)) return w.map(fromWire);
  const o = w as { $: string; [k: string]: unknown };
  switch (o.$) {
    case 't': return new Tensor(o.s as number[], o.d as DType, o.v as TypedArray);
    case 'b': return o.v as Uint8Array;
    case 'S': return new StringTensor(o.v as (string | Uint8Array)[], o.s as number[], o.d as StringDType);
    case 'sp': return new SparseTensor(fromWire(o.i) as Tensor, fromWire(o.v) as Tensor | StringTensor, o.s as number[]);
    case 'o': return Object.fromEntries(Object.entries(o.v as Record<string, Wire>).map(([k, v]) => [k, fromWire(v)]));
    default: throw new Error(`Unknown element encoding from a worker: ${describe(w)}.`);
  }
}

// ---------------------------------------------------------------------------
// Element types (compile time)

type AnyTypedArray = Float32Array | Float64Array | Int32Array | Int8Array | Int16Array | Uint16Array | Uint32Array | Uint8ClampedArray;
type NumericNested = number | boolean | readonly NumericNested[];

/** The element of `batch` for elements of type T. */
export type Batched<T> = [Element] extends [T]
  ? Element
  : T extends Tensor
  ? Tensor
  : T extends string
    ? StringTensor<string>
    : T extends Uint8Array
      ? StringTensor<Uint8Array>
      : T extends StringTensor<infer V>
        ? StringTensor<V>
        : T extends readonly unknown[]
          ? { -readonly [K in keyof T]: Batched<T[K]> }
          : T extends object
            ? { -readonly [K in keyof T]: Batched<T[K]> }
            : never;

/** The element of `unbatch` for elements of type T. */
export type Unbatched<T> = [Element] extends [T]
  ? Element
  : T extends Tensor
  ? Tensor
  : T extends StringTensor<infer V>
    ? V
    : T extends readonly unknown[]
      ? { -readonly [K in keyof T]: Unbatched<T[K]> }
      : T extends object
        ? { -readonly [K in keyof T]: Unbatched<T[K]> }
        : never;

/** The element of `fromTensorSlices(x)` for x of type S. */
export type Slices<S> = S extends Tensor
  ? Tensor
  : S extends Uint8Array
    ? Tensor
    : S extends AnyTypedArray
      ? Tensor
      : S extends NumericNested
        ? Tensor
        : S extends readonly string[]
          ? string
          : S extends StringTensor<infer V>
            ? V
            : S extends readonly unknown[]
              ? { -readonly [K in keyof S]: Slices<S[K]> }
              : S extends object
                ? { -readonly [K in keyof S]: Slices<S[K]> }
                : never;

/** The element type after normalising what a function returned (numbers and typed arrays become tensors). */
export type Normalized<T> = [Element] extends [T]
  ? Element
  : T extends Tensor | string | Uint8Array | StringTensor | SparseTensor | DatasetLike
  ? T
  : T extends number | boolean | AnyTypedArray | NumericNested
    ? Tensor
    : T extends readonly string[]
      ? StringTensor<string>
      : T extends readonly unknown[]
      ? { -readonly [K in keyof T]: Normalized<T[K]> }
      : T extends object
        ? { -readonly [K in keyof T]: Normalized<T[K]> }
        : never;
