/**
 * Elementwise primitives: unary math, broadcasting binary arithmetic and
 * comparisons, `where`, `cast` and `stopGradient`. Composite elementwise
 * functions (square, clip, relu, softmax, ...) are in ../api/.
 */
import { type DType, type TypedArray, isFloat } from '../../tensor/dtype.ts';
import { broadcastShapes } from '../../tensor/shape.ts';
import { defineOps, nonDifferentiable, OpError, type TensorType, type OpDef, type GradRule, type Lowering } from '../../engine/op.ts';
import { ONNX_TYPE, type OnnxEmitter } from '../../engine/onnx-types.ts';
import { type BinaryRow, type UnaryLoop, broadcastValues, erf, roundHalfEven, runBinary, runUnary } from '../kernels/elementwise.ts';
import { forEachRow, planBroadcast } from '../kernels/broadcast.ts';
import * as m from '../api/math.ts';

type NoAttrs = Record<string, never>;

export interface ElementwiseAttrs {
  negative: NoAttrs; abs: NoAttrs; sign: NoAttrs; sqrt: NoAttrs; exp: NoAttrs; expm1: NoAttrs;
  log: NoAttrs; log1p: NoAttrs; sin: NoAttrs; cos: NoAttrs; tanh: NoAttrs; erf: NoAttrs;
  floor: NoAttrs; ceil: NoAttrs; round: NoAttrs; reciprocal: NoAttrs; sigmoid: NoAttrs;
  isNan: NoAttrs; isInf: NoAttrs; logicalNot: NoAttrs;
  add: NoAttrs; subtract: NoAttrs; multiply: NoAttrs; divide: NoAttrs; floorDivide: NoAttrs; mod: NoAttrs;
  power: NoAttrs; maximum: NoAttrs; minimum: NoAttrs;
  equal: NoAttrs; notEqual: NoAttrs; less: NoAttrs; lessEqual: NoAttrs; greater: NoAttrs; greaterEqual: NoAttrs;
  logicalAnd: NoAttrs; logicalOr: NoAttrs;
  where: NoAttrs;
  cast: { dtype: DType };
  stopGradient: NoAttrs;
}

const FLOAT: readonly DType[] = ['float32', 'float64'];
const NUMERIC: readonly DType[] = ['float32', 'float64', 'int32'];
const BOOL: readonly DType[] = ['bool'];
const ANY: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

function checkDType(op: string, t: TensorType, allowed: readonly DType[], arg = 'x'): void {
  if (!allowed.includes(t.dtype)) {
    throw new OpError(op, `Received: ${arg} with dtype ${t.dtype}; expected one of ${allowed.join(', ')}.`);
  }
}

interface UnarySpec {
  dtypes: readonly DType[];
  /** Output dtype when it differs from the input's. */
  out?: DType;
  loop: UnaryLoop;
  grad: GradRule<NoAttrs> | ReturnType<typeof nonDifferentiable>;
  lower: Lowering<NoAttrs>;
}

function unary<N extends string>(name: N, spec: UnarySpec): OpDef<NoAttrs> & { name: N } {
  return {
    name,
    infer: ([x]) => {
      checkDType(name, x, spec.dtypes);
      return [{ shape: x.shape, dtype: spec.out ?? x.dtype }];
    },
    kernel: (inputs, _attrs, outputs) => runUnary(spec.loop, inputs, outputs),
    grad: spec.grad,
    toOnnx: spec.lower,
  };
}

interface BinarySpec {
  dtypes: readonly DType[];
  out?: DType;
  row: BinaryRow;
  /** A different row for int32 operands (wrapping multiplication, integer division). */
  intRow?: BinaryRow;
  grad: GradRule<NoAttrs> | ReturnType<typeof nonDifferentiable>;
  lower: Lowering<NoAttrs>;
}

function inferBinary(name: string, [a, b]: readonly TensorType[], dtypes: readonly DType[], out?: DType): TensorType[] {
  checkDType(name, a, dtypes, 'x1');
  if (a.dtype !== b.dtype) {
    throw new OpError(name, `Received: x1 with dtype ${a.dtype} and x2 with dtype ${b.dtype}; both operands must have the same dtype.`);
  }
  return [{ shape: broadcastShapes(a.shape, b.shape, `ops.${name}`), dtype: out ?? a.dtype }];
}

function binary<N extends string>(name: N, spec: BinarySpec): OpDef<NoAttrs> & { name: N } {
  return {
    name,
    infer: (inputs) => inferBinary(name, inputs, spec.dtypes, spec.out),
    kernel: (inputs, _attrs, outputs) =>
      runBinary(spec.intRow && inputs[0].dtype === 'int32' ? spec.intRow : spec.row, inputs, outputs),
    grad: spec.grad,
    toOnnx: spec.lower,
  };
}

const onnxUnary = (opType: string): Lowering<NoAttrs> => (b, [x]) => [b.op(opType, [x])];
const onnxBinary = (opType: string): Lowering<NoAttrs> => (b, [x, y]) => [b.op(opType, [x, y])];

/** ONNX scalar constant of the same element type as the op's first input. */
function like(b: OnnxEmitter, value: number, dtype: DType): string {
  return b.scalar(value, dtype);
}

const piecewiseConstant = (op: string) =>
  nonDifferentiable(`'${op}' is piecewise constant: its derivative is zero almost everywhere, so it passes no gradient`);

export const elementwiseOps = defineOps<ElementwiseAttrs>()({
  negative: unary('negative', {
    dtypes: NUMERIC,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = -x[i]; },
    grad: ({ dys: [dy] }) => [m.negative(dy)],
    lower: onnxUnary('Neg'),
  }),
  abs: unary('abs', {
    dtypes: NUMERIC,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.abs(x[i]); },
    grad: ({ inputs: [x], dys: [dy] }) => [m.multiply(dy, m.sign(x))],
    lower: onnxUnary('Abs'),
  }),
  sign: unary('sign', {
    dtypes: NUMERIC,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.sign(x[i]); },
    grad: piecewiseConstant('sign'),
    lower: onnxUnary('Sign'),
  }),
  sqrt: unary('sqrt', {
    dtypes: FLOAT,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.sqrt(x[i]); },
    grad: ({ outputs: [y], dys: [dy] }) => [m.divide(dy, m.multiply(y, 2))],
    lower: onnxUnary('Sqrt'),
  }),
  exp: unary('exp', {
    dtypes: FLOAT,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.exp(x[i]); },
    grad: ({ outputs: [y], dys: [dy] }) => [m.multiply(dy, y)],
    lower: onnxUnary('Exp'),
  }),
  expm1: unary('expm1', {
    dtypes: FLOAT,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.expm1(x[i]); },
    grad: ({ outputs: [y], dys: [dy] }) => [m.multiply(dy, m.add(y, 1))],
    // ONNX has no Expm1. Kahan's trick keeps small inputs accurate:
    // expm1(x) = (u - 1) * x / log(u) with u = exp(x), and x itself when u == 1.
    lower: (b, [x], _a, { inputs: [t] }) => {
      const one = like(b, 1, t.dtype);
      const u = b.op('Exp', [x]);
      const um1 = b.op('Sub', [u, one]);
      const ratio = b.op('Div', [b.op('Mul', [um1, x]), b.op('Log', [u])]);
      const isOne = b.op('Equal', [u, one]);
      // For large x, log(u) is inf and u - 1 is exact enough; keep u - 1 there.
      const big = b.op('Greater', [b.op('Abs', [x]), like(b, 0.5, t.dtype)]);
      return [b.op('Where', [isOne, x, b.op('Where', [big, um1, ratio])])];
    },
  }),
  log: unary('log', {
    dtypes: FLOAT,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.log(x[i]); },
    grad: ({ inputs: [x], dys: [dy] }) => [m.divide(dy, x)],
    lower: onnxUnary('Log'),
  }),
  log1p: unary('log1p', {
    dtypes: FLOAT,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.log1p(x[i]); },
    grad: ({ inputs: [x], dys: [dy] }) => [m.divide(dy, m.add(x, 1))],
    // ONNX has no Log1p. Kahan's trick: log1p(x) = log(u) * x / (u - 1) with u = 1 + x, and x when u == 1.
    lower: (b, [x], _a, { inputs: [t] }) => {
      const one = like(b, 1, t.dtype);
      const u = b.op('Add', [x, one]);
      const ratio = b.op('Div', [b.op('Mul', [b.op('Log', [u]), x]), b.op('Sub', [u, one])]);
      const isOne = b.op('Equal', [u, one]);
      const big = b.op('Greater', [b.op('Abs', [x]), like(b, 0.5, t.dtype)]);
      return [b.op('Where', [isOne, x, b.op('Where', [big, b.op('Log', [u]), ratio])])];
    },
  }),
  sin: unary('sin', {
    dtypes: FLOAT,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.sin(x[i]); },
    grad: ({ inputs: [x], dys: [dy] }) => [m.multiply(dy, m.cos(x))],
    lower: onnxUnary('Sin'),
  }),
  cos: unary('cos', {
    dtypes: FLOAT,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.cos(x[i]); },
    grad: ({ inputs: [x], dys: [dy] }) => [m.negative(m.multiply(dy, m.sin(x)))],
    lower: onnxUnary('Cos'),
  }),
  tanh: unary('tanh', {
    dtypes: FLOAT,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.tanh(x[i]); },
    grad: ({ outputs: [y], dys: [dy] }) => [m.multiply(dy, m.subtract(1, m.square(y)))],
    lower: onnxUnary('Tanh'),
  }),
  erf: unary('erf', {
    dtypes: FLOAT,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = erf(x[i]); },
    grad: ({ inputs: [x], dys: [dy] }) => [m.multiply(dy, m.multiply(m.exp(m.negative(m.square(x))), 2 / Math.sqrt(Math.PI)))],
    lower: onnxUnary('Erf'),
  }),
  floor: unary('floor', {
    dtypes: FLOAT,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.floor(x[i]); },
    grad: piecewiseConstant('floor'),
    lower: onnxUnary('Floor'),
  }),
  ceil: unary('ceil', {
    dtypes: FLOAT,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.ceil(x[i]); },
    grad: piecewiseConstant('ceil'),
    lower: onnxUnary('Ceil'),
  }),
  round: unary('round', {
    dtypes: FLOAT,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = roundHalfEven(x[i]); },
    grad: piecewiseConstant('round'),
    lower: onnxUnary('Round'),
  }),
  reciprocal: unary('reciprocal', {
    dtypes: FLOAT,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = 1 / x[i]; },
    grad: ({ outputs: [y], dys: [dy] }) => [m.negative(m.multiply(dy, m.square(y)))],
    lower: onnxUnary('Reciprocal'),
  }),
  sigmoid: unary('sigmoid', {
    dtypes: FLOAT,
    // Two branches so exp never overflows.
    loop: (x, o) => {
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        if (v >= 0) o[i] = 1 / (1 + Math.exp(-v));
        else { const e = Math.exp(v); o[i] = e / (1 + e); }
      }
    },
    grad: ({ outputs: [y], dys: [dy] }) => [m.multiply(dy, m.multiply(y, m.subtract(1, y)))],
    lower: onnxUnary('Sigmoid'),
  }),
  isNan: unary('isNan', {
    dtypes: ANY,
    out: 'bool',
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = x[i] !== x[i] ? 1 : 0; },
    grad: nonDifferentiable("'isNan' returns booleans"),
    // Integers are never NaN: not(x == x) is an all-false tensor of x's shape.
    lower: (b, [x], _a, { inputs: [t] }) => [isFloat(t.dtype) ? b.op('IsNaN', [x]) : b.op('Not', [b.op('Equal', [x, x])])],
  }),
  isInf: unary('isInf', {
    dtypes: ANY,
    out: 'bool',
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = x[i] === Infinity || x[i] === -Infinity ? 1 : 0; },
    grad: nonDifferentiable("'isInf' returns booleans"),
    lower: (b, [x], _a, { inputs: [t] }) => [isFloat(t.dtype) ? b.op('IsInf', [x]) : b.op('Not', [b.op('Equal', [x, x])])],
  }),
  logicalNot: unary('logicalNot', {
    dtypes: BOOL,
    loop: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = x[i] ? 0 : 1; },
    grad: nonDifferentiable("'logicalNot' works on booleans"),
    lower: onnxUnary('Not'),
  }),

  add: binary('add', {
    dtypes: NUMERIC,
    row: (a, ai, as, b, bi, bs, o, oi, n) => { for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai] + b[bi]; },
    grad: ({ dys: [dy] }) => [dy, dy],
    lower: onnxBinary('Add'),
  }),
  subtract: binary('subtract', {
    dtypes: NUMERIC,
    row: (a, ai, as, b, bi, bs, o, oi, n) => { for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai] - b[bi]; },
    grad: ({ dys: [dy], needsInputGrad }) => [dy, needsInputGrad[1] ? m.negative(dy) : null],
    lower: onnxBinary('Sub'),
  }),
  multiply: binary('multiply', {
    dtypes: NUMERIC,
    row: (a, ai, as, b, bi, bs, o, oi, n) => { for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai] * b[bi]; },
    intRow: (a, ai, as, b, bi, bs, o, oi, n) => { for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = Math.imul(a[ai], b[bi]); },
    grad: ({ inputs: [a, b], dys: [dy], needsInputGrad }) => [
      needsInputGrad[0] ? m.multiply(dy, b) : null,
      needsInputGrad[1] ? m.multiply(dy, a) : null,
    ],
    lower: onnxBinary('Mul'),
  }),
  divide: binary('divide', {
    dtypes: FLOAT,
    row: (a, ai, as, b, bi, bs, o, oi, n) => { for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai] / b[bi]; },
    grad: ({ inputs: [, b], outputs: [y], dys: [dy], needsInputGrad }) => {
      const da = m.divide(dy, b);
      return [da, needsInputGrad[1] ? m.negative(m.multiply(da, y)) : null];
    },
    lower: onnxBinary('Div'),
  }),
  floorDivide: binary('floorDivide', {
    dtypes: NUMERIC,
    row: (a, ai, as, b, bi, bs, o, oi, n) => { for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = Math.floor(a[ai] / b[bi]); },
    grad: piecewiseConstant('floorDivide'),
    // Integers: (a - mod(a, b)) / b is exact, and ONNX integer Div truncates. Floats: floor(a / b).
    // float32 divides in float64: the eager kernel floors the double quotient, and a float32
    // quotient can round up onto an integer (5 / 0.1f is 49.9999993 in double, 50 in float32),
    // which made the compiled floorDivide one larger than the eager one.
    lower: (b, [x, y], _a, { inputs: [t] }) => {
      if (t.dtype === 'float32') {
        const wide = (v: string) => b.op('Cast', [v], { to: ONNX_TYPE.float64 });
        return [b.op('Cast', [b.op('Floor', [b.op('Div', [wide(x), wide(y)])])], { to: ONNX_TYPE.float32 })];
      }
      return isFloat(t.dtype)
        ? [b.op('Floor', [b.op('Div', [x, y])])]
        : [b.op('Div', [b.op('Sub', [x, b.op('Mod', [x, y], { fmod: 0 })]), y])];
    },
  }),
  mod: binary('mod', {
    dtypes: NUMERIC,
    // Python semantics: the result has the sign of the divisor.
    row: (a, ai, as, b, bi, bs, o, oi, n) => {
      for (let k = 0; k < n; k++, ai += as, bi += bs) {
        const d = b[bi];
        let r = a[ai] % d;
        if (r !== 0 && r < 0 !== d < 0) r += d;
        o[oi + k] = r;
      }
    },
    grad: ({ inputs: [a, b], dys: [dy], needsInputGrad }) => [
      dy,
      needsInputGrad[1] ? m.negative(m.multiply(dy, m.floor(m.divide(a, b)))) : null,
    ],
    lower: (b, [x, y], _a, { inputs: [t] }) => {
      if (!isFloat(t.dtype)) return [b.op('Mod', [x, y], { fmod: 0 })];
      const zero = like(b, 0, t.dtype);
      const r = b.op('Mod', [x, y], { fmod: 1 });
      const fix = b.op('And', [
        b.op('Not', [b.op('Equal', [r, zero])]),
        b.op('Xor', [b.op('Less', [r, zero]), b.op('Less', [y, zero])]),
      ]);
      return [b.op('Where', [fix, b.op('Add', [r, y]), r])];
    },
  }),
  power: binary('power', {
    dtypes: NUMERIC,
    row: (a, ai, as, b, bi, bs, o, oi, n) => { for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = Math.pow(a[ai], b[bi]); },
    grad: ({ inputs: [a, b], outputs: [y], dys: [dy], needsInputGrad }) => [
      needsInputGrad[0] ? m.multiply(dy, m.multiply(b, m.power(a, m.subtract(b, 1)))) : null,
      // d/db a^b = a^b log(a), taken as 0 where a <= 0 (as TensorFlow does).
      needsInputGrad[1] ? m.multiply(dy, m.where(m.greater(a, 0), m.multiply(y, m.log(m.where(m.greater(a, 0), a, 1))), 0)) : null,
    ],
    // int32 goes through int64: ONNX Runtime's int32 Pow saturates on overflow (3^25 gave
    // -2147483648), while the eager kernel wraps like NumPy (1180052131). int64 holds every
    // power the eager kernel computes exactly (< 2^53); the cast back keeps the low 32 bits.
    lower: (b, [x, y], _a, { inputs: [t] }) => {
      if (t.dtype !== 'int32') return [b.op('Pow', [x, y])];
      const wide = (v: string) => b.op('Cast', [v], { to: ONNX_TYPE.int64 });
      return [b.op('Cast', [b.op('Pow', [wide(x), wide(y)])], { to: ONNX_TYPE.int32 })];
    },
  }),
  maximum: binary('maximum', {
    dtypes: NUMERIC,
    row: (a, ai, as, b, bi, bs, o, oi, n) => {
      for (let k = 0; k < n; k++, ai += as, bi += bs) { const x = a[ai], y = b[bi]; o[oi + k] = x >= y || x !== x ? x : y; }
    },
    // Ties send the gradient to the first operand (as TensorFlow does).
    grad: ({ inputs: [a, b], dys: [dy], needsInputGrad }) => {
      const first = m.greaterEqual(a, b);
      return [
        needsInputGrad[0] ? m.where(first, dy, 0) : null,
        needsInputGrad[1] ? m.where(first, 0, dy) : null,
      ];
    },
    lower: onnxBinary('Max'),
  }),
  minimum: binary('minimum', {
    dtypes: NUMERIC,
    row: (a, ai, as, b, bi, bs, o, oi, n) => {
      for (let k = 0; k < n; k++, ai += as, bi += bs) { const x = a[ai], y = b[bi]; o[oi + k] = x <= y || x !== x ? x : y; }
    },
    grad: ({ inputs: [a, b], dys: [dy], needsInputGrad }) => {
      const first = m.lessEqual(a, b);
      return [
        needsInputGrad[0] ? m.where(first, dy, 0) : null,
        needsInputGrad[1] ? m.where(first, 0, dy) : null,
      ];
    },
    lower: onnxBinary('Min'),
  }),
  equal: binary('equal', {
    dtypes: ANY, out: 'bool',
    row: (a, ai, as, b, bi, bs, o, oi, n) => { for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai] === b[bi] ? 1 : 0; },
    grad: nonDifferentiable("comparison 'equal' returns booleans"),
    lower: onnxBinary('Equal'),
  }),
  notEqual: binary('notEqual', {
    dtypes: ANY, out: 'bool',
    row: (a, ai, as, b, bi, bs, o, oi, n) => { for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai] !== b[bi] ? 1 : 0; },
    grad: nonDifferentiable("comparison 'notEqual' returns booleans"),
    lower: (b, [x, y]) => [b.op('Not', [b.op('Equal', [x, y])])],
  }),
  less: binary('less', {
    dtypes: NUMERIC, out: 'bool',
    row: (a, ai, as, b, bi, bs, o, oi, n) => { for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai] < b[bi] ? 1 : 0; },
    grad: nonDifferentiable("comparison 'less' returns booleans"),
    lower: onnxBinary('Less'),
  }),
  lessEqual: binary('lessEqual', {
    dtypes: NUMERIC, out: 'bool',
    row: (a, ai, as, b, bi, bs, o, oi, n) => { for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai] <= b[bi] ? 1 : 0; },
    grad: nonDifferentiable("comparison 'lessEqual' returns booleans"),
    lower: onnxBinary('LessOrEqual'),
  }),
  greater: binary('greater', {
    dtypes: NUMERIC, out: 'bool',
    row: (a, ai, as, b, bi, bs, o, oi, n) => { for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai] > b[bi] ? 1 : 0; },
    grad: nonDifferentiable("comparison 'greater' returns booleans"),
    lower: onnxBinary('Greater'),
  }),
  greaterEqual: binary('greaterEqual', {
    dtypes: NUMERIC, out: 'bool',
    row: (a, ai, as, b, bi, bs, o, oi, n) => { for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai] >= b[bi] ? 1 : 0; },
    grad: nonDifferentiable("comparison 'greaterEqual' returns booleans"),
    lower: onnxBinary('GreaterOrEqual'),
  }),
  logicalAnd: binary('logicalAnd', {
    dtypes: BOOL,
    row: (a, ai, as, b, bi, bs, o, oi, n) => { for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai] && b[bi] ? 1 : 0; },
    grad: nonDifferentiable("'logicalAnd' works on booleans"),
    lower: onnxBinary('And'),
  }),
  logicalOr: binary('logicalOr', {
    dtypes: BOOL,
    row: (a, ai, as, b, bi, bs, o, oi, n) => { for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai] || b[bi] ? 1 : 0; },
    grad: nonDifferentiable("'logicalOr' works on booleans"),
    lower: onnxBinary('Or'),
  }),

  where: {
    name: 'where',
    infer: ([c, a, b]) => {
      checkDType('where', c, BOOL, 'condition');
      if (a.dtype !== b.dtype) {
        throw new OpError('where', `Received: x1 with dtype ${a.dtype} and x2 with dtype ${b.dtype}; both must have the same dtype.`);
      }
      const shape = broadcastShapes(broadcastShapes(c.shape, a.shape, 'ops.where'), b.shape, 'ops.where');
      return [{ shape, dtype: a.dtype }];
    },
    kernel: ([c, a, b], _attrs, [out]) => {
      const shape = out.shape as number[];
      const size = shape.reduce((p, d) => p * d, 1);
      const result = broadcastValues(b, shape, out.dtype);
      if (size === 0) return [result];
      const plan = planBroadcast(shape, [c.shape, a.shape]);
      const [sc, sa] = [plan.strides[0].at(-1)!, plan.strides[1].at(-1)!];
      const cv = c.values, av = a.values;
      forEachRow(plan, ([ci0, ai0], oi, n) => {
        for (let k = 0, ci = ci0, ai = ai0; k < n; k++, ci += sc, ai += sa) if (cv[ci]) result[oi + k] = av[ai];
      });
      return [result];
    },
    grad: ({ inputs: [c], dys: [dy], needsInputGrad }) => [
      null,
      needsInputGrad[1] ? m.where(c, dy, 0) : null,
      needsInputGrad[2] ? m.where(c, 0, dy) : null,
    ],
    toOnnx: (b, [c, x, y]) => [b.op('Where', [c, x, y])],
  },

  cast: {
    name: 'cast',
    infer: ([x], { dtype }) => [{ shape: x.shape, dtype }],
    kernel: ([x], { dtype }) => {
      const out = castValues(x.values, x.dtype, dtype);
      return [out];
    },
    grad: ({ inputs: [x], dys: [dy] }) => [m.cast(dy, x.dtype)],
    toOnnx: (b, [x], { dtype }) => [b.op('Cast', [x], { to: ONNX_TYPE[dtype] })],
  },

  stopGradient: {
    name: 'stopGradient',
    infer: ([x]) => [{ shape: x.shape, dtype: x.dtype }],
    kernel: ([x]) => [x.values],
    grad: nonDifferentiable('ops.stopGradient blocks gradients on purpose'),
    toOnnx: (b, [x]) => [b.op('Identity', [x])],
  },
});

function castValues(values: TypedArray, from: DType, to: DType): TypedArray {
  const n = values.length;
  switch (to) {
    case 'float32': return Float32Array.from(values);
    case 'float64': return Float64Array.from(values);
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = values[i] !== 0 ? 1 : 0; // NaN is true, as in NumPy
      return out;
    }
    case 'int32': {
      if (from === 'int32' || from === 'bool') return Int32Array.from(values);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.trunc(values[i]);
      return out;
    }
  }
}
