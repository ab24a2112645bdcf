/**
 * Request batching for the model server: while one compiled call runs (in
 * ONNX Runtime's worker thread, so the event loop keeps accepting requests),
 * the requests that arrive wait; the next call takes all of them that fit in
 * `maxBatchSize` rows and have the same example shapes, as one batch. No
 * timer: an idle server runs a lone request at once, a busy one batches.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { concatenate } from '../ops/api/indexing.ts';

export interface BatchRequest {
  inputs: Tensor[];
  rows: number;
}

/** Runs one batch: the inputs joined along the batch axis; gives one nested list per output. */
export type BatchRunner = (inputs: Tensor[]) => Promise<unknown[][]>;

interface Pending {
  request: BatchRequest;
  resolve: (outputs: unknown[][]) => void;
  reject: (error: unknown) => void;
}

/** Inputs of two requests can share a batch when every dimension but the batch one agrees. */
function sameExampleShapes(a: BatchRequest, b: BatchRequest): boolean {
  return a.inputs.every((t, i) => {
    const u = b.inputs[i];
    return t.dtype === u.dtype && t.rank === u.rank && t.shape.every((d, k) => k === 0 || d === u.shape[k]);
  });
}

export class Batcher {
  #queue: Pending[] = [];
  #running = false;
  /** Compiled calls made, and the requests and rows they served. */
  readonly stats = { batches: 0, requests: 0, rows: 0 };

  constructor(
    private readonly run: BatchRunner,
    private readonly maxBatchSize: number,
  ) {}

  /** The outputs (nested lists, one per output) for the rows of this request. */
  submit(request: BatchRequest): Promise<unknown[][]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#take();
        await this.#runBatch(batch);
      }
    } finally {
      this.#running = false;
    }
  }

  /** The first waiting request, and the later ones that fit beside it. */
  #take(): Pending[] {
    const first = this.#queue.shift()!;
    const batch = [first];
    let rows = first.request.rows;
    for (let i = 0; i < this.#queue.length; ) {
      const p = this.#queue[i];
      if (rows + p.request.rows <= this.maxBatchSize && sameExampleShapes(first.request, p.request)) {
        batch.push(p);
        rows += p.request.rows;
        this.#queue.splice(i, 1);
      } else i++;
    }
    return batch;
  }

  async #runBatch(batch: Pending[]): Promise<void> {
    let outputs: unknown[][];
    try {
      const inputs = batch.length === 1 ? batch[0].request.inputs : batch[0].request.inputs.map((_, i) => concatenate(batch.map((p) => p.request.inputs[i]), 0));
      outputs = await this.run(inputs);
    } catch (e) {
      if (batch.length === 1) {
        batch[0].reject(e);
        return;
      }
      // One request's values (an index out of range, say) must not fail the
      // requests that happened to share its batch: run each on its own.
      for (const p of batch) await this.#runBatch([p]);
      return;
    }
    const rows = batch.reduce((n, p) => n + p.request.rows, 0);
    if (!outputs.every((o) => Array.isArray(o) && o.length === rows)) {
      const error = new Error(`the model's outputs must have the batch dimension first (${rows} rows); got ${outputs.map((o) => (Array.isArray(o) ? `${o.length} rows` : 'a scalar')).join(', ')}.`);
      for (const p of batch) p.reject(error);
      return;
    }
    this.stats.batches++;
    let start = 0;
    for (const p of batch) {
      const end = start + p.request.rows;
      p.resolve(outputs.map((o) => o.slice(start, end)));
      this.stats.requests++;
      this.stats.rows += p.request.rows;
      start = end;
    }
  }
}
