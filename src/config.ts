/** `strata.config`: global settings. */
import { functionsRunEagerly, setRunFunctionsEagerly } from './engine/tracing.ts';
import { type GraphExecutorKind, graphConfig } from './graph/config.ts';

/** Run every strata.fn eagerly, op by op (to debug a compiled function with ordinary tools). */
export function runFunctionsEagerly(value: boolean): void {
  setRunFunctionsEagerly(value);
}

export function functionsRunEagerlyEnabled(): boolean {
  return functionsRunEagerly();
}

/** Which engine runs compiled graphs: ONNX Runtime (default) or Strata's TypeScript interpreter. */
export function setGraphExecutor(kind: GraphExecutorKind): void {
  if (kind !== 'onnxruntime' && kind !== 'interpreter') {
    throw new Error(`strata.config.setGraphExecutor: Received: ${JSON.stringify(kind)}; expected 'onnxruntime' or 'interpreter'.`);
  }
  graphConfig.executor = kind;
}

export function getGraphExecutor(): GraphExecutorKind {
  return graphConfig.executor;
}

/** Threads ONNX Runtime uses inside one op (default: the number of cores). Applies to sessions created afterwards. */
export function setIntraOpNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`strata.config.setIntraOpNumThreads: Received: ${n}; expected a positive integer.`);
  graphConfig.intraOpNumThreads = n;
}

export function getIntraOpNumThreads(): number {
  return graphConfig.intraOpNumThreads;
}

export function setGraphOptimizationLevel(level: 'disabled' | 'basic' | 'extended' | 'all'): void {
  graphConfig.optimizationLevel = level;
}

/**
 * Run ONNX Runtime in a worker thread (default true), so the event loop stays
 * free during compiled steps; false runs sessions on the calling thread.
 * Applies to functions compiled afterwards.
 */
export function setGraphWorker(enabled: boolean): void {
  graphConfig.useWorker = enabled;
}
