/** Small callbacks: TerminateOnNaN, CSVLogger, LambdaCallback. */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { warnOnce } from '../engine/warnings.ts';
import { Callback, type Logs } from './callback.ts';
import { pyFloat } from './pyformat.ts';

export interface TerminateOnNaNOptions {
  /** Throw at the bad batch instead of stopping gracefully (Keras's raise_error). */
  raiseError?: boolean;
}

/** Stops training as soon as the loss becomes NaN or infinite. */
export class TerminateOnNaN extends Callback {
  /** The batch at which training stopped, or null. */
  stoppedAt: { epoch: number; batch: number } | null = null;
  readonly raiseError: boolean;
  private epoch = 0;

  constructor(options: TerminateOnNaNOptions = {}) {
    super();
    this.raiseError = options.raiseError ?? false;
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.epoch = epoch;
  }

  override async onTrainBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    const loss = logs.loss;
    if (loss !== undefined && !Number.isFinite(loss)) {
      this.stoppedAt = { epoch: this.epoch, batch };
      if (this.raiseError) {
        throw new Error(`NaN or Inf loss encountered at batch ${batch}. Loss value: ${pyFloat(loss)}. Terminating training immediately.`);
      }
      // Keras's exact line (Strata printed it with a leading blank line and
      // extra text); the hint goes to the warnings instead.
      process.stdout.write(`Batch ${batch}: Invalid loss, terminating training\n`);
      warnOnce('terminate-on-nan', `TerminateOnNaN: loss ${pyFloat(loss)} at batch ${batch} of epoch ${this.epoch + 1}. strata.debugging.enableCheckNumerics() finds the op that produced it.`);
      this.model!.stopTraining = true;
    }
  }
}

export interface CSVLoggerOptions {
  separator?: string;
  append?: boolean;
}

/**
 * Streams each epoch's logs to a CSV file, in the format of Python's csv
 * module as Keras uses it: rows end in CRLF, numbers are written as Python
 * floats ('1.0', '1e-05', 'nan', 'inf'), fields holding the separator, a
 * quote or a line break are quoted.
 */
export class CSVLogger extends Callback {
  readonly separator: string;
  readonly append: boolean;
  private keys: string[] | null = null;
  private writeHeader = true;

  constructor(
    readonly filename: string,
    options: CSVLoggerOptions = {},
  ) {
    super();
    this.separator = options.separator ?? ',';
    this.append = options.append ?? false;
  }

  private field(text: string): string {
    if (text.includes(this.separator) || /["\r\n]/.test(text)) return `"${text.replace(/"/g, '""')}"`;
    return text;
  }

  private async writeRow(fields: string[]): Promise<void> {
    // csv.excel's line terminator is CRLF (Strata wrote LF).
    await appendFile(this.filename, fields.map((f) => this.field(f)).join(this.separator) + '\r\n');
  }

  override async onTrainBegin(): Promise<void> {
    this.keys = null;
    // Appending writes a header only when the file is missing or its first line is empty
    // (Strata skipped it for an existing empty file).
    this.writeHeader = !(this.append && existsSync(this.filename) && (await readFile(this.filename, 'utf8')).split('\n')[0].length > 0);
    if (!this.append) await writeFile(this.filename, '');
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    if (!this.keys) {
      this.keys = Object.keys(logs).sort();
      // Keras: without validation keys in the first epoch, it reserves val_ columns for every key
      // (filled with NA), so a later validation run lines up with the header.
      if (this.keys.length > 0 && !this.keys.some((k) => k.startsWith('val_'))) this.keys.push(...this.keys.map((k) => `val_${k}`));
      if (this.writeHeader) await this.writeRow(['epoch', ...this.keys]);
    }
    await this.writeRow([String(epoch), ...this.keys.map((k) => (logs[k] === undefined ? 'NA' : pyFloat(logs[k])))]);
  }
}

type BatchFn = (batch: number, logs: Logs) => void | Promise<void>;
type LogsFn = (logs: Logs) => void | Promise<void>;

/** Any hook of `Callback` (Keras's LambdaCallback takes every hook as a keyword argument, not only the six named ones). */
export interface LambdaCallbackOptions {
  onEpochBegin?: (epoch: number, logs: Logs) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs: Logs) => void | Promise<void>;
  onTrainBatchBegin?: BatchFn;
  onTrainBatchEnd?: BatchFn;
  onTrainBegin?: LogsFn;
  onTrainEnd?: LogsFn;
  onTestBegin?: LogsFn;
  onTestEnd?: LogsFn;
  onTestBatchBegin?: BatchFn;
  onTestBatchEnd?: BatchFn;
  onPredictBegin?: LogsFn;
  onPredictEnd?: LogsFn;
  onPredictBatchBegin?: BatchFn;
  onPredictBatchEnd?: BatchFn;
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
  override async onTestBegin(logs: Logs = {}): Promise<void> {
    await this.fns.onTestBegin?.(logs);
  }
  override async onTestEnd(logs: Logs = {}): Promise<void> {
    await this.fns.onTestEnd?.(logs);
  }
  override async onTestBatchBegin(batch: number, logs: Logs = {}): Promise<void> {
    await this.fns.onTestBatchBegin?.(batch, logs);
  }
  override async onTestBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    await this.fns.onTestBatchEnd?.(batch, logs);
  }
  override async onPredictBegin(logs: Logs = {}): Promise<void> {
    await this.fns.onPredictBegin?.(logs);
  }
  override async onPredictEnd(logs: Logs = {}): Promise<void> {
    await this.fns.onPredictEnd?.(logs);
  }
  override async onPredictBatchBegin(batch: number, logs: Logs = {}): Promise<void> {
    await this.fns.onPredictBatchBegin?.(batch, logs);
  }
  override async onPredictBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    await this.fns.onPredictBatchEnd?.(batch, logs);
  }
}
