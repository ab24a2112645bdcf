/**
 * Turning what users pass (numbers, arrays, variables, tensors) into tensors,
 * and the dtype promotion of mixed operands.
 */
import { type DType, floatTypeFor, isBool, isFloat, promoteTypes } from '../tensor/dtype.ts';
import { tensor, type TensorData } from '../tensor/create.ts';
import { Tensor } from '../tensor/tensor.ts';
import { Variable } from '../engine/variable.ts';
import { describe } from '../tensor/shape.ts';

/** Anything an op accepts where a tensor is expected. */
export type TensorLike = Tensor | Variable | TensorData;

export function isTensorLike(x: unknown): x is TensorLike {
  return (
    x instanceof Tensor ||
    x instanceof Variable ||
    typeof x === 'number' ||
    typeof x === 'boolean' ||
    Array.isArray(x) ||
    (ArrayBuffer.isView(x) && !(x instanceof DataView))
  );
}

/** Converts to a tensor; plain data becomes `dtype` (default: float32, bool for booleans). */
export function toTensor(x: TensorLike, where: string, dtype?: DType): Tensor {
  if (x instanceof Tensor) return x;
  if (x instanceof Variable) return x.read();
  if (!isTensorLike(x)) {
    throw new TypeError(`ops.${where}: expected a tensor, a Variable, a number or an array. Received: ${describe(x)}`);
  }
  return tensor(x, undefined, dtype);
}

/**
 * A JavaScript number next to a tensor is "weak": it takes the tensor's
 * dtype (`ops.multiply(x, 0.5)` stays float32, `ops.add(i, 1)` stays int32)
 * unless it cannot be represented (a fraction next to an int tensor makes
 * the result float32), as in Keras 3 and JAX.
 */
function weakDType(value: number | boolean, other: DType): DType {
  if (typeof value === 'boolean') return other;
  if (isFloat(other)) return other;
  if (Number.isInteger(value)) return isBool(other) ? 'int32' : other;
  return 'float32';
}

function isWeak(x: TensorLike): x is number | boolean {
  return typeof x === 'number' || typeof x === 'boolean';
}

/** Converts operands and promotes them to a common dtype (casting with `cast`). */
export function promoteOperands(where: string, operands: readonly TensorLike[], cast: (t: Tensor, d: DType) => Tensor): Tensor[] {
  const strong = operands.filter((x) => !isWeak(x)).map((x) => toTensor(x, where));
  let dtype: DType | null = null;
  for (const t of strong) dtype = dtype === null ? t.dtype : promoteTypes(dtype, t.dtype);
  if (dtype === null) {
    // Only JavaScript scalars: float32 like strata.tensor(), or bool when all are booleans.
    dtype = operands.every((v) => typeof v === 'boolean') ? 'bool' : 'float32';
  }
  for (const x of operands) if (isWeak(x)) dtype = promoteTypes(dtype, weakDType(x, dtype));
  let strongIndex = 0;
  return operands.map((x) => {
    const t = isWeak(x) ? tensor(x, [], dtype!) : strong[strongIndex++];
    return t.dtype === dtype ? t : cast(t, dtype!);
  });
}

/** Converts and, for integer or bool inputs, casts to float (for sqrt, exp, true division...). */
export function toFloatTensor(x: TensorLike, where: string, cast: (t: Tensor, d: DType) => Tensor): Tensor {
  const t = toTensor(x, where);
  const target = floatTypeFor(t.dtype);
  return t.dtype === target ? t : cast(t, target);
}
