/**
 * The backward pass (reverse-mode accumulation over a tape's records). Rules
 * return gradients shaped like the op's broadcast output; this module reduces
 * them to each input's shape and sums contributions, so rules stay pure.
 */
import { isFloat } from '../tensor/dtype.ts';
import { broadcastAxes, formatShape } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { isNonDifferentiable } from '../engine/op.ts';
import type { OpRecord } from '../engine/recording.ts';
import { withNameScope } from '../engine/scope.ts';
import { add, cast } from '../ops/api/math.ts';
import { onesLike, zerosLike, reshapeLike } from '../ops/api/array.ts';
import { sum, sumLike } from '../ops/api/reduce.ts';

/** Sums `g` over the axes along which `like` was broadcast, giving `like`'s shape. */
export function unbroadcast(g: Tensor, like: Tensor): Tensor {
  if (g.shape.length < like.shape.length) {
    throw new Error(`Internal error: a gradient of shape ${formatShape(g.shape)} is smaller than its input ${formatShape(like.shape)}.`);
  }
  const { leading, ones } = broadcastAxes(like.shape, g.shape);
  let out = g;
  if (leading.length) out = sum(out, { axis: leading });
  if (ones.length) out = sum(out, { axis: ones, keepdims: true });
  // An unknown dim of `like` hides whether it was 1 (broadcast: sum) or not: the run-time
  // shapes decide. (Treating two unknown dims as equal gave silently wrong gradients when
  // one was 1 at run time.)
  const undecided = like.shape.flatMap((d, i) => (d === null && out.shape[i] !== 1 ? [i] : []));
  if (undecided.length) out = sumLike(out, like, undecided);
  // Unknown dims of g where `like` is known: a run-time reshape settles them (and checks them).
  if (!(out.shape.length === like.shape.length && out.shape.every((d, i) => d === like.shape[i]))) out = reshapeLike(out, like);
  return out;
}

export function backward(
  records: readonly OpRecord[],
  targets: readonly Tensor[],
  seeds: readonly Tensor[] | undefined,
  sources: readonly Tensor[],
): Map<number, Tensor> {
  // Which tensors depend on a source: only their gradients are worth computing.
  const relevant = new Set<number>(sources.map((s) => s.id));
  for (const r of records) {
    if (r.inputs.some((t) => relevant.has(t.id))) for (const o of r.outputs) relevant.add(o.id);
  }

  const grads = new Map<number, Tensor>();
  const accumulate = (t: Tensor, g: Tensor) => {
    const prev = grads.get(t.id);
    grads.set(t.id, prev ? add(prev, g) : g);
  };
  targets.forEach((t, i) => {
    const seed = seeds?.[i] ?? onesLike(t);
    if (seed.dtype !== t.dtype) throw new TypeError(`GradientTape.gradient: output gradient ${i} has dtype ${seed.dtype}, its target has ${t.dtype}.`);
    accumulate(t, seed);
  });

  for (let k = records.length - 1; k >= 0; k--) {
    const r = records[k];
    if (isNonDifferentiable(r.def.grad)) continue;
    const dys = r.outputs.map((o) => grads.get(o.id));
    if (dys.every((g) => g === undefined)) continue;
    const shapeOnly = r.def.shapeOnlyInputs ?? [];
    const needsInputGrad = r.inputs.map((t, i) => relevant.has(t.id) && isFloat(t.dtype) && !shapeOnly.includes(i));
    if (!needsInputGrad.some(Boolean)) continue;
    const rule = r.def.grad;
    const inputGrads = withNameScope(r.scope ? `${r.scope}/grad` : 'grad', () =>
      rule({
        inputs: r.inputs,
        outputs: r.outputs,
        attrs: r.attrs,
        dys: r.outputs.map((o, i) => dys[i] ?? zerosLike(o)),
        needsInputGrad,
      }),
    );
    r.inputs.forEach((input, i) => {
      const g = inputGrads[i];
      if (!needsInputGrad[i] || !g) return;
      const gi = unbroadcast(g.dtype === input.dtype ? g : cast(g, input.dtype), input);
      accumulate(input, gi);
    });
  }
  return grads;
}
