/**
 * The seam between the code that does the work (fit's steps, compiled
 * calls, tracing, ONNX Runtime sessions) and the profiler and summary
 * tracing in `debugging/` and `summary/`, which sit above it. Every helper
 * here is a plain call-through when nothing is listening, so the hooks in
 * the trainer and in `strata.fn` cost nothing when profiling is off.
 */

/** Receives finished spans (times from `performance.now()`, milliseconds). */
export interface SpanSink {
  span(category: string, name: string, startMs: number, endMs: number, args?: Record<string, unknown>): void;
}

let sink: SpanSink | null = null;

/** Installs (or with null removes) the span sink; returns the previous one. */
export function setSpanSink(next: SpanSink | null): SpanSink | null {
  const previous = sink;
  sink = next;
  return previous;
}

export function spanSinkActive(): boolean {
  return sink !== null;
}

/** Records a span from start and end times measured by the caller. */
export function recordSpan(category: string, name: string, startMs: number, endMs: number, args?: Record<string, unknown>): void {
  sink?.span(category, name, startMs, endMs, args);
}

/** Runs `body` and, while a profiler listens, records it as one span (ended when its Promise settles). */
export function profileAsync<T>(category: string, name: string, body: () => Promise<T>, args?: Record<string, unknown>): Promise<T> {
  if (sink === null) return body();
  const start = performance.now();
  const end = () => sink?.span(category, name, start, performance.now(), args);
  return body().finally(end);
}

/** The synchronous form of profileAsync. */
export function profileSync<T>(category: string, name: string, body: () => T, args?: Record<string, unknown>): T {
  if (sink === null) return body();
  const start = performance.now();
  try {
    return body();
  } finally {
    sink?.span(category, name, start, performance.now(), args);
  }
}

// ---------------------------------------------------------------------------
// Compiled calls: observers see each call's function name and graph (summary.traceOn,
// the TensorBoard callback's graph), and the call is a span for the profiler.

export type CompiledCallObserver = (functionName: string, graph: unknown) => void;
const compiledCallObservers = new Set<CompiledCallObserver>();

/** Calls `observer` with the name and graph (a graph/ir.ts Graph) of every compiled call until the returned function is called. */
export function observeCompiledCalls(observer: CompiledCallObserver): () => void {
  compiledCallObservers.add(observer);
  return () => compiledCallObservers.delete(observer);
}

/** @internal How many observers are installed (tests check that none is left behind). */
export function compiledCallObserverCount(): number {
  return compiledCallObservers.size;
}

/** One compiled call: tells the observers, and times the run as one span. */
export function profileCompiledCall<T>(functionName: string, graph: unknown, body: () => Promise<T>): Promise<T> {
  if (compiledCallObservers.size > 0) for (const observer of [...compiledCallObservers]) observer(functionName, graph);
  return profileAsync('function', functionName, body);
}

// ---------------------------------------------------------------------------
// ONNX Runtime's own profiler, for sessions created while it is requested.

export interface OrtProfiling {
  /** Prefix for ORT's profile file (`<prefix>_<date>.json`, written when profiling ends). */
  prefixFor(functionName: string): string;
  /** Called for each session created with profiling on: its function, its ORT file prefix, when it was created, and how to end its profiling. */
  sessionStarted(session: { functionName: string; prefix: string; createdMs: number; end: () => Promise<void> }): void;
}

let ortProfiling: OrtProfiling | null = null;
let ortGeneration = 0;

/** Turns ORT profiling of new sessions on (or off with null). Compiled functions rebuild their sessions when it is turned on. */
export function setOrtProfiling(next: OrtProfiling | null): void {
  ortProfiling = next;
  if (next) ortGeneration++;
}

/** Changes when ORT profiling is turned on: compiled functions compare it to know when to rebuild their session. */
export function ortProfilingGeneration(): number {
  return ortGeneration;
}

/**
 * For executors: the extra session options and a callback to report the
 * created session, or null when ORT profiling is off.
 */
export function ortProfileRequest(functionName: string): { sessionOptions: { enableProfiling: true; profileFilePrefix: string }; started(end: () => Promise<void>): void } | null {
  const p = ortProfiling;
  if (!p) return null;
  const prefix = p.prefixFor(functionName);
  const createdMs = performance.now();
  return {
    sessionOptions: { enableProfiling: true, profileFilePrefix: prefix },
    started: (end) => p.sessionStarted({ functionName, prefix, createdMs, end }),
  };
}
