/**
 * Why a gradient is null. The tape records every op in its scope, so after a
 * null result we can search the recorded graph: is there any path from the
 * source to the target, and if there is, which op cuts it?
 */
import { isFloat } from '../tensor/dtype.ts';
import { formatShape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { isNonDifferentiable } from '../engine/op.ts';
import type { OpRecord } from '../engine/recording.ts';
import type { Variable } from '../engine/variable.ts';

interface ReasonBase {
  /** A sentence for users: what happened and what to do. */
  readonly message: string;
}
export type NullGradientReason =
  | (ReasonBase & { readonly kind: 'notWatched' })
  | (ReasonBase & { readonly kind: 'notRead' })
  | (ReasonBase & { readonly kind: 'integerSource' })
  | (ReasonBase & { readonly kind: 'unconnected' })
  | (ReasonBase & { readonly kind: 'stopGradient'; readonly op: string; readonly scope: string })
  | (ReasonBase & { readonly kind: 'nonDifferentiable'; readonly op: string; readonly scope: string; readonly detail: string });

export function describeSource(s: Tensor | Variable): string {
  return s instanceof Tensor ? `the tensor of shape ${formatShape(s.shape)} (id ${s.id})` : `variable '${s.path}'`;
}

const inLayer = (scope: string) => (scope ? ` in layer '${scope}'` : '');

export function explainNullGradient(
  source: Tensor | Variable,
  sourceTensors: readonly Tensor[],
  targets: readonly Tensor[],
  records: readonly OpRecord[],
  wasRead: boolean,
  watched: boolean,
): NullGradientReason {
  const name = describeSource(source);
  if (!watched) {
    return {
      kind: 'notWatched',
      message: `No gradient for ${name}: the tape was created with watchAccessedVariables=false and the variable was not passed to tape.watch(), or it is not trainable.`,
    };
  }
  if (!(source instanceof Tensor) && !wasRead) {
    return {
      kind: 'notRead',
      message: `No gradient for ${name}: it was never read while the tape was recording. The computation inside tape.record() did not use it (is the layer that owns it called there?).`,
    };
  }
  if (!isFloat(source.dtype)) {
    return { kind: 'integerSource', message: `No gradient for ${name}: it has dtype ${source.dtype}; only floating-point values have gradients.` };
  }

  // Dependence ignoring cuts, but not through shape-only inputs (zerosLike(x) does not depend on x's values).
  const dataInputs = (r: OpRecord) => r.inputs.filter((_, i) => !(r.def.shapeOnlyInputs ?? []).includes(i));
  const forward = new Set(sourceTensors.map((t) => t.id));
  for (const r of records) if (dataInputs(r).some((t) => forward.has(t.id))) for (const o of r.outputs) forward.add(o.id);
  if (!targets.some((t) => forward.has(t.id))) {
    return {
      kind: 'unconnected',
      message: `No gradient for ${name}: the target does not depend on it. It is not on the path of the recorded computation from the sources to the target (an unused layer or output, or a value computed outside tape.record()).`,
    };
  }
  const backwardSet = new Set(targets.map((t) => t.id));
  for (let k = records.length - 1; k >= 0; k--) {
    const r = records[k];
    if (r.outputs.some((o) => backwardSet.has(o.id))) for (const t of dataInputs(r)) backwardSet.add(t.id);
  }
  for (const r of records) {
    const entersPath = dataInputs(r).some((t) => forward.has(t.id) && isFloat(t.dtype));
    const pathOutputs = r.outputs.filter((o) => backwardSet.has(o.id));
    if (!entersPath || pathOutputs.length === 0) continue;
    if (r.def.name === 'stopGradient') {
      return {
        kind: 'stopGradient',
        op: r.def.name,
        scope: r.scope,
        message: `No gradient for ${name}: its path to the target is cut by ops.stopGradient${inLayer(r.scope)}. stopGradient blocks backpropagation on purpose; remove it if ${name} should learn.`,
      };
    }
    const grad = r.def.grad;
    const integerOutput = pathOutputs.every((o) => !isFloat(o.dtype));
    if (isNonDifferentiable(grad) || integerOutput) {
      const detail = isNonDifferentiable(grad) ? grad.nonDifferentiable : `'${r.def.name}' outputs ${pathOutputs[0].dtype}, which carries no gradient`;
      return {
        kind: 'nonDifferentiable',
        op: r.def.name,
        scope: r.scope,
        detail,
        message: `No gradient for ${name}: its path to the target goes through the non-differentiable op '${r.def.name}'${inLayer(r.scope)} (${detail}). Use a differentiable alternative (e.g. softmax instead of argmax, a float computation instead of a cast to integers).`,
      };
    }
  }
  return {
    kind: 'unconnected',
    message: `No gradient for ${name}: no differentiable path from it to the target was recorded.`,
  };
}
