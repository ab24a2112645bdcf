/**
 * Turning an optimized Graph into something that runs: an ONNX Runtime
 * session (default), or the interpreter. If the graph cannot be lowered or
 * ONNX Runtime rejects it, the function falls back to the interpreter with
 * one warning that names the op.
 */
import type { DType } from '../../tensor/dtype.ts';
import { Tensor } from '../../tensor/tensor.ts';
import type { Graph } from '../ir.ts';
import { LoweringError, lowerGraph } from '../onnx/lower.ts';
import { graphConfig } from '../config.ts';
import { interpret } from './interpreter.ts';
import { type OrtModule, createSession, fromOrtTensor, loadOrt, toOrtTensor } from './ort.ts';
import { warnOnce } from '../../engine/warnings.ts';

export interface Executable {
  readonly kind: 'onnxruntime' | 'interpreter';
  /** Feeds: arguments then captured variables. Returns outputs then updates. */
  run(feeds: readonly Tensor[]): Promise<Tensor[]>;
}

class InterpreterExecutable implements Executable {
  readonly kind = 'interpreter';
  constructor(private readonly graph: Graph) {}
  async run(feeds: readonly Tensor[]): Promise<Tensor[]> {
    return interpret(this.graph, feeds);
  }
}

class OrtExecutable implements Executable {
  readonly kind = 'onnxruntime';
  constructor(
    private readonly session: Awaited<ReturnType<typeof createSession>>,
    private readonly inputNames: string[],
    private readonly outputNames: string[],
    private readonly outputTypes: { dtype: DType }[],
    private readonly ort: OrtModule,
  ) {}

  async run(feeds: readonly Tensor[]): Promise<Tensor[]> {
    const ortFeeds: Record<string, ReturnType<typeof toOrtTensor>> = {};
    feeds.forEach((t, i) => {
      ortFeeds[this.inputNames[i]] = toOrtTensor(this.ort, t.valuesOrThrow('run'), t.shape as number[], t.dtype);
    });
    const results = await this.session.run(ortFeeds);
    return this.outputNames.map((n, i) => {
      const out = fromOrtTensor(results[n]);
      if (out.dtype !== this.outputTypes[i].dtype) throw new Error(`Internal error: ONNX Runtime returned ${out.dtype} for output ${n}, expected ${this.outputTypes[i].dtype}.`);
      return out;
    });
  }
}

export async function compileGraph(graph: Graph, functionName: string): Promise<Executable> {
  if (graphConfig.executor === 'interpreter') return new InterpreterExecutable(graph);
  let lowered;
  try {
    lowered = lowerGraph(graph);
  } catch (e) {
    if (!(e instanceof LoweringError)) throw e;
    warnOnce(`lowering:${functionName}:${e.op}`, `strata.fn '${functionName}': ${e.message}. The function runs on the TypeScript interpreter instead (slower).`);
    return new InterpreterExecutable(graph);
  }
  const ort = await loadOrt();
  let session;
  try {
    session = await createSession(lowered.bytes, { intraOpNumThreads: graphConfig.intraOpNumThreads, graphOptimizationLevel: graphConfig.optimizationLevel });
  } catch (e) {
    warnOnce(`session:${functionName}`, `strata.fn '${functionName}': ONNX Runtime could not load the graph (${(e as Error).message}). The function runs on the TypeScript interpreter instead (slower).`);
    return new InterpreterExecutable(graph);
  }
  const outputTypes = [...graph.outputs.map((v) => v.type), ...graph.updates.map((u) => u.value.type)];
  return new OrtExecutable(session, lowered.inputNames, lowered.outputNames, outputTypes, ort);
}
