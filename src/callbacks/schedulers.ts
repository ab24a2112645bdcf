/** Callbacks that change the learning rate: ReduceLROnPlateau and LearningRateScheduler. */
import { warnOnce } from '../engine/warnings.ts';
import { Callback, type Logs } from './callback.ts';
import { type MonitorMode, checkMode, improvementDirection, isImprovement, resolveDirection } from './early-stopping.ts';
import { pyFloat } from './pyformat.ts';

function learningRateOf(cb: Callback, name: string): number {
  const lr = cb.model?.learningRate;
  if (typeof lr !== 'number') {
    throw new Error(`${name}: the model's optimizer has no numeric learning rate (is the model compiled, and is its learning rate a schedule?).`);
  }
  return lr;
}

export interface ReduceLROnPlateauOptions {
  monitor?: string;
  factor?: number;
  patience?: number;
  verbose?: number;
  mode?: MonitorMode;
  minDelta?: number;
  cooldown?: number;
  minLr?: number;
}

export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly verbose: number;
  /** For mode 'auto' a name-based guess until the first epoch end resolves it (as Keras does). */
  mode: 'min' | 'max';
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  private wait = 0;
  private cooldownCounter = 0;
  /** null until the first value: Keras's first value always counts as the best (also NaN / Infinity). */
  private best: number | null = null;
  private readonly requestedMode: MonitorMode;
  private resolved = false;

  constructor(options: ReduceLROnPlateauOptions = {}) {
    super();
    this.monitor = options.monitor ?? 'val_loss';
    this.factor = options.factor ?? 0.1;
    if (this.factor >= 1) throw new Error(`ReduceLROnPlateau does not support a factor >= 1. Received: factor=${this.factor}`);
    this.patience = options.patience ?? 10;
    this.verbose = options.verbose ?? 0;
    this.requestedMode = checkMode('ReduceLROnPlateau', options.mode);
    this.mode = improvementDirection(this.monitor, this.requestedMode);
    // Keras takes the absolute value of min_delta.
    this.minDelta = Math.abs(options.minDelta ?? 1e-4);
    this.cooldown = options.cooldown ?? 0;
    this.minLr = options.minLr ?? 0;
  }

  override async onTrainBegin(): Promise<void> {
    this.wait = 0;
    this.cooldownCounter = 0;
    this.best = null;
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    if (!this.resolved) {
      this.mode = resolveDirection('ReduceLROnPlateau', this.monitor, this.requestedMode, this.model);
      this.resolved = true;
    }
    // Keras logs the learning rate before looking for the monitored value,
    // so it is in the logs (History, CSVLogger) even when the value is missing.
    logs.learning_rate = learningRateOf(this, 'ReduceLROnPlateau');
    const current = logs[this.monitor];
    if (current === undefined) {
      warnOnce(`reduce-lr:${this.monitor}`, `ReduceLROnPlateau is monitoring '${this.monitor}', which is not in the logs. Available: ${Object.keys(logs).join(', ')}.`);
      return;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    if (isImprovement(this.mode, this.minDelta, current, this.best)) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter <= 0) {
      this.wait++;
      if (this.wait >= this.patience) {
        const old = learningRateOf(this, 'ReduceLROnPlateau');
        // The learning rate is a float32 variable: compare it with minLr as
        // float32 too (Keras does), or a rate already clamped to minLr
        // (0.001 stored as 0.0010000000475) looks larger than minLr and is
        // "reduced" again, printing the message and restarting the cooldown.
        if (old > Math.fround(this.minLr)) {
          const next = Math.max(old * this.factor, this.minLr);
          this.model!.learningRate = next;
          // Python's float repr, as Keras prints it.
          if (this.verbose > 0) process.stdout.write(`\nEpoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${pyFloat(next)}.\n`);
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}

/** Sets the learning rate at the start of each epoch from `schedule(epoch, currentLr)`. */
export class LearningRateScheduler extends Callback {
  constructor(
    readonly schedule: (epoch: number, lr: number) => number,
    readonly verbose = 0,
  ) {
    super();
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    const lr = this.schedule(epoch, learningRateOf(this, 'LearningRateScheduler'));
    if (typeof lr !== 'number' || !Number.isFinite(lr)) {
      throw new Error(`LearningRateScheduler: the schedule returned ${String(lr)} for epoch ${epoch}; it must return a finite number.`);
    }
    this.model!.learningRate = lr;
    if (this.verbose > 0) process.stdout.write(`\nEpoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${pyFloat(lr)}.\n`);
  }

  override async onEpochEnd(_epoch: number, logs: Logs = {}): Promise<void> {
    logs.learning_rate = learningRateOf(this, 'LearningRateScheduler');
  }
}
