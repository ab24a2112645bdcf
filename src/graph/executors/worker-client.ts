/**
 * The main-thread side of the graph worker (ort-worker.mjs). Compiled steps
 * run there, so the event loop stays free (timers, I/O, data prefetching and
 * the model server keep running during a step). Variables updated by a step
 * stay in the worker as RemoteValues until this thread reads them.
 */
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { DType, TypedArray } from '../../tensor/dtype.ts';
import { Tensor } from '../../tensor/tensor.ts';
import type { RemoteValue } from '../../engine/variable.ts';

interface WireTensor {
  type: string;
  dims: readonly number[];
  data: TypedArray | BigInt64Array;
}

export type Feed = { name: string; handle: number } | ({ name: string } & WireTensor);
export interface OutputRequest {
  name: string;
  /** Keep the value in the worker under a new handle instead of sending it back. */
  keep: boolean;
}
export type RunResult = ({ kind: 'value'; tensor: Tensor } | { kind: 'kept'; value: WorkerValue })[];

function toTensor(w: WireTensor): Tensor {
  const dims = w.dims.map(Number);
  switch (w.type) {
    case 'float32': return new Tensor(dims, 'float32', w.data as Float32Array);
    case 'float64': return new Tensor(dims, 'float64', w.data as Float64Array);
    case 'int32': return new Tensor(dims, 'int32', w.data as Int32Array);
    case 'bool': return new Tensor(dims, 'bool', w.data as Uint8Array);
    case 'int64': return new Tensor(dims, 'int32', Int32Array.from(w.data as BigInt64Array, (v) => Number(v)));
    default: throw new Error(`The graph worker returned a tensor of type ${w.type}, which Strata does not support.`);
  }
}

const ORT_TYPE: Record<DType, string> = { float32: 'float32', float64: 'float64', int32: 'int32', bool: 'bool' };

export function wireTensor(t: Tensor): WireTensor {
  // Structured clone copies the values (the main thread keeps its tensor).
  return { type: ORT_TYPE[t.dtype], dims: t.shape as number[], data: t.valuesOrThrow('graph feed') };
}

/** A variable value kept by the worker. */
export class WorkerValue implements RemoteValue {
  private released = false;
  constructor(
    private readonly client: GraphWorker,
    readonly handle: number,
  ) {}
  fetch(): Tensor {
    return this.client.readSync(this.handle);
  }
  release(): void {
    if (this.released) return;
    this.released = true;
    this.client.free(this.handle);
  }
}

export class GraphWorker {
  private readonly worker: Worker;
  private readonly syncPort: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly pending = new Map<number, { resolve: (m: any) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private nextHandle = 0;
  private toFree: number[] = [];
  private failed: Error | null = null;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.syncPort = port1;
    this.worker = new Worker(new URL('./ort-worker.mjs', import.meta.url), {
      workerData: { syncPort: port2, flag: this.flag.buffer },
      transferList: [port2],
      // Plain JavaScript: it needs none of the parent's flags (some, such as --input-type, stop a worker from starting).
      execArgv: [],
    });
    this.worker.unref();
    this.worker.on('message', (m: { id: number; ok: boolean; message?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.ok) p.resolve(m);
      else p.reject(new Error(m.message));
    });
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new Error(`The graph worker exited (code ${code}).`)));
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private request<T>(message: object, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    // Keep the process alive while a reply is outstanding; let it exit when idle.
    this.worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  async createSession(model: Uint8Array, options: object): Promise<number> {
    const copy = model.slice();
    const reply = await this.request<{ session: number }>({ kind: 'create', model: copy, options }, [copy.buffer]);
    return reply.session;
  }

  async run(session: number, feeds: readonly Feed[], outputs: readonly OutputRequest[]): Promise<RunResult> {
    const keepHandles = outputs.map((o) => (o.keep ? this.nextHandle++ : null));
    const free = this.toFree;
    this.toFree = [];
    const reply = await this.request<{ outputs: (WireTensor | null)[] }>({
      kind: 'run',
      session,
      free,
      feeds,
      outputs: outputs.map((o, i) => ({ name: o.name, keep: keepHandles[i] })),
    });
    return reply.outputs.map((w, i) => (w === null ? { kind: 'kept', value: new WorkerValue(this, keepHandles[i]!) } : { kind: 'value', tensor: toTensor(w) }));
  }

  /** Copies a kept value to this thread, blocking until the worker has answered (it answers after the runs queued before). */
  readSync(handle: number): Tensor {
    if (this.failed) throw this.failed;
    Atomics.store(this.flag, 0, 0);
    const id = this.nextId++;
    this.worker.postMessage({ kind: 'read', id, handle });
    for (;;) {
      const result = Atomics.wait(this.flag, 0, 0, 30_000);
      if (result !== 'timed-out') break;
      if (this.failed) throw this.failed;
    }
    const received = receiveMessageOnPort(this.syncPort);
    if (!received) throw new Error('Internal error: the graph worker raised its flag without a message.');
    const m = received.message as { ok: boolean; message?: string } & WireTensor;
    if (!m.ok) throw new Error(`Reading a variable from the graph worker failed: ${m.message}`);
    return toTensor(m);
  }

  free(handle: number): void {
    this.toFree.push(handle);
    if (this.toFree.length > 256) {
      this.worker.postMessage({ kind: 'free', handles: this.toFree });
      this.toFree = [];
    }
  }

  /** Ends ONNX Runtime's profiling of a session created with enableProfiling (ORT writes its JSON file). */
  endProfiling(session: number): Promise<void> {
    return this.request({ kind: 'endProfiling', session });
  }

  releaseSession(session: number): Promise<unknown> {
    return this.request({ kind: 'release', session });
  }

  /** Live sessions and stored values in the worker (tests check that dropped functions free theirs). */
  stats(): Promise<{ sessions: number; stored: number }> {
    return this.request({ kind: 'stats' });
  }
}

let shared: GraphWorker | null = null;
export function graphWorker(): GraphWorker {
  shared ??= new GraphWorker();
  return shared;
}
