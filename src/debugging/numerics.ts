/**
 * strata.debugging.checkNumerics / enableCheckNumerics / disableCheckNumerics:
 * find the first op that produces NaN or Inf, in eager and graph mode.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { addOpHook } from '../engine/hooks.ts';
import { NumericsError, checkOpOutputs, firstNonFinite, setCheckNumerics } from '../engine/numerics.ts';
import { currentScope } from '../engine/scope.ts';
import { isFloat } from '../tensor/dtype.ts';

let removeHook: (() => void) | null = null;

/**
 * Checks every op's output from now on. Eager ops are checked as they run;
 * compiled functions (strata.fn, model.fit) run on the TypeScript
 * interpreter while checking is on, so each node is checked (slower: this is
 * a debugging mode).
 */
export function enableCheckNumerics(): void {
  setCheckNumerics(true);
  removeHook ??= addOpHook({
    afterOp: (e) => {
      if (!e.symbolic) checkOpOutputs(e.def.name, e.scope, e.inputs, e.outputs, 'eager');
    },
  });
}

export function disableCheckNumerics(): void {
  setCheckNumerics(false);
  removeHook?.();
  removeHook = null;
}

/**
 * Throws if `t` holds NaN or Inf, with `message` (Keras's
 * `tf.debugging.check_numerics`); returns `t` so it can wrap an expression.
 * Eager tensors only: in a traced function, use enableCheckNumerics().
 */
export function checkNumerics(t: Tensor, message: string): Tensor {
  if (t._symbol) {
    throw new Error(`checkNumerics('${message}'): the tensor is symbolic (inside a traced function). Call strata.debugging.enableCheckNumerics() to check compiled functions node by node.`);
  }
  if (!isFloat(t.dtype)) return t;
  const bad = firstNonFinite(t._values!);
  if (bad >= 0) {
    const scope = currentScope();
    throw new NumericsError('checkNumerics', scope, null, true, t._values![bad], `${message}: tensor of shape [${t.shape.join(', ')}] holds ${t._values![bad]} at element ${bad}${scope ? ` (in layer '${scope}')` : ''}.`);
  }
  return t;
}

export { NumericsError };
