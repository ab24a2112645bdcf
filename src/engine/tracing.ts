/**
 * The seam between dispatch and the graph tracer. While a `strata.fn` is
 * being traced, a Tracer is current: every op, variable read and variable
 * assignment goes to it instead of running eagerly. The graph layer
 * implements Tracer; the engine only knows this interface.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { OpDef, TensorType } from './op.ts';
import type { Variable } from './variable.ts';

export interface Tracer {
  /** Name of the function being traced, for error messages. */
  readonly name: string;
  /** Records a node and returns symbolic outputs of the given types. */
  recordOp(def: OpDef<any>, inputs: readonly Tensor[], attrs: unknown, outputTypes: readonly TensorType[], scope: string): Tensor[];
  readVariable(variable: Variable): Tensor;
  assignVariable(variable: Variable, value: Tensor): void;
  /** Called when a Variable is constructed during tracing. */
  variableCreated(variable: Variable): void;
}

let current: Tracer | null = null;
let eagerOverride = false;

export function currentTracer(): Tracer | null {
  return current;
}

export function withTracer<T>(tracer: Tracer | null, fn: () => T): T {
  const previous = current;
  current = tracer;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

/** `strata.config.runFunctionsEagerly(true)`: every strata.fn runs its function eagerly, op by op. */
export function setRunFunctionsEagerly(value: boolean): void {
  eagerOverride = value;
}

export function functionsRunEagerly(): boolean {
  return eagerOverride;
}

/**
 * Runs `fn` eagerly even while tracing (TensorFlow's init_scope): for work
 * that must happen once, outside the graph, such as creating a layer's
 * weights on its first call inside a traced function.
 */
export function initScope<T>(fn: () => T): T {
  return withTracer(null, fn);
}
