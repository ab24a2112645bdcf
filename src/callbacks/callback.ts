/**
 * Callbacks: objects notified at the stages of fit / evaluate / predict
 * (Keras's callback protocol, camelCase). `logs` hold the latest metric
 * values as plain numbers.
 */
export type Logs = Record<string, number>;

/** What callbacks can reach of the model being trained (kept small so callbacks do not import models). */
export interface TrainingModel {
  readonly name: string;
  /** Set to true by a callback to end training after the current batch. */
  stopTraining: boolean;
  getWeights(): import('../tensor/tensor.ts').Tensor[];
  setWeights(values: readonly import('../tensor/tensor.ts').Tensor[]): void;
  /** The optimizer's learning rate (read and set by schedulers). */
  learningRate?: number;
  /**
   * The compiled metrics (name and Keras class name), which mode 'auto' of
   * EarlyStopping / ReduceLROnPlateau / ModelCheckpoint consults as Keras does.
   */
  readonly metrics?: readonly { readonly name: string; label?(): string }[];
  save?(path: string): Promise<void>;
  saveWeights?(path: string): Promise<void>;
  loadWeights?(path: string): Promise<void>;
}

export interface CallbackParams {
  epochs: number;
  steps: number | null;
  verbose: number;
}

export abstract class Callback {
  model: TrainingModel | null = null;
  params: CallbackParams = { epochs: 0, steps: null, verbose: 0 };

  setModel(model: TrainingModel): void {
    this.model = model;
  }

  setParams(params: CallbackParams): void {
    this.params = params;
  }

  async onTrainBegin(_logs?: Logs): Promise<void> {}
  async onTrainEnd(_logs?: Logs): Promise<void> {}
  async onEpochBegin(_epoch: number, _logs?: Logs): Promise<void> {}
  async onEpochEnd(_epoch: number, _logs?: Logs): Promise<void> {}
  async onTrainBatchBegin(_batch: number, _logs?: Logs): Promise<void> {}
  async onTrainBatchEnd(_batch: number, _logs?: Logs): Promise<void> {}
  async onTestBegin(_logs?: Logs): Promise<void> {}
  async onTestEnd(_logs?: Logs): Promise<void> {}
  async onTestBatchBegin(_batch: number, _logs?: Logs): Promise<void> {}
  async onTestBatchEnd(_batch: number, _logs?: Logs): Promise<void> {}
  async onPredictBegin(_logs?: Logs): Promise<void> {}
  async onPredictEnd(_logs?: Logs): Promise<void> {}
  async onPredictBatchBegin(_batch: number, _logs?: Logs): Promise<void> {}
  async onPredictBatchEnd(_batch: number, _logs?: Logs): Promise<void> {}
}

type Hook = Exclude<keyof Callback, 'model' | 'params' | 'setModel' | 'setParams'>;

/** Dispatches each event to every callback, in order. */
export class CallbackList {
  constructor(readonly callbacks: Callback[]) {}

  setModel(model: TrainingModel): void {
    for (const c of this.callbacks) c.setModel(model);
  }

  setParams(params: CallbackParams): void {
    for (const c of this.callbacks) c.setParams(params);
  }

  async call(hook: Hook, ...args: unknown[]): Promise<void> {
    for (const c of this.callbacks) await (c[hook] as (...a: unknown[]) => Promise<void>).apply(c, args);
  }
}
