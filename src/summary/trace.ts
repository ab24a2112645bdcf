/**
 * summary.traceOn / traceExport / traceOff, as in tf.summary: between
 * traceOn and traceExport, the graphs of the compiled functions that run
 * are collected (`graph: true`) and the profiler records (`profiler: true`).
 * traceExport writes the graphs as one `graph_run_metadata_graph` summary
 * under its name (TensorBoard's Graphs dashboard lists it as a tag of the
 * run) and the profiler's trace under `<logdir>/plugins/profile/<time>/`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { observeCompiledCalls } from '../engine/profiling.ts';
import { warn } from '../engine/warnings.ts';
import type { Graph } from '../graph/ir.ts';
import * as profiler from '../profiling/profiler.ts';
import { graphToGraphDef } from './graph-def.ts';
import { DT, encodeRunMetadata } from './proto.ts';
import { type SummaryWriter, getDefaultWriter } from './writer.ts';

export interface TraceOnOptions {
  /** Collect the graphs of the compiled functions that run (default true). */
  graph?: boolean;
  /** Run strata.profiler until traceExport (default false). */
  profiler?: boolean;
  /** Where traceExport writes the profile (default: `<writer's logdir>/plugins/profile/<time>`). */
  profilerOutdir?: string;
}

interface TraceState {
  graphs: Graph[];
  stopObserving: (() => void) | null;
  profiling: boolean;
  profilerOutdir: string | undefined;
}

let state: TraceState | null = null;

/** Starts collecting compiled functions' graphs and / or profiling, until traceExport or traceOff. */
export function traceOn(options: TraceOnOptions = {}): void {
  if (state) traceOff();
  const s: TraceState = { graphs: [], stopObserving: null, profiling: false, profilerOutdir: options.profilerOutdir };
  // The profiler first: when it cannot start, nothing is left observing compiled calls.
  if (options.profiler) {
    if (profiler.isRunning()) throw new Error('summary.traceOn({profiler: true}): strata.profiler is already running; stop it first.');
    profiler.start(options.profilerOutdir ?? join(tmpdir(), `strata-trace-${process.pid}`));
    s.profiling = true;
  }
  if (options.graph ?? true) {
    s.stopObserving = observeCompiledCalls((_name, graph) => {
      if (!s.graphs.includes(graph as Graph)) s.graphs.push(graph as Graph);
    });
  }
  state = s;
}

/** Stops tracing without writing anything. */
export function traceOff(): void {
  const s = state;
  state = null;
  if (!s) return;
  s.stopObserving?.();
  if (s.profiling && profiler.isRunning()) void profiler.stopToJson().catch(() => undefined);
}

/**
 * Writes what traceOn collected to `options.writer` (default: the default
 * writer) under `name` at `step`, and stops tracing. Returns the profile's
 * path when the profiler ran, else null.
 */
export async function traceExport(name: string, step: number, options: { writer?: SummaryWriter } = {}): Promise<string | null> {
  const s = state;
  if (!s) throw new Error('summary.traceExport: tracing is off; call summary.traceOn() first.');
  state = null;
  s.stopObserving?.();
  const writer = options.writer ?? getDefaultWriter();
  let profilePath: string | null = null;
  if (s.profiling) {
    const json = await profiler.stopToJson();
    const base = s.profilerOutdir ?? (writer ? join(writer.logdir, 'plugins', 'profile') : null);
    if (base) {
      const dir = join(base, new Date().toISOString().replace(/[:.]/g, '-'));
      mkdirSync(dir, { recursive: true });
      profilePath = join(dir, `strata-trace.json`);
      writeFileSync(profilePath, json);
      // The raw-trace name TensorBoard's profile plugin has used for Chrome traces.
      writeFileSync(join(dir, `${hostname()}.trace.json.gz`), gzipSync(json));
    }
  }
  if (!writer) {
    warn(`summary.traceExport('${name}'): there is no default writer (writer.setAsDefault()) and no {writer} was given; the graphs were not written.`);
    return profilePath;
  }
  if (s.stopObserving) {
    if (s.graphs.length === 0) {
      warn(`summary.traceExport('${name}'): no compiled function (strata.fn) ran between traceOn and traceExport, so there is no graph to write.`);
    } else {
      const runMetadata = encodeRunMetadata(s.graphs.map(graphToGraphDef));
      writer.writeEvent({
        wallTime: Date.now() / 1000,
        step,
        summary: {
          value: [
            {
              tag: name,
              // TensorBoard's graph plugin: RunMetadata with function graphs, version "1".
              metadata: { pluginData: { pluginName: 'graph_run_metadata_graph', content: new TextEncoder().encode('1') } },
              tensor: { dtype: DT.STRING, tensorShape: { dim: [] }, stringVal: [runMetadata] },
            },
          ],
        },
      });
      writer.flush();
    }
  }
  return profilePath;
}
