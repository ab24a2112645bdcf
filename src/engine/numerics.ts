/**
 * The check-numerics switch (strata.debugging.enableCheckNumerics). When on,
 * every op's floating-point outputs are checked: eagerly by an op hook, and
 * in compiled functions by running them on the interpreter, which checks
 * each node. The first NaN or Inf raises a NumericsError naming the op, the
 * layer path, the step, and whether an input was already non-finite.
 */
import { isFloat } from '../tensor/dtype.ts';
import type { TypedArray } from '../tensor/dtype.ts';
import type { Tensor } from '../tensor/tensor.ts';

let enabled = false;
/** The current step (fit's training step, or a compiled function's call count), for messages. */
let step: { label: string; index: number } | null = null;

export function setCheckNumerics(value: boolean): void {
  enabled = value;
}

export function checkNumericsEnabled(): boolean {
  return enabled;
}

export function setCurrentStep(label: string, index: number): void {
  step = { label, index };
}

export function clearCurrentStep(): void {
  step = null;
}

export function firstNonFinite(values: TypedArray): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v || v === Infinity || v === -Infinity) return i;
  }
  return -1;
}

export class NumericsError extends Error {
  constructor(
    readonly op: string,
    readonly scope: string,
    readonly step: { label: string; index: number } | null,
    readonly inputWasNonFinite: boolean,
    readonly value: number,
    message: string,
  ) {
    super(message);
    this.name = 'NumericsError';
  }
}

/** Throws a NumericsError if an output of `op` holds NaN or Inf. `where` describes eager or graph mode. */
export function checkOpOutputs(op: string, scope: string, inputs: readonly Tensor[], outputs: readonly Tensor[], where: string): void {
  for (let k = 0; k < outputs.length; k++) {
    const o = outputs[k];
    if (!isFloat(o.dtype) || !o._values) continue;
    const bad = firstNonFinite(o._values);
    if (bad < 0) continue;
    const inputWasNonFinite = inputs.some((t) => isFloat(t.dtype) && t._values !== null && firstNonFinite(t._values) >= 0);
    const value = o._values[bad];
    const layer = scope ? ` in layer '${scope.replace(/\/grad$/, '')}'${scope.endsWith('/grad') || scope === 'grad' ? ' (its gradient)' : ''}` : '';
    const at = step ? ` at ${step.label} ${step.index}` : '';
    const cause = inputWasNonFinite
      ? 'An input of this op was already non-finite, so the problem started earlier (this is the first op checked after it).'
      : `All its inputs were finite: this op produced the first ${Number.isNaN(value) ? 'NaN' : value > 0 ? 'Inf' : '-Inf'} (e.g. log of 0, division by 0, exp overflow, sqrt of a negative).`;
    throw new NumericsError(
      op,
      scope,
      step,
      inputWasNonFinite,
      value,
      `check numerics: op '${op}'${layer}${at} (${where}) produced ${value} in output ${k} (element ${bad} of shape [${o.shape.join(', ')}]). ${cause}`,
    );
  }
}
