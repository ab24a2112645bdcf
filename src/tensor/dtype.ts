/**
 * Data types. One table describes every dtype, so adding one (float16,
 * bfloat16, int64) is a new row here plus the kernels that choose to support it.
 */

export type DType = 'float32' | 'float64' | 'int32' | 'bool';

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

interface DTypeInfo {
  /** Constructor of the typed array that stores this dtype. */
  readonly array: { new (length: number): TypedArray; new (values: ArrayLike<number>): TypedArray };
  readonly kind: 'float' | 'int' | 'bool';
  readonly bytes: number;
  /** Rank in the promotion lattice (bool < int < float32 < float64). */
  readonly rank: number;
}

const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  bool: { array: Uint8Array, kind: 'bool', bytes: 1, rank: 0 },
  int32: { array: Int32Array, kind: 'int', bytes: 4, rank: 1 },
  float32: { array: Float32Array, kind: 'float', bytes: 4, rank: 2 },
  float64: { array: Float64Array, kind: 'float', bytes: 8, rank: 3 },
};

export const ALL_DTYPES = Object.keys(DTYPES) as DType[];

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, x);
}

export function assertDType(x: unknown, where: string): DType {
  if (!isDType(x)) {
    throw new TypeError(`${where}: unknown dtype ${JSON.stringify(x)}. Expected one of ${ALL_DTYPES.join(', ')}.`);
  }
  return x;
}

export const isFloat = (d: DType): boolean => DTYPES[d].kind === 'float';
export const isInt = (d: DType): boolean => DTYPES[d].kind === 'int';
export const isBool = (d: DType): boolean => DTYPES[d].kind === 'bool';
export const bytesPerElement = (d: DType): number => DTYPES[d].bytes;

/** Allocates a zero-filled typed array for `size` elements of `dtype`. */
export function allocate(dtype: DType, size: number): TypedArray {
  return new DTYPES[dtype].array(size);
}

/** Copies `values` into a new typed array of `dtype` (converting like a cast would). */
export function toTypedArray(dtype: DType, values: ArrayLike<number>): TypedArray {
  if (dtype === 'bool') {
    const out = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = values[i] ? 1 : 0;
    return out;
  }
  if (dtype === 'int32') {
    const out = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = Math.trunc(values[i]);
    return out;
  }
  return new DTYPES[dtype].array(values);
}

export function dtypeOfTypedArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return 'bool';
}

/**
 * Promotion of two tensor dtypes (Keras 3 / JAX style): bool < int32 < float32
 * < float64. The result is the larger one.
 */
export function promoteTypes(a: DType, b: DType): DType {
  return DTYPES[a].rank >= DTYPES[b].rank ? a : b;
}

/** The float dtype an integer computation moves to (true division, mean, sqrt...). */
export function floatTypeFor(d: DType): DType {
  return isFloat(d) ? d : 'float32';
}
