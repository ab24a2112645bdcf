/**
 * Map functions that run in worker threads, for CPU-heavy per-element work
 * (decoding, augmentation). A JavaScript closure cannot move to another
 * thread, so the function is given as self-contained source
 * (`workerFunction((x, strata) => ...)`: it may use only its arguments and
 * globals) or as a module export (`workerFunction({module: url, exportName})`),
 * which each worker imports. Elements travel by structured clone: tensor
 * values are copied once into their own buffers and transferred.
 *
 * `ds.map(workerFn, {numParallelCalls: n})` starts n workers (AUTOTUNE or
 * omitted: one per CPU core but one) the first time the dataset is iterated.
 * The pool belongs to the worker function and serves later passes and other
 * pipelines using it; workers exit after 10 s without work and never keep
 * the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type Element, fromWire, toWire } from './structure.ts';

const WORKER_FN = Symbol.for('strata.data.WorkerFunction');

export interface WorkerModuleSpec {
  /** A module URL or absolute path (use `new URL('./augment.ts', import.meta.url)`). */
  module: string | URL;
  /** The export to call (default 'default'). */
  exportName?: string;
}

interface WireSpec {
  source?: string;
  module?: string;
  exportName?: string;
}

/**
 * A map function to run in worker threads. It receives the element (and,
 * as a second argument, the `strata` namespace, imported in the worker on
 * first use) and returns the new element, or a promise of it.
 */
export class WorkerFunction<T = Element, U = unknown> {
  readonly [WORKER_FN] = true;
  /** @internal */
  readonly _spec: WireSpec;
  readonly name: string;
  declare readonly _types?: (x: T) => U;

  constructor(fn: ((element: T, strata: typeof import('../index.ts')) => U | Promise<U>) | WorkerModuleSpec) {
    if (typeof fn === 'function') {
      const source = fn.toString();
      if (/^\s*(async\s+)?[A-Za-z_$][\w$]*\s*\([^)]*\)\s*\{/.test(source) && !/^\s*(async\s+)?function\b/.test(source)) {
        throw new TypeError('workerFunction: a method cannot be sent to a worker; pass an arrow function or a function expression.');
      }
      this._spec = { source };
      this.name = fn.name || 'worker function';
    } else if (fn && (typeof fn.module === 'string' || fn.module instanceof URL)) {
      const url = fn.module instanceof URL ? fn.module.href : /^[a-z]+:/i.test(fn.module) ? fn.module : new URL(`file://${fn.module}`).href;
      this._spec = { module: url, exportName: fn.exportName ?? 'default' };
      this.name = `${fn.exportName ?? 'default'} from ${url}`;
    } else {
      throw new TypeError('workerFunction: expected a self-contained function or {module, exportName}.');
    }
  }
}

const pools = new WeakMap<WorkerFunction, Map<number, WorkerPool>>();

/** The pool of `size` workers for `fn`, shared by every map that uses it (a failed pool is replaced). */
export function workerPool(fn: WorkerFunction, size: number): WorkerPool {
  let bySize = pools.get(fn);
  if (!bySize) pools.set(fn, (bySize = new Map()));
  let pool = bySize.get(size);
  if (!pool || pool.failed) bySize.set(size, (pool = new WorkerPool(fn, size)));
  return pool;
}

export function isWorkerFunction(x: unknown): x is WorkerFunction {
  return typeof x === 'object' && x !== null && (x as { [WORKER_FN]?: unknown })[WORKER_FN] === true;
}

/** Wraps a function (or a module export) to run in worker threads when given to `Dataset.map`. */
export function workerFunction<T = Element, U = unknown>(fn: ((element: T, strata: typeof import('../index.ts')) => U | Promise<U>) | WorkerModuleSpec): WorkerFunction<T, U> {
  return new WorkerFunction<T, U>(fn);
}

/** AUTOTUNE for worker maps: one worker per core but one, which the main thread and the graph worker share. */
export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism() - 1);
}

interface Task {
  wire: unknown;
  transfer: ArrayBuffer[];
  resolve: (e: Element) => void;
  reject: (e: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  task: Task | null;
}

const IDLE_MS = 10_000;

/** Flags of this process that a worker should not get. */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--input-type') || a.startsWith('--test') || a === '--watch') continue;
    if (a === '--eval' || a === '-e' || a === '--print' || a === '-p') {
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Task[] = [];
  private idleTimer: NodeJS.Timeout | null = null;
  failed: Error | null = null;

  constructor(
    private readonly fn: WorkerFunction,
    readonly size: number,
  ) {}

  call(element: Element): Promise<Element> {
    if (this.failed) return Promise.reject(this.failed);
    const transfer: ArrayBuffer[] = [];
    const wire = toWire(element, transfer);
    return new Promise<Element>((resolve, reject) => {
      this.queue.push({ wire, transfer, resolve, reject });
      this.dispatch();
    });
  }

  private spawn(): PoolWorker {
    const worker = new Worker(new URL('./map-worker.mjs', import.meta.url), {
      workerData: this.fn._spec,
      execArgv: workerExecArgv(),
    });
    const pw: PoolWorker = { worker, task: null };
    worker.on('message', (m: { ok: boolean; result?: unknown; message?: string; stack?: string }) => {
      const task = pw.task;
      pw.task = null;
      if (task) {
        if (m.ok) {
          try {
            task.resolve(fromWire(m.result));
          } catch (e) {
            task.reject(e as Error);
          }
        } else {
          const err = new Error(m.message ?? 'unknown error');
          if (m.stack) err.stack = m.stack;
          task.reject(err);
        }
      }
      this.dispatch();
    });
    worker.on('error', (e) => this.fail(new Error(`the worker running ${this.fn.name} failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => {
      const i = this.workers.indexOf(pw);
      if (i >= 0) this.workers.splice(i, 1);
      if (pw.task) pw.task.reject(new Error(`the worker running ${this.fn.name} exited (code ${code}).`));
      pw.task = null;
      // Tasks still queued would otherwise wait forever for a worker: start a new one.
      if (this.queue.length > 0) this.dispatch();
    });
    this.workers.push(pw);
    return pw;
  }

  private dispatch(): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    while (this.queue.length > 0) {
      let w = this.workers.find((x) => x.task === null);
      if (!w) {
        if (this.workers.length >= this.size) break;
        w = this.spawn();
      }
      const task = this.queue.shift()!;
      w.task = task;
      w.worker.ref();
      w.worker.postMessage({ element: task.wire }, task.transfer);
    }
    for (const w of this.workers) if (w.task === null) w.worker.unref();
    if (this.queue.length === 0 && this.workers.every((w) => w.task === null) && this.workers.length > 0) {
      this.idleTimer = setTimeout(() => this.terminate(), IDLE_MS);
      this.idleTimer.unref();
    }
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const w of this.workers) {
      w.task?.reject(e);
      w.task = null;
    }
    for (const t of this.queue.splice(0)) t.reject(e);
    this.terminate();
  }

  terminate(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    for (const w of this.workers.splice(0)) void w.worker.terminate();
  }
}
