/**
 * One table of cases for EVERY primitive op definition in the registry, and
 * four checks on each:
 *
 *   1. inference: `def.infer` gives the hand-written output shapes and
 *      dtypes, the raw kernel returns arrays of that dtype and size, and
 *      inference on inputs with unknown dims is compatible with it;
 *   2. lowering: the ONNX lowering, run by ONNX Runtime (all cases in one
 *      session), gives the kernel's shapes and values;
 *   3. gradient: differentiable ops agree with central finite differences in
 *      float64; the others are declared with `nonDifferentiable(reason)` and
 *      a tape through them explains the null gradient naming the op;
 *   4. graph mode: inside `strata.fn`, the op and its gradient (a
 *      GradientTape inside the traced function) give the eager values.
 *
 * The table is typed by the registry: a primitive without cases does not
 * compile, and a runtime test checks the keys against allOpDefs().
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ops from '../../src/ops/index.ts';
import { Tensor, TensorSpec } from '../../src/tensor/tensor.ts';
import type { DType, TypedArray } from '../../src/tensor/dtype.ts';
import { type Dim, type Shape, sizeOf } from '../../src/tensor/shape.ts';
import { dispatch } from '../../src/engine/dispatch.ts';
import { isNonDifferentiable, type OpDef, type TensorType } from '../../src/engine/op.ts';
import { captureWarnings } from '../../src/engine/warnings.ts';
import { GradientTape } from '../../src/autodiff/tape.ts';
import { fn } from '../../src/graph/function.ts';
import { allOpDefs, opFamilies } from '../../src/ops/registry.ts';
import { assertClose, randomTensor, testRandom, type Tolerance } from '../helpers/close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { runLoweredBatch } from '../helpers/onnx.ts';

// ------------------------------------------------------------ types derived from the registry

type Families = typeof opFamilies;
/** Every primitive's name: the keys of every op family table. */
type PrimitiveName = { [F in keyof Families]: keyof Families[F] & string }[keyof Families];
type DefOf<K extends PrimitiveName> = { [F in keyof Families]: K extends keyof Families[F] ? Families[F][K] : never }[keyof Families];
/** The attrs type of a primitive, read off its kernel. */
type AttrsOf<K extends PrimitiveName> = DefOf<K> extends { kernel: (inputs: never, attrs: infer A, outputs: never) => unknown } ? A : never;

interface GradSpec {
  /** Inputs to differentiate (default: float inputs that are not shape-only). */
  wrt?: number[];
  /** The function to check instead of the bare op (e.g. a cast there and back). */
  fn?: (...xs: Tensor[]) => Tensor | Tensor[];
  eps?: number;
  rtol?: number;
  atol?: number;
}

interface Case<A> {
  label: string;
  inputs: Tensor[];
  attrs: A;
  /** Expected outputs [shape, dtype], written by hand. */
  out: [number[], DType][];
  /** Inputs whose dims stay known in the unknown-dims inference check (default: none). */
  known?: number[];
  /** The lowering is documented to refuse this case: the error must match. */
  noLowering?: RegExp;
  /** The lowering is documented to refuse this case when traced with all dims unknown: the error must match. */
  noDynamicLowering?: RegExp;
  /** The op lowers, but its gradient (in the graph-mode checks) is documented not to: the fallback warning must match. */
  gradNoLowering?: RegExp;
  /**
   * Traced with an unknown batch dim, the gradient is not checked: the error
   * it must raise (a documented limitation), or a reason it is left out.
   */
  unknownBatchGrad?: RegExp | string;
  /** Tolerance for float lowering and graph-mode comparisons (default rtol 1e-5, atol 1e-6). */
  tol?: Tolerance;
  /** Gradient check settings, or a reason this case is not gradient-checked (kinks, ties). */
  grad?: GradSpec | string;
}

type CaseList<K extends PrimitiveName> = readonly [Case<AttrsOf<K>>, ...Case<AttrsOf<K>>[]];

// ------------------------------------------------------------ inputs

const f32 = (shape: number[], seed: number, lo = -1, hi = 1) => randomTensor(shape, seed, lo, hi, 'float32');
const f32v = (values: number[], shape: number[]) => new Tensor(shape, 'float32', Float32Array.from(values));
const i32 = (values: number[], shape: number[]) => new Tensor(shape, 'int32', Int32Array.from(values));
const bools = (values: number[], shape: number[]) => new Tensor(shape, 'bool', Uint8Array.from(values));
const i32s = (v: number) => new Tensor([], 'int32', Int32Array.of(v));
/** float32 values with |x| in [lo, hi] and a random sign: away from the kink of abs, sign, reciprocal... */
function away(shape: number[], seed: number, lo = 0.2, hi = 1): Tensor {
  const r = testRandom(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  return new Tensor(shape, 'float32', Float32Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * (lo + (hi - lo) * r())));
}
/** Seeded float32 values in [lo, hi] rounded to multiples of 1/64 (exact in float32; used where ties matter). */
function grid(shape: number[], seed: number, lo = -2, hi = 2): Tensor {
  const r = testRandom(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  return new Tensor(shape, 'float32', Float32Array.from({ length: n }, () => Math.round((lo + (hi - lo) * r()) * 64) / 64));
}
/** A permutation of distinct values (no ties for max, sort, pooling, argmax). */
function distinct(shape: number[], seed: number): Tensor {
  const r = testRandom(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.173 + 0.05);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return f32v(v, shape);
}

function toFloat64(t: Tensor): Tensor {
  return t.dtype === 'float32' ? new Tensor(t.shape, 'float64', Float64Array.from(t.dataSync())) : t;
}

const NONE = {} as Record<string, never>;
const unary = (label: string, x: Tensor, grad?: GradSpec | string): Case<Record<string, never>> => ({
  label, inputs: [x], attrs: NONE, out: [[[...x.shape] as number[], x.dtype]], grad,
});

const conv = (strides: number[], padding: 'valid' | 'same', dilations = [1, 1], groups = 1) => ({ strides, padding, dilations, groups });
const pool = (poolSize: number[], strides: number[], padding: 'valid' | 'same') => ({ poolSize, strides, padding });

// ------------------------------------------------------------ the table

const CASES: { readonly [K in PrimitiveName]: CaseList<K> } = {
  // ---- elementwise unary
  negative: [unary('float', f32([2, 3], 1)), unary('int32', i32([3, -7, 0, 2147483647], [4]))],
  abs: [unary('float, away from 0', away([2, 3], 2)), unary('int32', i32([3, -7, 0, -5], [4]))],
  sign: [unary('float with 0', f32v([-0.5, 0, 0.25, -3, 2, 0], [2, 3])), unary('int32', i32([3, -7, 0, -5], [4]))],
  sqrt: [unary('positive', f32([2, 3], 3, 0.3, 4))],
  exp: [unary('float32', f32([2, 3], 4, -3, 3)), unary('float64', randomTensor([5], 41, -3, 3))],
  expm1: [
    unary('large and tiny values', f32v([-3, -0.7, -0.3, -1e-4, 1e-7, 0, 0.2, 0.49, 0.51, 2.5], [2, 5])),
    unary('float64', new Tensor([6], 'float64', Float64Array.of(-2, -0.4, -1e-9, 1e-12, 0.3, 1.5))),
  ],
  log: [unary('positive', f32([2, 3], 5, 0.1, 5))],
  log1p: [
    unary('large and tiny values', f32v([-0.9, -0.6, -0.3, -1e-4, 1e-7, 0, 0.2, 0.49, 0.51, 4], [2, 5])),
    unary('float64', new Tensor([6], 'float64', Float64Array.of(-0.8, -0.2, -1e-9, 1e-12, 0.3, 3))),
  ],
  sin: [unary('float', f32([2, 3], 6, -3, 3))],
  cos: [unary('float', f32([2, 3], 7, -3, 3))],
  tanh: [unary('float', f32([2, 3], 8, -3, 3))],
  erf: [unary('float', f32([2, 3], 9, -2.5, 2.5))],
  floor: [unary('float, incl. integers', f32v([-2, -1.5, -0.3, 0, 0.7, 3], [2, 3]))],
  ceil: [unary('float, incl. integers', f32v([-2, -1.5, -0.3, 0, 0.7, 3], [2, 3]))],
  round: [unary('halves round to even', f32v([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.3, -0.7], [2, 4]))],
  reciprocal: [unary('away from 0', away([2, 3], 10, 0.3, 2))],
  sigmoid: [unary('float incl. large |x|', f32v([-30, -4, -0.5, 0, 0.8, 5, 20, -1.2], [2, 4]))],
  isNan: [
    { label: 'float with NaN and inf', inputs: [f32v([NaN, 1, Infinity, -Infinity, 0, NaN], [2, 3])], attrs: NONE, out: [[[2, 3], 'bool']] },
    { label: 'int32', inputs: [i32([1, -2, 0], [3])], attrs: NONE, out: [[[3], 'bool']] },
  ],
  isInf: [
    { label: 'float with NaN and inf', inputs: [f32v([NaN, 1, Infinity, -Infinity, 0, NaN], [2, 3])], attrs: NONE, out: [[[2, 3], 'bool']] },
    { label: 'int32', inputs: [i32([1, -2, 0], [3])], attrs: NONE, out: [[[3], 'bool']] },
  ],
  logicalNot: [unary('bool', bools([1, 0, 0, 1, 1, 0], [2, 3]))],

  // ---- elementwise binary (broadcasting)
  add: [
    { label: 'broadcast [2,3] + [3]', inputs: [f32([2, 3], 11), f32([3], 12)], attrs: NONE, out: [[[2, 3], 'float32']] },
    { label: 'int32 [2,1] + [1,3]', inputs: [i32([1, -4], [2, 1]), i32([7, 0, -9], [1, 3])], attrs: NONE, out: [[[2, 3], 'int32']] },
  ],
  subtract: [
    { label: 'broadcast [2,1] - [3]', inputs: [f32([2, 1], 13), f32([3], 14)], attrs: NONE, out: [[[2, 3], 'float32']] },
    { label: 'int32', inputs: [i32([1, -4, 9], [3]), i32([7], [1])], attrs: NONE, out: [[[3], 'int32']] },
  ],
  multiply: [
    { label: 'broadcast [2,3,1] * [4]', inputs: [f32([2, 3, 1], 15), f32([4], 16)], attrs: NONE, out: [[[2, 3, 4], 'float32']] },
    { label: 'int32 (wrapping)', inputs: [i32([3, -4, 70000, 46341], [4]), i32([5, 6, 70000, 46341], [4])], attrs: NONE, out: [[[4], 'int32']] },
  ],
  divide: [{ label: 'broadcast, divisor away from 0', inputs: [f32([2, 3], 17), away([3], 18, 0.4, 2)], attrs: NONE, out: [[[2, 3], 'float32']] }],
  floorDivide: [
    { label: 'float, mixed signs', inputs: [f32v([7, -7, 7, -7, 5.5, -0.3], [2, 3]), f32v([2, -2, 2.5], [3])], attrs: NONE, out: [[[2, 3], 'float32']] },
    {
      // 5 / 0.1f is 49.9999993 exactly but rounds to 50 in float32: the floor must be 49, as eagerly.
      label: 'float32 quotients just below an integer',
      inputs: [f32v([5, 1, 0.3, -5, 7], [5]), f32v([0.1, 0.1, 0.1, -0.1, 0.7], [5])],
      attrs: NONE,
      out: [[[5], 'float32']],
    },
    { label: 'int32, mixed signs', inputs: [i32([7, -7, 7, -7, 6, -1, 0, 9], [2, 4]), i32([2, 2, -2, -2, 3, 4, -5, -3], [2, 4])], attrs: NONE, out: [[[2, 4], 'int32']] },
  ],
  mod: [
    {
      label: 'float, mixed signs (result has the divisor\'s sign)',
      inputs: [f32v([2.3, -2.3, 2.3, -2.3, 0.6, -4.1], [2, 3]), f32v([0.9, -0.9, 1.7], [3])],
      attrs: NONE,
      out: [[[2, 3], 'float32']],
    },
    { label: 'int32, mixed signs', inputs: [i32([7, -7, 7, -7, 6, -1, 0, 9], [2, 4]), i32([3, 3, -3, -3, 3, 4, -5, -4], [2, 4])], attrs: NONE, out: [[[2, 4], 'int32']] },
  ],
  power: [
    { label: 'positive base, broadcast exponent', inputs: [f32([2, 3], 19, 0.4, 2), f32([3], 20, -1.5, 1.5)], attrs: NONE, out: [[[2, 3], 'float32']] },
    { label: 'int32', inputs: [i32([2, -3, 5, 0, 1, 7], [2, 3]), i32([3, 2, 0], [3])], attrs: NONE, out: [[[2, 3], 'int32']] },
    { label: 'int32 wraps on overflow', inputs: [i32([3, 7, -3, 2], [4]), i32([25, 12, 21, 31], [4])], attrs: NONE, out: [[[4], 'int32']] },
  ],
  maximum: [
    {
      label: 'broadcast, no ties',
      inputs: [f32v([0.1, -0.8, 0.9, -0.3, 0.6, -0.05], [2, 3]), f32v([0.4, -0.2, 0.25], [3])],
      attrs: NONE,
      out: [[[2, 3], 'float32']],
    },
    { label: 'int32 with a tie', inputs: [i32([1, 5, -3], [3]), i32([2, 5, -4], [3])], attrs: NONE, out: [[[3], 'int32']] },
  ],
  minimum: [
    {
      label: 'broadcast, no ties',
      inputs: [f32v([0.1, -0.8, 0.9, -0.3, 0.6, -0.05], [2, 3]), f32v([0.4, -0.2, 0.25], [3])],
      attrs: NONE,
      out: [[[2, 3], 'float32']],
    },
    { label: 'int32 with a tie', inputs: [i32([1, 5, -3], [3]), i32([2, 5, -4], [3])], attrs: NONE, out: [[[3], 'int32']] },
  ],
  equal: [
    { label: 'float with ties, broadcast', inputs: [f32v([1, 2, 3, 2, 2, 0], [2, 3]), f32v([1, 2, 0], [3])], attrs: NONE, out: [[[2, 3], 'bool']] },
    { label: 'bool', inputs: [bools([1, 0, 1, 0], [4]), bools([1, 1, 0, 0], [4])], attrs: NONE, out: [[[4], 'bool']] },
  ],
  notEqual: [
    { label: 'float with ties, broadcast', inputs: [f32v([1, 2, 3, 2, 2, 0], [2, 3]), f32v([1, 2, 0], [3])], attrs: NONE, out: [[[2, 3], 'bool']] },
    { label: 'int32', inputs: [i32([1, 0, 1, 5], [4]), i32([1, 1, 0, 5], [4])], attrs: NONE, out: [[[4], 'bool']] },
  ],
  less: [
    { label: 'float with ties, broadcast', inputs: [f32v([1, 2, 3, 2, 2, 0], [2, 3]), f32v([1, 2, 0], [3])], attrs: NONE, out: [[[2, 3], 'bool']] },
    { label: 'int32', inputs: [i32([1, 0, 1, 5], [4]), i32([1, 1, 0, 5], [4])], attrs: NONE, out: [[[4], 'bool']] },
  ],
  lessEqual: [
    { label: 'float with ties, broadcast', inputs: [f32v([1, 2, 3, 2, 2, 0], [2, 3]), f32v([1, 2, 0], [3])], attrs: NONE, out: [[[2, 3], 'bool']] },
    { label: 'int32', inputs: [i32([1, 0, 1, 5], [4]), i32([1, 1, 0, 5], [4])], attrs: NONE, out: [[[4], 'bool']] },
  ],
  greater: [
    { label: 'float with ties, broadcast', inputs: [f32v([1, 2, 3, 2, 2, 0], [2, 3]), f32v([1, 2, 0], [3])], attrs: NONE, out: [[[2, 3], 'bool']] },
    { label: 'int32', inputs: [i32([1, 0, 1, 5], [4]), i32([1, 1, 0, 5], [4])], attrs: NONE, out: [[[4], 'bool']] },
  ],
  greaterEqual: [
    { label: 'float with ties, broadcast', inputs: [f32v([1, 2, 3, 2, 2, 0], [2, 3]), f32v([1, 2, 0], [3])], attrs: NONE, out: [[[2, 3], 'bool']] },
    { label: 'int32', inputs: [i32([1, 0, 1, 5], [4]), i32([1, 1, 0, 5], [4])], attrs: NONE, out: [[[4], 'bool']] },
  ],
  logicalAnd: [{ label: 'bool, broadcast', inputs: [bools([1, 0, 1, 1, 0, 0], [2, 3]), bools([1, 1, 0], [3])], attrs: NONE, out: [[[2, 3], 'bool']] }],
  logicalOr: [{ label: 'bool, broadcast', inputs: [bools([1, 0, 1, 1, 0, 0], [2, 1, 3]), bools([1, 0], [2, 1])], attrs: NONE, out: [[[2, 2, 3], 'bool']] }],
  where: [
    {
      label: 'three-way broadcast',
      inputs: [bools([1, 0], [2, 1]), f32([2, 3], 21), f32([3], 22)],
      attrs: NONE,
      out: [[[2, 3], 'float32']],
    },
    { label: 'int32', inputs: [bools([1, 0, 1], [3]), i32([1, 2, 3], [3]), i32([-1], [1])], attrs: NONE, out: [[[3], 'int32']] },
  ],
  cast: [
    {
      label: 'float32 -> float64',
      inputs: [grid([2, 3], 23)],
      attrs: { dtype: 'float64' },
      out: [[[2, 3], 'float64']],
    },
    {
      label: 'float64 -> float32 (checked there and back)',
      inputs: [toFloat64(grid([2, 3], 24))],
      attrs: { dtype: 'float32' },
      out: [[[2, 3], 'float32']],
      // Inputs on a 1/64 grid and a power-of-two step: x +- eps is exact in float32, so the difference quotient is exact.
      grad: { fn: (x) => ops.cast(dispatch(opFamilies.elementwiseOps.cast, [x], { dtype: 'float32' })[0], 'float64'), eps: 2 ** -10 },
    },
    { label: 'float32 -> int32 truncates toward 0', inputs: [f32v([-2.7, -0.5, 0.5, 2.7, 3, -3], [6])], attrs: { dtype: 'int32' }, out: [[[6], 'int32']], grad: 'integer output' },
    { label: 'float32 -> bool (NaN is true)', inputs: [f32v([0, -0, 0.1, NaN, -2, Infinity], [6])], attrs: { dtype: 'bool' }, out: [[[6], 'bool']], grad: 'bool output' },
    { label: 'int32 -> float32', inputs: [i32([-3, 0, 7], [3])], attrs: { dtype: 'float32' }, out: [[[3], 'float32']] },
    { label: 'bool -> int32', inputs: [bools([1, 0, 1], [3])], attrs: { dtype: 'int32' }, out: [[[3], 'int32']] },
  ],
  stopGradient: [unary('float', f32([2, 3], 25))],

  // ---- reductions
  sum: [
    { label: 'axes [0,2]', inputs: [f32([2, 3, 4], 26)], attrs: { axes: [0, 2], keepdims: false }, out: [[[3], 'float32']] },
    { label: 'axes [1] keepdims', inputs: [f32([2, 3, 4], 27)], attrs: { axes: [1], keepdims: true }, out: [[[2, 1, 4], 'float32']] },
    { label: 'no axes (identity)', inputs: [f32([2, 3], 28)], attrs: { axes: [], keepdims: false }, out: [[[2, 3], 'float32']] },
    { label: 'int32 all axes', inputs: [i32([1, 2, 3, -4, 5, 6], [2, 3])], attrs: { axes: [0, 1], keepdims: false }, out: [[[], 'int32']] },
    { label: 'int32 wraps on overflow', inputs: [i32([2147483647, 1, 5, -2147483648, -1, 7], [2, 3])], attrs: { axes: [1], keepdims: false }, out: [[[2], 'int32']] },
  ],
  max: [
    { label: 'axes [1] keepdims, no ties', inputs: [distinct([2, 3, 4], 29)], attrs: { axes: [1], keepdims: true }, out: [[[2, 1, 4], 'float32']] },
    { label: 'int32 axes [0]', inputs: [i32([1, 9, 3, -4, 5, 6], [2, 3])], attrs: { axes: [0], keepdims: false }, out: [[[3], 'int32']] },
  ],
  min: [
    { label: 'axes [0,2], no ties', inputs: [distinct([2, 3, 4], 30)], attrs: { axes: [0, 2], keepdims: false }, out: [[[3], 'float32']] },
    { label: 'int32 axes [1] keepdims', inputs: [i32([1, 9, 3, -4, 5, 6], [2, 3])], attrs: { axes: [1], keepdims: true }, out: [[[2, 1], 'int32']] },
  ],
  prod: [
    { label: 'axes [1]', inputs: [f32([2, 3, 2], 31, 0.5, 1.5)], attrs: { axes: [1], keepdims: false }, out: [[[2, 2], 'float32']] },
    {
      // prod is a polynomial, so finite differences are exact at zeros: this checks the
      // no-zero, one-zero and two-zero branches of the rule.
      label: 'rows with no, one and two zeros',
      inputs: [f32v([0.5, 1.5, -2, 0.7, 0, 1.3, 0, 0.9, 0], [3, 3])],
      attrs: { axes: [1], keepdims: true },
      out: [[[3, 1], 'float32']],
    },
    { label: 'int32', inputs: [i32([1, 2, 3, -4, 5, 6], [2, 3])], attrs: { axes: [0], keepdims: false }, out: [[[3], 'int32']] },
    { label: 'int32 wraps on overflow', inputs: [i32([65536, 65536, 3, 46341, -46341, 1], [2, 3])], attrs: { axes: [1], keepdims: false }, out: [[[2], 'int32']] },
  ],
  any: [
    { label: 'axes [1]', inputs: [bools([0, 0, 0, 1, 0, 0], [2, 3])], attrs: { axes: [1], keepdims: false }, out: [[[2], 'bool']] },
    { label: 'all axes keepdims', inputs: [bools([0, 0, 0, 1, 0, 0], [2, 3])], attrs: { axes: [0, 1], keepdims: true }, out: [[[1, 1], 'bool']] },
  ],
  all: [
    { label: 'axes [1]', inputs: [bools([1, 1, 1, 1, 0, 1], [2, 3])], attrs: { axes: [1], keepdims: false }, out: [[[2], 'bool']] },
    { label: 'axes [0] keepdims', inputs: [bools([1, 1, 0, 1, 0, 1], [2, 3])], attrs: { axes: [0], keepdims: true }, out: [[[1, 3], 'bool']] },
  ],
  argmax: [
    { label: 'axis 1 with a tie (first index wins)', inputs: [f32v([1, 3, 3, 0, -1, -2, -1, -5], [2, 4])], attrs: { axis: 1, keepdims: false }, out: [[[2], 'int32']] },
    { label: 'int32 axis 0 keepdims', inputs: [i32([1, 9, 3, -4, 9, 6], [2, 3])], attrs: { axis: 0, keepdims: true }, out: [[[1, 3], 'int32']] },
  ],
  argmin: [
    { label: 'axis 1 with a tie (first index wins)', inputs: [f32v([1, 0, 0, 3, -1, -2, -1, -2], [2, 4])], attrs: { axis: 1, keepdims: false }, out: [[[2], 'int32']] },
    { label: 'int32 axis 0 keepdims', inputs: [i32([1, 9, 3, -4, 9, 6], [2, 3])], attrs: { axis: 0, keepdims: true }, out: [[[1, 3], 'int32']] },
  ],
  sumLike: [
    { label: 'g [2,3,4] summed like [1,3,1] over the candidate axes [0,2]', inputs: [f32([2, 3, 4], 90), f32([1, 3, 1], 91)], attrs: { axes: [0, 2] }, out: [[[1, 3, 1], 'float32']] },
    { label: 'nothing to sum: like [2,3] is not broadcast', inputs: [f32([2, 3], 92), f32([2, 3], 93)], attrs: { axes: [0] }, out: [[[2, 3], 'float32']] },
    { label: 'g 1 like 1: nothing to sum', inputs: [f32([1, 3], 94), f32([1, 3], 95)], attrs: { axes: [0, 1] }, out: [[[1, 3], 'float32']] },
    { label: 'int32 wraps on overflow as the eager sum does (the int64 route)', inputs: [i32([2147483647, 5, 1, 7], [2, 2]), i32([0, 0], [1, 2])], attrs: { axes: [0, 1] }, out: [[[1, 2], 'int32']] },
  ],
  reducedSize: [
    { label: 'axes [0,2] as float32', inputs: [f32([2, 3, 4], 32)], attrs: { axes: [0, 2], dtype: 'float32' }, out: [[[], 'float32']] },
    { label: 'no axes as int32', inputs: [f32([2, 3], 33)], attrs: { axes: [], dtype: 'int32' }, out: [[[], 'int32']] },
  ],

  // ---- shape
  reshape: [
    { label: '[2,3,4] -> [4,-1]', inputs: [f32([2, 3, 4], 34)], attrs: { shape: [4, -1] }, out: [[[4, 6], 'float32']] },
    { label: 'int32 to a scalar', inputs: [i32([5], [1, 1])], attrs: { shape: [] }, out: [[[], 'int32']] },
  ],
  expandDims: [{ label: 'axes [0,2]', inputs: [f32([2, 3], 35)], attrs: { axes: [0, 2] }, out: [[[1, 2, 1, 3], 'float32']] }],
  squeeze: [{ label: 'axes [0,2]', inputs: [f32([1, 3, 1, 2], 36)], attrs: { axes: [0, 2] }, out: [[[3, 2], 'float32']] }],
  transpose: [
    { label: 'perm [2,0,1]', inputs: [f32([2, 3, 4], 37)], attrs: { perm: [2, 0, 1] }, out: [[[4, 2, 3], 'float32']] },
    { label: 'bool [1,0]', inputs: [bools([1, 0, 0, 1, 1, 0], [2, 3])], attrs: { perm: [1, 0] }, out: [[[3, 2], 'bool']] },
  ],
  broadcastTo: [{ label: '[3,1] -> [2,3,4]', inputs: [f32([3, 1], 38)], attrs: { shape: [2, 3, 4] }, out: [[[2, 3, 4], 'float32']] }],
  broadcastLike: [
    {
      label: 'both sides broadcast: [1,4] like [2,3,1]',
      inputs: [f32([1, 4], 39), f32([2, 3, 1], 40)],
      attrs: NONE,
      out: [[[2, 3, 4], 'float32']],
    },
    { label: 'int32 like a float', inputs: [i32([1, 2, 3], [3]), f32([2, 1], 42)], attrs: NONE, out: [[[2, 3], 'int32']] },
  ],
  reshapeLike: [{ label: '[2,6] like [3,4]', inputs: [f32([2, 6], 43), f32([3, 4], 44)], attrs: NONE, out: [[[3, 4], 'float32']] }],
  fillLike: [
    { label: 'float32 2.5 like [2,3]', inputs: [f32([2, 3], 45)], attrs: { value: 2.5, dtype: 'float32' }, out: [[[2, 3], 'float32']] },
    { label: 'int32 7 like an int', inputs: [i32([1, 2], [2, 1])], attrs: { value: 7, dtype: 'int32' }, out: [[[2, 1], 'int32']] },
    { label: 'bool true', inputs: [f32([3], 46)], attrs: { value: 1, dtype: 'bool' }, out: [[[3], 'bool']] },
    { label: 'bool from 0.5 (true, as bool(0.5))', inputs: [f32([2], 46)], attrs: { value: 0.5, dtype: 'bool' }, out: [[[2], 'bool']] },
  ],

  // ---- indexing
  concatenate: [
    { label: 'three inputs, axis 1', inputs: [f32([2, 1], 47), f32([2, 3], 48), f32([2, 2], 49)], attrs: { axis: 1 }, out: [[[2, 6], 'float32']] },
    { label: 'int32 axis 0', inputs: [i32([1, 2], [1, 2]), i32([3, 4, 5, 6], [2, 2])], attrs: { axis: 0 }, out: [[[3, 2], 'int32']] },
  ],
  slice: [
    { label: 'negative begin and end', inputs: [f32([4, 5], 50)], attrs: { begin: [1, -3], end: [null, -1] }, out: [[[3, 2], 'float32']] },
    {
      label: 'rank 3, empty-to-end',
      inputs: [f32([2, 3, 4], 51)],
      attrs: { begin: [0, 1, 2], end: [1, 3, null] },
      out: [[[1, 2, 2], 'float32']],
      unknownBatchGrad: /ops\.slice: the gradient needs the size of axis 0 of the sliced tensor/,
    },
    { label: 'int32', inputs: [i32([1, 2, 3, 4, 5], [5])], attrs: { begin: [-4], end: [4] }, out: [[[3], 'int32']] },
  ],
  pad: [
    { label: 'uneven widths, value 0.5', inputs: [f32([2, 3], 52)], attrs: { padWidth: [[1, 0], [2, 1]], value: 0.5 }, out: [[[3, 6], 'float32']] },
    { label: 'int32 value -1', inputs: [i32([1, 2], [2])], attrs: { padWidth: [[0, 2]], value: -1 }, out: [[[4], 'int32']] },
  ],
  take: [
    {
      label: 'axis 1, repeated and negative indices',
      inputs: [f32([3, 4], 53), i32([0, -1, 3, 0], [2, 2])],
      attrs: { axis: 1 },
      out: [[[3, 2, 2], 'float32']],
    },
    { label: 'int32 axis 0, scalar index', inputs: [i32([1, 2, 3, 4, 5, 6], [3, 2]), i32s(2)], attrs: { axis: 0 }, out: [[[2], 'int32']] },
  ],
  scatterAdd: [
    {
      label: 'axis 0, repeated indices',
      inputs: [f32([4, 3], 54), i32([1, 3, 1, 0], [2, 2]), f32([2, 2, 3], 55)],
      attrs: { axis: 0 },
      out: [[[4, 3], 'float32']],
    },
    {
      label: 'axis 1 of rank 3, negative index',
      inputs: [f32([2, 4, 3], 56), i32([0, 2, -1, 2, 3], [5]), f32([2, 5, 3], 57)],
      attrs: { axis: 1 },
      out: [[[2, 4, 3], 'float32']],
    },
    { label: 'int32', inputs: [i32([0, 0, 0], [3]), i32([2, 2, 0], [3]), i32([1, 5, 7], [3])], attrs: { axis: 0 }, out: [[[3], 'int32']] },
  ],
  takeAlongAxis: [
    { label: 'axis 1, repeated indices', inputs: [f32([3, 4], 58), i32([0, 3, 1, 1, 2, 0], [3, 2])], attrs: { axis: 1 }, out: [[[3, 2], 'float32']] },
    { label: 'axis 0, negative index', inputs: [f32([3, 2], 59), i32([-1, 0, 1, 2], [2, 2])], attrs: { axis: 0 }, out: [[[2, 2], 'float32']] },
  ],
  scatterAddAlongAxis: [
    {
      label: 'axis 1, repeated indices',
      inputs: [f32([3, 4], 60), i32([0, 3, 1, 1, 2, 0], [3, 2]), f32([3, 2], 61)],
      attrs: { axis: 1 },
      out: [[[3, 4], 'float32']],
    },
    { label: 'int32 axis 0', inputs: [i32([0, 0, 0, 0], [2, 2]), i32([1, 1, 0, 1], [2, 2]), i32([3, 4, 5, 6], [2, 2])], attrs: { axis: 0 }, out: [[[2, 2], 'int32']] },
  ],
  flip: [
    { label: 'axes [0,2]', inputs: [f32([2, 3, 4], 62)], attrs: { axes: [0, 2] }, out: [[[2, 3, 4], 'float32']] },
    { label: 'int32 axis 0', inputs: [i32([1, 2, 3], [3])], attrs: { axes: [0] }, out: [[[3], 'int32']] },
  ],
  topK: [
    { label: 'k=2 largest', inputs: [distinct([3, 5], 63)], attrs: { k: 2, largest: true }, out: [[[3, 2], 'float32'], [[3, 2], 'int32']] },
    { label: 'k=-1 smallest (sort)', inputs: [distinct([2, 4], 64)], attrs: { k: -1, largest: false }, out: [[[2, 4], 'float32'], [[2, 4], 'int32']] },
    { label: 'k = n of rank 3', inputs: [distinct([2, 2, 3], 113)], attrs: { k: 3, largest: true }, out: [[[2, 2, 3], 'float32'], [[2, 2, 3], 'int32']] },
    {
      label: 'int32 with ties (lower index first)',
      inputs: [i32([3, 1, 3, 2, 1, 3], [6])],
      attrs: { k: 4, largest: true },
      out: [[[4], 'int32'], [[4], 'int32']],
    },
  ],
  cumsum: [
    { label: 'axis 1', inputs: [f32([3, 4], 65)], attrs: { axis: 1, reverse: false }, out: [[[3, 4], 'float32']] },
    { label: 'axis 0 reverse', inputs: [f32([3, 2], 66)], attrs: { axis: 0, reverse: true }, out: [[[3, 2], 'float32']] },
    { label: 'int32', inputs: [i32([1, 2, 3, 4], [4])], attrs: { axis: 0, reverse: true }, out: [[[4], 'int32']] },
  ],

  // ---- linalg
  matmul: [
    { label: 'batched [2,3,4] x [4,5]', inputs: [f32([2, 3, 4], 67), f32([4, 5], 68)], attrs: { transposeA: false, transposeB: false }, out: [[[2, 3, 5], 'float32']] },
    {
      label: 'transposed, broadcast batch [1,4,3]^T x [2,5,4]^T',
      inputs: [f32([1, 4, 3], 69), f32([2, 5, 4], 70)],
      attrs: { transposeA: true, transposeB: true },
      out: [[[2, 3, 5], 'float32']],
    },
    { label: 'int32', inputs: [i32([1, 2, 3, 4, 5, 6], [2, 3]), i32([1, 0, -1, 2, 3, 1], [3, 2])], attrs: { transposeA: false, transposeB: false }, out: [[[2, 2], 'int32']] },
  ],

  // ---- nn
  conv2d: [
    {
      label: 'stride 2, same',
      inputs: [f32([1, 5, 5, 2], 71), f32([3, 3, 2, 4], 72)],
      attrs: conv([2, 2], 'same'),
      out: [[[1, 3, 3, 4], 'float32']],
      known: [1],
    },
    {
      label: 'depthwise (groups = channels), kernel 1x2, stride 3 same',
      inputs: [f32([1, 5, 7, 3], 111), f32([1, 2, 1, 6], 112)],
      attrs: conv([3, 3], 'same', [1, 1], 3),
      out: [[[1, 2, 3, 6], 'float32']],
      known: [1],
    },
    {
      label: 'groups 2, dilation 2, valid',
      inputs: [f32([2, 6, 6, 4], 73), f32([2, 2, 2, 4], 74)],
      attrs: conv([1, 1], 'valid', [2, 2], 2),
      out: [[[2, 4, 4, 4], 'float32']],
      known: [1],
    },
    {
      label: 'float64 (im2col lowering), stride 2 same',
      inputs: [randomTensor([1, 4, 5, 3], 75), randomTensor([2, 3, 3, 2], 76)],
      attrs: conv([2, 2], 'same'),
      out: [[[1, 2, 3, 2], 'float64']],
      known: [1],
      noDynamicLowering: /cannot lower a float64 conv2d with unknown spatial dimensions/,
      gradNoLowering: /cannot lower a float64 conv2dBackpropInput to ONNX/,
    },
  ],
  conv2dBackpropInput: [
    {
      label: 'stride 2, same',
      inputs: [f32([1, 3, 3, 4], 77), f32([3, 3, 2, 4], 78)],
      attrs: { ...conv([2, 2], 'same'), inputSize: [5, 5] },
      out: [[[1, 5, 5, 2], 'float32']],
      known: [1],
    },
    {
      label: 'groups 2, dilation 2, valid, input size the stride skips',
      inputs: [f32([2, 3, 2, 4], 79), f32([2, 2, 1, 4], 80)],
      attrs: { ...conv([2, 2], 'valid', [1, 1], 2), inputSize: [6, 5] },
      out: [[[2, 6, 5, 2], 'float32']],
      known: [1],
    },
    {
      label: 'same, stride 2 and dilation 2 on an even size (asymmetric padding)',
      inputs: [f32([1, 3, 2, 3], 102), f32([2, 3, 3, 3], 103)],
      attrs: { ...conv([2, 2], 'same', [2, 1]), inputSize: [6, 4] },
      out: [[[1, 6, 4, 3], 'float32']],
      known: [1],
    },
    {
      label: 'float64 (no ONNX Runtime kernel)',
      inputs: [randomTensor([1, 3, 3, 4], 81), randomTensor([3, 3, 2, 4], 82)],
      attrs: { ...conv([2, 2], 'same'), inputSize: [5, 5] },
      out: [[[1, 5, 5, 2], 'float64']],
      known: [1],
      noLowering: /cannot lower a float64 conv2dBackpropInput to ONNX: ONNX Runtime's CPU ConvTranspose kernel supports float32 only/,
    },
  ],
  conv2dBackpropFilter: [
    {
      label: 'stride 2, same',
      inputs: [f32([1, 5, 5, 2], 83), f32([1, 3, 3, 4], 84)],
      attrs: { ...conv([2, 2], 'same'), filterSize: [3, 3] },
      out: [[[3, 3, 2, 4], 'float32']],
      noDynamicLowering: /conv2dBackpropFilter: cannot lower with unknown spatial or channel dimensions/,
    },
    {
      label: 'groups 2, dilation 2, valid',
      inputs: [f32([2, 6, 6, 4], 85), f32([2, 4, 4, 4], 86)],
      attrs: { ...conv([1, 1], 'valid', [2, 2], 2), filterSize: [2, 2] },
      out: [[[2, 2, 2, 4], 'float32']],
      noDynamicLowering: /conv2dBackpropFilter: cannot lower with unknown spatial or channel dimensions/,
    },
    {
      label: 'float64',
      inputs: [randomTensor([1, 4, 5, 3], 87), randomTensor([1, 2, 3, 2], 88)],
      attrs: { ...conv([2, 2], 'same'), filterSize: [3, 3] },
      out: [[[3, 3, 3, 2], 'float64']],
      gradNoLowering: /cannot lower a float64 conv2dBackpropInput to ONNX/,
      noDynamicLowering: /conv2dBackpropFilter: cannot lower with unknown spatial or channel dimensions/,
    },
  ],
  maxPool2d: [
    { label: 'pool 2 stride 2 valid', inputs: [distinct([1, 4, 5, 2], 89)], attrs: pool([2, 2], [2, 2], 'valid'), out: [[[1, 2, 2, 2], 'float32']] },
    { label: 'pool 3 stride 2 same', inputs: [distinct([2, 5, 4, 1], 90)], attrs: pool([3, 3], [2, 2], 'same'), out: [[[2, 3, 2, 1], 'float32']] },
    { label: 'pool 2 stride 1 same (padding at the end only), negative values', inputs: [f32([1, 3, 4, 2], 104, -3, -1)], attrs: pool([2, 2], [1, 1], 'same'), out: [[[1, 3, 4, 2], 'float32']], grad: 'random values: ties are unlikely but the check is covered by the other cases' },
  ],
  maxPool2dGrad: [
    {
      label: 'non-overlapping windows (fast lowering), uncovered row',
      inputs: [distinct([1, 5, 4, 2], 91), f32([1, 2, 2, 2], 92)],
      attrs: pool([2, 2], [2, 2], 'valid'),
      out: [[[1, 5, 4, 2], 'float32']],
    },
    {
      label: 'overlapping windows (MaxPool indices + scatter), same',
      inputs: [distinct([2, 4, 5, 1], 93), f32([2, 2, 3, 1], 94)],
      attrs: pool([3, 3], [2, 2], 'same'),
      out: [[[2, 4, 5, 1], 'float32']],
      noDynamicLowering: /maxPool2dGrad: cannot lower with padding='same', strides > 1 and unknown spatial dimensions/,
    },
    {
      label: 'same with sizes the window divides (fast lowering)',
      inputs: [distinct([1, 4, 6, 2], 105), f32([1, 2, 3, 2], 106)],
      attrs: pool([2, 2], [2, 2], 'same'),
      out: [[[1, 4, 6, 2], 'float32']],
      noDynamicLowering: /maxPool2dGrad: cannot lower with padding='same', strides > 1 and unknown spatial dimensions/,
    },
    {
      label: 'pool 2 stride 1 same (padding at the end only)',
      inputs: [distinct([1, 3, 3, 1], 107), f32([1, 3, 3, 1], 108)],
      attrs: pool([2, 2], [1, 1], 'same'),
      out: [[[1, 3, 3, 1], 'float32']],
    },
    {
      label: 'ties take the first maximum',
      inputs: [f32v([1, 1, 0, 2, 3, 3, 3, 3], [1, 2, 4, 1]), f32v([0.5, -2], [1, 1, 2, 1])],
      attrs: pool([2, 2], [2, 2], 'valid'),
      out: [[[1, 2, 4, 1], 'float32']],
    },
  ],
  avgPool2d: [
    { label: 'pool 2 stride 2 same (partial windows)', inputs: [f32([1, 5, 5, 2], 95)], attrs: pool([2, 2], [2, 2], 'same'), out: [[[1, 3, 3, 2], 'float32']] },
    { label: 'pool 3 stride 1 valid', inputs: [f32([2, 4, 5, 1], 96)], attrs: pool([3, 3], [1, 1], 'valid'), out: [[[2, 2, 3, 1], 'float32']] },
    { label: 'pool 2 stride 1 same (padding at the end only)', inputs: [f32([1, 3, 4, 2], 109)], attrs: pool([2, 2], [1, 1], 'same'), out: [[[1, 3, 4, 2], 'float32']] },
    {
      label: 'float64 (no ONNX Runtime kernel)',
      inputs: [randomTensor([1, 4, 4, 1], 97)],
      attrs: pool([2, 2], [2, 2], 'valid'),
      out: [[[1, 2, 2, 1], 'float64']],
      noLowering: /cannot lower a float64 avgPool2d to ONNX: ONNX Runtime's CPU AveragePool kernel supports float32 only/,
    },
  ],
  avgPool2dGrad: [
    { label: 'pool 3 stride 1 same', inputs: [f32([1, 4, 3, 2], 110)], attrs: { ...pool([3, 3], [1, 1], 'same'), inputSize: [4, 3] }, out: [[[1, 4, 3, 2], 'float32']], noDynamicLowering: /avgPool2dGrad: cannot lower with an unknown channel count/ },
    { label: 'pool 2 stride 2 same', inputs: [f32([1, 3, 3, 2], 98)], attrs: { ...pool([2, 2], [2, 2], 'same'), inputSize: [5, 5] }, out: [[[1, 5, 5, 2], 'float32']], noDynamicLowering: /avgPool2dGrad: cannot lower with an unknown channel count/ },
    { label: 'pool 3 stride 2 valid, uncovered column', inputs: [f32([2, 2, 1, 1], 99)], attrs: { ...pool([3, 3], [2, 2], 'valid'), inputSize: [5, 4] }, out: [[[2, 5, 4, 1], 'float32']], noDynamicLowering: /avgPool2dGrad: cannot lower with an unknown channel count/ },
    {
      label: 'float64 (no ONNX Runtime kernel)',
      inputs: [randomTensor([1, 2, 2, 1], 100)],
      attrs: { ...pool([2, 2], [2, 2], 'valid'), inputSize: [4, 4] },
      out: [[[1, 4, 4, 1], 'float64']],
      noLowering: /cannot lower a float64 avgPool2dGrad to ONNX: ONNX Runtime's CPU ConvTranspose kernel supports float32 only/,
    },
  ],

  // ---- random
  randomUniform: [
    { label: 'float32 [2,3]', inputs: [i32s(42), i32s(7)], attrs: { shape: [2, 3], dtype: 'float32', count: 1 }, out: [[[2, 3], 'float32']] },
    {
      label: 'float64, two outputs',
      inputs: [i32s(-5), i32s(2147483647)],
      attrs: { shape: [4], dtype: 'float64', count: 2 },
      out: [[[4], 'float64'], [[4], 'float64']],
    },
    {
      label: 'unknown dims from a like input',
      inputs: [i32s(3), i32s(1), f32([3, 2, 5], 101)],
      attrs: { shape: [null, 2, null], dtype: 'float32', count: 1 },
      out: [[[3, 2, 5], 'float32']],
    },
  ],
};

// ------------------------------------------------------------ helpers

type AnyCase = Case<unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDef = OpDef<any>;

const defs = allOpDefs();
const names = Object.keys(CASES) as PrimitiveName[];
const casesOf = (name: PrimitiveName) => CASES[name] as unknown as readonly AnyCase[];
const ARRAY_OF: Record<DType, Function> = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array };
const isFloatType = (d: DType) => d === 'float32' || d === 'float64';

/** Float inputs whose values (not just shape) reach the output. */
function dataFloatInputs(def: AnyDef, inputs: readonly Tensor[]): number[] {
  return inputs.map((t, i) => (isFloatType(t.dtype) && !(def.shapeOnlyInputs ?? []).includes(i) ? i : -1)).filter((i) => i >= 0);
}

function assertSameValues(actual: Tensor, expected: Tensor, tol: Tolerance, label: string): void {
  assert.equal(actual.dtype, expected.dtype, `${label}: dtype`);
  assert.deepEqual([...actual.shape], [...expected.shape], `${label}: shape`);
  if (isFloatType(expected.dtype)) assertClose(actual, expected, tol, label);
  else assert.deepEqual([...actual.dataSync()], [...expected.dataSync()], `${label}: values (exact)`);
}

const floatTol = (c: AnyCase, dtype: DType): Tolerance => c.tol ?? (dtype === 'float64' ? { rtol: 1e-10, atol: 1e-12 } : { rtol: 1e-5, atol: 1e-6 });

/** Fixed weights that make every output element count differently in a scalar loss. */
function lossWeights(outputs: readonly Tensor[]): (Tensor | null)[] {
  return outputs.map((o, i) => (isFloatType(o.dtype) ? randomTensor(o.shape as number[], 500 + i, 0.5, 1.5, o.dtype as 'float32' | 'float64') : null));
}

/**
 * The op plus the gradient of a weighted sum of its float outputs with
 * respect to its float data inputs, recorded on a tape: the function that
 * runs eagerly and inside strata.fn. Every such gradient must exist.
 */
function opAndGradient(def: AnyDef, c: AnyCase, weights: (Tensor | null)[]) {
  const wrt = isNonDifferentiable(def.grad) ? [] : dataFloatInputs(def, c.inputs);
  return (...xs: Tensor[]): Tensor[] => {
    const tape = new GradientTape();
    const { outs, terms } = tape.record(() => {
      const outs = dispatch(def, xs, c.attrs);
      const terms = outs.map((o, i) => (weights[i] ? ops.sum(ops.multiply(o, weights[i]!)) : null)).filter((t): t is Tensor => t !== null);
      return { outs, terms };
    });
    if (wrt.length === 0 || terms.length === 0) return outs;
    const loss = tape.record(() => terms.reduce((p, t) => ops.add(p, t)));
    const grads = tape.gradient(loss, wrt.map((i) => xs[i]));
    grads.forEach((g, k) => assert.ok(g !== null, `${def.name} [${c.label}]: no gradient for input ${wrt[k]}`));
    return [...outs, ...(grads as Tensor[])];
  };
}

// ------------------------------------------------------------ tests

describe('every primitive op', () => {
  it('sumLike refuses a like dim that is neither 1 nor g\'s (the kernel failed with an internal error)', () => {
    // Before infer checked it, g [2,3] like [4,3] passed inference and the kernel returned 6
    // values for a [4,3] output: "Internal error in the kernel of op 'sumLike'".
    assert.throws(() => ops.sumLike(f32([2, 3], 96), f32([4, 3], 97), [0]), /g of shape \(2, 3\) and like of shape \(4, 3\); along axis 0 like must be 1 or 2/);
    assert.throws(() => ops.sumLike(f32([1, 3], 96), f32([4, 3], 97), [0]), /along axis 0 like must be 1 or 1/);
  });

  it('the case table covers exactly the registry', () => {
    assert.equal(defs.size, 77, 'the registry has 77 primitives (update this count with the table)');
    assert.deepEqual([...names].sort(), [...defs.keys()].sort());
    for (const name of names) assert.ok(casesOf(name).length > 0, `${name} has cases`);
  });

  // All lowerings run in one ONNX Runtime session.
  const jobs: { name: PrimitiveName; index: number }[] = [];
  let lowered: (Tensor[] | Error)[] = [];
  before(async () => {
    for (const name of names) casesOf(name).forEach((_, index) => jobs.push({ name, index }));
    lowered = await runLoweredBatch(jobs.map(({ name, index }) => ({ def: defs.get(name)!, inputs: casesOf(name)[index].inputs, attrs: casesOf(name)[index].attrs })));
  });
  const loweredFor = (name: PrimitiveName, index: number) => lowered[jobs.findIndex((j) => j.name === name && j.index === index)];

  for (const name of names) {
    describe(name, () => {
      const def = defs.get(name)!;
      const cases = casesOf(name);

      it('infer agrees with the kernel (and with itself on unknown dims)', () => {
        for (const c of cases) {
          const label = `${name} [${c.label}]`;
          const inferred = def.infer(c.inputs, c.attrs);
          assert.deepEqual(
            inferred.map((t) => [[...t.shape], t.dtype]),
            c.out,
            `${label}: inferred types`,
          );
          const raw: TypedArray[] = def.kernel(
            c.inputs.map((t) => ({ values: t.dataSync(), shape: t.shape as number[], dtype: t.dtype })),
            c.attrs,
            inferred as { shape: number[]; dtype: DType }[],
          );
          assert.equal(raw.length, inferred.length, `${label}: number of outputs`);
          raw.forEach((values, i) => {
            assert.equal(values.constructor, ARRAY_OF[inferred[i].dtype], `${label}: output ${i} array type for ${inferred[i].dtype}`);
            assert.equal(values.length, sizeOf(inferred[i].shape), `${label}: output ${i} size`);
          });
          // The kernel must not mutate its inputs (outputs may share, never write).
          const snapshot = c.inputs.map((t) => [...t.dataSync()]);
          dispatch(def, c.inputs, c.attrs);
          c.inputs.forEach((t, i) => assert.deepEqual([...t.dataSync()], snapshot[i], `${label}: input ${i} unchanged`));

          // Unknown dims: inference still works, and every known output dim matches.
          const symbolic: TensorType[] = c.inputs.map((t, i) =>
            (c.known ?? []).includes(i) ? { shape: t.shape, dtype: t.dtype } : { shape: t.shape.map(() => null) as Dim[], dtype: t.dtype },
          );
          const partial = def.infer(symbolic, c.attrs);
          assert.equal(partial.length, inferred.length, `${label}: outputs with unknown dims`);
          partial.forEach((p, i) => {
            const full: Shape = inferred[i].shape;
            assert.equal(p.dtype, inferred[i].dtype, `${label}: output ${i} dtype with unknown dims`);
            assert.equal(p.shape.length, full.length, `${label}: output ${i} rank with unknown dims`);
            p.shape.forEach((d, k) => assert.ok(d === null || d === full[k], `${label}: output ${i} dim ${k} is ${d} with unknown input dims, ${full[k]} with known ones`));
          });
        }
      });

      it('the ONNX lowering gives the kernel\'s values', () => {
        for (const [index, c] of cases.entries()) {
          const label = `${name} [${c.label}] lowered`;
          const result = loweredFor(name, index);
          if (c.noLowering) {
            assert.ok(result instanceof Error, `${label}: documented as not lowerable, but it lowered`);
            assert.match(result.message, c.noLowering, `${label}: reason`);
            continue;
          }
          if (result instanceof Error) throw result;
          const eager = dispatch(def, c.inputs, c.attrs);
          assert.equal(result.length, eager.length, `${label}: number of outputs`);
          result.forEach((r, i) => assertSameValues(r, eager[i], floatTol(c, eager[i].dtype), `${label} output ${i}`));
        }
      });

      if (isNonDifferentiable(def.grad)) {
        it('is declared non-differentiable, and a tape names it', () => {
          const reason = (def.grad as { nonDifferentiable: string }).nonDifferentiable;
          assert.equal(typeof reason, 'string');
          assert.ok(reason.length > 10, `${name}: a reason users can read`);
          for (const c of cases) {
            const xs = c.inputs.map(toFloat64);
            const floats = xs.map((t, i) => (isFloatType(t.dtype) ? i : -1)).filter((i) => i >= 0);
            if (floats.length === 0) continue; // only integer / bool inputs: no gradient to ask for
            const tape = new GradientTape();
            const loss = tape.record(() => {
              const outs = dispatch(def, xs, c.attrs);
              return outs.map((o) => ops.sum(ops.cast(o, 'float64'))).reduce((p, t) => ops.add(p, t));
            });
            const grads = tape.gradient(loss, floats.map((i) => xs[i]));
            floats.forEach((i, k) => {
              assert.equal(grads[k], null, `${name} [${c.label}]: gradient for input ${i} must be null`);
              const why = tape.whyNull(xs[i])!;
              if (name === 'stopGradient') assert.equal(why.kind, 'stopGradient');
              else if ((def.shapeOnlyInputs ?? []).includes(i)) assert.equal(why.kind, 'unconnected', `${name}: a shape-only input is not connected`);
              else {
                assert.equal(why.kind, 'nonDifferentiable', `${name} [${c.label}]: ${why.message}`);
                assert.ok(why.kind === 'nonDifferentiable' && why.op === name && why.detail === reason, `${name}: the reason names the op: ${why.message}`);
              }
            });
          }
        });
      } else {
        it('the gradient agrees with finite differences (float64)', () => {
          let checked = 0;
          for (const c of cases) {
            if (typeof c.grad === 'string') continue;
            const spec = c.grad ?? {};
            const xs = c.inputs.map(toFloat64);
            const wrt = spec.wrt ?? dataFloatInputs(def, xs);
            if (wrt.length === 0) continue;
            const f = spec.fn ?? ((...args: Tensor[]) => dispatch(def, args, c.attrs));
            // checkGradients contracts the float64 outputs: a cast to float32 is checked through spec.fn.
            checkGradients(f, xs, { wrt, eps: spec.eps, rtol: spec.rtol, atol: spec.atol }, `${name} [${c.label}]`);
            checked++;
          }
          assert.ok(checked > 0, `${name} is differentiable, so at least one case must be gradient-checked`);
        });
      }

      it('inside strata.fn, the op and its gradient match eager mode', async () => {
        for (const [index, c] of cases.entries()) {
          const label = `${name} [${c.label}] graph`;
          const weights = lossWeights(dispatch(def, c.inputs, c.attrs));
          const f = opAndGradient(def, c, weights);
          const eager = f(...c.inputs);
          const compiled = fn(f, { name: `every_${name}_${index}`, checkPasses: true });
          const { result: graph, warnings } = await captureWarnings(() => compiled(...c.inputs));
          const kind = await compiled.getConcreteFunction(...c.inputs).executorKind();
          // A case whose lowering is documented as missing falls back to the interpreter (with a warning); the others run on ONNX Runtime.
          const fallback = c.noLowering ?? (isNonDifferentiable(def.grad) ? undefined : c.gradNoLowering);
          if (fallback) {
            assert.equal(kind, 'interpreter', `${label}: executor`);
            assert.ok(warnings.some((w) => fallback.test(w)), `${label}: fallback warning names the reason (${warnings.join(' | ')})`);
          } else {
            assert.ok(kind.startsWith('onnxruntime'), `${label}: ran on ${kind} (${warnings.join(' | ')})`);
          }
          assert.equal(graph.length, eager.length, `${label}: number of results (outputs and gradients)`);
          graph.forEach((g, i) => assertSameValues(g, eager[i], floatTol(c, eager[i].dtype), `${label} result ${i}`));
        }
      });

      it('inside strata.fn traced with unknown dims, the op (and its gradient) match eager mode', async () => {
        for (const [index, c] of cases.entries()) {
          if (c.noLowering) continue;
          for (const variant of ['batch', 'all'] as const) {
            const label = `${name} [${c.label}] graph, ${variant} dims unknown`;
            const signature = c.inputs.map((t, i) =>
              new TensorSpec((c.known ?? []).includes(i) ? t.shape : t.shape.map((d, k) => (variant === 'all' || k === 0 ? null : d)), t.dtype),
            );
            const weights = lossWeights(dispatch(def, c.inputs, c.attrs));
            const withGrad = variant === 'batch' && !isNonDifferentiable(def.grad);
            const op = (...xs: Tensor[]) => dispatch(def, xs, c.attrs);
            if (withGrad && c.unknownBatchGrad instanceof RegExp) {
              const traced = fn(opAndGradient(def, c, weights), { name: `every_${name}_${index}_${variant}_error`, inputSignature: signature });
              await assert.rejects(() => traced(...c.inputs), c.unknownBatchGrad, `${label}: documented gradient error`);
            }
            const f = withGrad && c.unknownBatchGrad === undefined ? opAndGradient(def, c, weights) : op;
            const eager = f(...c.inputs);
            const compiled = fn(f, { name: `every_${name}_${index}_${variant}`, checkPasses: true, inputSignature: signature });
            const { result: graph, warnings } = await captureWarnings(() => compiled(...c.inputs));
            const kind = await compiled.getConcreteFunction(...c.inputs).executorKind();
            const fallback = variant === 'all' ? c.noDynamicLowering : f === op ? undefined : c.gradNoLowering;
            if (fallback) {
              assert.equal(kind, 'interpreter', `${label}: executor`);
              assert.ok(warnings.some((w) => fallback.test(w)), `${label}: fallback warning names the reason (${warnings.join(' | ')})`);
            } else {
              assert.ok(kind.startsWith('onnxruntime'), `${label}: ran on ${kind} (${warnings.join(' | ')})`);
            }
            assert.equal(graph.length, eager.length, `${label}: number of results`);
            graph.forEach((g, i) => assertSameValues(g, eager[i], floatTol(c, eager[i].dtype), `${label} result ${i}`));
          }
        }
      });
    });
  }
});
