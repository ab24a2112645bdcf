/**
 * strata.data benchmarks.
 *
 * (a) Overlap: one epoch of `model.fit` over a pipeline whose map costs
 *     ~5 ms per element (busy CPU work, or an async wait), batched by 16,
 *     while the consumer runs a compiled training step per batch (ONNX
 *     Runtime in the graph worker). Variants: no prefetch, prefetch,
 *     parallel map (main thread for the async map, worker threads for the
 *     busy one), both.
 * (b) Memory: a generated TFRecord file of tf.train.Example records
 *     (784 float features and an int64 label, about 3.2 KB each; 2 GB by
 *     default) streamed into `model.fit` for one epoch; reports the peak
 *     RSS during training against the file size. The file is written to a
 *     temporary directory and deleted afterwards.
 *
 *   npm run bench -- data                 both
 *   npm run bench -- prefetch             only (a)
 *   npm run bench -- tfrecord             only (b)
 *   npm run bench -- tfrecord --data-mb 256   a smaller file
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as strata from '../src/index.ts';
import type { Tensor } from '../src/tensor/tensor.ts';

const { data, layers } = strata;

export interface DataBenchOptions {
  log?: (line: string) => void;
  /** Substrings selecting parts: 'prefetch' / 'overlap' for (a), 'tfrecord' / 'memory' for (b); empty or 'data' = both. */
  filters?: readonly string[];
  /** Size of the generated TFRecord file in MB (default 2048). */
  sizeMB?: number;
  /** Fewer elements in (a). */
  quick?: boolean;
}

export interface OverlapResult {
  map: 'busy' | 'async';
  variant: string;
  epochMs: number;
}

export interface MemoryResult {
  fileBytes: number;
  records: number;
  writeSeconds: number;
  epochSeconds: number;
  baselineRssMB: number;
  peakRssDuringTrainingMB: number;
  peakHeapMB: number;
  peakArrayBuffersMB: number;
  maxRssProcessMB: number;
  finalLoss: number;
  finalAccuracy: number;
}

export interface DataBenchResult {
  overlap: OverlapResult[];
  overlapReference: { produceOnlyMs: Record<string, number>; consumeOnlyMs: number } | null;
  memory: MemoryResult | null;
}

const MAP_MS = 5;
const BATCH = 16;

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** A compiled step of this model takes roughly as long as producing a batch (16 x 5 ms) on a 2-core machine. */
function overlapModel(): strata.Sequential {
  strata.random.setRandomSeed(0);
  const model = new strata.Sequential([strata.Input({ shape: [64] }), new layers.Dense(1536, { activation: 'relu' }), new layers.Dense(1536, { activation: 'relu' }), new layers.Dense(10)]);
  model.compile({ optimizer: 'adam', loss: new strata.losses.SparseCategoricalCrossentropy({ fromLogits: true }) });
  return model;
}

function features(n: number): { x: Tensor; y: Tensor } {
  const x = new Float32Array(n * 64).map((_, i) => Math.sin(i * 0.37));
  const y = Int32Array.from({ length: n }, (_, i) => i % 10);
  return { x: strata.tensor(x, [n, 64]), y: strata.tensor(y) };
}

async function runOverlap(log: (l: string) => void, quick: boolean): Promise<{ results: OverlapResult[]; reference: DataBenchResult['overlapReference'] }> {
  const n = quick ? 128 : 320;
  const { x, y } = features(n);
  const base = () => data.Dataset.fromTensorSlices([x, y]);
  const busyMap = ([a, b]: [Tensor, Tensor]) => {
    busyWait(MAP_MS);
    return [a, b];
  };
  const asyncMap = async ([a, b]: [Tensor, Tensor]) => {
    await new Promise((r) => setTimeout(r, MAP_MS));
    return [a, b];
  };
  const busyInWorkers = data.workerFunction((el: unknown) => {
    const end = performance.now() + 5;
    while (performance.now() < end);
    return el;
  });
  const workers = Math.max(1, availableParallelism() - 1);
  const variants: { map: 'busy' | 'async'; variant: string; make: () => strata.data.Dataset }[] = [
    { map: 'busy', variant: 'no prefetch', make: () => base().map(busyMap).batch(BATCH) },
    { map: 'busy', variant: 'prefetch(AUTOTUNE)', make: () => base().map(busyMap).batch(BATCH).prefetch(data.AUTOTUNE) },
    { map: 'busy', variant: `worker map x${workers}`, make: () => base().map(busyInWorkers, { numParallelCalls: workers }).batch(BATCH) },
    { map: 'busy', variant: `worker map x${workers} + prefetch`, make: () => base().map(busyInWorkers, { numParallelCalls: workers }).batch(BATCH).prefetch(data.AUTOTUNE) },
    { map: 'async', variant: 'no prefetch', make: () => base().map(asyncMap).batch(BATCH) },
    { map: 'async', variant: 'prefetch(AUTOTUNE)', make: () => base().map(asyncMap).batch(BATCH).prefetch(data.AUTOTUNE) },
    { map: 'async', variant: 'parallel map x16', make: () => base().map(asyncMap, { numParallelCalls: 16 }).batch(BATCH) },
    { map: 'async', variant: 'parallel map x16 + prefetch', make: () => base().map(asyncMap, { numParallelCalls: 16 }).batch(BATCH).prefetch(data.AUTOTUNE) },
  ];

  const model = overlapModel();
  // Warm up: trace and compile the step, start the graph worker.
  await model.fit(base().take(BATCH * 2).batch(BATCH), undefined, { epochs: 1, verbose: 0 });

  // References: producing alone, consuming alone.
  const produceOnlyMs: Record<string, number> = {};
  const cores = availableParallelism();
  const producers: [string, () => strata.data.Dataset][] = [
    ['busy', variants[0].make],
    [`busy, worker map x${cores}`, () => base().map(busyInWorkers, { numParallelCalls: cores }).batch(BATCH)],
    ['async', variants[4].make],
    ['async, parallel map x16', variants[6].make],
  ];
  for (const [name, make] of producers) {
    const ds = make();
    await ds.take(1).toArray();
    const t0 = performance.now();
    for await (const b of ds) void b;
    produceOnlyMs[name] = performance.now() - t0;
  }
  const batches = await base().batch(BATCH).toArray();
  const premade = data.Dataset.fromGenerator(function* () {
    yield* batches;
  });
  let consumeOnlyMs = Infinity;
  const timeConsumer = async (reps: number) => {
    for (let rep = 0; rep < reps; rep++) {
      const t0 = performance.now();
      await model.fit(premade, undefined, { epochs: 1, verbose: 0 });
      consumeOnlyMs = Math.min(consumeOnlyMs, performance.now() - t0);
    }
  };
  await model.fit(premade, undefined, { epochs: 1, verbose: 0 });
  await timeConsumer(2);
  log(`\nstrata.data overlap: one fit() epoch of ${n} elements, map ${MAP_MS} ms/element, batch ${BATCH} (${n / BATCH} compiled steps)`);
  log(`  producing alone: ${Object.entries(produceOnlyMs).map(([k, v]) => `${k} map ${v.toFixed(0)} ms`).join(', ')}`);
  const threads = strata.config.getIntraOpNumThreads();
  log(`  ${cores} CPU cores; the graph worker runs ONNX Runtime with ${threads} intra-op thread${threads === 1 ? '' : 's'}`);

  const results: OverlapResult[] = [];
  for (const v of variants) {
    const times: number[] = [];
    const ds = v.make();
    await model.fit(ds.take(2), undefined, { epochs: 1, verbose: 0 }); // starts map workers, if any
    for (let rep = 0; rep < (quick ? 1 : 3); rep++) {
      const t = performance.now();
      await model.fit(ds, undefined, { epochs: 1, verbose: 0 });
      times.push(performance.now() - t);
    }
    const epochMs = Math.min(...times);
    results.push({ map: v.map, variant: v.variant, epochMs });
    log(`  ${`${v.map} map, ${v.variant}`.padEnd(44)}${epochMs.toFixed(0).padStart(7)} ms`);
  }
  // The machine's speed drifts (shared VMs): time the steps alone again and keep the fastest.
  await timeConsumer(2);
  log(`  training steps alone (fastest of 4 epochs, before and after): ${consumeOnlyMs.toFixed(0)} ms`);
  return { results, reference: { produceOnlyMs, consumeOnlyMs } };
}

// ---------------------------------------------------------------------------
// (b) bounded memory over a large TFRecord file

const FEATURES = 784;

/** Distinct records cycled through the file: class c has a bump at features [c*78, c*78+78). */
function makeRecords(count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < count; i++) {
    const label = i % 10;
    const x = new Float32Array(FEATURES);
    for (let k = 0; k < FEATURES; k++) x[k] = rand() * 0.5 + (Math.floor(k / 78) === label ? 0.5 : 0);
    out.push(data.serializeExample({ x: data.floatFeature(x), label: data.int64Feature(label) }));
  }
  return out;
}

async function runMemory(log: (l: string) => void, sizeMB: number): Promise<MemoryResult> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-data-bench-'));
  const path = join(dir, 'train.tfrecord');
  try {
    const templates = makeRecords(1000);
    const target = sizeMB * 1024 * 1024;
    const t0 = performance.now();
    const writer = new data.TFRecordWriter(path);
    let bytes = 0;
    let records = 0;
    while (bytes < target) {
      const r = templates[records % templates.length];
      writer.write(r);
      bytes += r.length + 16;
      records++;
    }
    await writer.close();
    const writeSeconds = (performance.now() - t0) / 1000;
    const fileBytes = statSync(path).size;
    log(`\nstrata.data memory: ${(fileBytes / 2 ** 20).toFixed(0)} MB TFRecord file, ${records} tf.train.Example records (784 floats + label), written in ${writeSeconds.toFixed(1)} s`);

    strata.random.setRandomSeed(1);
    const model = new strata.Sequential([strata.Input({ shape: [FEATURES] }), new layers.Dense(64, { activation: 'relu' }), new layers.Dense(10)]);
    model.compile({ optimizer: 'adam', loss: new strata.losses.SparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const spec = { x: new data.FixedLenFeature([FEATURES], 'float32'), label: new data.FixedLenFeature([], 'int64') };
    const ds = new data.TFRecordDataset(path, { bufferSize: 1 << 20 })
      .batch(256)
      .map((records) => {
        const p = data.parseExample(records, spec);
        return [p.x, p.label] as [Tensor, Tensor];
      })
      .prefetch(data.AUTOTUNE);
    // Warm up the compiled step on a few batches, then measure a full epoch.
    await model.fit(ds.take(2), undefined, { epochs: 1, verbose: 0 });
    (globalThis as { gc?: () => void }).gc?.();
    const baselineRssMB = process.memoryUsage().rss / 2 ** 20;
    let peak = baselineRssMB;
    let peakHeap = 0;
    let peakBuffers = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.rss / 2 ** 20);
      peakHeap = Math.max(peakHeap, m.heapTotal / 2 ** 20);
      peakBuffers = Math.max(peakBuffers, m.arrayBuffers / 2 ** 20);
    }, 50);
    const t1 = performance.now();
    const h = await model.fit(ds, undefined, { epochs: 1, verbose: 0 });
    const epochSeconds = (performance.now() - t1) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss / 2 ** 20);
    const maxRssProcessMB = process.resourceUsage().maxRSS / 1024;
    const result: MemoryResult = {
      fileBytes,
      records,
      writeSeconds,
      epochSeconds,
      baselineRssMB,
      peakRssDuringTrainingMB: peak,
      peakHeapMB: peakHeap,
      peakArrayBuffersMB: peakBuffers,
      maxRssProcessMB,
      finalLoss: h.history.loss[0],
      finalAccuracy: h.history.accuracy[0],
    };
    log(`  one epoch: ${epochSeconds.toFixed(1)} s (${(fileBytes / 2 ** 20 / epochSeconds).toFixed(0)} MB/s, ${(records / epochSeconds).toFixed(0)} records/s), loss ${result.finalLoss.toFixed(4)}, accuracy ${result.finalAccuracy.toFixed(4)}`);
    log(`  RSS before the epoch ${baselineRssMB.toFixed(0)} MB, peak during the epoch ${peak.toFixed(0)} MB (JS heap up to ${peakHeap.toFixed(0)} MB, array buffers up to ${peakBuffers.toFixed(0)} MB), process max RSS ${maxRssProcessMB.toFixed(0)} MB; file ${(fileBytes / 2 ** 20).toFixed(0)} MB`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runDataBench(options: DataBenchOptions = {}): Promise<DataBenchResult> {
  const log = options.log ?? ((l: string) => console.log(l));
  const filters = options.filters ?? [];
  const wants = (...keys: string[]) => filters.length === 0 || filters.some((f) => f === 'data' || keys.some((k) => k.includes(f) || f.includes(k)));
  const result: DataBenchResult = { overlap: [], overlapReference: null, memory: null };
  if (wants('prefetch', 'overlap', 'parallel')) {
    const r = await runOverlap(log, options.quick ?? false);
    result.overlap = r.results;
    result.overlapReference = r.reference;
  }
  if (wants('tfrecord', 'memory')) result.memory = await runMemory(log, options.sizeMB ?? 2048);
  return result;
}
