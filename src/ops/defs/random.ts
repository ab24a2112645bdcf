/**
 * The random primitive. `randomUniform` draws floats in [0, 1) as a pure
 * function of its inputs `seed` and `counter` (int32 scalars) and the element
 * index; see ../kernels/random.ts for the hash. It is deliberately not
 * `stateful`: state lives in the SeedGenerator's counter Variable (see
 * ../api/random.ts), so traced graphs take it as an input and return its
 * increment, and eager and compiled code draw the same numbers.
 *
 * The lowering computes the identical uint32 hash with standard ONNX ops
 * (ONNX Runtime's RandomUniform keeps hidden per-session state, so it
 * cannot be used).
 */
import type { DType } from '../../tensor/dtype.ts';
import { type Dim, formatShape } from '../../tensor/shape.ts';
import { defineOps, nonDifferentiable, OpError, type TensorType } from '../../engine/op.ts';
import { ONNX_TYPE, type OnnxEmitter } from '../../engine/onnx-types.ts';
import {
  fillUniform32, fillUniform64, streamKeys, MIX_MUL_1, MIX_MUL_2, SEED_SALT_1, SEED_SALT_2, TWO_POW_26, TWO_POW_M24, TWO_POW_M53,
} from '../kernels/random.ts';

export interface RandomUniformAttrs {
  /** The output shape; `null` dims are taken at run time from the optional third input (`like`), at the same position. */
  readonly shape: readonly Dim[];
  /** float32 (24 random bits per value) or float64 (53 bits). */
  readonly dtype: DType;
  /** Number of independent outputs of `shape` (as if one [n, count] array were drawn and split). */
  readonly count: number;
}

export interface RandomOpsAttrs {
  randomUniform: RandomUniformAttrs;
}

function checkScalarInt(op: string, t: TensorType, name: string): void {
  if (t.dtype !== 'int32' || t.shape.length !== 0) {
    throw new OpError(op, `Received: ${name} with dtype ${t.dtype} and shape ${formatShape(t.shape)}; expected an int32 scalar.`);
  }
}

function inferUniform(inputs: readonly TensorType[], { shape, dtype, count }: RandomUniformAttrs): TensorType[] {
  const op = 'randomUniform';
  if (inputs.length < 2 || inputs.length > 3) {
    throw new OpError(op, `Received: ${inputs.length} inputs; expected seed, counter and optionally a tensor to take unknown dims from.`);
  }
  checkScalarInt(op, inputs[0], 'seed');
  checkScalarInt(op, inputs[1], 'counter');
  if (dtype !== 'float32' && dtype !== 'float64') throw new OpError(op, `Received: dtype=${dtype}; expected float32 or float64.`);
  if (!Number.isInteger(count) || count < 1) throw new OpError(op, `Received: count=${count}; expected a positive integer.`);
  if (!Array.isArray(shape)) throw new OpError(op, `Received: shape=${String(shape)}; expected an array of dimensions.`);
  const like = inputs[2];
  for (const d of shape) {
    if (d === null ? like === undefined : !(Number.isInteger(d) && d >= 0)) {
      throw new OpError(
        op,
        `Received: shape=${formatShape(shape)}; expected non-negative integer dimensions (null only when a tensor to take them from is given).`,
      );
    }
  }
  if (like && shape.includes(null) && like.shape.length !== shape.length) {
    throw new OpError(op, `Received: shape=${formatShape(shape)} and a shape source of shape ${formatShape(like.shape)}; expected the same rank.`);
  }
  const out = shape.map((d, i) => (d === null ? like!.shape[i] : d));
  return Array.from({ length: count }, () => ({ shape: out, dtype }));
}

/** lowbias32 on a uint32 ONNX value. */
function mixOnnx(b: OnnxEmitter, x: string): string {
  const u32 = (v: number) => b.scalar(v, 'uint32');
  const xorShift = (v: string, s: number) => b.op('BitwiseXor', [v, b.op('BitShift', [v, u32(s)], { direction: 'RIGHT' })]);
  let h = xorShift(x, 16);
  h = b.op('Mul', [h, u32(MIX_MUL_1)]);
  h = xorShift(h, 15);
  h = b.op('Mul', [h, u32(MIX_MUL_2)]);
  return xorShift(h, 16);
}

export const randomOps = defineOps<RandomOpsAttrs>()({
  randomUniform: {
    name: 'randomUniform',
    infer: inferUniform,
    kernel: ([seed, counter], { dtype, count }, outputs) => {
      const [k1, k2] = streamKeys(seed.values[0], counter.values[0]);
      const n = outputs[0].shape.reduce((p, d) => p * d, 1);
      return outputs.map((_, t) => {
        if (dtype === 'float64') {
          const out = new Float64Array(n);
          fillUniform64(out, k1, k2, count, t);
          return out;
        }
        const out = new Float32Array(n);
        fillUniform32(out, k1, k2, count, t);
        return out;
      });
    },
    grad: nonDifferentiable("'randomUniform' draws random numbers: its values do not depend differentiably on its inputs"),
    shapeOnlyInputs: [2],
    toOnnx: (b, [seed, counter, like], { shape, dtype, count }) => {
      const u32 = (v: number) => b.scalar(v, 'uint32');
      const xor = (x: string, y: string) => b.op('BitwiseXor', [x, y]);
      const s = b.op('Cast', [seed], { to: ONNX_TYPE.uint32 });
      const c = b.op('Cast', [counter], { to: ONNX_TYPE.uint32 });
      const k1 = mixOnnx(b, xor(mixOnnx(b, xor(s, u32(SEED_SALT_1))), c));
      const k2 = mixOnnx(b, xor(k1, mixOnnx(b, xor(s, u32(SEED_SALT_2)))));

      const words = (dtype === 'float64' ? 2 : 1) * count;
      let shapeVec: string;
      let total: string;
      if (shape.every((d) => d !== null)) {
        const dims = shape as readonly number[];
        shapeVec = b.int64s(dims);
        total = b.scalar(dims.reduce((p, d) => p * d, 1) * words, 'int64');
      } else {
        // Unknown dims come from the shape of `like`: shape(like) * isUnknown + knownDims.
        const unknown = b.int64s(shape.map((d) => (d === null ? 1 : 0)));
        const known = b.int64s(shape.map((d) => d ?? 0));
        shapeVec = b.op('Add', [b.op('Mul', [b.op('Shape', [like]), unknown]), known]);
        total = b.op('Mul', [b.op('ReduceProd', [shapeVec], { keepdims: 0 }), b.scalar(words, 'int64')]);
      }
      // Range has no uint32 kernel on ONNX Runtime: count in int64, then cast.
      const index = b.op('Cast', [b.op('Range', [b.scalar(0, 'int64'), total, b.scalar(1, 'int64')])], { to: ONNX_TYPE.uint32 });
      const bits = mixOnnx(b, xor(mixOnnx(b, xor(index, k1)), k2));

      let uniform: string;
      if (dtype === 'float64') {
        const pairs = b.op('Reshape', [bits, b.int64s([-1, 2])]);
        const hi = b.op('Gather', [pairs, b.scalar(0, 'int64')], { axis: 1 });
        const lo = b.op('Gather', [pairs, b.scalar(1, 'int64')], { axis: 1 });
        const toDouble = (x: string, shift: number) =>
          b.op('Cast', [b.op('BitShift', [x, u32(shift)], { direction: 'RIGHT' })], { to: ONNX_TYPE.float64 });
        const combined = b.op('Add', [b.op('Mul', [toDouble(hi, 5), b.scalar(TWO_POW_26, 'float64')]), toDouble(lo, 6)]);
        uniform = b.op('Mul', [combined, b.scalar(TWO_POW_M53, 'float64')]);
      } else {
        const top = b.op('Cast', [b.op('BitShift', [bits, u32(8)], { direction: 'RIGHT' })], { to: ONNX_TYPE.float32 });
        uniform = b.op('Mul', [top, b.scalar(TWO_POW_M24, 'float32')]);
      }
      if (count === 1) return [b.op('Reshape', [uniform, shapeVec], { allowzero: 1 })];
      const columns = b.op('Reshape', [uniform, b.int64s([-1, count])]);
      return Array.from({ length: count }, (_, t) =>
        b.op('Reshape', [b.op('Gather', [columns, b.scalar(t, 'int64')], { axis: 1 }), shapeVec], { allowzero: 1 }),
      );
    },
  },
});
