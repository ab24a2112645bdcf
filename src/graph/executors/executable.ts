/**
 * Turning an optimized Graph into something that runs: an ONNX Runtime
 * session in the graph worker (default), an ONNX Runtime session on this
 * thread, or the interpreter. If the graph cannot be lowered or ONNX Runtime
 * rejects it, the function falls back to the interpreter with one warning
 * that names the op.
 *
 * Every executable reads the graph's captured variables itself and writes
 * their updates back, because where those values live differs: on this
 * thread for the interpreter, in the worker between worker-run steps.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import type { Variable } from '../../engine/variable.ts';
import type { Graph, Node } from '../ir.ts';
import { checkNumericsEnabled, checkOpOutputs } from '../../engine/numerics.ts';
import { LoweringError, lowerGraph, type LoweredModel } from '../onnx/lower.ts';
import { graphConfig } from '../config.ts';
import { interpret } from './interpreter.ts';
import { type OrtModule, createSession, fromOrtTensor, loadOrt, toOrtTensor } from './ort.ts';
import { type Feed, graphWorker, wireTensor } from './worker-client.ts';
import { warnOnce } from '../../engine/warnings.ts';
import { ortProfileRequest } from '../../engine/profiling.ts';

export interface Executable {
  readonly kind: 'onnxruntime' | 'onnxruntime-worker' | 'interpreter';
  /** Runs on the function's argument tensors; returns its outputs and writes variable updates back. */
  call(args: readonly Tensor[]): Promise<Tensor[]>;
  /** Frees the ONNX Runtime session (its weights, when frozen in). The executable is not called again. */
  release(): Promise<void>;
}

function writeBack(graph: Graph, updates: readonly Tensor[]): void {
  graph.updates.forEach((u, i) => {
    u.variable._value = updates[i];
  });
}

class InterpreterExecutable implements Executable {
  readonly kind = 'interpreter';
  private calls = 0;
  constructor(
    private readonly graph: Graph,
    private readonly checkNumerics = false,
  ) {}
  async call(args: readonly Tensor[]): Promise<Tensor[]> {
    const call = ++this.calls;
    const check = this.checkNumerics
      ? (node: Node, inputs: Tensor[], outputs: Tensor[]) => checkOpOutputs(node.def.name, node.scope, inputs, outputs, `graph mode, function '${this.graph.name}', call ${call}`)
      : undefined;
    const results = interpret(this.graph, [...args, ...this.graph.captures.map((v) => v.variable!._value)], new Map(), check);
    writeBack(this.graph, results.slice(this.graph.outputs.length));
    return results.slice(0, this.graph.outputs.length);
  }

  async release(): Promise<void> {}
}

/** ONNX Runtime on this thread: simplest, but blocks the event loop during each run. */
class InThreadOrtExecutable implements Executable {
  readonly kind = 'onnxruntime';
  constructor(
    private readonly graph: Graph,
    /** Variables fed as inputs (none when they are frozen into the model). */
    private readonly fed: readonly Variable[],
    private readonly session: Awaited<ReturnType<typeof createSession>>,
    private readonly lowered: LoweredModel,
    private readonly ort: OrtModule,
  ) {}

  async call(args: readonly Tensor[]): Promise<Tensor[]> {
    const feeds: Record<string, ReturnType<typeof toOrtTensor>> = {};
    [...args, ...this.fed.map((v) => v._value)].forEach((t, i) => {
      feeds[this.lowered.inputNames[i]] = toOrtTensor(this.ort, t.valuesOrThrow('run'), t.shape as number[], t.dtype);
    });
    const results = await this.session.run(feeds);
    const tensors = this.lowered.outputNames.map((n) => fromOrtTensor(results[n]));
    writeBack(this.graph, tensors.slice(this.graph.outputs.length));
    return tensors.slice(0, this.graph.outputs.length);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** ONNX Runtime in the graph worker; variable updates stay there until read. */
class WorkerOrtExecutable implements Executable {
  readonly kind = 'onnxruntime-worker';
  constructor(
    private readonly graph: Graph,
    private readonly fed: readonly Variable[],
    private readonly session: number,
    private readonly lowered: LoweredModel,
  ) {}

  async call(args: readonly Tensor[]): Promise<Tensor[]> {
    const worker = graphWorker();
    const names = this.lowered.inputNames;
    const feeds: Feed[] = args.map((t, i) => ({ name: names[i], ...wireTensor(t) }));
    this.fed.forEach((variable, i) => {
      const name = names[args.length + i];
      const remote = variable._remote;
      feeds.push(remote && 'handle' in remote ? { name, handle: (remote as { handle: number }).handle } : { name, ...wireTensor(variable._value) });
    });
    const nOut = this.graph.outputs.length;
    const results = await worker.run(
      this.session,
      feeds,
      this.lowered.outputNames.map((name, i) => ({ name, keep: i >= nOut })),
    );
    this.graph.updates.forEach((u, i) => {
      const r = results[nOut + i];
      if (r.kind === 'kept') u.variable._setRemote(r.value);
    });
    return results.slice(0, nOut).map((r) => {
      if (r.kind !== 'value') throw new Error('Internal error: an output was kept in the worker.');
      return r.tensor;
    });
  }

  async release(): Promise<void> {
    await graphWorker().releaseSession(this.session);
  }
}

export async function compileGraph(graph: Graph, functionName: string, options: { freezeVariables?: boolean } = {}): Promise<Executable> {
  if (checkNumericsEnabled()) {
    // Node-by-node checks need the interpreter (ONNX Runtime runs the whole graph at once).
    warnOnce('numerics-interpreter', 'Check numerics is on: compiled functions run on the TypeScript interpreter, which checks every node (slower).');
    return new InterpreterExecutable(graph, true);
  }
  if (graphConfig.executor === 'interpreter') return new InterpreterExecutable(graph);
  let lowered: LoweredModel;
  // Frozen variables become initializers: the executable then feeds only the arguments.
  const fed = options.freezeVariables ? [] : graph.captures.map((v) => v.variable!);
  try {
    lowered = lowerGraph(graph, { freezeVariables: options.freezeVariables });
  } catch (e) {
    if (!(e instanceof LoweringError)) throw e;
    warnOnce(`lowering:${functionName}:${e.op}`, `strata.fn '${functionName}': ${e.message}. The function runs on the TypeScript interpreter instead (slower).`);
    return new InterpreterExecutable(graph);
  }
  const sessionOptions = {
    graphOptimizationLevel: graphConfig.optimizationLevel,
    intraOpNumThreads: graphConfig.intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential' as const,
  };
  // strata.profiler.start(logdir, {onnxRuntimeProfile: true}): ORT's own per-node profile of this session.
  const ortProfile = ortProfileRequest(functionName);
  if (ortProfile) Object.assign(sessionOptions, ortProfile.sessionOptions);
  try {
    let executable: Executable;
    if (graphConfig.useWorker) {
      const session = await graphWorker().createSession(lowered.bytes, sessionOptions);
      ortProfile?.started(() => graphWorker().endProfiling(session));
      executable = new WorkerOrtExecutable(graph, fed, session, lowered);
    } else {
      const ort = await loadOrt();
      const session = await createSession(lowered.bytes, sessionOptions);
      ortProfile?.started(async () => session.endProfiling());
      executable = new InThreadOrtExecutable(graph, fed, session, lowered, ort);
    }
    // A profiled session is ended by strata.profiler.stop(), which writes its profile: it must outlive the function.
    return ortProfile ? { kind: executable.kind, call: (args) => executable.call(args), release: async () => undefined } : executable;
  } catch (e) {
    warnOnce(`session:${functionName}`, `strata.fn '${functionName}': ONNX Runtime could not load the graph (${(e as Error).message}). The function runs on the TypeScript interpreter instead (slower).`);
    return new InterpreterExecutable(graph);
  }
}

