/**
 * The seam between op definitions (which say how they lower to ONNX) and the
 * graph layer (which builds the ModelProto). Only types and tiny helpers live
 * here, so `ops/` can write lowerings without importing `graph/`.
 */
import type { DType, TypedArray } from '../tensor/dtype.ts';
import type { Shape } from '../tensor/shape.ts';

/** ONNX element types Strata emits (TensorProto.DataType numbers). */
export const ONNX_TYPE = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
  uint32: 12,
} as const;
export type OnnxElementType = keyof typeof ONNX_TYPE;

export function onnxTypeOf(dtype: DType): OnnxElementType {
  return dtype;
}

/** An attribute that must be encoded as FLOAT (plain numbers encode as INT). */
export interface OnnxFloat {
  readonly kind: 'float';
  readonly value: number;
}
export interface OnnxFloats {
  readonly kind: 'floats';
  readonly value: readonly number[];
}
/** A tensor attribute (for `Constant` and `ConstantOfShape`). */
export interface OnnxTensorAttr {
  readonly kind: 'tensor';
  readonly dtype: OnnxElementType;
  readonly shape: readonly number[];
  readonly values: ArrayLike<number> | ArrayLike<bigint>;
}
/** A subgraph attribute (for `If` and `Loop`), built by the emitter's `subgraph`. */
export interface OnnxGraphAttr {
  readonly kind: 'graph';
  readonly graph: unknown;
}

export type OnnxAttr = number | string | readonly number[] | readonly string[] | OnnxFloat | OnnxFloats | OnnxTensorAttr | OnnxGraphAttr;
export type OnnxAttrs = Readonly<Record<string, OnnxAttr | undefined>>;

export const onnxFloat = (value: number): OnnxFloat => ({ kind: 'float', value });
export const onnxFloats = (value: readonly number[]): OnnxFloats => ({ kind: 'floats', value });

export interface LoweringTypes {
  readonly inputs: readonly { shape: Shape; dtype: DType }[];
  readonly outputs: readonly { shape: Shape; dtype: DType }[];
}

/**
 * What a lowering rule can do: emit nodes and constants. Returned strings are
 * ONNX value names; `''` marks an omitted optional input.
 */
export interface OnnxEmitter {
  readonly opset: number;
  node(opType: string, inputs: readonly string[], attrs?: OnnxAttrs, options?: { outputs?: number; domain?: string }): string[];
  /** A fresh, unique value name (for subgraph inputs). */
  fresh(hint: string): string;
  /** One-output shorthand for `node`. */
  op(opType: string, inputs: readonly string[], attrs?: OnnxAttrs): string;
  constant(values: TypedArray | readonly number[], shape: readonly number[], dtype: OnnxElementType): string;
  /** A 1-D int64 constant (axes, shapes, pads, starts...). */
  int64s(values: readonly number[]): string;
  /** A rank-0 constant of `dtype`. */
  scalar(value: number, dtype: OnnxElementType): string;
  /**
   * Lowers a subgraph (the body of If / Loop), given the ONNX names its
   * inputs should have; returns the attribute to attach. Provided by graph/.
   */
  subgraph(graph: unknown, inputNames: readonly string[], leadingInputs?: readonly { name: string; dtype: OnnxElementType }[]): OnnxGraphAttr;
}
