/** Runs a function eagerly and compiled (on both executors) and compares. */
import * as strata from '../../src/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { assertClose, type Tolerance } from './close.ts';

export async function withExecutor<T>(kind: 'onnxruntime' | 'interpreter', fn: () => Promise<T>): Promise<T> {
  const previous = strata.config.getGraphExecutor();
  strata.config.setGraphExecutor(kind);
  try {
    return await fn();
  } finally {
    strata.config.setGraphExecutor(previous);
  }
}

export async function assertGraphMatchesEager(f: (...xs: Tensor[]) => Tensor | Tensor[], inputs: Tensor[], tol: Tolerance = {}, label = ''): Promise<void> {
  const eager = f(...inputs);
  const eagerList = Array.isArray(eager) ? eager : [eager];
  for (const kind of ['onnxruntime', 'interpreter'] as const) {
    await withExecutor(kind, async () => {
      const compiled = strata.fn(f, { name: `${label || 'parity'}_${kind}`, checkPasses: true });
      const graph = await compiled(...inputs);
      const graphList = Array.isArray(graph) ? graph : [graph];
      graphList.forEach((g, i) => assertClose(g, eagerList[i], tol, `${label} (${kind}) output ${i}`));
    });
  }
}
