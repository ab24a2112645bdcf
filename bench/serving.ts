/**
 * Model server benchmark (`npm run bench -- serving`): requests per second and
 * latency of `strata.serving.serve` for a small CNN on 28x28x1 inputs, with
 * request batching (maxBatchSize 64) and without (maxBatchSize 1), for
 * clients that each send one example per request and wait for the answer
 * before the next (a closed loop). The clients run in this process (Node's
 * fetch), so they share the main thread with the server's HTTP and JSON work;
 * the model itself runs in the ONNX Runtime worker.
 *
 * Peer: the same model exported to ONNX and run by onnxruntime-node directly,
 * one example per call, in a loop (no HTTP, no JSON): the cost of the model
 * alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as strata from '../src/index.ts';

const { layers } = strata;

export interface ServingResult {
  variant: string;
  clients: number;
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  medianLatencyMs: number;
  p99LatencyMs: number;
  meanRowsPerCall: number;
}

function cnn(): strata.Model {
  strata.random.setRandomSeed(1);
  return new strata.Sequential(
    [
      strata.Input({ shape: [28, 28, 1] }),
      new layers.Conv2D(16, 3, { activation: 'relu' }),
      new layers.MaxPooling2D(2),
      new layers.Conv2D(32, 3, { activation: 'relu' }),
      new layers.MaxPooling2D(2),
      new layers.Flatten(),
      new layers.Dense(10, { activation: 'softmax' }),
    ],
    { name: 'digits' },
  );
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function closedLoop(url: string, clients: number, perClient: number, body: string): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < perClient; i++) {
        const s = performance.now();
        const r = await fetch(`${url}:predict`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        if (r.status !== 200) throw new Error(`bench serving: HTTP ${r.status}: ${await r.text()}`);
        await r.json();
        latencies.push(performance.now() - s);
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

export async function runServingBench(options: { quick?: boolean; log?: (line: string) => void } = {}): Promise<ServingResult[]> {
  const log = options.log ?? ((l: string) => console.log(l));
  const model = cnn();
  const example = Array.from({ length: 28 }, (_, i) => Array.from({ length: 28 }, (_, j) => [((i * 28 + j) % 17) / 17]));
  const body = JSON.stringify({ instances: [example] });
  const results: ServingResult[] = [];
  const perClient = options.quick ? 10 : 50;
  log(`\nModel server (strata.serving, TF Serving REST): CNN 28x28x1 -> 10, one example per request, closed-loop clients in this process`);
  log(`${'variant'.padEnd(36)}${'clients'.padStart(8)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'rows/call'.padStart(11)}`);
  for (const [variant, maxBatchSize] of [
    ['batching (maxBatchSize 64)', 64],
    ['no batching (maxBatchSize 1)', 1],
  ] as const) {
    for (const clients of [1, 32]) {
      const server = await strata.serving.serve(model, { port: 0, maxBatchSize, modelName: 'digits' });
      try {
        await closedLoop(server.url, clients, 20, body); // warm-up: the first calls build the ONNX Runtime session and warm V8
        const before = server.stats;
        const { seconds, latencies } = await closedLoop(server.url, clients, perClient, body);
        const after = server.stats;
        const r: ServingResult = {
          variant,
          clients,
          requests: latencies.length,
          seconds,
          requestsPerSecond: latencies.length / seconds,
          medianLatencyMs: percentile(latencies, 0.5),
          p99LatencyMs: percentile(latencies, 0.99),
          meanRowsPerCall: (after.rows - before.rows) / Math.max(1, after.batches - before.batches),
        };
        results.push(r);
        log(`${variant.padEnd(36)}${String(clients).padStart(8)}${r.requestsPerSecond.toFixed(0).padStart(9)}${r.medianLatencyMs.toFixed(2).padStart(9)}${r.p99LatencyMs.toFixed(2).padStart(9)}${r.meanRowsPerCall.toFixed(1).padStart(11)}`);
      } finally {
        await server.close();
      }
    }
  }
  // Peer: the model alone, through onnxruntime-node, one example per call.
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-serving-'));
  try {
    const path = join(dir, 'digits.onnx');
    await model.export(path, { format: 'onnx' });
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(path);
    const input = new ort.Tensor('float32', Float32Array.from(example.flat(2)), [1, 28, 28, 1]);
    const feeds = { [session.inputNames[0]]: input };
    for (let i = 0; i < 20; i++) await session.run(feeds);
    const n = options.quick ? 100 : 1000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await session.run(feeds);
    const seconds = (performance.now() - t0) / 1000;
    results.push({ variant: 'peer: onnxruntime-node alone', clients: 1, requests: n, seconds, requestsPerSecond: n / seconds, medianLatencyMs: (seconds * 1000) / n, p99LatencyMs: Number.NaN, meanRowsPerCall: 1 });
    log(`${'peer: onnxruntime-node alone (no HTTP)'.padEnd(36)}${'1'.padStart(8)}${(n / seconds).toFixed(0).padStart(9)}${((seconds * 1000) / n).toFixed(2).padStart(9)}${'-'.padStart(9)}${'1.0'.padStart(11)}`);
    await session.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
