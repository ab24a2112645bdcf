/**
 * callbacks.TensorBoard: logs for TensorBoard, in the layout Keras writes.
 *
 *   <logDir>/train/       epoch_<metric> (and epoch_learning_rate) at each epoch,
 *                         batch_<metric> every updateFreq batches (when not 'epoch'),
 *                         <weight path>/histogram every histogramFreq epochs,
 *                         the graph of the compiled training step (writeGraph)
 *   <logDir>/validation/  epoch_<metric> from the val_ logs,
 *                         evaluation_<metric>_vs_iterations after each evaluation
 *
 * Steps are the epoch index for epoch summaries, the global batch count
 * for batch summaries and the optimizer's iterations for evaluation_*, as in Keras.
 */
import { join } from 'node:path';
import type { Variable } from '../engine/variable.ts';
import { observeCompiledCalls } from '../engine/profiling.ts';
import { warnOnce } from '../engine/warnings.ts';
import type { Graph } from '../graph/ir.ts';
import type { Layer } from '../layers/layer.ts';
import { type SummaryWriter, createFileWriter } from '../summary/writer.ts';
import { Callback, type Logs } from './callback.ts';

export interface TensorBoardOptions {
  /** Folder of the logs (default 'logs'); `train` and `validation` folders are made inside. */
  logDir?: string;
  /** Write histograms of every weight every this many epochs (0 = never, the default). */
  histogramFreq?: number;
  /** Write the graph of the compiled training step (default true). */
  writeGraph?: boolean;
  /** 'epoch' (default): scalars once per epoch; 'batch' or N: also batch_<metric> every N batches. */
  updateFreq?: 'epoch' | 'batch' | number;
}

export class TensorBoard extends Callback {
  readonly logDir: string;
  readonly histogramFreq: number;
  readonly writeGraph: boolean;
  readonly updateFreq: 'epoch' | number;
  private trainWriter: SummaryWriter | null = null;
  private valWriter: SummaryWriter | null = null;
  private globalTrainBatch = 0;
  private stopObserving: (() => void) | null = null;
  private trainGraph: Graph | null = null;
  private graphWritten = false;

  constructor(options: TensorBoardOptions = {}) {
    super();
    this.logDir = options.logDir ?? 'logs';
    this.histogramFreq = options.histogramFreq ?? 0;
    this.writeGraph = options.writeGraph ?? true;
    const freq = options.updateFreq ?? 'epoch';
    if (freq !== 'epoch' && freq !== 'batch' && !(Number.isInteger(freq) && (freq as number) > 0)) {
      throw new Error(`TensorBoard: updateFreq must be 'epoch', 'batch' or a positive integer. Received: ${String(freq)}`);
    }
    this.updateFreq = freq === 'batch' ? 1 : freq;
    if (!Number.isInteger(this.histogramFreq) || this.histogramFreq < 0) throw new Error(`TensorBoard: histogramFreq must be a non-negative integer. Received: ${this.histogramFreq}`);
  }

  private get train(): SummaryWriter {
    if (!this.trainWriter || this.trainWriter.closed) this.trainWriter = createFileWriter(join(this.logDir, 'train'));
    return this.trainWriter;
  }

  private get validation(): SummaryWriter {
    if (!this.valWriter || this.valWriter.closed) this.valWriter = createFileWriter(join(this.logDir, 'validation'));
    return this.valWriter;
  }

  override async onTrainBegin(): Promise<void> {
    this.globalTrainBatch = 0;
    this.graphWritten = false;
    this.trainGraph = null;
    void this.train;
    if (this.writeGraph) {
      this.stopObserving?.();
      this.stopObserving = observeCompiledCalls((name, graph) => {
        if (name === 'train_function' && !this.trainGraph) this.trainGraph = graph as Graph;
      });
    }
  }

  override async onTrainBatchBegin(): Promise<void> {
    this.globalTrainBatch++;
  }

  override async onTrainBatchEnd(_batch: number, logs: Logs = {}): Promise<void> {
    if (this.writeGraph && !this.graphWritten && this.trainGraph) this.writeTrainGraph(this.trainGraph);
    if (this.updateFreq === 'epoch' || this.globalTrainBatch % this.updateFreq !== 0) return;
    for (const [name, value] of Object.entries(logs)) this.train.scalar(`batch_${name}`, value, this.globalTrainBatch);
  }

  override async onTestEnd(logs: Logs = {}): Promise<void> {
    // As Keras: at the optimizer's iteration count, which (unlike the batch count) goes on across fit calls.
    const iterations = (this.model as unknown as { optimizer?: { iterations?: Variable } | null } | null)?.optimizer?.iterations;
    const step = iterations ? Number(iterations._value.item()) : this.globalTrainBatch;
    for (const [name, value] of Object.entries(logs)) this.validation.scalar(`evaluation_${name}_vs_iterations`, value, step);
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    const trainLogs: Logs = {};
    const valLogs: Logs = {};
    for (const [k, v] of Object.entries(logs)) {
      if (k.startsWith('val_')) valLogs[k.slice(4)] = v;
      else trainLogs[k] = v;
    }
    const lr = this.model?.learningRate;
    if (typeof lr === 'number') trainLogs.learning_rate = lr;
    for (const [name, value] of Object.entries(trainLogs)) this.train.scalar(`epoch_${name}`, value, epoch);
    if (Object.keys(valLogs).length > 0) {
      for (const [name, value] of Object.entries(valLogs)) this.validation.scalar(`epoch_${name}`, value, epoch);
      this.validation.flush();
    }
    if (this.histogramFreq > 0 && epoch % this.histogramFreq === 0) this.logWeights(epoch);
    this.train.flush();
  }

  override async onTrainEnd(): Promise<void> {
    if (this.writeGraph && !this.graphWritten) {
      // Run eagerly: no compiled step ran; the forward pass is traced instead.
      if (this.trainGraph) this.writeTrainGraph(this.trainGraph);
      else if (this.model) {
        try {
          this.train.graph(this.model as unknown as Layer);
          this.graphWritten = true;
        } catch (e) {
          warnOnce(`tensorboard-graph:${this.model.name}`, `TensorBoard: could not write the graph of model '${this.model.name}': ${(e as Error).message}`);
        }
      }
    }
    this.stopObserving?.();
    this.stopObserving = null;
    await this.trainWriter?.close();
    await this.valWriter?.close();
    this.trainWriter = null;
    this.valWriter = null;
  }

  private writeTrainGraph(graph: Graph): void {
    this.graphWritten = true;
    this.stopObserving?.();
    this.stopObserving = null;
    this.train.graph(graph);
    this.train.flush();
  }

  /** Histograms of every weight of every layer (Keras's tags: `<weight path>/histogram`). */
  private logWeights(epoch: number): void {
    const layers = (this.model as unknown as { layers?: Layer[] } | null)?.layers ?? [];
    const seen = new Set<Variable>();
    for (const layer of layers) {
      for (const weight of layer.weights) {
        if (seen.has(weight)) continue;
        seen.add(weight);
        this.train.histogram(`${weight.path.replace(/:/g, '_')}/histogram`, weight, epoch);
      }
    }
  }
}
