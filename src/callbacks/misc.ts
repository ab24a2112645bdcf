/** Small callbacks: TerminateOnNaN, CSVLogger, LambdaCallback. */
import { appendFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { Callback, type Logs } from './callback.ts';

/** Stops training as soon as the loss becomes NaN or infinite. */
export class TerminateOnNaN extends Callback {
  /** The batch at which training stopped, or null. */
  stoppedAt: { epoch: number; batch: number } | null = null;
  private epoch = 0;

  override async onEpochBegin(epoch: number): Promise<void> {
    this.epoch = epoch;
  }

  override async onTrainBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    const loss = logs.loss;
    if (loss !== undefined && !Number.isFinite(loss)) {
      this.stoppedAt = { epoch: this.epoch, batch };
      process.stdout.write(`\nBatch ${batch}: Invalid loss, terminating training (epoch ${this.epoch + 1}, loss ${loss}). strata.debugging.enableCheckNumerics() finds the op that produced it.\n`);
      this.model!.stopTraining = true;
    }
  }
}

export interface CSVLoggerOptions {
  separator?: string;
  append?: boolean;
}

/** Streams each epoch's logs to a CSV file (header from the first epoch's keys). */
export class CSVLogger extends Callback {
  readonly separator: string;
  readonly append: boolean;
  private keys: string[] | null = null;

  constructor(
    readonly filename: string,
    options: CSVLoggerOptions = {},
  ) {
    super();
    this.separator = options.separator ?? ',';
    this.append = options.append ?? false;
  }

  override async onTrainBegin(): Promise<void> {
    this.keys = null;
    if (!this.append) await writeFile(this.filename, '');
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    if (!this.keys) {
      this.keys = Object.keys(logs).sort();
      const hasHeader = this.append && existsSync(this.filename);
      if (!hasHeader) await appendFile(this.filename, ['epoch', ...this.keys].join(this.separator) + '\n');
    }
    const row = [String(epoch), ...this.keys.map((k) => (logs[k] === undefined ? 'NA' : String(logs[k])))];
    await appendFile(this.filename, row.join(this.separator) + '\n');
  }
}

export interface LambdaCallbackOptions {
  onEpochBegin?: (epoch: number, logs: Logs) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs: Logs) => void | Promise<void>;
  onTrainBatchBegin?: (batch: number, logs: Logs) => void | Promise<void>;
  onTrainBatchEnd?: (batch: number, logs: Logs) => void | Promise<void>;
  onTrainBegin?: (logs: Logs) => void | Promise<void>;
  onTrainEnd?: (logs: Logs) => void | Promise<void>;
}

/** A callback from plain functions. */
export class LambdaCallback extends Callback {
  constructor(readonly fns: LambdaCallbackOptions) {
    super();
  }
  override async onEpochBegin(epoch: number, logs: Logs = {}): Promise<void> {
    await this.fns.onEpochBegin?.(epoch, logs);
  }
  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    await this.fns.onEpochEnd?.(epoch, logs);
  }
  override async onTrainBatchBegin(batch: number, logs: Logs = {}): Promise<void> {
    await this.fns.onTrainBatchBegin?.(batch, logs);
  }
  override async onTrainBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    await this.fns.onTrainBatchEnd?.(batch, logs);
  }
  override async onTrainBegin(logs: Logs = {}): Promise<void> {
    await this.fns.onTrainBegin?.(logs);
  }
  override async onTrainEnd(logs: Logs = {}): Promise<void> {
    await this.fns.onTrainEnd?.(logs);
  }
}
