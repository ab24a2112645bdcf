/**
 * dispatch: the single choke point every op goes through. It checks and
 * infers types with the op definition, then either runs the eager kernel or
 * hands the op to the current tracer, and finally tells the hooks
 * (diagnostics) and the recording gradient tapes what happened.
 */
import { concreteSize, type ConcreteShape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { opHooks } from './hooks.ts';
import type { KernelInput, OpDef, TensorType } from './op.ts';
import { recordingTapes } from './recording.ts';
import { currentScope, scopeSuffix } from './scope.ts';
import { currentTracer } from './tracing.ts';
import { userCallSite } from './callsite.ts';

export function dispatch<A>(def: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor[] {
  const scope = currentScope();
  const tracer = currentTracer();
  let outputTypes: TensorType[];
  try {
    outputTypes = def.infer(inputs, attrs);
  } catch (e) {
    throw annotateError(e, scope, tracer !== null);
  }

  const hooks = opHooks();
  let outputs: Tensor[];
  let durationMs = 0;
  if (tracer) {
    outputs = tracer.recordOp(def, inputs, attrs, outputTypes, scope);
  } else {
    const kernelInputs: KernelInput[] = inputs.map((t) => {
      if (t._symbol) throw escapedSymbolError(t, def.name);
      return { values: t._values!, shape: t.shape as ConcreteShape, dtype: t.dtype };
    });
    const concreteTypes = outputTypes as { shape: ConcreteShape; dtype: TensorType['dtype'] }[];
    const start = hooks.length > 0 ? performance.now() : 0;
    const results = def.kernel(kernelInputs, attrs, concreteTypes);
    if (hooks.length > 0) durationMs = performance.now() - start;
    outputs = results.map((values, i) => {
      const type = concreteTypes[i];
      if (values.length !== concreteSize(type.shape)) {
        throw new Error(
          `Internal error in the kernel of op '${def.name}': output ${i} has ${values.length} values, its shape needs ${concreteSize(type.shape)}.`,
        );
      }
      return new Tensor(type.shape, type.dtype, values);
    });
  }

  for (const hook of hooks) {
    hook.afterOp({ def, inputs, outputs, attrs, scope, durationMs, symbolic: tracer !== null });
  }
  const tapes = recordingTapes();
  for (let i = tapes.length - 1; i >= 0; i--) tapes[i].recordOp({ def, inputs, outputs, attrs, scope });
  return outputs;
}

/** dispatch for single-output ops. */
export function dispatch1<A>(def: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  return dispatch(def, inputs, attrs)[0];
}

function escapedSymbolError(t: Tensor, op: string): Error {
  return new Error(
    `ops.${op}: received a symbolic tensor from function '${t._symbol!.traceName}' outside of its tracing ` +
      `(it was produced by op '${t._symbol!.producerName}'). Symbolic tensors exist only while a strata.fn is being traced; ` +
      `return the tensor from the function instead of storing it in an outer variable.`,
  );
}

/** Adds the layer path and, while tracing, the user's line of code to an op's error. */
function annotateError(e: unknown, scope: string, tracing: boolean): unknown {
  if (!(e instanceof Error)) return e;
  const site = tracing ? userCallSite() : null;
  const extra = scopeSuffix(scope) + (site ? ` (called at ${site})` : '');
  if (extra) e.message += extra;
  return e;
}
