/**
 * Linear-algebra primitives. `matmul` is the only one: rank >= 2 operands
 * with broadcast batch dims, and flags that read either operand transposed
 * (gradients use them instead of materializing transposes). 1-D operands,
 * `dot`, `tensordot` and `einsum` are composites in ../api/linalg.ts.
 */
import { allocate, type DType } from '../../tensor/dtype.ts';
import { type Dim, broadcastShapes, formatShape } from '../../tensor/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { defineOps, OpError, type TensorType } from '../../engine/op.ts';
import { dispatch1 } from '../../engine/dispatch.ts';
import { matmulValues } from '../kernels/matmul.ts';

export interface MatmulAttrs {
  /** Read x1 as its transpose over the last two axes. */
  readonly transposeA: boolean;
  /** Read x2 as its transpose over the last two axes. */
  readonly transposeB: boolean;
}

export interface LinalgOpsAttrs {
  matmul: MatmulAttrs;
}

const MATMUL_DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

function inferMatmul([a, b]: readonly TensorType[], { transposeA, transposeB }: MatmulAttrs): TensorType[] {
  if (!MATMUL_DTYPES.includes(a.dtype)) {
    throw new OpError('matmul', `Received: x1 with dtype ${a.dtype}; expected one of ${MATMUL_DTYPES.join(', ')}.`);
  }
  if (a.dtype !== b.dtype) {
    throw new OpError('matmul', `Received: x1 with dtype ${a.dtype} and x2 with dtype ${b.dtype}; both operands must have the same dtype.`);
  }
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw new OpError('matmul', `Received: x1 of shape ${formatShape(a.shape)} and x2 of shape ${formatShape(b.shape)}; the primitive expects operands of rank >= 2 (ops.matmul handles 1-D operands).`);
  }
  const ra = a.shape.length, rb = b.shape.length;
  const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const Ka = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (Ka !== null && Kb !== null && Ka !== Kb) {
    throw new OpError(
      'matmul',
      `Received: x1 of shape ${formatShape(a.shape)} and x2 of shape ${formatShape(b.shape)}${transposeA || transposeB ? ` (transposeA=${transposeA}, transposeB=${transposeB})` : ''}; ` +
        `the contracted dimensions ${Ka} and ${Kb} must be equal.`,
    );
  }
  let batch: Dim[];
  try {
    batch = broadcastShapes(a.shape.slice(0, ra - 2), b.shape.slice(0, rb - 2), 'ops.matmul');
  } catch {
    throw new OpError(
      'matmul',
      `Received: x1 of shape ${formatShape(a.shape)} and x2 of shape ${formatShape(b.shape)}; the batch dimensions ${formatShape(a.shape.slice(0, ra - 2))} and ${formatShape(b.shape.slice(0, rb - 2))} cannot be broadcast together.`,
    );
  }
  return [{ shape: [...batch, M, N], dtype: a.dtype }];
}

/** matmul with transpose flags, for gradient rules. */
function mm(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  return dispatch1(linalgOps.matmul, [a, b], { transposeA, transposeB });
}

/** perm swapping the last two axes of a rank-r tensor. */
function swapLast(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

export const linalgOps = defineOps<LinalgOpsAttrs>()({
  matmul: {
    name: 'matmul',
    infer: inferMatmul,
    kernel: ([a, b], { transposeA, transposeB }, [out]) => {
      const values = allocate(out.dtype, out.shape.reduce((p, d) => p * d, 1));
      matmulValues(a.values, a.shape, transposeA, b.values, b.shape, transposeB, values, out.shape);
      return [values];
    },
    // C = op(A) op(B): d op(A) = dC op(B)^T, d op(B) = op(A)^T dC. The gradients keep the
    // output's batch dims; the backward pass sums them over broadcast batch dims.
    grad: ({ inputs: [a, b], dys: [dy], attrs: { transposeA: tA, transposeB: tB }, needsInputGrad }) => [
      needsInputGrad[0] ? (tA ? mm(b, dy, tB, true) : mm(dy, b, false, !tB)) : null,
      needsInputGrad[1] ? (tB ? mm(dy, a, true, tA) : mm(a, dy, !tA, false)) : null,
    ],
    toOnnx: (b, [x, y], { transposeA, transposeB }, { inputs: [tx, ty] }) => {
      const xa = transposeA ? b.op('Transpose', [x], { perm: swapLast(tx.shape.length) }) : x;
      const yb = transposeB ? b.op('Transpose', [y], { perm: swapLast(ty.shape.length) }) : y;
      return [b.op('MatMul', [xa, yb])];
    },
  },
});
