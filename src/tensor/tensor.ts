import { type DType, type TypedArray, isBool } from './dtype.ts';
import { type Shape, type ConcreteShape, sizeOf, formatShape } from './shape.ts';
import { formatTensor } from './format.ts';

/**
 * What a symbolic tensor knows about where it comes from. The graph layer
 * implements it; the tensor layer only needs enough to explain a mistake.
 */
export interface SymbolicValue {
  /** Name of the function being traced (`strata.fn` name). */
  readonly traceName: string;
  /** The op that produced this value (`matmul`), or a description of an input / variable / constant. */
  readonly producerName: string;
}

export type NestedArray<T> = T | NestedArray<T>[];
export type Scalar = number | boolean;

let nextTensorId = 0;

/** Memory tracking (strata.debugging.trackMemory): sees the values of each new eager tensor; null when off. */
let eagerValuesObserver: ((values: TypedArray) => void) | null = null;

/** @internal Installs (or with null removes) the observer of new eager tensors' values. */
export function _setEagerValuesObserver(observer: ((values: TypedArray) => void) | null): void {
  eagerValuesObserver = observer;
}

/**
 * An immutable n-dimensional array. Eager tensors own their values (a typed
 * array, row-major); symbolic tensors stand for a value of a graph being
 * traced by `strata.fn` and can be inspected only for shape and dtype.
 *
 * Tensors are ordinary garbage-collected objects: there is no `dispose()`.
 */
export class Tensor {
  /** Unique per process; the autodiff tape and graph tracer key on it. */
  readonly id = nextTensorId++;
  readonly shape: Shape;
  readonly dtype: DType;
  /** @internal Eager values. Never mutated after construction, and shared between reshapes. */
  readonly _values: TypedArray | null;
  /** @internal The graph value this tensor stands for while tracing. */
  readonly _symbol: SymbolicValue | null;

  /** @internal Use `strata.tensor()` and the ops to create tensors. */
  constructor(shape: Shape, dtype: DType, values: TypedArray | null, symbol: SymbolicValue | null = null) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this._values = values;
    this._symbol = symbol;
    if (eagerValuesObserver !== null && values !== null) eagerValuesObserver(values);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Number of elements (null for a symbolic tensor with an unknown dimension). */
  get size(): number | null {
    return sizeOf(this.shape);
  }

  get isSymbolic(): boolean {
    return this._symbol !== null;
  }

  /** A copy of the values as a typed array (bool as 0/1 in a Uint8Array). */
  dataSync(): TypedArray {
    return this.valuesOrThrow('dataSync').slice();
  }

  async data(): Promise<TypedArray> {
    return this.dataSync();
  }

  /** The values as nested arrays (numbers, or booleans for a bool tensor). */
  arraySync(): NestedArray<Scalar> {
    const values = this.valuesOrThrow('arraySync');
    const toScalar = isBool(this.dtype) ? (v: number) => v !== 0 : (v: number) => v;
    const shape = this.shape as ConcreteShape;
    const build = (dim: number, offset: number): NestedArray<Scalar> => {
      if (dim === shape.length) return toScalar(values[offset]);
      let stride = 1;
      for (let d = dim + 1; d < shape.length; d++) stride *= shape[d];
      const out: NestedArray<Scalar>[] = [];
      for (let i = 0; i < shape[dim]; i++) out.push(build(dim + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }

  async array(): Promise<NestedArray<Scalar>> {
    return this.arraySync();
  }

  /** The single value of a one-element tensor. */
  item(): number {
    const values = this.valuesOrThrow('item');
    if (values.length !== 1) {
      throw new Error(`Tensor.item: the tensor has ${values.length} elements (shape ${formatShape(this.shape)}); item() needs exactly one.`);
    }
    return values[0];
  }

  toString(): string {
    if (this._symbol) {
      return `SymbolicTensor(shape=${formatShape(this.shape)}, dtype=${this.dtype}, op=${this._symbol.producerName}, in fn '${this._symbol.traceName}')`;
    }
    return formatTensor(this._values!, this.shape as ConcreteShape, this.dtype);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** @internal The eager values, or a clear error when the tensor is symbolic. */
  valuesOrThrow(method: string): TypedArray {
    if (this._values) return this._values;
    throw symbolicValueError(this, method);
  }
}

export function symbolicValueError(t: Tensor, method: string): Error {
  const s = t._symbol!;
  return new Error(
    `Cannot read the value of a symbolic tensor (Tensor.${method}) while tracing function '${s.traceName}': ` +
      `this tensor is the output of op '${s.producerName}' and has no value until the compiled graph runs. ` +
      `Values are only known at run time, so JavaScript code cannot branch on them or print them during tracing. ` +
      `Use ops.cond / ops.whileLoop for data-dependent control flow, return the tensor from the function to inspect it, ` +
      `or call strata.config.runFunctionsEagerly(true) to run every strata.fn eagerly while debugging.`,
  );
}

/** A shape and dtype that a function argument must match (`null` dims match any size). */
export class TensorSpec {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly name: string | undefined;

  constructor(shape: Shape, dtype: DType = 'float32', name?: string) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.name = name;
  }

  static fromTensor(t: Tensor, name?: string): TensorSpec {
    return new TensorSpec(t.shape, t.dtype, name);
  }

  isCompatibleWith(t: { shape: Shape; dtype: DType }): boolean {
    return (
      t.dtype === this.dtype &&
      t.shape.length === this.shape.length &&
      this.shape.every((d, i) => d === null || d === t.shape[i])
    );
  }

  toString(): string {
    return `TensorSpec(shape=${formatShape(this.shape)}, dtype=${this.dtype}${this.name ? `, name=${this.name}` : ''})`;
  }
}
