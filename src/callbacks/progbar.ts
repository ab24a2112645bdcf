/**
 * ProgbarLogger: Keras's progress display.
 *   Epoch 1/5
 *   125/125 ━━━━━━━━━━━━━━━━━━━━ 3s 21ms/step - accuracy: 0.8870 - loss: 0.3867 - val_accuracy: 0.9520 - val_loss: 0.1641
 * On a terminal the bar updates in place with an ETA; otherwise (pipes, CI
 * logs) it prints one line per epoch.
 */
import { Callback, type Logs } from './callback.ts';
import { pyFormat } from './pyformat.ts';

export interface ProgbarOptions {
  /** Where to write (default process.stdout). */
  stream?: { write(text: string): unknown; isTTY?: boolean };
  /** Minimum milliseconds between in-place updates on a terminal. */
  interval?: number;
}

function formatDuration(seconds: number): string {
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  return `${Math.round(seconds)}s`;
}

function formatPerStep(ms: number): string {
  // Keras: seconds from 1s (and for exactly 0), else ms from 1ms, else us.
  if (ms >= 1000 || ms === 0) return `${(ms / 1000).toFixed(0)}s/step`;
  if (ms >= 1) return `${Math.round(ms)}ms/step`;
  return `${Math.round(ms * 1000)}us/step`;
}

/**
 * ` - name: value` for each entry, in the order given. Keras keeps the order
 * in which the keys first appeared (batch logs, then the epoch's new keys);
 * Strata sorted them with val_ last. Values above 1e-3 in magnitude get 4
 * decimals, the rest (0 included) Python's '.4e' ('0.0000e+00'); Strata
 * wrote 0 as '0.0000' and exponents with one digit. Verbose 2 compares the
 * signed value (`avg > 1e-3`), as Keras does, so negatives get '.4e' there.
 */
export function formatLogs(logs: Logs, order: readonly string[] = Object.keys(logs), verbose = 1): string {
  return order
    .filter((k) => logs[k] !== undefined)
    .map((k) => {
      const v = logs[k];
      const big = verbose === 2 ? v > 1e-3 : Math.abs(v) > 1e-3;
      return ` - ${k}: ${pyFormat(v, big ? '.4f' : '.4e', false)}`;
    })
    .join('');
}

export class ProgbarLogger extends Callback {
  private readonly stream: NonNullable<ProgbarOptions['stream']>;
  private readonly interval: number;
  private epochStart = 0;
  private lastUpdate = 0;
  private seen = 0;
  private mode: 'train' | 'test' | 'predict' = 'train';
  private testStart = 0;
  /** Log keys in order of first appearance this epoch (Keras's display order). */
  private order: string[] = [];

  constructor(options: ProgbarOptions = {}) {
    super();
    this.stream = options.stream ?? process.stdout;
    this.interval = options.interval ?? 50;
  }

  private get live(): boolean {
    return this.params.verbose === 1 && Boolean(this.stream.isTTY);
  }

  private line(step: number, total: number | null, elapsedMs: number, logs: Logs, final: boolean): string {
    const width = 20;
    const count = total ? `${String(step).padStart(String(total).length)}/${total}` : `${step}`;
    let bar = '';
    if (total) {
      const done = Math.min(width, Math.floor((step / total) * width));
      bar = this.stream.isTTY ? `\x1b[32m${'━'.repeat(done)}\x1b[0m\x1b[37m${'━'.repeat(width - done)}\x1b[0m` : '━'.repeat(done) + '─'.repeat(width - done);
    }
    const perStep = step > 0 ? elapsedMs / step : 0;
    for (const k of Object.keys(logs)) if (!this.order.includes(k)) this.order.push(k);
    const time = final || !total ? formatDuration(elapsedMs / 1000) : formatDuration(((total - step) * perStep) / 1000);
    // Keras's verbose=2 line: '2/2 - 0s - 4us/step - loss: 0.2500'.
    if (this.params.verbose === 2) return `${count} - ${formatDuration(elapsedMs / 1000)} - ${formatPerStep(perStep)}${formatLogs(logs, this.order, 2)}`;
    return `${count} ${bar} ${time} ${formatPerStep(perStep)}${formatLogs(logs, this.order)}`;
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.mode = 'train';
    this.epochStart = performance.now();
    this.seen = 0;
    this.order = [];
    // Keras prints the epoch header only when there is more than one epoch.
    if (this.params.verbose > 0 && this.params.epochs > 1) this.stream.write(`Epoch ${epoch + 1}/${this.params.epochs}\n`);
  }

  override async onTrainBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    this.seen = batch + 1;
    for (const k of Object.keys(logs)) if (!this.order.includes(k)) this.order.push(k);
    if (!this.live) return;
    const now = performance.now();
    if (now - this.lastUpdate < this.interval && this.seen !== this.params.steps) return;
    this.lastUpdate = now;
    this.stream.write(`\r${this.line(this.seen, this.params.steps, now - this.epochStart, logs, false)}\x1b[K`);
  }

  override async onEpochEnd(_epoch: number, logs: Logs = {}): Promise<void> {
    if (this.params.verbose === 0) return;
    const elapsed = performance.now() - this.epochStart;
    const text = this.line(this.seen, this.params.steps ?? this.seen, elapsed, logs, true);
    this.stream.write(this.live ? `\r${text}\x1b[K\n` : `${text}\n`);
  }

  override async onTestBegin(): Promise<void> {
    if (this.mode === 'train' && this.epochStart > 0 && this.seen > 0) return; // validation inside fit: shown in the epoch line
    this.mode = 'test';
    this.testStart = performance.now();
    this.seen = 0;
    this.order = [];
  }

  override async onTestBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    if (this.mode !== 'test') return;
    this.seen = batch + 1;
    if (this.live && performance.now() - this.lastUpdate >= this.interval) {
      this.lastUpdate = performance.now();
      this.stream.write(`\r${this.line(this.seen, this.params.steps, performance.now() - this.testStart, logs, false)}\x1b[K`);
    }
  }

  override async onTestEnd(logs: Logs = {}): Promise<void> {
    if (this.mode !== 'test' || this.params.verbose === 0) return;
    const text = this.line(this.seen, this.params.steps ?? this.seen, performance.now() - this.testStart, logs, true);
    this.stream.write(this.live ? `\r${text}\x1b[K\n` : `${text}\n`);
  }

  override async onPredictBegin(): Promise<void> {
    this.mode = 'predict';
    this.testStart = performance.now();
    this.seen = 0;
  }

  override async onPredictBatchEnd(batch: number): Promise<void> {
    this.seen = batch + 1;
    if (this.live && performance.now() - this.lastUpdate >= this.interval) {
      this.lastUpdate = performance.now();
      this.stream.write(`\r${this.line(this.seen, this.params.steps, performance.now() - this.testStart, {}, false)}\x1b[K`);
    }
  }

  override async onPredictEnd(): Promise<void> {
    if (this.params.verbose === 0) return;
    const text = this.line(this.seen, this.params.steps ?? this.seen, performance.now() - this.testStart, {}, true);
    this.stream.write(this.live ? `\r${text}\x1b[K\n` : `${text}\n`);
  }
}
