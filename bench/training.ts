/**
 * Graph-mode benchmarks: one training step of an MLP (784-256-256-10, batch
 * 128, Adam) and of a small CNN (Conv2D 32 3x3, max-pool, Conv2D 64 3x3,
 * max-pool, Dense 10 on 28x28x1, batch 64), timed for Strata eager, Strata
 * compiled (strata.fn on ONNX Runtime in the graph worker), TensorFlow.js CPU
 * and WASM (tfjs-layers models trained with the same optimizer), and Python
 * Keras 3 on TensorFlow when a Python with both is available. Also the fixed
 * overhead of one compiled call and a compiled 1024 matmul.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as strata from '../src/index.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { randomTensor } from '../test/helpers/close.ts';

const { ops, layers } = strata;

export interface TrainingResult {
  name: string;
  /** Median ms per step for each contender (null where it cannot run). */
  times: Record<string, number | null>;
  notes: string[];
}

/** Median of timed async runs after warm-up, within a time budget. */
export async function timeAsync(fn: () => Promise<unknown> | unknown, budgetMs: number, minRuns = 5, warmup = 3): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const end = performance.now() + budgetMs;
  while (times.length < minRuns || (performance.now() < end && times.length < 500)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

function mlp(): strata.Sequential {
  return new strata.Sequential([
    strata.Input({ shape: [784] }),
    new layers.Dense(256, { activation: 'relu' }),
    new layers.Dense(256, { activation: 'relu' }),
    new layers.Dense(10),
  ]);
}

function cnn(): strata.Sequential {
  return new strata.Sequential([
    strata.Input({ shape: [28, 28, 1] }),
    new layers.Conv2D(32, 3, { activation: 'relu' }),
    new layers.MaxPooling2D(2),
    new layers.Conv2D(64, 3, { activation: 'relu' }),
    new layers.MaxPooling2D(2),
    new layers.Flatten(),
    new layers.Dense(10),
  ]);
}

/** A training step written with the public API (what model.fit compiles). */
function makeStep(model: strata.Sequential) {
  const optimizer = new strata.optimizers.Adam({ learningRate: 1e-3 });
  return (x: Tensor, y: Tensor) => {
    const tape = new strata.GradientTape();
    const loss = tape.record(() => ops.mean(ops.sparseCategoricalCrossentropy(y, model.apply(x, { training: true }), { fromLogits: true })));
    const weights = model.trainableWeights;
    optimizer.apply(tape.gradient(loss, weights), weights);
    return loss;
  };
}

function labels(n: number): Tensor {
  return strata.tensor(Int32Array.from({ length: n }, (_, i) => (i * 7) % 10));
}

type Tf = typeof import('@tensorflow/tfjs');

async function loadTf(): Promise<Tf> {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  return tf;
}

function tfModel(tf: Tf, kind: 'mlp' | 'cnn') {
  const m = tf.sequential();
  if (kind === 'mlp') {
    m.add(tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }));
    m.add(tf.layers.dense({ units: 256, activation: 'relu' }));
    m.add(tf.layers.dense({ units: 10 }));
  } else {
    m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 10 }));
  }
  m.compile({ optimizer: tf.train.adam(1e-3), loss: (yTrue: import('@tensorflow/tfjs').Tensor, yPred: import('@tensorflow/tfjs').Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred) });
  return m;
}

async function timeTf(tf: Tf, backend: 'cpu' | 'wasm', kind: 'mlp' | 'cnn', batch: number, budgetMs: number): Promise<number | null> {
  await tf.setBackend(backend);
  await tf.ready();
  const model = tfModel(tf, kind);
  const x = tf.randomUniform(kind === 'mlp' ? [batch, 784] : [batch, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => (i * 7) % 10), 'int32'), 10);
  try {
    // TF.js CPU needs tens of seconds per CNN step (its conv filter gradient is slow): time one step after one warm-up.
    const slow = backend === 'cpu' && kind === 'cnn';
    return await timeAsync(() => model.trainOnBatch(x, y), slow ? 0 : budgetMs, slow ? 1 : 3, slow ? 1 : 2);
  } catch (e) {
    return null;
  } finally {
    x.dispose();
    y.dispose();
    model.dispose();
  }
}

/** Python Keras 3 on TensorFlow, run in a child process; null if unavailable. */
function timeKeras(threads: number): { mlp: number; cnn: number; version: string } | null {
  const candidates = [process.env.STRATA_BENCH_PYTHON, '/tmp/kvenv/bin/python', 'python3'].filter((p): p is string => Boolean(p));
  for (const python of candidates) {
    if (python.includes('/') && !existsSync(python)) continue;
    try {
      // TensorFlow gets the intra-op threads ONNX Runtime has, so the comparison is like for like.
      const out = execFileSync(python, [new URL('./python/keras_step.py', import.meta.url).pathname, String(threads)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 300_000 });
      const r = JSON.parse(out.trim().split('\n').at(-1)!);
      return { mlp: r.mlp_ms, cnn: r.cnn_ms, version: `Keras ${r.keras} / TensorFlow ${r.tensorflow}` };
    } catch {
      // try the next interpreter
    }
  }
  return null;
}

export async function runTrainingBench(options: { budgetMs: number; log: (line: string) => void; filters: readonly string[] }): Promise<TrainingResult[]> {
  const { budgetMs, log } = options;
  const results: TrainingResult[] = [];
  const tf = await loadTf();
  const threads = strata.config.getIntraOpNumThreads();
  const keras = timeKeras(threads);

  for (const kind of ['mlp', 'cnn'] as const) {
    const name = kind === 'mlp' ? 'MLP 784-256-256-10, batch 128, Adam' : 'CNN conv32-pool-conv64-pool-dense, batch 64, Adam';
    if (options.filters.length && !options.filters.some((f) => name.toLowerCase().includes(f) || 'training'.includes(f) || kind.includes(f))) continue;
    const batch = kind === 'mlp' ? 128 : 64;
    strata.random.setRandomSeed(0);
    const x = randomTensor(kind === 'mlp' ? [batch, 784] : [batch, 28, 28, 1], 1, 0, 1, 'float32');
    const y = labels(batch);
    const eagerModel = kind === 'mlp' ? mlp() : cnn();
    const eagerStep = makeStep(eagerModel);
    const graphModel = kind === 'mlp' ? mlp() : cnn();
    const graphStep = strata.fn(makeStep(graphModel), { name: `${kind}_train_step` });
    const times: Record<string, number | null> = {};
    times['Strata eager'] = await timeAsync(() => eagerStep(x, y).item(), budgetMs, 3, 1);
    times['Strata graph'] = await timeAsync(async () => (await graphStep(x, y)).item(), budgetMs);
    times['TF.js CPU'] = await timeTf(tf, 'cpu', kind, batch, budgetMs);
    times['TF.js WASM'] = kind === 'cnn' ? null : await timeTf(tf, 'wasm', kind, batch, budgetMs);
    times['Keras 3 (TF)'] = keras ? keras[kind] : null;
    const notes: string[] = [];
    if (kind === 'cnn') notes.push("TF.js WASM cannot train the CNN (its Conv2DBackpropFilter kernel is missing).");
    if (!keras) notes.push('Python Keras/TensorFlow not found (set STRATA_BENCH_PYTHON to a Python with keras and tensorflow).');
    else notes.push(`Keras measured with ${keras.version}, ${threads} intra-op thread${threads === 1 ? '' : 's'} (as Strata's ONNX Runtime), train_on_batch.`);
    results.push({ name, times, notes });
    log(formatTraining(results.at(-1)!));
  }

  // Fixed overhead of one compiled call, and a compute-bound graph.
  const add = strata.fn((a: Tensor, b: Tensor) => ops.add(a, b), { name: 'add_scalars' });
  const one = strata.tensor(1);
  const overhead = await timeAsync(async () => (await add(one, one)).item(), budgetMs, 20, 5);
  strata.config.setGraphWorker(false);
  const addInThread = strata.fn((a: Tensor, b: Tensor) => ops.add(a, b), { name: 'add_scalars_in_thread' });
  const overheadInThread = await timeAsync(async () => (await addInThread(one, one)).item(), budgetMs, 20, 5);
  strata.config.setGraphWorker(true);
  const a = randomTensor([1024, 1024], 3, -1, 1, 'float32');
  const mm = strata.fn((p: Tensor, q: Tensor) => ops.matmul(p, q), { name: 'matmul_1024' });
  const mmMs = await timeAsync(() => mm(a, a), budgetMs, 3, 2);
  const extra: TrainingResult = {
    name: 'graph call overhead and compute',
    times: { 'add two scalars (worker)': overhead, 'add two scalars (same thread)': overheadInThread, 'matmul 1024 (graph)': mmMs },
    notes: [`compiled matmul 1024: ${((2 * 1024 ** 3) / mmMs / 1e6).toFixed(1)} GFLOP/s (includes copying the 4 MB inputs to the worker and the output back)`],
  };
  results.push(extra);
  log(formatTraining(extra));
  return results;
}

export function formatTraining(r: TrainingResult): string {
  const lines = [`\n${r.name} (ms per step, median)`];
  const graph = r.times['Strata graph'];
  for (const [who, t] of Object.entries(r.times)) {
    const ratio = graph && t && who !== 'Strata graph' && !who.startsWith('add') && !who.startsWith('matmul') ? `  (Strata graph is ${(t / graph).toFixed(1)}x faster)` : '';
    lines.push(`  ${who.padEnd(30)} ${t === null ? 'n/a' : t.toFixed(2).padStart(9)}${ratio}`);
  }
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}
