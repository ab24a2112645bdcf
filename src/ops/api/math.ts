/**
 * Public elementwise math ops (keras.ops names in camelCase). Inputs may be
 * tensors, variables, numbers or arrays; mixed dtypes are promoted as in
 * Keras 3 (bool < int32 < float32 < float64, JavaScript numbers are weak).
 */
import { type DType, isBool, isFloat } from '../../tensor/dtype.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { dispatch1 } from '../../engine/dispatch.ts';
import { assertDType } from '../../tensor/dtype.ts';
import { elementwiseOps as E } from '../defs/elementwise.ts';
import { type TensorLike, promoteOperands, toFloatTensor, toTensor } from '../convert.ts';

const NONE = {} as Record<string, never>;

export function cast(x: TensorLike, dtype: DType): Tensor {
  assertDType(dtype, 'ops.cast');
  const t = toTensor(x, 'cast');
  return t.dtype === dtype ? t : dispatch1(E.cast, [t], { dtype });
}

function promote(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  return promoteOperands(op, [a, b], cast) as [Tensor, Tensor];
}

/** Promotes, then moves integers and booleans to float32 (true division, power with floats...). */
function promoteFloat(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const [x, y] = promote(op, a, b);
  return isFloat(x.dtype) ? [x, y] : [cast(x, 'float32'), cast(y, 'float32')];
}

/** Promotes, then moves booleans to int32 (arithmetic on booleans counts them). */
function promoteNumeric(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const [x, y] = promote(op, a, b);
  return isBool(x.dtype) ? [cast(x, 'int32'), cast(y, 'int32')] : [x, y];
}

function numeric(x: TensorLike, op: string): Tensor {
  const t = toTensor(x, op);
  return isBool(t.dtype) ? cast(t, 'int32') : t;
}

const float = (x: TensorLike, op: string): Tensor => toFloatTensor(x, op, cast);

// Arithmetic
export const add = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.add, promoteNumeric('add', x1, x2), NONE);
export const subtract = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.subtract, promoteNumeric('subtract', x1, x2), NONE);
export const multiply = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.multiply, promoteNumeric('multiply', x1, x2), NONE);
/** True division; integers are divided as float32. */
export const divide = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.divide, promoteFloat('divide', x1, x2), NONE);
export const trueDivide = divide;
export const floorDivide = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.floorDivide, promoteNumeric('floorDivide', x1, x2), NONE);
/** Remainder with the sign of the divisor (Python's %). */
export const mod = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.mod, promoteNumeric('mod', x1, x2), NONE);
export const power = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.power, promoteNumeric('power', x1, x2), NONE);
export const maximum = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.maximum, promoteNumeric('maximum', x1, x2), NONE);
export const minimum = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.minimum, promoteNumeric('minimum', x1, x2), NONE);

export const negative = (x: TensorLike): Tensor => dispatch1(E.negative, [numeric(x, 'negative')], NONE);
export const abs = (x: TensorLike): Tensor => dispatch1(E.abs, [numeric(x, 'abs')], NONE);
export const absolute = abs;
export const sign = (x: TensorLike): Tensor => dispatch1(E.sign, [numeric(x, 'sign')], NONE);
export const square = (x: TensorLike): Tensor => {
  const t = numeric(x, 'square');
  return multiply(t, t);
};

// Float math (integers are computed in float32, as Keras does)
export const sqrt = (x: TensorLike): Tensor => dispatch1(E.sqrt, [float(x, 'sqrt')], NONE);
export const rsqrt = (x: TensorLike): Tensor => reciprocal(sqrt(x));
export const exp = (x: TensorLike): Tensor => dispatch1(E.exp, [float(x, 'exp')], NONE);
export const expm1 = (x: TensorLike): Tensor => dispatch1(E.expm1, [float(x, 'expm1')], NONE);
export const log = (x: TensorLike): Tensor => dispatch1(E.log, [float(x, 'log')], NONE);
export const log1p = (x: TensorLike): Tensor => dispatch1(E.log1p, [float(x, 'log1p')], NONE);
export const sin = (x: TensorLike): Tensor => dispatch1(E.sin, [float(x, 'sin')], NONE);
export const cos = (x: TensorLike): Tensor => dispatch1(E.cos, [float(x, 'cos')], NONE);
export const tanh = (x: TensorLike): Tensor => dispatch1(E.tanh, [float(x, 'tanh')], NONE);
export const erf = (x: TensorLike): Tensor => dispatch1(E.erf, [float(x, 'erf')], NONE);
export const floor = (x: TensorLike): Tensor => dispatch1(E.floor, [float(x, 'floor')], NONE);
export const ceil = (x: TensorLike): Tensor => dispatch1(E.ceil, [float(x, 'ceil')], NONE);
/** Rounds half to even, like NumPy and Keras. */
export const round = (x: TensorLike): Tensor => dispatch1(E.round, [float(x, 'round')], NONE);
export const reciprocal = (x: TensorLike): Tensor => dispatch1(E.reciprocal, [float(x, 'reciprocal')], NONE);
export const sigmoid = (x: TensorLike): Tensor => dispatch1(E.sigmoid, [float(x, 'sigmoid')], NONE);

// Predicates and comparisons (results are bool)
export const isNan = (x: TensorLike): Tensor => dispatch1(E.isNan, [toTensor(x, 'isNan')], NONE);
export const isInf = (x: TensorLike): Tensor => dispatch1(E.isInf, [toTensor(x, 'isInf')], NONE);
export const isFinite = (x: TensorLike): Tensor => logicalNot(logicalOr(isNan(x), isInf(x)));
export const equal = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.equal, promote('equal', x1, x2), NONE);
export const notEqual = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.notEqual, promote('notEqual', x1, x2), NONE);
export const less = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.less, promoteNumeric('less', x1, x2), NONE);
export const lessEqual = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.lessEqual, promoteNumeric('lessEqual', x1, x2), NONE);
export const greater = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.greater, promoteNumeric('greater', x1, x2), NONE);
export const greaterEqual = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.greaterEqual, promoteNumeric('greaterEqual', x1, x2), NONE);

const toBool = (x: TensorLike, op: string): Tensor => cast(toTensor(x, op), 'bool');
export const logicalAnd = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.logicalAnd, [toBool(x1, 'logicalAnd'), toBool(x2, 'logicalAnd')], NONE);
export const logicalOr = (x1: TensorLike, x2: TensorLike): Tensor => dispatch1(E.logicalOr, [toBool(x1, 'logicalOr'), toBool(x2, 'logicalOr')], NONE);
export const logicalNot = (x: TensorLike): Tensor => dispatch1(E.logicalNot, [toBool(x, 'logicalNot')], NONE);
export const logicalXor = (x1: TensorLike, x2: TensorLike): Tensor => notEqual(toBool(x1, 'logicalXor'), toBool(x2, 'logicalXor'));

/** Elements of `x1` where `condition` is true, else of `x2` (all three broadcast). */
export function where(condition: TensorLike, x1: TensorLike, x2: TensorLike): Tensor {
  const c = toBool(condition, 'where');
  const [a, b] = promote('where', x1, x2);
  return dispatch1(E.where, [c, a, b], NONE);
}

/** Limits values to [xMin, xMax]. */
export function clip(x: TensorLike, xMin: TensorLike, xMax: TensorLike): Tensor {
  return minimum(maximum(x, xMin), xMax);
}

/** Identity in the forward pass; blocks gradients (the tape reports where). */
export const stopGradient = (x: TensorLike): Tensor => dispatch1(E.stopGradient, [toTensor(x, 'stopGradient')], NONE);
