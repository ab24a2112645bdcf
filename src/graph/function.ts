/**
 * strata.fn: traces a function into a graph the first time it is called with
 * a new input signature, and runs the graph (on ONNX Runtime by default)
 * for later calls with a compatible signature.
 */
import { writeFile, rename, unlink } from 'node:fs/promises';
import type { Shape } from '../tensor/shape.ts';
import { Tensor, TensorSpec } from '../tensor/tensor.ts';
import { functionsRunEagerly, withTracer, currentTracer } from '../engine/tracing.ts';
import { warnOnce } from '../engine/warnings.ts';
import { checkGraph } from './check.ts';
import type { Graph } from './ir.ts';
import { lowerGraph } from './onnx/lower.ts';
import { optimizeGraph } from './passes.ts';
import { printGraph } from './print.ts';
import { GraphTracer } from './tracer.ts';
import { compileGraph, type Executable } from './executors/executable.ts';
import { type Structure, type TensorType, describeType, flatten, flattenSignature, rebuild, staticKey } from './structure.ts';
import { enqueueGraphRun } from './run-queue.ts';
import { checkNumericsEnabled } from '../engine/numerics.ts';
import { ortProfilingGeneration, profileCompiledCall, profileSync } from '../engine/profiling.ts';

export interface FnOptions {
  /** Shapes (null = any size) and dtypes of the tensor arguments; one trace serves every compatible call. */
  inputSignature?: readonly unknown[];
  /** Name used in graphs, errors and profiles (default: the function's name). */
  name?: string;
  /** After a retrace caused by a new shape, trace a version with the differing dims left unknown. */
  reduceRetracing?: boolean;
  /** Check the graph after every optimization pass (for tests of the passes). */
  checkPasses?: boolean;
  /**
   * Store the variables the function reads as constants of the compiled
   * graph, so ONNX Runtime can fold and fuse them (inference). The graph is
   * rebuilt when one of them changes. The function must not assign variables.
   */
  freezeVariables?: boolean;
}

/**
 * Frees the ONNX Runtime session of a concrete function nobody can call any
 * more (a dropped strata.fn): sessions live in the graph worker, which the
 * garbage collector does not see, and hold the graph (and frozen weights).
 */
const sessionsOfCollected = new FinalizationRegistry<{ executable: Promise<Executable> | null }>((holder) => releaseLater(holder.executable));

/** Frees an executable once it is built (runs are serialized, so none is using it). */
function releaseLater(executable: Promise<Executable> | null): void {
  void executable?.then((e) => e.release()).catch(() => undefined);
}

/** One traced graph for one input signature. */
export class ConcreteFunction {
  /** Held apart from `this`, so the finalizer can free it after `this` is collected. */
  private readonly holder: { executable: Promise<Executable> | null } = { executable: null };
  /** With frozen variables: their versions when the executable was built. */
  private frozenVersions: number[] = [];
  private numericsMode = false;
  private ortProfileGeneration = ortProfilingGeneration();

  constructor(
    readonly name: string,
    readonly signature: readonly TensorType[],
    readonly staticKey: string,
    readonly graph: Graph,
    readonly outputStructure: Structure,
    readonly freezeVariables = false,
  ) {
    sessionsOfCollected.register(this, this.holder);
  }

  private get executable(): Promise<Executable> | null {
    return this.holder.executable;
  }

  /** Setting a new executable frees the one it replaces (weights changed under a frozen graph, numerics on, profiling). */
  private set executable(next: Promise<Executable> | null) {
    if (this.holder.executable !== next) releaseLater(this.holder.executable);
    this.holder.executable = next;
  }

  accepts(types: readonly TensorType[], key: string): boolean {
    return key === this.staticKey && types.length === this.signature.length && types.every((t, i) => compatible(this.signature[i], t));
  }

  /** Readable text of the optimized graph. */
  toString(): string {
    return printGraph(this.graph);
  }

  /** Which executor runs this function ('onnxruntime' or 'interpreter'; null until first run). */
  async executorKind(): Promise<string> {
    return (await this.compile()).kind;
  }

  private compile(): Promise<Executable> {
    // Turning check numerics on or off changes the executor.
    if (this.numericsMode !== checkNumericsEnabled()) {
      this.numericsMode = checkNumericsEnabled();
      this.executable = null;
    }
    // Turning on ONNX Runtime's profiler (strata.profiler) needs a new session.
    if (this.ortProfileGeneration !== ortProfilingGeneration()) {
      this.ortProfileGeneration = ortProfilingGeneration();
      this.executable = null;
    }
    if (this.freezeVariables) {
      const versions = this.graph.captures.map((v) => v.variable!.version);
      if (this.executable && versions.some((n, i) => n !== this.frozenVersions[i])) this.executable = null;
      this.frozenVersions = versions;
    }
    this.executable ??= compileGraph(this.graph, this.name, { freezeVariables: this.freezeVariables });
    return this.executable;
  }

  /** Runs the graph on flat argument tensors; writes variable updates back; returns the result structure. */
  call(args: readonly Tensor[]): Promise<unknown> {
    // Enqueued at call time (before any await), so runs happen in call order.
    return enqueueGraphRun(() =>
      profileCompiledCall(this.name, this.graph, async () => {
        const executable = await this.compile();
        return rebuild(this.outputStructure, await executable.call(args));
      }),
    );
  }
}

function compatible(spec: TensorType, t: TensorType): boolean {
  return spec.dtype === t.dtype && spec.shape.length === t.shape.length && spec.shape.every((d, i) => d === null || d === t.shape[i]);
}

export interface StrataFunction<A extends unknown[], R> {
  (...args: A): Promise<R>;
  /** The function's name in graphs and messages. */
  readonly functionName: string;
  /** How many times the function has been traced. */
  readonly traceCount: number;
  /** The undecorated function (call it directly inside another traced function). */
  readonly original: (...args: A) => R;
  /** The concrete functions traced so far. */
  concreteFunctions(): readonly ConcreteFunction[];
  /** The concrete function for these arguments (traces it if needed). */
  getConcreteFunction(...args: A): ConcreteFunction;
  /** Readable text of the graph these arguments run (traces it if needed). */
  graph(...args: A): string;
  /**
   * Writes a standalone ONNX model: variables frozen as initializers, inputs
   * named after the signature (or `input_0`...). Uses the input signature,
   * or example arguments when given.
   */
  exportOnnx(path: string, ...args: A | []): Promise<void>;
}

let nextFunctionId = 0;
const RETRACE_WINDOW = 10;
const RETRACE_LIMIT = 5;

export function fn<A extends unknown[], R>(f: (...args: A) => R, options: FnOptions = {}): StrataFunction<A, R> {
  if (typeof f !== 'function') throw new TypeError(`strata.fn: expected a function. Received: ${String(f)}`);
  const name = options.name ?? (f.name || 'function');
  const id = nextFunctionId++;
  const signatureSpecs = options.inputSignature ? flattenSignature(options.inputSignature) : null;
  const concretes: ConcreteFunction[] = [];
  const history: boolean[] = [];
  let traceCount = 0;

  const argTypes = (flat: ReturnType<typeof flatten>): TensorType[] => flat.tensors.map((t) => ({ shape: t.shape, dtype: t.dtype }));

  /** Checks arguments against the input signature; returns the traced types. */
  const signatureTypes = (flat: ReturnType<typeof flatten>): TensorType[] => {
    if (!signatureSpecs) return argTypes(flat);
    if (flat.tensors.length !== signatureSpecs.length) {
      throw new TypeError(`strata.fn '${name}': called with ${flat.tensors.length} tensor arguments, but its inputSignature has ${signatureSpecs.length} (${signatureSpecs.join(', ')}).`);
    }
    flat.tensors.forEach((t, i) => {
      const spec = signatureSpecs[i];
      if (!spec.isCompatibleWith(t)) {
        throw new TypeError(
          `strata.fn '${name}': ${flat.paths[i]} has ${describeType(t)}, which does not match the signature the function was traced for: ${spec}. ` +
            (t.dtype !== spec.dtype ? `The dtype differs (cast it with ops.cast). ` : t.rank !== spec.shape.length ? `The rank differs. ` : `A fixed dimension differs. `),
        );
      }
    });
    return signatureSpecs.map((s) => ({ shape: s.shape, dtype: s.dtype }));
  };

  const trace = (types: TensorType[], flat: ReturnType<typeof flatten>, key: string): ConcreteFunction => {
    const tracer = new GraphTracer(name);
    const symbolic = types.map((t, i) => tracer.addInput(t, flat.paths[i].replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || `input_${i}`));
    const args = rebuild(flat.structure, symbolic) as unknown[];
    let result: unknown;
    const hazards = watchTraceHazards();
    try {
      result = withTracer(tracer, () => f(...(args as A)));
    } catch (e) {
      if (e instanceof Error && !e.message.includes(`while tracing strata.fn '${name}'`)) e.message += ` (while tracing strata.fn '${name}')`;
      throw e;
    } finally {
      const seen = hazards.stop();
      if (seen.length > 0) {
        warnOnce(
          `trace-hazard:${id}:${seen.join(',')}`,
          `strata.fn '${name}' called ${seen.join(', ')} while being traced. The value read during tracing is frozen into the graph: every later call reuses it. ` +
            'Use strata.random for random numbers, and pass times or counters as tensor arguments.',
        );
      }
    }
    if (result instanceof Promise) {
      throw new TypeError(`strata.fn '${name}': the function returned a Promise. Traced functions must be synchronous (ops are); await the compiled function instead.`);
    }
    if (traceCount > 0 && tracer.createdVariables.length > 0) {
      throw new Error(
        `strata.fn '${name}' created variable '${tracer.createdVariables[0].path}' while being traced again (trace ${traceCount + 1}). ` +
          'A traced function may create variables only on its first trace (as in TensorFlow); create them outside the function, or on first use only.',
      );
    }
    const out = flatten(result, 'result');
    tracer.graph.outputs = out.tensors.map((t) => tracer.lift(t));
    const graph = optimizeGraph(tracer.graph, options.checkPasses ? { afterPass: (_n, g) => checkGraph(g) } : {});
    traceCount++;
    if (options.freezeVariables && graph.updates.length > 0) {
      throw new Error(`strata.fn '${name}' assigns variable '${graph.updates[0].variable.path}', but was created with freezeVariables: frozen variables are constants of the graph.`);
    }
    const concrete = new ConcreteFunction(name, types, key, graph, out.structure, options.freezeVariables ?? false);
    concretes.push(concrete);
    return concrete;
  };

  const explainRetrace = (types: TensorType[], key: string): string => {
    const previous = concretes[concretes.length - 1];
    if (!previous) return '';
    if (previous.staticKey !== key) return 'a non-tensor argument changed value (non-tensor arguments are part of the signature by value)';
    for (let i = 0; i < types.length; i++) {
      const [a, b] = [previous.signature[i], types[i]];
      if (!a || !b) return 'the number of tensor arguments changed';
      if (a.dtype !== b.dtype) return `the dtype of tensor argument ${i} changed (${a.dtype} -> ${b.dtype})`;
      if (a.shape.length !== b.shape.length || a.shape.some((d, k) => d !== null && d !== b.shape[k])) {
        return `the shape of tensor argument ${i} changed (${describeType(a)} -> ${describeType(b)})`;
      }
    }
    return 'the signature changed';
  };

  const generalize = (types: TensorType[], key: string): TensorType[] => {
    const similar = concretes.find((c) => c.staticKey === key && c.signature.length === types.length && c.signature.every((s, i) => s.dtype === types[i].dtype && s.shape.length === types[i].shape.length));
    if (!similar) return types;
    return types.map((t, i) => ({ dtype: t.dtype, shape: t.shape.map((d, k) => (similar.signature[i].shape[k] === d ? d : null)) as Shape }));
  };

  const concreteFor = (args: unknown[]): { concrete: ConcreteFunction; flat: ReturnType<typeof flatten> } => {
    const flat = flatten(args, 'argument');
    const key = staticKey(flat.structure);
    const types = signatureTypes(flat);
    const hit = concretes.find((c) => c.accepts(argTypes(flat), key));
    history.push(!hit);
    if (history.length > RETRACE_WINDOW) history.shift();
    if (hit) return { concrete: hit, flat };
    const reason = explainRetrace(types, key);
    const traceTypes = options.reduceRetracing && !signatureSpecs ? generalize(types, key) : types;
    if (history.filter(Boolean).length > RETRACE_LIMIT) {
      warnOnce(
        `retrace:${id}`,
        `strata.fn '${name}' was traced ${history.filter(Boolean).length} times in its last ${history.length} calls; the latest retrace happened because ${reason}. ` +
          'Tracing is expensive. Pass an inputSignature with null for dimensions that vary (e.g. new TensorSpec([null, 784])), ' +
          'pass values that change as tensors rather than JavaScript numbers, or use {reduceRetracing: true}.',
      );
    }
    return { concrete: profileSync('trace', `trace ${name}`, () => trace(traceTypes, flat, key)), flat };
  };

  const compiled = (async (...args: A): Promise<R> => {
    if (currentTracer()) {
      throw new Error(
        `strata.fn '${name}' was called while another function is being traced. Compiled functions return Promises; inside a traced function call '${name}.original(...)' to inline it.`,
      );
    }
    if (functionsRunEagerly()) return f(...args);
    const { concrete, flat } = concreteFor(args);
    return (await concrete.call(flat.tensors)) as R;
  }) as StrataFunction<A, R>;

  Object.defineProperties(compiled, {
    functionName: { get: () => name },
    traceCount: { get: () => traceCount },
    original: { value: f },
  });
  compiled.concreteFunctions = () => concretes;
  compiled.getConcreteFunction = (...args: A) => concreteFor(args).concrete;
  compiled.graph = (...args: A) => concreteFor(args).concrete.toString();
  compiled.exportOnnx = async (path: string, ...args: A | []) => {
    let concrete: ConcreteFunction;
    if (args.length > 0) concrete = concreteFor(args).concrete;
    else if (signatureSpecs) concrete = concreteFor(signatureSpecs.map((s) => placeholderFor(s)) as unknown as A).concrete;
    else throw new Error(`strata.fn '${name}'.exportOnnx: give example arguments or create the function with an inputSignature.`);
    if (concrete.graph.updates.length > 0) {
      warnOnce(`export-updates:${name}`, `strata.fn '${name}'.exportOnnx: the function assigns variables; the exported model returns only its outputs (variable updates are dropped).`);
    }
    const inputNames = concrete.graph.inputs.map((v, i) => signatureSpecs?.[i]?.name ?? v.name ?? `input_${i}`);
    const { bytes } = lowerGraph(concrete.graph, { freezeVariables: true, inputNames, outputNames: concrete.graph.outputs.map((_, i) => `output_${i}`) });
    await writeFileAtomic(path, bytes);
  };
  return compiled;
}

/** A zero tensor matching a spec, with unknown dims as 1 (used to trace from a signature alone). */
function placeholderFor(spec: TensorSpec): Tensor {
  const shape = spec.shape.map((d) => d ?? 1);
  const size = shape.reduce((p, d) => p * d, 1);
  const values = spec.dtype === 'float64' ? new Float64Array(size) : spec.dtype === 'int32' ? new Int32Array(size) : spec.dtype === 'bool' ? new Uint8Array(size) : new Float32Array(size);
  return new Tensor(shape, spec.dtype, values);
}

/** Writes to a temporary file in the same folder and renames it, so a failed write never leaves a broken file. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/**
 * Watches, while a function is traced, for JavaScript sources of values
 * that change between calls (Math.random, clocks): tracing runs the
 * JavaScript once, so such values are frozen into the graph. Returns the
 * names of those called.
 */
function watchTraceHazards(): { stop(): string[] } {
  const seen = new Set<string>();
  const patches: [object, string, unknown][] = [];
  const patch = (owner: object, key: string, label: string) => {
    const original = (owner as Record<string, unknown>)[key];
    if (typeof original !== 'function') return;
    patches.push([owner, key, original]);
    (owner as Record<string, unknown>)[key] = function (this: unknown, ...a: unknown[]) {
      seen.add(label);
      return (original as (...x: unknown[]) => unknown).apply(this, a);
    };
  };
  patch(Math, 'random', 'Math.random()');
  patch(Date, 'now', 'Date.now()');
  patch(globalThis.crypto ?? {}, 'getRandomValues', 'crypto.getRandomValues()');
  return {
    stop() {
      for (const [owner, key, original] of patches.reverse()) (owner as Record<string, unknown>)[key] = original;
      return [...seen];
    },
  };
}
