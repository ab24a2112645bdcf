/**
 * Flattening of function arguments and results: nested arrays and plain
 * objects of tensors become a flat list of tensors plus a structure that
 * rebuilds them. Non-tensor leaves (numbers, strings, booleans, null) are
 * static: they are part of a trace's signature by value.
 */
import { type DType, type TypedArray } from '../tensor/dtype.ts';
import { tensor } from '../tensor/create.ts';
import type { Shape } from '../tensor/shape.ts';
import { formatShape } from '../tensor/shape.ts';
import { Tensor, TensorSpec } from '../tensor/tensor.ts';
import { Variable } from '../engine/variable.ts';

export type Structure =
  | { kind: 'tensor'; index: number }
  | { kind: 'variable'; variable: Variable }
  | { kind: 'static'; value: unknown }
  | { kind: 'array'; items: Structure[] }
  | { kind: 'object'; keys: string[]; items: Structure[] };

export interface Flattened {
  readonly structure: Structure;
  readonly tensors: Tensor[];
  /** Where each flat tensor sits, for error messages (`argument 0`, `argument 1.images`). */
  readonly paths: string[];
}

function isTypedArray(x: unknown): x is TypedArray {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype;
}

export function flatten(value: unknown, rootPath: string): Flattened {
  const tensors: Tensor[] = [];
  const paths: string[] = [];
  const walk = (x: unknown, path: string): Structure => {
    if (x instanceof Tensor) {
      tensors.push(x);
      paths.push(path);
      return { kind: 'tensor', index: tensors.length - 1 };
    }
    if (isTypedArray(x)) return walk(tensor(x), path);
    if (x instanceof Variable) return { kind: 'variable', variable: x };
    if (Array.isArray(x)) return { kind: 'array', items: x.map((item, i) => walk(item, `${path}[${i}]`)) };
    if (isPlainObject(x)) {
      const keys = Object.keys(x);
      return { kind: 'object', keys, items: keys.map((k) => walk(x[k], `${path}.${k}`)) };
    }
    if (x === undefined || x === null || typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean') return { kind: 'static', value: x };
    throw new TypeError(`${path}: compiled functions take tensors, variables, numbers, strings, booleans and arrays or plain objects of them. Received: ${Object.prototype.toString.call(x)}`);
  };
  const structure = walk(value, rootPath);
  return { structure, tensors, paths };
}

export function rebuild(structure: Structure, tensors: readonly Tensor[]): unknown {
  switch (structure.kind) {
    case 'tensor': return tensors[structure.index];
    case 'variable': return structure.variable;
    case 'static': return structure.value;
    case 'array': return structure.items.map((s) => rebuild(s, tensors));
    case 'object': return Object.fromEntries(structure.keys.map((k, i) => [k, rebuild(structure.items[i], tensors)]));
  }
}

/** A key for the non-tensor part of a structure: equal keys can share a trace. */
export function staticKey(structure: Structure): string {
  switch (structure.kind) {
    case 'tensor': return 'T';
    case 'variable': return `V${structure.variable.id}`;
    case 'static': return `S${JSON.stringify(structure.value) ?? 'undefined'}`;
    case 'array': return `[${structure.items.map(staticKey).join(',')}]`;
    case 'object': return `{${structure.keys.map((k, i) => `${JSON.stringify(k)}:${staticKey(structure.items[i])}`).join(',')}}`;
  }
}

export interface TensorType {
  readonly shape: Shape;
  readonly dtype: DType;
}

export function describeType(t: TensorType): string {
  return `${t.dtype}${formatShape(t.shape)}`;
}

/** Flattens an input signature (TensorSpecs in the shape of the arguments). */
export function flattenSignature(signature: readonly unknown[]): TensorSpec[] {
  const specs: TensorSpec[] = [];
  const walk = (x: unknown): void => {
    if (x instanceof TensorSpec) specs.push(x);
    else if (Array.isArray(x)) x.forEach(walk);
    else if (isPlainObject(x)) Object.values(x).forEach(walk);
    else throw new TypeError(`inputSignature: expected TensorSpecs (possibly in arrays or objects). Received: ${String(x)}`);
  };
  signature.forEach(walk);
  return specs;
}
