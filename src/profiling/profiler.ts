/**
 * strata.profiler: records what ran and how long it took into a Chrome
 * trace-event JSON file (open it in https://ui.perfetto.dev or
 * chrome://tracing).
 *
 *   strata.profiler.start('logs/profile');
 *   await model.fit(x, y, {epochs: 1});
 *   const path = await strata.profiler.stop();   // logs/profile/strata-trace-<time>.json
 *
 * Rows of the main-thread process:
 *   - "eager ops": every eager op as a span (category `op`, args: layer path and
 *     output shapes), inside spans of the layers they ran in (category `layer`),
 *     derived from the ops' layer paths (consecutive calls of one layer with no
 *     op of another layer between them show as one span);
 *   - "compiled functions": each call of a strata.fn (category `function`) as one
 *     span: the graph runs as a whole in ONNX Runtime, so its ops are not seen
 *     one by one here (see `onnxRuntimeProfile`);
 *   - "training steps": fit's steps (category `step`, args: epoch and step);
 *   - "tracing": the tracing of a strata.fn for a new signature (category `trace`);
 *   - "user spans": spans marked with `span` / `beginSpan` (category `user`);
 * and a counter of live tensor memory (the profiler turns memory tracking on).
 *
 * With `{onnxRuntimeProfile: true}`, compiled functions get new ONNX Runtime
 * sessions with ORT's own profiler on; its per-node profile files are kept in
 * the log folder (`ort-profile-<function>-<n>_<date>.json`) and merged into the
 * trace as a second process, aligned to the time each session was created
 * (approximately: ORT counts from its own start).
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { formatShape } from '../tensor/shape.ts';
import { addOpHook } from '../engine/hooks.ts';
import { type SpanSink, recordSpan, setOrtProfiling, setSpanSink } from '../engine/profiling.ts';
import { holdMemoryTracking, memoryReport } from './memory.ts';

/** One event of the Chrome trace-event format (times in microseconds). */
export interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown>;
  s?: string;
}

export interface ProfilerOptions {
  /** Also record ONNX Runtime's own per-node profile of compiled functions (new sessions are created). */
  onnxRuntimeProfile?: boolean;
  /** Stop recording after this many events (default 1,000,000); later ones are counted as dropped. */
  maxEvents?: number;
}

const TID = { ops: 1, functions: 2, steps: 3, trace: 4, user: 5 } as const;
const TID_NAMES: Record<number, string> = { 1: 'eager ops', 2: 'compiled functions', 3: 'training steps', 4: 'tracing', 5: 'user spans' };
const TID_BY_CATEGORY: Record<string, number> = { op: TID.ops, layer: TID.ops, function: TID.functions, step: TID.steps, trace: TID.trace, user: TID.user };

interface OpenLayer {
  name: string;
  path: string;
  start: number;
  end: number;
  ops: number;
}

interface OrtSession {
  functionName: string;
  prefix: string;
  createdMs: number;
  end: () => Promise<void>;
}

class Recording implements SpanSink {
  readonly events: TraceEvent[] = [];
  dropped = 0;
  readonly pid = process.pid;
  readonly startedAt = Date.now();
  readonly startMs = performance.now();
  private readonly layers: OpenLayer[] = [];
  private opsSinceCounter = 0;
  readonly ortSessions: OrtSession[] = [];
  private ortCount = 0;
  removeHook: () => void = () => {};
  releaseMemory: () => void = () => {};

  constructor(
    readonly logdir: string,
    readonly options: ProfilerOptions,
  ) {}

  private push(e: TraceEvent): void {
    if (this.events.length >= (this.options.maxEvents ?? 1_000_000)) {
      this.dropped++;
      return;
    }
    this.events.push(e);
  }

  private complete(category: string, name: string, startMs: number, endMs: number, args?: Record<string, unknown>): void {
    const tid = TID_BY_CATEGORY[category] ?? TID.user;
    this.push({ name, cat: category, ph: 'X', ts: us(startMs), dur: Math.max(0, Math.round((us(endMs) - us(startMs)) * 1000) / 1000), pid: this.pid, tid, ...(args ? { args } : {}) });
  }

  /** An eager op: its span, and the layer spans its path opens or closes. */
  op(name: string, scope: string, startMs: number, endMs: number, outputs: string): void {
    this.enterScope(scope, startMs);
    for (const l of this.layers) {
      l.end = endMs;
      l.ops++;
    }
    this.complete('op', name, startMs, endMs, { layer: scope || '(top level)', outputs });
    if (++this.opsSinceCounter >= 100) this.counter(endMs);
  }

  private enterScope(scope: string, startMs: number): void {
    const parts = scope ? scope.split('/') : [];
    let k = 0;
    while (k < this.layers.length && k < parts.length && this.layers[k].name === parts[k]) k++;
    this.closeLayers(k);
    for (let i = k; i < parts.length; i++) this.layers.push({ name: parts[i], path: parts.slice(0, i + 1).join('/'), start: startMs, end: startMs, ops: 0 });
  }

  /** Ends the open layer spans deeper than `depth`. */
  closeLayers(depth = 0): void {
    while (this.layers.length > depth) {
      const l = this.layers.pop()!;
      this.complete('layer', l.name, l.start, l.end, { path: l.path, ops: l.ops });
    }
  }

  span(category: string, name: string, startMs: number, endMs: number, args?: Record<string, unknown>): void {
    // A step or a trace ends the layers of the ops before it (the next step's ops open new ones).
    if (category === 'step' || category === 'trace') this.closeLayers();
    this.complete(category, name, startMs, endMs, args);
    if (category === 'step' || category === 'function') this.counter(endMs);
  }

  counter(atMs: number): void {
    this.opsSinceCounter = 0;
    const m = memoryReport();
    this.push({ name: 'tensor memory (main thread)', ph: 'C', ts: us(atMs), pid: this.pid, tid: 0, args: { live_bytes: m.liveBytes, live_tensors: m.liveTensors } });
  }

  ortPrefix(functionName: string): string {
    return join(this.logdir, `ort-profile-${functionName.replace(/[^A-Za-z0-9_.-]+/g, '_')}-${this.ortCount++}`);
  }

  metadata(): TraceEvent[] {
    const meta: TraceEvent[] = [
      { name: 'process_name', ph: 'M', ts: 0, pid: this.pid, tid: 0, args: { name: 'strata (main thread)' } },
      { name: 'process_sort_index', ph: 'M', ts: 0, pid: this.pid, tid: 0, args: { sort_index: 0 } },
    ];
    for (const [tid, name] of Object.entries(TID_NAMES)) {
      meta.push({ name: 'thread_name', ph: 'M', ts: 0, pid: this.pid, tid: Number(tid), args: { name } });
      meta.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: this.pid, tid: Number(tid), args: { sort_index: Number(tid) } });
    }
    return meta;
  }
}

let current: Recording | null = null;

function us(ms: number): number {
  return Math.round(ms * 1000 * 1000) / 1000;
}

function describeOutputs(outputs: readonly { shape: readonly (number | null)[]; dtype: string }[]): string {
  return outputs.map((o) => `${o.dtype}${formatShape(o.shape)}`).join(', ');
}

/** Whether the profiler is recording. */
export function isRunning(): boolean {
  return current !== null;
}

/**
 * Starts recording. `logdir` is created if needed; `stop()` writes the trace
 * there. Memory tracking is on while the profiler runs.
 */
export function start(logdir: string, options: ProfilerOptions = {}): void {
  if (typeof logdir !== 'string' || logdir === '') throw new TypeError(`strata.profiler.start: expected a folder path. Received: ${String(logdir)}`);
  if (current) throw new Error(`strata.profiler.start: the profiler is already running (writing to '${current.logdir}'). Call 'await strata.profiler.stop()' first.`);
  const dir = resolve(logdir);
  mkdirSync(dir, { recursive: true });
  const rec = new Recording(dir, options);
  rec.releaseMemory = holdMemoryTracking();
  rec.removeHook = addOpHook({
    afterOp(e) {
      if (e.symbolic) return;
      const end = performance.now();
      rec.op(e.def.name, e.scope, end - e.durationMs, end, describeOutputs(e.outputs));
    },
  });
  setSpanSink(rec);
  if (options.onnxRuntimeProfile) {
    setOrtProfiling({
      prefixFor: (fn) => rec.ortPrefix(fn),
      // A session asked for while recording may be created after stop(): end its profiling now, or it would run on unread.
      sessionStarted: (s) => (current === rec ? void rec.ortSessions.push(s) : void s.end().catch(() => undefined)),
    });
  }
  current = rec;
  rec.counter(rec.startMs);
}

/** Stops recording and writes `<logdir>/strata-trace-<time>.json`; returns its path. */
export async function stop(): Promise<string> {
  const rec = stopRecording('stop');
  const events = await finish(rec);
  const path = join(rec.logdir, `strata-trace-${timestamp(rec.startedAt)}.json`);
  writeFileSync(path, traceJson(rec, events));
  return path;
}

/** @internal Stops and returns the trace's JSON text (summary.traceExport writes it where TensorBoard looks). */
export async function stopToJson(): Promise<string> {
  const rec = stopRecording('stop');
  return traceJson(rec, await finish(rec));
}

function stopRecording(method: string): Recording {
  const rec = current;
  if (!rec) throw new Error(`strata.profiler.${method}: the profiler is not running. Call strata.profiler.start(logdir) first.`);
  rec.closeLayers();
  rec.counter(performance.now());
  current = null;
  rec.removeHook();
  setSpanSink(null);
  if (rec.options.onnxRuntimeProfile) setOrtProfiling(null);
  rec.releaseMemory();
  return rec;
}

async function finish(rec: Recording): Promise<TraceEvent[]> {
  const events = [...rec.metadata(), ...rec.events];
  if (rec.ortSessions.length > 0) events.push(...(await collectOrtProfiles(rec)));
  return events;
}

function traceJson(rec: Recording, events: TraceEvent[]): string {
  // Sorted by time, enclosing spans (longer) before the spans they contain. Viewers nest spans
  // of equal start and length in file order, so then outer layers go before inner ones and ops.
  const body = events.filter((e) => e.ph !== 'M').sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0) || nestingRank(a) - nestingRank(b));
  const meta = events.filter((e) => e.ph === 'M');
  const m = memoryReport();
  const trace = {
    traceEvents: [...meta, ...splitOverlapping(body, meta), ...body],
    displayTimeUnit: 'ms',
    otherData: {
      producer: 'strata',
      startedAt: new Date(rec.startedAt).toISOString(),
      droppedEvents: rec.dropped,
      peakTensorBytes: m.peakBytes,
      peakTensors: m.peakTensors,
    },
  };
  return JSON.stringify(trace);
}

/** Overlapping spans that do not nest move to row `OVERFLOW_TID * lane + tid` of their process. */
const OVERFLOW_TID = 1000;
/** Microseconds of overlap taken as rounding (times are rounded to nanoseconds). */
const NEST_SLACK_US = 0.0015;

/**
 * Viewers draw each thread as a stack of slices, so complete events of one
 * thread must nest: Perfetto drops a slice that starts inside another and
 * ends after it. Spans of concurrent async work do overlap that way (user
 * spans of `span(name, async () => ...)` called concurrently, `beginSpan`
 * spans, steps of two fits run at once): such a span moves to an extra row
 * of its thread ("user spans (2)", ...), the first row where it nests. Changes
 * the `tid` of those events in place (`body` sorted by time, enclosing spans
 * first) and returns the metadata naming the extra rows.
 */
function splitOverlapping(body: TraceEvent[], meta: readonly TraceEvent[]): TraceEvent[] {
  const end = (e: TraceEvent) => e.ts + (e.dur ?? 0);
  const lanes = new Map<string, TraceEvent[][]>();
  const added: TraceEvent[] = [];
  for (const e of body) {
    if (e.ph !== 'X') continue;
    const key = `${e.pid}/${e.tid}`;
    let stacks = lanes.get(key);
    if (!stacks) lanes.set(key, (stacks = []));
    let lane = 0;
    for (; lane < stacks.length; lane++) {
      const stack = stacks[lane];
      while (stack.length > 0 && end(stack[stack.length - 1]) <= e.ts + NEST_SLACK_US) stack.pop();
      if (stack.length === 0 || end(e) <= end(stack[stack.length - 1]) + NEST_SLACK_US) break;
    }
    if (lane === stacks.length) {
      stacks.push([]);
      if (lane > 0) {
        const base = meta.find((x) => x.name === 'thread_name' && x.pid === e.pid && x.tid === e.tid)?.args?.name ?? `thread ${e.tid}`;
        const tid = OVERFLOW_TID * lane + e.tid;
        added.push({ name: 'thread_name', ph: 'M', ts: 0, pid: e.pid, tid, args: { name: `${String(base)} (${lane + 1})` } });
        // The sort index of its thread (ties are ordered by tid): the extra rows follow their thread's.
        const sortIndex = meta.find((x) => x.name === 'thread_sort_index' && x.pid === e.pid && x.tid === e.tid)?.args?.sort_index;
        if (sortIndex !== undefined) added.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: e.pid, tid, args: { sort_index: sortIndex } });
      }
    }
    stacks[lane].push(e);
    if (lane > 0) e.tid = OVERFLOW_TID * lane + e.tid;
  }
  return added;
}

/** For spans of equal start and length: a layer by its depth, an op inside every layer. */
function nestingRank(e: TraceEvent): number {
  if (e.cat === 'layer') return String(e.args?.path ?? '').split('/').length;
  return e.cat === 'op' ? Number.MAX_SAFE_INTEGER : 0;
}

const ORT_PID_OFFSET = 1_000_000;

/** Ends ORT's profiling of each session, and reads and aligns the files it wrote. */
async function collectOrtProfiles(rec: Recording): Promise<TraceEvent[]> {
  const pid = rec.pid + ORT_PID_OFFSET;
  const out: TraceEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name: 'onnxruntime (compiled functions, its own profiler)' } },
    { name: 'process_sort_index', ph: 'M', ts: 0, pid, tid: 0, args: { sort_index: 1 } },
  ];
  for (const [i, session] of rec.ortSessions.entries()) {
    try {
      await session.end();
    } catch {
      continue; // the session is gone (the worker stopped); nothing was written
    }
    const dir = dirname(session.prefix);
    const stem = `${basename(session.prefix)}_`;
    const file = readdirSync(dir).filter((f) => f.startsWith(stem) && f.endsWith('.json')).sort().at(-1);
    if (!file) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch {
      continue;
    }
    const list = Array.isArray(raw) ? raw : ((raw as { traceEvents?: unknown[] }).traceEvents ?? []);
    const tid = i + 1;
    out.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid, args: { name: `${session.functionName} (${file})` } });
    for (const e of list as { name?: string; cat?: string; ph?: string; ts?: number; dur?: number; args?: Record<string, unknown> }[]) {
      if (e.ph !== 'X' || typeof e.ts !== 'number') continue;
      const { thread_scheduling_stats: _drop, ...args } = e.args ?? {};
      void _drop;
      out.push({ name: String(e.name), cat: `onnxruntime.${e.cat ?? ''}`, ph: 'X', ts: us(session.createdMs) + e.ts, dur: e.dur ?? 0, pid, tid, args });
    }
  }
  return out;
}

function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[:.]/g, '-');
}

/**
 * Runs `fn` as a named span of the trace ("user spans"); a Promise result
 * ends the span when it settles. Does nothing extra when the profiler is off.
 */
export function span<T>(name: string, fn: () => T, args?: Record<string, unknown>): T {
  if (!current) return fn();
  const startMs = performance.now();
  const done = () => recordSpan('user', name, startMs, performance.now(), args);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    done();
    throw e;
  }
  if (result instanceof Promise) return result.finally(done) as T;
  done();
  return result;
}

/** Starts a named span; `end()` records it (for spans that do not fit one function call). */
export function beginSpan(name: string, args?: Record<string, unknown>): { end(extraArgs?: Record<string, unknown>): void } {
  const startMs = performance.now();
  let ended = false;
  return {
    end(extraArgs) {
      if (ended) return;
      ended = true;
      recordSpan('user', name, startMs, performance.now(), extraArgs ? { ...args, ...extraArgs } : args);
    },
  };
}
