/**
 * The Keras training API on models: compile, fit, evaluate, predict,
 * trainOnBatch / testOnBatch / predictOnBatch, and the overridable
 * trainStep / testStep / predictStep. Unless `runEagerly: true`, steps run
 * as compiled graphs through strata.fn (on ONNX Runtime in the graph worker);
 * the functions are traced once per input signature (the batch dim is left
 * unknown) and reused.
 */
import type { DType } from '../tensor/dtype.ts';
import { Tensor, TensorSpec } from '../tensor/tensor.ts';
import { formatShape } from '../tensor/shape.ts';
import { tensor } from '../tensor/create.ts';
import { warnOnce } from '../engine/warnings.ts';
import { clearCurrentStep, setCurrentStep } from '../engine/numerics.ts';
import { profileAsync } from '../engine/profiling.ts';
import * as ops from '../ops/index.ts';
import { GradientTape } from '../autodiff/tape.ts';
import { fn, type StrataFunction } from '../graph/function.ts';
import { Layer } from '../layers/layer.ts';
import { KerasTensor } from '../layers/keras-tensor.ts';
import * as optimizers from '../optimizers/index.ts';
import { SeedGenerator, getGlobalSeedGenerator } from '../ops/api/random.ts';
import * as metrics from '../metrics/index.ts';
import type * as losses from '../losses/index.ts';
import { Callback, CallbackList, type Logs } from '../callbacks/callback.ts';
import { History } from '../callbacks/history.ts';
import { ProgbarLogger } from '../callbacks/progbar.ts';
import { ArrayDataAdapter, type Batch, type DataLike, type Structure, gatherRows, structureLeaves, toStructure } from './data-adapter.ts';
import { CompiledLoss, CompiledMetrics, type LossSpec, type MetricSpec } from './compile-utils.ts';
import { notePredictCall } from './predict-warning.ts';

export interface CompileOptions {
  optimizer?: optimizers.OptimizerIdentifier;
  loss?: LossSpec;
  lossWeights?: number[] | Record<string, number>;
  metrics?: MetricSpec;
  weightedMetrics?: MetricSpec;
  /** Run steps op by op instead of as compiled graphs (for debugging). */
  runEagerly?: boolean;
  /** Training steps per compiled call (they run in one graph). */
  stepsPerExecution?: number;
  /** Accepted for Keras compatibility; graphs are always compiled by ONNX Runtime. */
  jitCompile?: boolean | 'auto';
}

/** A batch source: an iterable or async iterable of `[x, y]`, `[x, y, sampleWeight]` or `{x, y, sampleWeight}`. */
export type BatchSource = AsyncIterable<unknown> | Iterable<unknown>;

export interface FitOptions {
  batchSize?: number;
  epochs?: number;
  /** 0 = silent, 1 = progress bar, 2 = one line per epoch; 'auto' = 1. */
  verbose?: 0 | 1 | 2 | 'auto';
  callbacks?: Callback[];
  validationSplit?: number;
  validationData?: [DataLike, DataLike] | [DataLike, DataLike, DataLike] | BatchSource;
  shuffle?: boolean;
  /** Weights per class index, applied to the samples of that class. */
  classWeight?: Record<number, number>;
  sampleWeight?: DataLike;
  initialEpoch?: number;
  stepsPerEpoch?: number;
  validationSteps?: number;
  validationBatchSize?: number;
  validationFreq?: number;
}

export interface EvaluateOptions {
  batchSize?: number;
  verbose?: 0 | 1 | 2 | 'auto';
  sampleWeight?: DataLike;
  steps?: number;
  callbacks?: Callback[];
  /** Return {name: value} instead of a number or a list. */
  returnDict?: boolean;
}

export interface PredictOptions {
  batchSize?: number;
  verbose?: 0 | 1 | 2 | 'auto';
  steps?: number;
  callbacks?: Callback[];
}

interface CompiledState {
  options: CompileOptions;
  optimizer: optimizers.Optimizer;
  loss: CompiledLoss;
  metrics: CompiledMetrics;
  lossTracker: metrics.Mean;
  runEagerly: boolean;
  stepsPerExecution: number;
}

type StepLogs = Record<string, Tensor>;

function isBatchSource(x: unknown): x is BatchSource {
  return (
    typeof x === 'object' &&
    x !== null &&
    !(x instanceof Tensor) &&
    !Array.isArray(x) &&
    !ArrayBuffer.isView(x) &&
    (Symbol.asyncIterator in x || Symbol.iterator in x)
  );
}

/**
 * `fit(ds, options)` and `evaluate(ds, options)`: a dataset carries its own targets, so a plain
 * object after it is the options (Keras users write `fit(ds, epochs=3)`), not y.
 */
function splitDatasetOptions<O extends object>(x: unknown, yOrOptions: unknown, options: O): [DataLike | undefined, O] {
  const plainObject =
    typeof yOrOptions === 'object' && yOrOptions !== null && !(yOrOptions instanceof Tensor) && !Array.isArray(yOrOptions) && !ArrayBuffer.isView(yOrOptions);
  if (isBatchSource(x) && plainObject) return [undefined, { ...(yOrOptions as O), ...options }];
  return [yOrOptions as DataLike | undefined, options];
}

function toBatch(item: unknown, where: string): Batch {
  if (Array.isArray(item)) {
    const [x, y, sw] = item as DataLike[];
    return { x: toStructure(x, `${where} x`), y: y === undefined ? undefined : toStructure(y, `${where} y`), sampleWeight: sw === undefined ? undefined : (toStructure(sw, `${where} sampleWeight`) as Tensor) };
  }
  if (item && typeof item === 'object' && 'x' in item) {
    const o = item as { x: DataLike; y?: DataLike; sampleWeight?: DataLike };
    return { x: toStructure(o.x, `${where} x`), y: o.y === undefined ? undefined : toStructure(o.y, `${where} y`), sampleWeight: o.sampleWeight === undefined ? undefined : (toStructure(o.sampleWeight, `${where} sampleWeight`) as Tensor) };
  }
  return { x: toStructure(item as DataLike, `${where} x`) };
}

async function* iterate(source: BatchSource, where: string): AsyncGenerator<Batch> {
  for await (const item of source as AsyncIterable<unknown>) yield toBatch(item, where);
}

/** The number of batches of a source that knows it (a strata.data.Dataset with finite cardinality), else null. */
function knownCardinality(source: BatchSource): number | null {
  const c = typeof (source as { cardinality?: unknown }).cardinality === 'function' ? (source as unknown as { cardinality(): number }).cardinality() : -2;
  return Number.isInteger(c) && c >= 0 ? c : null;
}

/**
 * With stepsPerEpoch, one iterator continues across epochs (as in Keras), so
 * an infinite or long dataset is not restarted each epoch. When it runs out
 * mid-epoch, the epoch ends with a warning and the next one starts a new pass.
 */
class PersistentBatches {
  private it: AsyncIterator<Batch> | null = null;
  constructor(private readonly open: () => AsyncIterable<Batch>) {}

  async *epoch(): AsyncGenerator<Batch> {
    // Whether the pass continues from the previous epoch and this epoch has not produced a batch yet.
    let continued = this.it !== null;
    this.it ??= this.open()[Symbol.asyncIterator]();
    for (;;) {
      const r = await this.it.next();
      if (r.done) {
        this.it = null;
        if (continued) {
          // The previous epoch used up the pass exactly: this epoch starts a new one (as Keras does).
          continued = false;
          this.it = this.open()[Symbol.asyncIterator]();
          continue;
        }
        warnOnce('fit-ran-out-of-data', 'fit: your input ran out of data; interrupting the epoch. Make sure the dataset can produce at least stepsPerEpoch * epochs batches (for example with dataset.repeat()).');
        return;
      }
      continued = false;
      yield r.value;
    }
  }

  async close(): Promise<void> {
    const it = this.it;
    this.it = null;
    await it?.return?.();
  }
}

/** Sample weights from class weights: the weight of each sample's class (integer labels or one-hot rows). */
export function classWeightsToSampleWeights(y: Tensor, classWeight: Record<number, number>): Tensor {
  const labels = y.rank >= 2 && (y.shape.at(-1) as number) > 1 ? ops.argmax(y, -1) : ops.reshape(ops.cast(y, 'int32'), [-1]);
  const values = labels.dataSync();
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const w = classWeight[values[i]];
    out[i] = w === undefined ? 1 : w;
  }
  return tensor(out);
}

function specOf(s: Structure | undefined): unknown {
  // No targets (a custom trainStep that ignores y): no tensors in the signature. strata.fn's
  // inputSignature holds only TensorSpecs, arrays and objects, and refused an undefined.
  if (!s) return [];
  const spec = (t: Tensor) => new TensorSpec([null, ...t.shape.slice(1)], t.dtype);
  if (s instanceof Tensor) return spec(s);
  if (Array.isArray(s)) return s.map(spec);
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, spec(v)]));
}

/**
 * A key of a signature: its structure (arrays, object keys in order, non-tensor
 * values) and each tensor's dtype and rank, and with `dims` its dims too.
 */
function signatureKey(s: unknown, dims: boolean): string {
  const walk = (x: unknown): unknown => {
    if (x instanceof TensorSpec) return `${x.dtype}:${dims ? x.shape.join(',') : x.shape.length}`;
    if (Array.isArray(x)) return x.map(walk);
    if (x && typeof x === 'object') return Object.entries(x).map(([k, v]) => [k, walk(v)]);
    return x === undefined ? 'undefined' : x;
  };
  return JSON.stringify(walk(s));
}

/**
 * A signature that accepts both `prev` and `next` (of the same structure, ranks
 * and dtypes): dims that differ become unknown, as TensorFlow's reduce_retracing
 * widens them.
 */
function widenSpec(prev: unknown, next: unknown): unknown {
  if (prev instanceof TensorSpec) return new TensorSpec(prev.shape.map((d, i) => (d === (next as TensorSpec).shape[i] ? d : null)), prev.dtype, prev.name);
  if (Array.isArray(prev)) return prev.map((p, i) => widenSpec(p, (next as unknown[])[i]));
  if (prev && typeof prev === 'object') return Object.fromEntries(Object.entries(prev).map(([k, v]) => [k, widenSpec(v, (next as Record<string, unknown>)[k])]));
  return prev;
}

/**
 * A compiled step function whose input signature starts from the first batch
 * (with an unknown batch dim) and widens where later batches differ, e.g.
 * padded batches of varying sequence length: one retrace per dim that varies,
 * not one per length, and never an error for a shape the model accepts.
 * Each structure (sample weights present or not, ranks, dtypes) keeps its own
 * function: with one function for all, batches that alternate between two
 * structures (trainOnBatch with and without sampleWeight) retraced on every call.
 */
class WideningFunction<R> {
  readonly #bySkeleton = new Map<string, { signature: unknown[]; f: StrataFunction<unknown[], R> }>();

  constructor(private readonly make: (signature: unknown[]) => StrataFunction<unknown[], R>) {}

  call(signature: unknown[], args: unknown[]): Promise<R> {
    const key = signatureKey(signature, false);
    let entry = this.#bySkeleton.get(key);
    if (entry === undefined) {
      entry = { signature, f: this.make(signature) };
      this.#bySkeleton.set(key, entry);
    } else {
      const widened = widenSpec(entry.signature, signature) as unknown[];
      if (signatureKey(widened, true) !== signatureKey(entry.signature, true)) {
        // The narrower function is dropped: the widened one accepts everything it did.
        entry.signature = widened;
        entry.f = this.make(widened);
      }
    }
    return entry.f(...args);
  }
}

async function logsToNumbers(logs: StepLogs): Promise<Logs> {
  const out: Logs = {};
  for (const [k, v] of Object.entries(logs)) out[k] = v.item();
  return out;
}

export abstract class Trainer extends Layer {
  /** Set by callbacks (EarlyStopping, TerminateOnNaN) to end training. */
  stopTraining = false;
  /** Set by a callback in onTrainBegin (BackupAndRestore) to resume at a later epoch. */
  initialEpochOverride: number | null = null;
  #compiled: CompiledState | null = null;
  #trainFunction: ((batches: Batch[]) => Promise<Logs>) | null = null;
  #testFunction: ((batch: Batch) => Promise<Logs>) | null = null;
  #predictFunction: ((x: Structure) => Promise<Structure>) | null = null;
  #warnedNoGradient = false;

  // -------------------------------------------------------------------------
  // compile

  compile(options: CompileOptions = {}): void {
    const optimizer = optimizers.get(options.optimizer ?? 'rmsprop');
    const outputNames = () => this.outputNames();
    const stepsPerExecution = options.stepsPerExecution ?? 1;
    if (!Number.isInteger(stepsPerExecution) || stepsPerExecution < 1) throw new Error(`compile: stepsPerExecution must be a positive integer. Received: ${stepsPerExecution}`);
    this.#compiled = {
      options,
      optimizer,
      loss: new CompiledLoss(options.loss, options.lossWeights, outputNames),
      metrics: new CompiledMetrics(options.metrics, options.weightedMetrics, options.loss, outputNames),
      lossTracker: new metrics.Mean({ name: 'loss' }),
      runEagerly: options.runEagerly ?? false,
      stepsPerExecution,
    };
    this.#trainFunction = null;
    this.#testFunction = null;
    // As Keras's compile: predict follows the new settings too (runEagerly, a changed predictStep).
    this.#predictFunction = null;
  }

  get compiled(): boolean {
    return this.#compiled !== null;
  }

  /** The options given to compile (Keras's compile config), or null. */
  get compileOptions(): CompileOptions | null {
    return this.#compiled?.options ?? null;
  }

  get optimizer(): optimizers.Optimizer | null {
    return this.#compiled?.optimizer ?? null;
  }

  /** The optimizer's learning rate (for callbacks such as ReduceLROnPlateau). */
  get learningRate(): number | undefined {
    return this.#compiled?.optimizer.learningRate;
  }

  set learningRate(value: number | undefined) {
    if (value === undefined) return;
    this.requireCompiled('learningRate').optimizer.learningRate = value;
  }

  /** The loss tracker and compiled metrics, in log order. */
  get metrics(): metrics.Metric[] {
    if (!this.#compiled) return [];
    return [this.#compiled.lossTracker, ...this.#compiled.loss.trackers, ...this.#compiled.metrics.entries.map((e) => e.metric)];
  }

  get metricsNames(): string[] {
    if (!this.#compiled) return [];
    return ['loss', ...this.#compiled.loss.trackers.map((t) => t.name), ...this.#compiled.metrics.entries.map((e) => e.logName)];
  }

  resetMetrics(): void {
    for (const m of this.metrics) m.resetState();
  }

  /** Output names (functional models: the output layers' names). */
  outputNames(): string[] {
    const outputs = (this as unknown as { outputs?: unknown }).outputs;
    const names = (k: KerasTensor) => k.history?.layer.name ?? 'output';
    if (outputs instanceof KerasTensor) return [names(outputs)];
    if (Array.isArray(outputs)) return outputs.map((o) => names(o as KerasTensor));
    if (outputs && typeof outputs === 'object') return Object.keys(outputs);
    return ['output'];
  }

  private requireCompiled(method: string): CompiledState {
    if (!this.#compiled) {
      throw new Error(`You must call compile() before ${method}(): model '${this.name}' has no optimizer, loss or metrics yet. For example: model.compile({optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy']}).`);
    }
    return this.#compiled;
  }

  // -------------------------------------------------------------------------
  // Steps (override for custom training logic; they must use only ops so they trace)

  /** The loss: compiled losses plus the model's regularization losses. */
  computeLoss(x: Structure, y: Structure | undefined, yPred: Structure, sampleWeight?: Tensor): Tensor {
    void x;
    const state = this.requireCompiled('computeLoss');
    if (y === undefined) throw new Error(`Model '${this.name}': no targets (y) were given for the loss.`);
    let loss = state.loss.compute(y, yPred, sampleWeight);
    for (const extra of this.losses) loss = ops.add(loss, extra);
    return loss;
  }

  /** Updates the compiled metrics; returns every metric's current result by log name. */
  computeMetrics(x: Structure, y: Structure | undefined, yPred: Structure, sampleWeight?: Tensor): StepLogs {
    void x;
    const state = this.requireCompiled('computeMetrics');
    if (y !== undefined) state.metrics.update(y, yPred, sampleWeight);
    return this.metricResults();
  }

  private metricResults(): StepLogs {
    const state = this.#compiled!;
    const logs: StepLogs = { loss: state.lossTracker.result() };
    for (const t of state.loss.trackers) logs[t.name] = t.result();
    for (const e of state.metrics.entries) logs[e.logName] = e.metric.result();
    return logs;
  }

  /** One training step: forward, loss, gradients, optimizer update, metrics. */
  trainStep(batch: Batch): StepLogs {
    const state = this.requireCompiled('trainStep');
    const { x, y, sampleWeight } = batch;
    const tape = new GradientTape();
    let yPred!: Structure;
    const loss = tape.record(() => {
      yPred = this.apply(x as never, { training: true }) as unknown as Structure;
      return this.computeLoss(x, y, yPred, sampleWeight);
    });
    state.lossTracker.updateState(loss);
    const weights = this.trainableWeights;
    const grads = tape.gradient(loss, weights);
    this.warnAboutMissingGradients(tape, weights, grads);
    // Built for every trainable weight (Keras's slot order), updated only where a gradient exists
    // (the warning above already explained the others).
    state.optimizer.build(weights);
    const present = weights.map((_, i) => i).filter((i) => grads[i] !== null);
    if (present.length > 0) state.optimizer.apply(present.map((i) => grads[i]), present.map((i) => weights[i]));
    return this.computeMetrics(x, y, yPred, sampleWeight);
  }

  testStep(batch: Batch): StepLogs {
    const state = this.requireCompiled('testStep');
    const { x, y, sampleWeight } = batch;
    const yPred = this.apply(x as never, { training: false }) as unknown as Structure;
    state.lossTracker.updateState(this.computeLoss(x, y, yPred, sampleWeight));
    return this.computeMetrics(x, y, yPred, sampleWeight);
  }

  predictStep(batch: Batch): Structure {
    return this.apply(batch.x as never, { training: false }) as unknown as Structure;
  }

  /** Keras warns once when some trainable weights receive no gradient; Strata also says why. */
  private warnAboutMissingGradients(tape: GradientTape, weights: readonly { path: string }[], grads: readonly (Tensor | null)[]): void {
    if (this.#warnedNoGradient) return;
    const missing = weights.filter((_, i) => grads[i] === null);
    if (missing.length === 0) return;
    this.#warnedNoGradient = true;
    const reasons = missing.map((w) => `  - ${w.path}: ${tape.whyNull(w as never)?.message ?? 'no gradient'}`).join('\n');
    warnOnce(
      `no-gradient:${this.name}:${missing.map((w) => w.path).join(',')}`,
      `Gradients do not exist for variables ${missing.map((w) => `'${w.path}'`).join(', ')} of model '${this.name}' when minimizing the loss; they will not be trained.\n${reasons}`,
    );
  }

  // -------------------------------------------------------------------------
  // Compiled step functions

  private makeTrainFunction(): (batches: Batch[]) => Promise<Logs> {
    const state = this.#compiled!;
    if (state.runEagerly) {
      return async (batches) => {
        let logs: StepLogs = {};
        for (const b of batches) logs = this.trainStep(b);
        return logsToNumbers(logs);
      };
    }
    // One compiled function per number of steps in a call (stepsPerExecution, and the shorter tail).
    const compiled = new Map<number, WideningFunction<StepLogs>>();
    const step = (...args: unknown[]) => {
      let logs: StepLogs = {};
      for (const [x, y, sw] of args as [Structure, Structure | undefined, Tensor | undefined][]) logs = this.trainStep({ x, y, sampleWeight: sw });
      return logs;
    };
    return async (batches) => {
      let f = compiled.get(batches.length);
      if (!f) {
        f = new WideningFunction((signature) => fn(step, { name: 'train_function', inputSignature: signature }));
        compiled.set(batches.length, f);
      }
      const signature = batches.map((b) => [specOf(b.x), specOf(b.y), ...(b.sampleWeight !== undefined ? [specOf(b.sampleWeight)] : [])]);
      const logs = await f.call(signature, batches.map((b) => [b.x, b.y, ...(b.sampleWeight !== undefined ? [b.sampleWeight] : [])]));
      return logsToNumbers(logs);
    };
  }

  private makeTestFunction(): (batch: Batch) => Promise<Logs> {
    const state = this.#compiled!;
    if (state.runEagerly) return async (b) => logsToNumbers(this.testStep(b));
    const step = (x: Structure, y: Structure | undefined, sw?: Tensor) => this.testStep({ x, y, sampleWeight: sw });
    const f = new WideningFunction((signature) => fn(step, { name: 'test_function', inputSignature: signature }) as unknown as StrataFunction<unknown[], StepLogs>);
    return async (b) => {
      const withWeights = b.sampleWeight !== undefined;
      const signature = [specOf(b.x), specOf(b.y), ...(withWeights ? [specOf(b.sampleWeight)] : [])];
      return logsToNumbers(await f.call(signature, [b.x, b.y, ...(withWeights ? [b.sampleWeight] : [])]));
    };
  }

  /** The compiled predict function is built once and reused; weights are frozen into it (rebuilt when they change). */
  private makePredictFunction(): (x: Structure) => Promise<Structure> {
    if (this.#compiled?.runEagerly) return async (x) => this.predictStep({ x });
    const step = (input: Structure) => this.predictStep({ x: input });
    const f = new WideningFunction((signature) => fn(step, { name: 'predict_function', inputSignature: signature, freezeVariables: true }) as unknown as StrataFunction<unknown[], Structure>);
    return (x) => f.call([specOf(x)], [x]);
  }

  /** Creates the optimizer's variables, so saved optimizer state can be loaded into them. */
  prepareForRestore(): void {
    this.requireCompiled('prepareForRestore').optimizer.build(this.trainableWeights);
  }

  /** The counters of the random generators training uses (the layers' and the global one), for BackupAndRestore. */
  get randomState(): { capture(): Record<string, number>; restore(state: Record<string, number>): void } {
    const generators = (): Map<string, SeedGenerator> => {
      const found = new Map<string, SeedGenerator>([['__global__', getGlobalSeedGenerator()]]);
      const visit = (layer: Layer, path: string) => {
        for (const [key, value] of Object.entries(layer)) if (value instanceof SeedGenerator) found.set(`${path}/${key}`, value);
        for (const sub of layer.layers) visit(sub, `${path}/${sub.name}`);
      };
      visit(this, this.name);
      return found;
    };
    return {
      capture: () => Object.fromEntries([...generators()].map(([k, g]) => [k, g.counter.value.item()])),
      restore: (state) => {
        for (const [k, g] of generators()) if (k in state) g.counter.assign(tensor(state[k], [], 'int32'));
      },
    };
  }

  // -------------------------------------------------------------------------
  // fit / evaluate / predict

  /** Trains on a dataset (an iterable of `[x, y]` batches): `fit(ds, {epochs})`. */
  async fit(x: BatchSource, options?: FitOptions): Promise<History>;
  async fit(x: DataLike | BatchSource, y?: DataLike, options?: FitOptions): Promise<History>;
  async fit(x: DataLike | BatchSource, yOrOptions?: DataLike | FitOptions, maybeOptions: FitOptions = {}): Promise<History> {
    const [y, options] = splitDatasetOptions<FitOptions>(x, yOrOptions, maybeOptions);
    const state = this.requireCompiled('fit');
    const epochs = options.epochs ?? 1;
    const initialEpoch = options.initialEpoch ?? 0;
    const verbose = options.verbose === 'auto' || options.verbose === undefined ? 1 : options.verbose;
    if (!Number.isInteger(epochs) || epochs < 0) throw new Error(`fit: epochs must be a non-negative integer. Received: ${epochs}`);

    let train: { batches: (epoch: number) => AsyncIterable<Batch> | Iterable<Batch>; steps: number | null; close?: () => Promise<void> };
    let validation: { batches: () => AsyncIterable<Batch> | Iterable<Batch>; steps: number | null } | null = null;
    if (isBatchSource(x)) {
      if (y !== undefined) throw new Error('fit: when x is a dataset (an iterable of batches), do not pass y; the dataset yields [x, y] pairs.');
      if (options.validationSplit) throw new Error('fit: validationSplit is only supported for arrays and tensors, not datasets. Pass validationData instead.');
      const source = x;
      const open = () => this.withClassWeights(iterate(source, 'fit dataset'), options.classWeight);
      if (options.stepsPerEpoch !== undefined) {
        const persistent = new PersistentBatches(open);
        train = { batches: () => persistent.epoch(), steps: options.stepsPerEpoch, close: () => persistent.close() };
      } else {
        train = { batches: open, steps: knownCardinality(source) };
      }
    } else {
      let xs = toStructure(x, 'fit x');
      let ys = y === undefined ? undefined : toStructure(y, 'fit y');
      let sw = options.sampleWeight === undefined ? undefined : (toStructure(options.sampleWeight, 'fit sampleWeight') as Tensor);
      if (ys === undefined) throw new Error(`fit: no targets (y) given for model '${this.name}'. Pass y, or a dataset of [x, y] pairs.`);
      if (options.validationSplit) {
        const split = ArrayDataAdapter.split(xs, ys, sw, options.validationSplit);
        [xs, ys, sw] = split.train;
        const [vx, vy, vsw] = split.val;
        const vAdapter = new ArrayDataAdapter(vx, vy, { batchSize: options.validationBatchSize ?? options.batchSize ?? 32, shuffle: false, sampleWeight: vsw });
        validation = { batches: () => vAdapter.batches(0), steps: vAdapter.stepsPerEpoch };
      }
      if (options.classWeight) {
        const fromClasses = classWeightsToSampleWeights(structureLeaves(ys)[0], options.classWeight);
        sw = sw ? ops.multiply(sw, fromClasses) : fromClasses;
      }
      const adapter = new ArrayDataAdapter(xs, ys, { batchSize: options.batchSize ?? 32, shuffle: options.shuffle ?? true, sampleWeight: sw });
      train = { batches: (epoch) => adapter.batches(epoch), steps: options.stepsPerEpoch ?? adapter.stepsPerEpoch };
    }
    if (options.validationData && !validation) validation = this.validationSource(options.validationData, options);

    const history = new History();
    const callbacks = new CallbackList([...(verbose ? [new ProgbarLogger()] : []), ...(options.callbacks ?? []), history]);
    callbacks.setModel(this as never);
    callbacks.setParams({ epochs, steps: train.steps, verbose });
    this.stopTraining = false;
    this.#trainFunction ??= this.makeTrainFunction();
    const trainFunction = this.#trainFunction;
    await callbacks.call('onTrainBegin', {});
    const firstEpoch = this.initialEpochOverride ?? initialEpoch;
    this.initialEpochOverride = null;
    let epochLogs: Logs = {};
    try {
      for (let epoch = firstEpoch; epoch < epochs && !this.stopTraining; epoch++) {
        this.resetMetrics();
        await callbacks.call('onEpochBegin', epoch, {});
        let step = 0;
        let logs: Logs = {};
        const group: Batch[] = [];
        const runGroup = async () => {
          await callbacks.call('onTrainBatchBegin', step, {});
          setCurrentStep(`epoch ${epoch + 1}, training step`, step + 1);
          logs = await profileAsync('step', 'train_step', () => trainFunction(group.splice(0)), { epoch, step });
          step += 1;
          await callbacks.call('onTrainBatchEnd', step - 1, { ...logs });
        };
        for await (const batch of train.batches(epoch)) {
          group.push(batch);
          if (group.length === state.stepsPerExecution) await runGroup();
          if (this.stopTraining || (options.stepsPerEpoch !== undefined && step * state.stepsPerExecution >= options.stepsPerEpoch)) break;
        }
        if (group.length > 0 && !this.stopTraining) await runGroup();
        if (step === 0) throw new Error(`fit: the training data produced no batches in epoch ${epoch + 1}.`);
        epochLogs = { ...logs };
        const freq = options.validationFreq ?? 1;
        if (validation && (epoch + 1) % freq === 0) {
          const valLogs = await this.runEvaluation(validation.batches(), validation.steps, callbacks, options.validationSteps);
          for (const [k, v] of Object.entries(valLogs)) epochLogs[`val_${k}`] = v;
        }
        await callbacks.call('onEpochEnd', epoch, epochLogs);
      }
    } finally {
      // Also when fit throws: a dataset iterator kept across epochs (stepsPerEpoch) is closed.
      await train.close?.();
      clearCurrentStep();
    }
    await callbacks.call('onTrainEnd', epochLogs);
    return history;
  }

  private async *withClassWeights(batches: AsyncIterable<Batch>, classWeight: Record<number, number> | undefined): AsyncGenerator<Batch> {
    for await (const b of batches) {
      if (classWeight && b.y) {
        const w = classWeightsToSampleWeights(structureLeaves(b.y)[0], classWeight);
        yield { ...b, sampleWeight: b.sampleWeight ? ops.multiply(b.sampleWeight, w) : w };
      } else {
        yield b;
      }
    }
  }

  private validationSource(data: NonNullable<FitOptions['validationData']>, options: FitOptions): { batches: () => AsyncIterable<Batch> | Iterable<Batch>; steps: number | null } {
    if (isBatchSource(data)) return { batches: () => iterate(data, 'validationData'), steps: options.validationSteps ?? knownCardinality(data) };
    const [vx, vy, vsw] = data as DataLike[];
    const adapter = new ArrayDataAdapter(toStructure(vx, 'validationData x'), toStructure(vy, 'validationData y'), {
      batchSize: options.validationBatchSize ?? options.batchSize ?? 32,
      shuffle: false,
      sampleWeight: vsw === undefined ? undefined : (toStructure(vsw, 'validationData sampleWeight') as Tensor),
    });
    return { batches: () => adapter.batches(0), steps: adapter.stepsPerEpoch };
  }

  private async runEvaluation(batches: AsyncIterable<Batch> | Iterable<Batch>, steps: number | null, callbacks: CallbackList, maxSteps?: number): Promise<Logs> {
    this.requireCompiled('evaluate');
    this.resetMetrics();
    this.#testFunction ??= this.makeTestFunction();
    await callbacks.call('onTestBegin', {});
    let logs: Logs = {};
    let step = 0;
    for await (const batch of batches) {
      await callbacks.call('onTestBatchBegin', step, {});
      logs = await profileAsync('step', 'test_step', () => this.#testFunction!(batch), { step });
      await callbacks.call('onTestBatchEnd', step, { ...logs });
      step++;
      if (maxSteps !== undefined && step >= maxSteps) break;
    }
    void steps;
    await callbacks.call('onTestEnd', logs);
    return logs;
  }

  /** Evaluates on a dataset (an iterable of `[x, y]` batches): `evaluate(ds, {steps})`. */
  async evaluate(x: BatchSource, options?: EvaluateOptions): Promise<number | number[] | Logs>;
  async evaluate(x: DataLike | BatchSource, y?: DataLike, options?: EvaluateOptions): Promise<number | number[] | Logs>;
  async evaluate(x: DataLike | BatchSource, yOrOptions?: DataLike | EvaluateOptions, maybeOptions: EvaluateOptions = {}): Promise<number | number[] | Logs> {
    const [y, options] = splitDatasetOptions<EvaluateOptions>(x, yOrOptions, maybeOptions);
    this.requireCompiled('evaluate');
    const verbose = options.verbose === 'auto' || options.verbose === undefined ? 1 : options.verbose;
    let batches: AsyncIterable<Batch> | Iterable<Batch>;
    let steps: number | null = options.steps ?? null;
    if (isBatchSource(x)) {
      batches = iterate(x, 'evaluate dataset');
      steps ??= knownCardinality(x);
    } else {
      const adapter = new ArrayDataAdapter(toStructure(x, 'evaluate x'), y === undefined ? undefined : toStructure(y, 'evaluate y'), {
        batchSize: options.batchSize ?? 32,
        shuffle: false,
        sampleWeight: options.sampleWeight === undefined ? undefined : (toStructure(options.sampleWeight, 'evaluate sampleWeight') as Tensor),
      });
      batches = adapter.batches(0);
      steps ??= adapter.stepsPerEpoch;
    }
    const callbacks = new CallbackList([...(verbose ? [new ProgbarLogger()] : []), ...(options.callbacks ?? [])]);
    callbacks.setModel(this as never);
    callbacks.setParams({ epochs: 1, steps, verbose });
    const logs = await this.runEvaluation(batches, steps, callbacks, options.steps);
    if (options.returnDict) return logs;
    const values = this.metricsNames.map((n) => logs[n]).filter((v) => v !== undefined);
    return values.length === 1 ? values[0] : values;
  }

  async predict(x: DataLike | BatchSource, options: PredictOptions = {}): Promise<Tensor | Tensor[] | Record<string, Tensor>> {
    const verbose = options.verbose === 'auto' || options.verbose === undefined ? 0 : options.verbose;
    this.#predictFunction ??= this.makePredictFunction();
    const predict = this.#predictFunction;
    let batches: AsyncIterable<Batch> | Iterable<Batch>;
    let steps: number | null = options.steps ?? null;
    if (isBatchSource(x)) {
      batches = iterate(x, 'predict dataset');
      steps ??= knownCardinality(x);
    } else {
      const adapter = new ArrayDataAdapter(toStructure(x, 'predict x'), undefined, { batchSize: options.batchSize ?? 32, shuffle: false });
      batches = adapter.batches(0);
      steps ??= adapter.stepsPerEpoch;
    }
    const callbacks = new CallbackList([...(verbose ? [new ProgbarLogger()] : []), ...(options.callbacks ?? [])]);
    callbacks.setModel(this as never);
    callbacks.setParams({ epochs: 1, steps, verbose });
    await callbacks.call('onPredictBegin', {});
    const outputs: Structure[] = [];
    let step = 0;
    for await (const batch of batches) {
      await callbacks.call('onPredictBatchBegin', step, {});
      outputs.push(await predict(batch.x));
      await callbacks.call('onPredictBatchEnd', step, {});
      step++;
      if (options.steps !== undefined && step >= options.steps) break;
    }
    await callbacks.call('onPredictEnd', {});
    if (outputs.length === 0) throw new Error('predict: the input produced no batches.');
    const result = concatenateBatches(outputs) as Tensor | Tensor[] | Record<string, Tensor>;
    notePredictCall(this, 'predict', result);
    return result;
  }

  async trainOnBatch(x: DataLike, y?: DataLike, options: { sampleWeight?: DataLike; classWeight?: Record<number, number>; returnDict?: boolean } = {}): Promise<number | number[] | Logs> {
    this.requireCompiled('trainOnBatch');
    const ys = y === undefined ? undefined : toStructure(y, 'trainOnBatch y');
    let sw = options.sampleWeight === undefined ? undefined : (toStructure(options.sampleWeight, 'trainOnBatch sampleWeight') as Tensor);
    if (options.classWeight && ys) {
      const w = classWeightsToSampleWeights(structureLeaves(ys)[0], options.classWeight);
      sw = sw ? ops.multiply(sw, w) : w;
    }
    this.#trainFunction ??= this.makeTrainFunction();
    const logs = await this.#trainFunction([{ x: toStructure(x, 'trainOnBatch x'), y: ys, sampleWeight: sw }]);
    return this.formatLogs(logs, options.returnDict);
  }

  async testOnBatch(x: DataLike, y?: DataLike, options: { sampleWeight?: DataLike; returnDict?: boolean } = {}): Promise<number | number[] | Logs> {
    this.requireCompiled('testOnBatch');
    this.resetMetrics();
    this.#testFunction ??= this.makeTestFunction();
    const logs = await this.#testFunction({
      x: toStructure(x, 'testOnBatch x'),
      y: y === undefined ? undefined : toStructure(y, 'testOnBatch y'),
      sampleWeight: options.sampleWeight === undefined ? undefined : (toStructure(options.sampleWeight, 'testOnBatch sampleWeight') as Tensor),
    });
    return this.formatLogs(logs, options.returnDict);
  }

  async predictOnBatch(x: DataLike): Promise<Tensor | Tensor[] | Record<string, Tensor>> {
    this.#predictFunction ??= this.makePredictFunction();
    const result = (await this.#predictFunction(toStructure(x, 'predictOnBatch x'))) as Tensor | Tensor[] | Record<string, Tensor>;
    notePredictCall(this, 'predictOnBatch', result);
    return result;
  }

  private formatLogs(logs: Logs, returnDict?: boolean): number | number[] | Logs {
    if (returnDict) return logs;
    const values = Object.values(logs);
    return values.length === 1 ? values[0] : values;
  }
}

/** Joins per-batch predictions along the batch axis (structures kept). */
function concatenateBatches(parts: Structure[]): Structure {
  const first = parts[0];
  const join = (tensors: Tensor[]): Tensor => {
    if (tensors.length === 1) return tensors[0];
    const rowSize = tensors[0].shape.slice(1).reduce((p: number, d) => p * (d as number), 1);
    const total = tensors.reduce((n, t) => n + (t.shape[0] as number), 0);
    const values = new (tensors[0].valuesOrThrow('predict').constructor as { new (n: number): Float32Array })(total * rowSize);
    let offset = 0;
    for (const t of tensors) {
      values.set(t.valuesOrThrow('predict'), offset);
      offset += (t.shape[0] as number) * rowSize;
    }
    return new Tensor([total, ...tensors[0].shape.slice(1)], tensors[0].dtype as DType, values);
  };
  if (first instanceof Tensor) return join(parts as Tensor[]);
  if (Array.isArray(first)) return first.map((_, i) => join(parts.map((p) => (p as Tensor[])[i])));
  return Object.fromEntries(Object.keys(first).map((k) => [k, join(parts.map((p) => (p as Record<string, Tensor>)[k]))]));
}

export { gatherRows, formatShape };
export type { losses };
