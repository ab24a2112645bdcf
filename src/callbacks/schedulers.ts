/** Callbacks that change the learning rate: ReduceLROnPlateau and LearningRateScheduler. */
import { warnOnce } from '../engine/warnings.ts';
import { Callback, type Logs } from './callback.ts';
import { type MonitorMode, improvementDirection } from './early-stopping.ts';

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
  readonly mode: 'min' | 'max';
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  private wait = 0;
  private cooldownCounter = 0;
  private best = Infinity;

  constructor(options: ReduceLROnPlateauOptions = {}) {
    super();
    this.monitor = options.monitor ?? 'val_loss';
    this.factor = options.factor ?? 0.1;
    if (this.factor >= 1) throw new Error(`ReduceLROnPlateau does not support a factor >= 1. Received: factor=${this.factor}`);
    this.patience = options.patience ?? 10;
    this.verbose = options.verbose ?? 0;
    this.mode = improvementDirection(this.monitor, options.mode ?? 'auto');
    this.minDelta = options.minDelta ?? 1e-4;
    this.cooldown = options.cooldown ?? 0;
    this.minLr = options.minLr ?? 0;
  }

  override async onTrainBegin(): Promise<void> {
    this.wait = 0;
    this.cooldownCounter = 0;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    const current = logs[this.monitor];
    if (current === undefined) {
      warnOnce(`reduce-lr:${this.monitor}`, `ReduceLROnPlateau is monitoring '${this.monitor}', which is not in the logs. Available: ${Object.keys(logs).join(', ')}.`);
      return;
    }
    logs.learning_rate = learningRateOf(this, 'ReduceLROnPlateau');
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    const better = this.mode === 'min' ? current < this.best - this.minDelta : current > this.best + this.minDelta;
    if (better) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter <= 0) {
      this.wait++;
      if (this.wait >= this.patience) {
        const old = learningRateOf(this, 'ReduceLROnPlateau');
        if (old > this.minLr) {
          const next = Math.max(old * this.factor, this.minLr);
          this.model!.learningRate = next;
          if (this.verbose > 0) process.stdout.write(`\nEpoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${next}.\n`);
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
    if (this.verbose > 0) process.stdout.write(`\nEpoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${lr}.\n`);
  }

  override async onEpochEnd(_epoch: number, logs: Logs = {}): Promise<void> {
    logs.learning_rate = learningRateOf(this, 'LearningRateScheduler');
  }
}
