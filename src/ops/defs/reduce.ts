/**
 * Reduction primitives. Axes arrive normalized (non-negative, sorted,
 * distinct) from the public wrappers in ../api/reduce.ts; `mean`, `var`,
 * `std`, `logsumexp` are composites there.
 */
import type { DType } from '../../tensor/dtype.ts';
import { type Dim, type Shape, formatShape } from '../../tensor/shape.ts';
import { defineOps, nonDifferentiable, OpError, type GradContext, type TensorType } from '../../engine/op.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { ONNX_TYPE, type OnnxEmitter } from '../../engine/onnx-types.ts';
import { argReduce, type Reducer, reduceValues } from '../kernels/reduce.ts';
import * as m from '../api/math.ts';
import * as a from '../api/array.ts';
import * as r from '../api/reduce.ts';

export interface ReduceAttrs {
  readonly axes: readonly number[];
  readonly keepdims: boolean;
}
export interface ArgReduceAttrs {
  readonly axis: number;
  readonly keepdims: boolean;
}
export interface CountAttrs {
  readonly axes: readonly number[];
  readonly dtype: DType;
}

export interface ReduceOpsAttrs {
  sum: ReduceAttrs; max: ReduceAttrs; min: ReduceAttrs; prod: ReduceAttrs;
  any: ReduceAttrs; all: ReduceAttrs;
  argmax: ArgReduceAttrs; argmin: ArgReduceAttrs;
  reducedSize: CountAttrs;
  sumLike: SumLikeAttrs;
}

/** `sumLike(g, like)`: the axes where `like` may have been broadcast (decided when the shapes are known). */
export interface SumLikeAttrs {
  readonly axes: readonly number[];
}

export function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): Dim[] {
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

function checkAxes(op: string, x: TensorType, axes: readonly number[]): void {
  for (const ax of axes) {
    if (!Number.isInteger(ax) || ax < 0 || ax >= x.shape.length) {
      throw new OpError(op, `Received: axis=${ax} for a tensor of rank ${x.shape.length}.`);
    }
  }
}

function inferReduce(op: string, dtypes: readonly DType[], out?: DType) {
  return ([x]: readonly TensorType[], { axes, keepdims }: ReduceAttrs): TensorType[] => {
    if (!dtypes.includes(x.dtype)) throw new OpError(op, `Received: x with dtype ${x.dtype}; expected one of ${dtypes.join(', ')}.`);
    checkAxes(op, x, axes);
    return [{ shape: reducedShape(x.shape, axes, keepdims), dtype: out ?? x.dtype }];
  };
}

/** ONNX Reduce* with axes as an input (opset 18). An empty axes list reduces nothing. */
function lowerReduce(b: OnnxEmitter, opType: string, x: string, { axes, keepdims }: ReduceAttrs): string {
  if (axes.length === 0) return b.op('Identity', [x]);
  return b.op(opType, [x, b.int64s(axes)], { keepdims: keepdims ? 1 : 0 });
}

/**
 * ReduceSum / ReduceProd for int32 go through int64. ONNX Runtime's int32
 * ReduceSum and ReduceProd saturate on overflow (a sum of [2^31 - 1, 1, 5]
 * gave 2147483647), while the eager kernel wraps around like NumPy and
 * TensorFlow (-2147483643). Accumulating in int64 and casting back (which
 * keeps the low 32 bits) wraps the same way: exactly for sums, and for
 * products as far as the eager kernel is exact (|product| < 2^53).
 */
function lowerIntSafeReduce(b: OnnxEmitter, opType: string, x: string, attrs: ReduceAttrs, dtype: DType): string {
  if (dtype !== 'int32' || attrs.axes.length === 0) return lowerReduce(b, opType, x, attrs);
  const wide = lowerReduce(b, opType, b.op('Cast', [x], { to: ONNX_TYPE.int64 }), attrs);
  return b.op('Cast', [wide], { to: ONNX_TYPE.int32 });
}

const NUMERIC: readonly DType[] = ['float32', 'float64', 'int32'];
const BOOL: readonly DType[] = ['bool'];

const sumR: Reducer = {
  init: 0,
  run: (x, s, n) => { let acc = 0; for (let i = s; i < s + n; i++) acc += x[i]; return acc; },
  row: (acc, x, xi, n) => { for (let i = 0; i < n; i++) acc[i] += x[xi + i]; },
};
const maxR: Reducer = {
  init: -Infinity,
  run: (x, s, n) => { let acc = -Infinity; for (let i = s; i < s + n; i++) { const v = x[i]; if (v > acc || v !== v) acc = v; if (acc !== acc) break; } return acc; },
  row: (acc, x, xi, n) => { for (let i = 0; i < n; i++) { const v = x[xi + i]; if (v > acc[i] || v !== v) acc[i] = v; } },
};
const minR: Reducer = {
  init: Infinity,
  run: (x, s, n) => { let acc = Infinity; for (let i = s; i < s + n; i++) { const v = x[i]; if (v < acc || v !== v) acc = v; if (acc !== acc) break; } return acc; },
  row: (acc, x, xi, n) => { for (let i = 0; i < n; i++) { const v = x[xi + i]; if (v < acc[i] || v !== v) acc[i] = v; } },
};
const prodR: Reducer = {
  init: 1,
  run: (x, s, n) => { let acc = 1; for (let i = s; i < s + n; i++) acc *= x[i]; return acc; },
  row: (acc, x, xi, n) => { for (let i = 0; i < n; i++) acc[i] *= x[xi + i]; },
};
const anyR: Reducer = {
  init: 0,
  run: (x, s, n) => { for (let i = s; i < s + n; i++) if (x[i]) return 1; return 0; },
  row: (acc, x, xi, n) => { for (let i = 0; i < n; i++) if (x[xi + i]) acc[i] = 1; },
};
const allR: Reducer = {
  init: 1,
  run: (x, s, n) => { for (let i = s; i < s + n; i++) if (!x[i]) return 0; return 1; },
  row: (acc, x, xi, n) => { for (let i = 0; i < n; i++) if (!x[xi + i]) acc[i] = 0; },
};

/** dy (reduced, maybe without keepdims) broadcast back to x's shape. */
function expandBack(dy: Tensor, x: Tensor, { axes, keepdims }: ReduceAttrs): Tensor {
  const kept = keepdims || axes.length === 0 ? dy : a.expandDims(dy, axes);
  return a.broadcastLike(kept, x);
}

/** Gradient of max/min: split evenly between tied extreme elements (as TensorFlow does). */
function extremumGrad({ inputs: [x], outputs: [y], dys: [dy], attrs }: GradContext<ReduceAttrs>): Tensor[] {
  const yb = expandBack(y, x, attrs);
  const mask = m.cast(m.equal(x, yb), x.dtype);
  const count = expandBack(r.sum(mask, attrs.axes, attrs.keepdims), x, attrs);
  return [m.divide(m.multiply(expandBack(dy, x, attrs), mask), count)];
}

export const reduceOps = defineOps<ReduceOpsAttrs>()({
  sum: {
    name: 'sum',
    infer: inferReduce('sum', NUMERIC),
    kernel: ([x], { axes }, [out]) => [reduceValues(sumR, x.values, x.shape, axes, x.dtype, out.dtype)],
    grad: ({ inputs: [x], dys: [dy], attrs }) => [expandBack(dy, x, attrs)],
    toOnnx: (b, [x], attrs, { inputs: [t] }) => [lowerIntSafeReduce(b, 'ReduceSum', x, attrs, t.dtype)],
  },
  max: {
    name: 'max',
    infer: inferReduce('max', NUMERIC),
    kernel: ([x], { axes }, [out]) => {
      if (axes.some((ax) => x.shape[ax] === 0)) throw new OpError('max', 'cannot reduce an empty axis (there is no maximum of zero elements).');
      return [reduceValues(maxR, x.values, x.shape, axes, x.dtype, out.dtype)];
    },
    grad: extremumGrad,
    toOnnx: (b, [x], attrs) => [lowerReduce(b, 'ReduceMax', x, attrs)],
  },
  min: {
    name: 'min',
    infer: inferReduce('min', NUMERIC),
    kernel: ([x], { axes }, [out]) => {
      if (axes.some((ax) => x.shape[ax] === 0)) throw new OpError('min', 'cannot reduce an empty axis (there is no minimum of zero elements).');
      return [reduceValues(minR, x.values, x.shape, axes, x.dtype, out.dtype)];
    },
    grad: extremumGrad,
    toOnnx: (b, [x], attrs) => [lowerReduce(b, 'ReduceMin', x, attrs)],
  },
  prod: {
    name: 'prod',
    infer: inferReduce('prod', NUMERIC),
    kernel: ([x], { axes }, [out]) => [reduceValues(prodR, x.values, x.shape, axes, x.dtype, out.dtype)],
    // d prod / d x_i = product of the others. Computed without dividing by
    // zero: with no zero it is prod / x_i; with one zero only that element
    // gets the product of the non-zeros; with two or more zeros it is 0.
    grad: ({ inputs: [x], dys: [dy], attrs }) => {
      const isZero = m.equal(x, 0);
      const safe = m.where(isZero, 1, x);
      const prodNonZero = expandBack(r.prod(safe, attrs.axes, attrs.keepdims), x, attrs);
      const zeros = expandBack(r.sum(m.cast(isZero, 'int32'), attrs.axes, attrs.keepdims), x, attrs);
      const g = m.where(
        m.equal(zeros, 0),
        m.divide(prodNonZero, safe),
        m.where(m.logicalAnd(m.equal(zeros, 1), isZero), prodNonZero, 0),
      );
      return [m.multiply(expandBack(dy, x, attrs), g)];
    },
    toOnnx: (b, [x], attrs, { inputs: [t] }) => [lowerIntSafeReduce(b, 'ReduceProd', x, attrs, t.dtype)],
  },
  any: {
    name: 'any',
    infer: inferReduce('any', BOOL),
    kernel: ([x], { axes }, [out]) => [reduceValues(anyR, x.values, x.shape, axes, x.dtype, out.dtype)],
    grad: nonDifferentiable("'any' works on booleans"),
    toOnnx: (b, [x], attrs) => [b.op('Cast', [lowerReduce(b, 'ReduceMax', b.op('Cast', [x], { to: ONNX_TYPE.int32 }), attrs)], { to: ONNX_TYPE.bool })],
  },
  all: {
    name: 'all',
    infer: inferReduce('all', BOOL),
    kernel: ([x], { axes }, [out]) => [reduceValues(allR, x.values, x.shape, axes, x.dtype, out.dtype)],
    grad: nonDifferentiable("'all' works on booleans"),
    toOnnx: (b, [x], attrs) => [b.op('Cast', [lowerReduce(b, 'ReduceMin', b.op('Cast', [x], { to: ONNX_TYPE.int32 }), attrs)], { to: ONNX_TYPE.bool })],
  },
  argmax: {
    name: 'argmax',
    infer: ([x], { axis, keepdims }) => {
      if (!NUMERIC.includes(x.dtype)) throw new OpError('argmax', `Received: x with dtype ${x.dtype}; expected a numeric tensor.`);
      checkAxes('argmax', x, [axis]);
      if (x.shape[axis] === 0) throw new OpError('argmax', `cannot take argmax over an empty axis ${axis} (shape ${JSON.stringify(x.shape)}).`);
      return [{ shape: reducedShape(x.shape, [axis], keepdims), dtype: 'int32' }];
    },
    kernel: ([x], { axis }) => [argReduce(x.values, x.shape, axis, x.dtype, true)],
    grad: nonDifferentiable("'argmax' returns integer indices, which have no gradient"),
    toOnnx: (b, [x], { axis, keepdims }) => [b.op('Cast', [b.op('ArgMax', [x], { axis, keepdims: keepdims ? 1 : 0 })], { to: ONNX_TYPE.int32 })],
  },
  argmin: {
    name: 'argmin',
    infer: ([x], { axis, keepdims }) => {
      if (!NUMERIC.includes(x.dtype)) throw new OpError('argmin', `Received: x with dtype ${x.dtype}; expected a numeric tensor.`);
      checkAxes('argmin', x, [axis]);
      if (x.shape[axis] === 0) throw new OpError('argmin', `cannot take argmin over an empty axis ${axis} (shape ${JSON.stringify(x.shape)}).`);
      return [{ shape: reducedShape(x.shape, [axis], keepdims), dtype: 'int32' }];
    },
    kernel: ([x], { axis }) => [argReduce(x.values, x.shape, axis, x.dtype, false)],
    grad: nonDifferentiable("'argmin' returns integer indices, which have no gradient"),
    toOnnx: (b, [x], { axis, keepdims }) => [b.op('Cast', [b.op('ArgMin', [x], { axis, keepdims: keepdims ? 1 : 0 })], { to: ONNX_TYPE.int32 })],
  },
  // The gradient of a broadcast, summed back to the input's shape, where only the run-time
  // shapes tell which axes were broadcast: an unknown dim of `like` is 1 (then summed over)
  // or equal to g's (then kept). TensorFlow's BroadcastGradientArgs plays this part.
  sumLike: {
    name: 'sumLike',
    infer: ([g, like], { axes }) => {
      if (!NUMERIC.includes(g.dtype)) throw new OpError('sumLike', `Received: g with dtype ${g.dtype}; expected a numeric tensor.`);
      if (g.shape.length !== like.shape.length) throw new OpError('sumLike', `Received: g of rank ${g.shape.length} and like of rank ${like.shape.length}; the ranks must match.`);
      checkAxes('sumLike', g, axes);
      // A known `like` dim must be 1 or g's: otherwise the kernel kept g's size under like's
      // shape and failed with an internal error (ops.sumLike is public).
      for (const ax of axes) {
        const [gd, ld] = [g.shape[ax], like.shape[ax]];
        if (gd !== null && ld !== null && ld !== 1 && ld !== gd) {
          throw new OpError('sumLike', `Received: g of shape ${formatShape(g.shape)} and like of shape ${formatShape(like.shape)}; along axis ${ax} like must be 1 or ${gd}.`);
        }
      }
      // Where `like` is unknown the result is `like`'s size, known only at run time.
      return [{ shape: g.shape.map((d, i) => (axes.includes(i) ? like.shape[i] : d)), dtype: g.dtype }];
    },
    kernel: ([g, like], { axes }) => [reduceValues(sumR, g.values, g.shape, axes.filter((ax) => like.shape[ax] === 1 && g.shape[ax] !== 1), g.dtype, g.dtype)],
    grad: ({ inputs: [g], dys: [dy] }) => [a.broadcastLike(dy, g), null],
    shapeOnlyInputs: [1],
    toOnnx: (b, [g, like], { axes }, { inputs: [t] }) => {
      if (axes.length === 0) return [b.op('Identity', [g])];
      const candidates = b.int64s(axes);
      const dimsOf = (x: string) => b.op('Gather', [b.op('Shape', [x]), candidates], { axis: 0 });
      const one = b.int64s([1]);
      const broadcast = b.op('And', [b.op('Equal', [dimsOf(like), one]), b.op('Not', [b.op('Equal', [dimsOf(g), one])])]);
      const summed = b.op('Compress', [candidates, broadcast], { axis: 0 });
      // No axis to sum: ReduceSum with empty axes and noop_with_empty_axes passes g through.
      return [t.dtype === 'int32'
        ? b.op('Cast', [b.op('ReduceSum', [b.op('Cast', [g], { to: ONNX_TYPE.int64 }), summed], { keepdims: 1, noop_with_empty_axes: 1 })], { to: ONNX_TYPE.int32 })
        : b.op('ReduceSum', [g, summed], { keepdims: 1, noop_with_empty_axes: 1 })];
    },
  },
  reducedSize: {
    name: 'reducedSize',
    infer: ([x], { axes, dtype }) => {
      checkAxes('reducedSize', x, axes);
      return [{ shape: [], dtype }];
    },
    kernel: ([x], { axes }, [out]) => {
      const v = new (out.dtype === 'float64' ? Float64Array : out.dtype === 'int32' ? Int32Array : Float32Array)(1);
      v[0] = axes.reduce((p, ax) => p * x.shape[ax], 1);
      return [v];
    },
    grad: nonDifferentiable("'reducedSize' depends only on the shape of its input"),
    toOnnx: (b, [x], { axes, dtype }) => {
      const dims = b.op('Gather', [b.op('Shape', [x]), b.int64s(axes)], { axis: 0 });
      return [b.op('Cast', [b.op('ReduceProd', [dims], { keepdims: 0 })], { to: ONNX_TYPE[dtype] })];
    },
  },
});
