import { type DType, type TypedArray, allocate, assertDType, dtypeOfTypedArray, toTypedArray } from './dtype.ts';
import { type ConcreteShape, concreteSize, describe, formatShape, validateShape } from './shape.ts';
import { Tensor, type NestedArray, type Scalar } from './tensor.ts';

/** Anything `tensor()` accepts as values. */
export type TensorData = Scalar | NestedArray<Scalar> | TypedArray | ArrayLike<number>;

function isTypedArray(x: unknown): x is ArrayBufferView & ArrayLike<number> {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

/** Infers the shape of nested arrays, checking that they are rectangular. */
function inferShape(values: unknown, where: string): number[] {
  const shape: number[] = [];
  let cur = values;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  const check = (v: unknown, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof v !== 'number' && typeof v !== 'boolean') {
        throw new TypeError(`${where}: expected numbers or booleans, found ${describe(v)} at ${path || 'the top level'}.`);
      }
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new TypeError(
        `${where}: nested arrays are not rectangular: ${path || 'the top level'} has ${Array.isArray(v) ? `length ${v.length}` : describe(v)}, expected length ${shape[dim]}.`,
      );
    }
    v.forEach((x, i) => check(x, dim + 1, `${path}[${i}]`));
  };
  check(values, 0, '');
  return shape;
}

function flatten(values: unknown, out: number[]): void {
  if (Array.isArray(values)) for (const v of values) flatten(v, out);
  else out.push(values === true ? 1 : values === false ? 0 : (values as number));
}

function firstLeaf(values: unknown): unknown {
  let cur = values;
  while (Array.isArray(cur)) cur = cur[0];
  return cur;
}

/**
 * Creates a tensor.
 *
 * `tensor([[1, 2], [3, 4]])` is float32; booleans give a bool tensor; typed
 * arrays keep their type (Float64Array → float64, Int32Array and the other
 * integer arrays → int32). `tensor(new Float32Array(6), [2, 3])` reshapes flat data.
 */
export function tensor(values: TensorData, shape?: readonly number[], dtype?: DType): Tensor {
  const where = 'strata.tensor';
  if (dtype !== undefined) assertDType(dtype, where);
  let flat: ArrayLike<number>;
  let inferred: number[];
  let defaultDType: DType;
  if (isTypedArray(values)) {
    flat = values;
    inferred = [values.length];
    defaultDType =
      values instanceof Float32Array || values instanceof Float64Array || values instanceof Int32Array
        ? dtypeOfTypedArray(values)
        : 'int32';
  } else if (typeof values === 'number' || typeof values === 'boolean') {
    flat = [values === true ? 1 : values === false ? 0 : values];
    inferred = [];
    defaultDType = typeof values === 'boolean' ? 'bool' : 'float32';
  } else if (Array.isArray(values)) {
    inferred = inferShape(values, where);
    const out: number[] = [];
    flatten(values, out);
    flat = out;
    defaultDType = typeof firstLeaf(values) === 'boolean' ? 'bool' : 'float32';
  } else {
    throw new TypeError(`${where}: cannot make a tensor from ${describe(values)}. Pass a number, a boolean, nested arrays or a typed array.`);
  }
  const finalShape = shape === undefined ? inferred : (validateShape(shape, where) as number[]);
  const size = concreteSize(finalShape);
  if (size !== flat.length) {
    throw new Error(`${where}: ${flat.length} values cannot have shape ${formatShape(finalShape)} (${size} elements).`);
  }
  const dt = dtype ?? defaultDType;
  return new Tensor(finalShape, dt, toTypedArray(dt, flat));
}

/** @internal Wraps a typed array the caller promises never to mutate again. */
export function fromValues(values: TypedArray, shape: ConcreteShape, dtype: DType): Tensor {
  return new Tensor(shape, dtype, values);
}

export function scalar(value: number | boolean, dtype?: DType): Tensor {
  return tensor(value, [], dtype);
}

export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  validateShape(shape, 'strata.zeros');
  return new Tensor(shape, assertDType(dtype, 'strata.zeros'), allocate(dtype, concreteSize(shape)));
}

export function ones(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return fill(shape, 1, dtype);
}

export function fill(shape: readonly number[], value: number | boolean, dtype?: DType): Tensor {
  validateShape(shape, 'strata.fill');
  const dt = dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  const values = allocate(assertDType(dt, 'strata.fill'), concreteSize(shape));
  // To bool, any non-zero value (NaN included) is true, as NumPy and ops.cast (and fillLike) do.
  const v = Number(value);
  values.fill(dt === 'bool' ? (v !== 0 ? 1 : 0) : v);
  return new Tensor(shape, dt, values);
}

/**
 * `range(stop)`, `range(start, stop, step?)`: values from start (inclusive)
 * to stop (exclusive). int32 when all arguments are integers, else float32.
 */
export function range(start: number, stop?: number, step = 1, dtype?: DType): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  for (const [name, v] of [['start', start], ['stop', stop], ['step', step]] as const) {
    if (!Number.isFinite(v)) throw new RangeError(`strata.range: Received: ${name}=${v}; it must be a finite number.`);
  }
  if (step === 0) throw new RangeError('strata.range: Received: step=0; step must not be zero.');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const dt = dtype ?? ([start, stop, step].every(Number.isInteger) ? 'int32' : 'float32');
  const values = allocate(dt, n);
  for (let i = 0; i < n; i++) values[i] = start + i * step;
  return new Tensor([n], dt, values);
}

/** Identity matrix with `numRows` rows (and `numColumns` columns, default square). */
export function eye(numRows: number, numColumns = numRows, dtype: DType = 'float32'): Tensor {
  validateShape([numRows, numColumns], 'strata.eye');
  const values = allocate(dtype, numRows * numColumns);
  for (let i = 0; i < Math.min(numRows, numColumns); i++) values[i * numColumns + i] = 1;
  return new Tensor([numRows, numColumns], dtype, values);
}
