/**
 * Benchmark harness: `npm run bench [-- options] [filters...]`.
 *
 * A suite is a named list of cases; each case times Strata against a peer
 * (TensorFlow.js's CPU backend for the kernel suite) in the same process:
 * warm-up runs first, then timed repeats, reporting the median. Suites
 * register with `registerSuite` (see bench/kernels.ts); other modules can
 * import this file to register more and call `runSuites` (importing it does
 * not start a run).
 *
 *   npm run bench                     all suites
 *   npm run bench -- matmul conv      only cases whose suite or name contains a filter
 *   npm run bench -- --quick          fewer repeats (a smoke test)
 *   npm run bench -- --json out.json  also write the results as JSON
 *   npm run bench -- serving          only the model server
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface BenchCase {
  name: string;
  /** Floating-point operations per run, for GFLOP/s (omit where not meaningful). */
  flops?: number;
  /** One Strata run. */
  strata: () => unknown;
  /** One run of the peer (omit when the peer has no equivalent). */
  peer?: () => unknown;
  /** For a very slow peer: time exactly this many peer runs, without warm-up. */
  peerRuns?: number;
  /** A note printed under the table. */
  note?: string;
  /** Runs after all timing of the case (dispose peer tensors...). */
  cleanup?: () => void;
}

export interface Suite {
  name: string;
  /** The library Strata is compared with, for the table header. */
  peer: string;
  /** Builds the cases (once, before timing: allocate inputs here). */
  cases: () => BenchCase[] | Promise<BenchCase[]>;
}

export interface Timing {
  medianMs: number;
  runs: number;
}

export interface CaseResult {
  suite: string;
  peerName: string;
  name: string;
  strata: Timing;
  peer: Timing | null;
  flops?: number;
}

export interface RunOptions {
  /** Substrings; a case runs when its suite or name contains one (all when empty). */
  filters?: readonly string[];
  /** Target time spent timing each side of a case (default 1500 ms; 150 with quick). */
  budgetMs?: number;
  minRuns?: number;
  maxRuns?: number;
  log?: (line: string) => void;
}

const suites: Suite[] = [];

export function registerSuite(suite: Suite): void {
  if (suites.some((s) => s.name === suite.name)) throw new Error(`bench: a suite named '${suite.name}' is already registered.`);
  suites.push(suite);
}

export function registeredSuites(): readonly Suite[] {
  return suites;
}

/** Times `fn`: warm-up (at least 2 runs or 20% of the budget), then repeats within the budget; the median. */
export function timeIt(fn: () => unknown, { budgetMs = 1500, minRuns = 5, maxRuns = 200 }: Pick<RunOptions, 'budgetMs' | 'minRuns' | 'maxRuns'> = {}): Timing {
  const warmEnd = performance.now() + budgetMs * 0.2;
  let warm = 0;
  while (warm < 2 || (performance.now() < warmEnd && warm < maxRuns)) {
    fn();
    warm++;
  }
  const times: number[] = [];
  const end = performance.now() + budgetMs;
  while (times.length < minRuns || (performance.now() < end && times.length < maxRuns)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const medianMs = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  return { medianMs, runs: times.length };
}

/** Times exactly `runs` calls (no warm-up); the median. */
export function timeFixed(fn: () => unknown, runs: number): Timing {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[times.length >> 1], runs };
}

export async function runSuites(options: RunOptions = {}): Promise<CaseResult[]> {
  const { filters = [], log = (line: string) => console.log(line) } = options;
  const results: CaseResult[] = [];
  for (const suite of suites) {
    const cases = await suite.cases();
    const selected = cases.filter((c) => filters.length === 0 || filters.some((f) => suite.name.includes(f) || c.name.includes(f)));
    if (selected.length === 0) continue;
    log(`\n${suite.name} (Strata vs ${suite.peer})`);
    for (const c of selected) {
      const strata = timeIt(c.strata, options);
      const peer = !c.peer ? null : c.peerRuns ? timeFixed(c.peer, c.peerRuns) : timeIt(c.peer, options);
      c.cleanup?.();
      const r: CaseResult = { suite: suite.name, peerName: suite.peer, name: c.name, strata, peer, flops: c.flops };
      results.push(r);
      log(formatRow(r));
    }
    for (const c of selected) if (c.note) log(`  note: ${c.name}: ${c.note}`);
  }
  return results;
}

const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);
const ms = (t: number) => (t >= 100 ? t.toFixed(0) : t >= 10 ? t.toFixed(1) : t.toFixed(2));

export const TABLE_HEADER = `${pad('case', 44)}${lpad('Strata ms', 11)}${lpad('peer ms', 11)}${lpad('ratio', 8)}${lpad('GFLOP/s', 9)}${lpad('peer GFLOP/s', 14)}`;

export function formatRow(r: CaseResult): string {
  const ratio = r.peer ? (r.peer.medianMs / r.strata.medianMs).toFixed(2) : '-';
  const gflops = (t: Timing | null) => (r.flops && t ? (r.flops / t.medianMs / 1e6).toFixed(2) : '-');
  return `${pad(r.name, 44)}${lpad(ms(r.strata.medianMs), 11)}${lpad(r.peer ? ms(r.peer.medianMs) : '-', 11)}${lpad(ratio, 8)}${lpad(gflops(r.strata), 9)}${lpad(gflops(r.peer), 14)}`;
}

/** A Markdown table of results (for bench/README.md). */
export function markdownTable(results: readonly CaseResult[]): string {
  const rows = results.map((r) => {
    const ratio = r.peer ? (r.peer.medianMs / r.strata.medianMs).toFixed(2) : '-';
    const g = (t: Timing | null) => (r.flops && t ? (r.flops / t.medianMs / 1e6).toFixed(2) : '-');
    return `| ${r.name} | ${ms(r.strata.medianMs)} | ${r.peer ? ms(r.peer.medianMs) : '-'} | ${ratio} | ${g(r.strata)} | ${g(r.peer)} |`;
  });
  return ['| case | Strata ms | peer ms | ratio (peer / Strata) | Strata GFLOP/s | peer GFLOP/s |', '| --- | ---: | ---: | ---: | ---: | ---: |', ...rows].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const jsonIndex = argv.indexOf('--json');
  const jsonPath = jsonIndex >= 0 ? argv[jsonIndex + 1] : null;
  const markdown = argv.includes('--markdown');
  const filters = argv.filter((a, i) => !a.startsWith('--') && !(jsonIndex >= 0 && i === jsonIndex + 1));

  const { kernelSuite } = await import('./kernels.ts');
  registerSuite(kernelSuite);

  console.log(`Node ${process.version}, ${process.arch}; medians of repeated runs after warm-up; ratio = peer ms / Strata ms (higher is better for Strata).`);
  console.log(TABLE_HEADER);
  const results = await runSuites({ filters, budgetMs: quick ? 150 : 1500, minRuns: quick ? 2 : 5 });
  if (markdown) console.log(`\n${markdownTable(results)}`);
  // Graph-mode training steps against TF.js CPU/WASM and Python Keras (bench/training.ts).
  const trainingFilters = filters.filter((f) => ['training', 'graph', 'mlp', 'cnn'].some((k) => k.includes(f) || f.includes(k)));
  let training: unknown[] = [];
  if (filters.length === 0 || trainingFilters.length > 0) {
    const { runTrainingBench } = await import('./training.ts');
    training = await runTrainingBench({ budgetMs: quick ? 300 : 3000, log: (l) => console.log(l), filters: trainingFilters });
  }
  // strata.data: prefetch / parallel-map overlap and bounded memory over a large TFRecord file (bench/data.ts; --data-mb=N sets the file size).
  const dataFilters = filters.filter((f) => ['data', 'prefetch', 'overlap', 'tfrecord', 'memory'].some((k) => k.includes(f) || f.includes(k)));
  let dataResults: unknown = null;
  if (filters.length === 0 || dataFilters.length > 0) {
    const { runDataBench } = await import('./data.ts');
    const mb = argv.find((a) => a.startsWith('--data-mb='));
    dataResults = await runDataBench({ filters: dataFilters, quick, sizeMB: mb ? Number(mb.slice('--data-mb='.length)) : quick ? 256 : undefined });
  }
  // The model server: requests per second with and without request batching (bench/serving.ts).
  let serving: unknown = null;
  if (filters.length === 0 || filters.some((f) => ['serving', 'server', 'serve'].some((k) => k.includes(f) || f.includes(k)))) {
    const { runServingBench } = await import('./serving.ts');
    serving = await runServingBench({ quick });
  }
  if (jsonPath) writeFileSync(jsonPath, JSON.stringify({ kernels: results, training, data: dataResults, serving }, null, 2));
  // The graph worker and ONNX Runtime keep no work pending; exit explicitly in case a backend holds the loop.
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
