/**
 * EarlyStopping: stops training when a monitored value stops improving for
 * `patience` epochs, optionally restoring the weights of the best epoch.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { warn, warnOnce } from '../engine/warnings.ts';
import { Callback, type Logs, type TrainingModel } from './callback.ts';

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

/**
 * A first guess of the direction from the name alone (used until the model's
 * metrics can be consulted, and for models that expose no metrics).
 */
export function improvementDirection(monitor: string, mode: MonitorMode): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  const name = monitor.replace(/^val_/, '');
  return /acc|auc|precision|recall|f1|top_k/.test(name) ? 'max' : 'min';
}

/** Keras metrics' improvement direction, by class name (Keras's `_direction`). */
const METRIC_DIRECTIONS: Record<string, 'min' | 'max'> = Object.fromEntries([
  ...['Accuracy', 'BinaryAccuracy', 'CategoricalAccuracy', 'SparseCategoricalAccuracy', 'TopKCategoricalAccuracy', 'SparseTopKCategoricalAccuracy', 'Precision', 'Recall', 'SensitivityAtSpecificity', 'SpecificityAtSensitivity', 'PrecisionAtRecall', 'RecallAtPrecision', 'AUC', 'PearsonCorrelation', 'ConcordanceCorrelation', 'FBetaScore', 'F1Score', 'IoU', 'BinaryIoU', 'MeanIoU', 'OneHotIoU', 'OneHotMeanIoU', 'CosineSimilarity', 'R2Score'].map((c) => [c, 'max'] as const),
  ...['Hinge', 'SquaredHinge', 'CategoricalHinge', 'BinaryCrossentropy', 'CategoricalCrossentropy', 'SparseCategoricalCrossentropy', 'MeanSquaredError', 'MeanAbsoluteError', 'MeanAbsolutePercentageError', 'MeanSquaredLogarithmicError', 'RootMeanSquaredError', 'LogCoshError', 'KLDivergence', 'Poisson'].map((c) => [c, 'min'] as const),
]);

/**
 * Keras's improvement test: `current + minDelta < reference` (min) or
 * `current - minDelta > reference` (max), compared as float32 (Keras
 * compares with backend ops on float32 tensors, so 0.9999 + 1e-4 ties with
 * 1.0 instead of beating it); a null reference (nothing seen yet) always
 * counts.
 */
export function isImprovement(mode: 'min' | 'max', minDelta: number, current: number, reference: number | null): boolean {
  if (reference === null) return true;
  return mode === 'min' ? Math.fround(current + minDelta) < Math.fround(reference) : Math.fround(current - minDelta) > Math.fround(reference);
}

/**
 * Checks `mode` the way Keras does: an unknown mode warns and falls back to
 * 'auto' (Strata threw before; Keras 3 accepts it with a warning).
 */
export function checkMode(callbackName: string, mode: string | undefined): MonitorMode {
  const m = mode ?? 'auto';
  if (m === 'auto' || m === 'min' || m === 'max') return m;
  warn(`${callbackName} mode '${m}' is unknown, fallback to auto mode.`);
  return 'auto';
}

/**
 * Keras's rule for mode 'auto', resolved at the first epoch end (when the
 * compiled metrics exist): 'loss' / 'val_loss' minimize; otherwise the
 * direction of the model's metric with that name; a name matching no metric
 * is an error (Keras raises rather than guess). The old name regex guessed
 * 'max' for 'val_accuracy' even with no accuracy metric, and 'min' for any
 * unknown name. Models that expose no `metrics` (stand-ins in tests) keep
 * the name-based guess.
 */
export function resolveDirection(callbackName: string, monitor: string, mode: MonitorMode, model: TrainingModel | null): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  const name = monitor.replace(/^val_/, '');
  if (name === 'loss') return 'min';
  const metrics = model?.metrics;
  if (!metrics) return improvementDirection(monitor, mode);
  let found: 'min' | 'max' | null = null;
  for (const m of metrics) {
    if (m.name !== name) continue;
    const cls = m.label?.() ?? m.constructor.name;
    if (METRIC_DIRECTIONS[cls]) found = METRIC_DIRECTIONS[cls];
  }
  if (found) return found;
  throw new Error(
    `${callbackName} callback received monitor=${monitor}, but Strata isn't able to automatically determine whether that metric should be maximized or minimized. ` +
      "Pass mode: 'max' in order to monitor based on the highest metric value, or pass mode: 'min' in order to use the lowest value.",
  );
}

export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly verbose: number;
  /** The direction; for mode 'auto' a name-based guess until the first epoch end resolves it from the model's metrics. */
  mode: 'min' | 'max';
  readonly baseline: number | null;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  wait = 0;
  stoppedEpoch = 0;
  /** The best value seen, or null before the first monitored epoch. */
  best: number | null = null;
  bestEpoch = 0;
  private readonly requestedMode: MonitorMode;
  private resolved = false;
  private bestWeights: Tensor[] | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    super();
    this.monitor = options.monitor ?? 'val_loss';
    this.minDelta = Math.abs(options.minDelta ?? 0);
    this.patience = options.patience ?? 0;
    this.verbose = options.verbose ?? 0;
    this.requestedMode = checkMode('EarlyStopping', options.mode);
    this.mode = improvementDirection(this.monitor, this.requestedMode);
    this.baseline = options.baseline ?? null;
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    this.startFromEpoch = options.startFromEpoch ?? 0;
  }

  /**
   * Keras's comparison: `current -/+ minDelta` against the reference, and a
   * missing reference (no value yet) always counts. Starting from a null best
   * rather than ±Infinity matters for a first value of NaN or Infinity: Keras
   * takes it as the best (so the wait starts counting), where an Infinity
   * start never improved on it.
   */
  private improved(current: number, reference: number | null): boolean {
    return isImprovement(this.mode, this.minDelta, current, reference);
  }

  override async onTrainBegin(): Promise<void> {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = null;
    this.bestWeights = null;
    this.bestEpoch = 0;
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    if (!this.resolved) {
      this.mode = resolveDirection('EarlyStopping', this.monitor, this.requestedMode, this.model);
      this.resolved = true;
    }
    const current = logs[this.monitor];
    if (current === undefined) {
      warnOnce(`early-stopping:${this.monitor}`, `EarlyStopping is monitoring '${this.monitor}', which is not in the logs. Available: ${Object.keys(logs).join(', ')}.`);
      return;
    }
    if (epoch < this.startFromEpoch) return;
    if (this.restoreBestWeights && this.bestWeights === null) {
      this.bestWeights = this.model!.getWeights();
      // Keras counts the first monitored epoch as the best one until one improves.
      this.bestEpoch = epoch;
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
    }
  }

  /**
   * Keras restores the best weights here, at the end of training, whether or
   * not training stopped early (Strata restored only when it stopped, so a
   * run that reached its last epoch kept the last weights), and prints the
   * early-stopping line before the restoring line.
   */
  override async onTrainEnd(): Promise<void> {
    if (this.stoppedEpoch > 0 && this.verbose > 0) process.stdout.write(`Epoch ${this.stoppedEpoch + 1}: early stopping\n`);
    if (this.restoreBestWeights && this.bestWeights) {
      if (this.verbose > 0) process.stdout.write(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.\n`);
      this.model!.setWeights(this.bestWeights);
    }
  }
}
