/**
 * The op-definition contract. Every primitive op is one object with its
 * name, its shape/dtype inference, its eager kernel, its gradient (written
 * with public ops, so it runs eagerly and while tracing) and its ONNX
 * lowering. `dispatch` is the only code that runs them.
 */
import type { DType, TypedArray } from '../tensor/dtype.ts';
import type { ConcreteShape, Shape } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { LoweringTypes, OnnxEmitter } from './onnx-types.ts';

export interface TensorType {
  readonly shape: Shape;
  readonly dtype: DType;
}

/** An eager input as a kernel sees it: values with a known shape. */
export interface KernelInput {
  readonly values: TypedArray;
  readonly shape: ConcreteShape;
  readonly dtype: DType;
}

export interface ConcreteType {
  readonly shape: ConcreteShape;
  readonly dtype: DType;
}

/** Attribute values must be plain data so graphs can hash, print and lower them. */
export type AttrValue = number | string | boolean | null | readonly AttrValue[] | Tensor | { readonly [k: string]: AttrValue };
export type Attrs = { readonly [k: string]: AttrValue };

export interface GradContext<A> {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: A;
  /** Upstream gradient of each output (zeros where an output received none). */
  readonly dys: readonly Tensor[];
  /** Whether input i needs a gradient; rules may skip work for the others. */
  readonly needsInputGrad: readonly boolean[];
}

/**
 * A gradient rule returns one entry per input: the gradient with the shape
 * of the op's broadcast output (the engine reduces it to the input's shape),
 * or null where the input has no gradient (indices, conditions).
 */
export type GradRule<A> = (ctx: GradContext<A>) => readonly (Tensor | null)[];

/** Marks an op as a cut point for gradients, with the reason users will read. */
export interface NonDifferentiable {
  readonly nonDifferentiable: string;
}

export function nonDifferentiable(reason: string): NonDifferentiable {
  return { nonDifferentiable: reason };
}

export function isNonDifferentiable<A>(g: GradRule<A> | NonDifferentiable): g is NonDifferentiable {
  return typeof g === 'object';
}

export type Lowering<A> = (b: OnnxEmitter, inputs: readonly string[], attrs: A, types: LoweringTypes) => string[];

export interface OpDef<A = Attrs> {
  readonly name: string;
  /** Output types from input types. Validation lives here, so eager and traced calls fail the same way. */
  readonly infer: (inputs: readonly TensorType[], attrs: A) => TensorType[];
  /** The eager implementation. Returns one freshly allocated (or shared, never mutated) array per output. */
  readonly kernel: (inputs: readonly KernelInput[], attrs: A, outputs: readonly ConcreteType[]) => TypedArray[];
  readonly grad: GradRule<A> | NonDifferentiable;
  readonly toOnnx: Lowering<A>;
  /**
   * Inputs read only for their shape (the `like` argument of broadcastLike).
   * Gradient diagnostics treat them as "not connected" rather than "cut".
   */
  readonly shapeOnlyInputs?: readonly number[];
  /** True for ops whose result is not a pure function of inputs and attrs (never folded or merged). */
  readonly stateful?: boolean;
}

/**
 * A table of op definitions keyed by name. Declaring a family as
 * `defineOps<FamilyAttrs>()({...})` makes a missing op, a missing rule or a
 * wrong attribute type a compile error.
 */
export type OpTable<M> = { readonly [K in keyof M]: OpDef<M[K]> & { readonly name: K } };

export function defineOps<M>() {
  return <T extends OpTable<M>>(table: T): T => table;
}

/** The error every op raises for bad input: names the op and what was received. */
export class OpError extends Error {
  constructor(
    readonly op: string,
    detail: string,
  ) {
    super(`ops.${op}: ${detail}`);
    this.name = 'OpError';
  }
}
