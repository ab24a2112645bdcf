/**
 * EarlyStopping: stops training when a monitored value stops improving for
 * `patience` epochs, optionally restoring the weights of the best epoch.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { warnOnce } from '../engine/warnings.ts';
import { Callback, type Logs } from './callback.ts';

export type MonitorMode = 'auto' | 'min' | 'max';

export interface EarlyStoppingOptions {
  monitor?: string;
  minDelta?: number;
  patience?: number;
  verbose?: number;
  mode?: MonitorMode;
  baseline?: number | null;
  restoreBestWeights?: boolean;
  startFromEpoch?: number;
}

/** Keras's rule: 'auto' minimizes, except for names that are accuracies or AUC-like. */
export function improvementDirection(monitor: string, mode: MonitorMode): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  const name = monitor.replace(/^val_/, '');
  return /acc|auc|precision|recall|f1|top_k/.test(name) ? 'max' : 'min';
}

export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly verbose: number;
  readonly mode: 'min' | 'max';
  readonly baseline: number | null;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  wait = 0;
  stoppedEpoch = 0;
  best = Infinity;
  bestEpoch = 0;
  private bestWeights: Tensor[] | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    super();
    this.monitor = options.monitor ?? 'val_loss';
    this.minDelta = Math.abs(options.minDelta ?? 0);
    this.patience = options.patience ?? 0;
    this.verbose = options.verbose ?? 0;
    const mode = options.mode ?? 'auto';
    if (!['auto', 'min', 'max'].includes(mode)) throw new Error(`EarlyStopping: mode must be 'auto', 'min' or 'max'. Received: ${mode}`);
    this.mode = improvementDirection(this.monitor, mode);
    this.baseline = options.baseline ?? null;
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    this.startFromEpoch = options.startFromEpoch ?? 0;
  }

  private improved(current: number, reference: number): boolean {
    return this.mode === 'min' ? current < reference - this.minDelta : current > reference + this.minDelta;
  }

  override async onTrainBegin(): Promise<void> {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.bestWeights = null;
    this.bestEpoch = 0;
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    const current = logs[this.monitor];
    if (current === undefined) {
      warnOnce(`early-stopping:${this.monitor}`, `EarlyStopping is monitoring '${this.monitor}', which is not in the logs. Available: ${Object.keys(logs).join(', ')}.`);
      return;
    }
    if (epoch < this.startFromEpoch) return;
    if (this.restoreBestWeights && this.bestWeights === null) {
      this.bestWeights = this.model!.getWeights();
    }
    this.wait += 1;
    if (this.improved(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = this.model!.getWeights();
      // Only restart the wait if beyond the baseline.
      if (this.baseline === null || this.improved(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model!.stopTraining = true;
      if (this.restoreBestWeights && this.bestWeights) {
        if (this.verbose > 0) process.stdout.write(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.\n`);
        this.model!.setWeights(this.bestWeights);
      }
    }
  }

  override async onTrainEnd(): Promise<void> {
    if (this.stoppedEpoch > 0 && this.verbose > 0) process.stdout.write(`Epoch ${this.stoppedEpoch + 1}: early stopping\n`);
  }
}
