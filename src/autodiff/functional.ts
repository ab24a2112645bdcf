/**
 * Functional gradients in the JAX style: `grad(f)` and `valueAndGrad(f)`
 * return functions. Unlike GradientTape.gradient, inputs the value does not
 * depend on get zero gradients (not null), as in JAX.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { type TensorLike, toTensor } from '../ops/convert.ts';
import { zerosLike } from '../ops/api/array.ts';
import { GradientTape } from './tape.ts';

export interface GradOptions {
  /** Which positional arguments to differentiate (default 0). A list gives a list of gradients. */
  argnums?: number | readonly number[];
}

type GradResult<O extends GradOptions> = O['argnums'] extends readonly number[] ? Tensor[] : Tensor;

export function valueAndGrad<O extends GradOptions = { argnums?: number }>(
  f: (...args: Tensor[]) => Tensor,
  options?: O,
): (...args: TensorLike[]) => [Tensor, GradResult<O>] {
  const argnums = options?.argnums ?? 0;
  const list = typeof argnums === 'number' ? [argnums] : [...argnums];
  return (...args: TensorLike[]) => {
    const tensors = args.map((a, i) => toTensor(a, `valueAndGrad argument ${i}`));
    for (const i of list) {
      if (i < 0 || i >= tensors.length) throw new RangeError(`valueAndGrad: argnums contains ${i}, but the function was called with ${tensors.length} arguments.`);
    }
    const tape = new GradientTape();
    const value = tape.record(() => f(...tensors));
    const grads = tape.gradient(value, list.map((i) => tensors[i])).map((g, k) => g ?? zerosLike(tensors[list[k]]));
    return [value, (typeof argnums === 'number' ? grads[0] : grads) as GradResult<O>];
  };
}

export function grad<O extends GradOptions = { argnums?: number }>(
  f: (...args: Tensor[]) => Tensor,
  options?: O,
): (...args: TensorLike[]) => GradResult<O> {
  const vg = valueAndGrad(f, options);
  return (...args: TensorLike[]) => vg(...args)[1];
}
