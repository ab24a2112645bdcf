/**
 * Reading TensorBoard event files back (for tests, and to check what was
 * written): each record's CRCs are checked by the TFRecord reader, each
 * Event is decoded, and graph payloads are decoded too.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readTFRecords } from '../data/files/tfrecord.ts';
import { type EventObject, type GraphDefObject, decodeEvent, decodeGraphDef, decodeRunMetadata } from './proto.ts';

export interface SummaryEvent extends EventObject {
  /** Event.graph_def, decoded. */
  graph?: GraphDefObject;
}

/** The events of an event file, or of every event file in a folder (by name order). */
export async function readEvents(path: string): Promise<SummaryEvent[]> {
  const files = statSync(path).isDirectory() ? eventFiles(path) : [path];
  const out: SummaryEvent[] = [];
  for (const file of files) {
    for await (const record of readTFRecords(file)) {
      const event: SummaryEvent = decodeEvent(record);
      if (event.graphDef) event.graph = decodeGraphDef(event.graphDef);
      out.push(event);
    }
  }
  return out;
}

/** The event files directly in a folder, by name. */
export function eventFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.includes('tfevents'))
    .sort()
    .map((f) => join(dir, f));
}

/** The scalars of some events, by tag: [{step, value}] in file order. */
export function scalarsByTag(events: readonly EventObject[]): Record<string, { step: number; value: number }[]> {
  const out: Record<string, { step: number; value: number }[]> = {};
  for (const e of events) for (const v of e.summary?.value ?? []) if (v.simpleValue !== undefined) (out[v.tag] ??= []).push({ step: e.step, value: v.simpleValue });
  return out;
}

/** The graphs of a `graph_run_metadata_graph` summary (summary.traceExport). */
export function runMetadataGraphs(tensorString: Uint8Array): GraphDefObject[] {
  return decodeRunMetadata(tensorString).functionGraphs.map((g) => g.preOptimizationGraph ?? { node: [] });
}
