/**
 * ProgbarLogger: Keras's progress display.
 *   Epoch 1/5
 *   125/125 ━━━━━━━━━━━━━━━━━━━━ 3s 21ms/step - accuracy: 0.8870 - loss: 0.3867 - val_accuracy: 0.9520 - val_loss: 0.1641
 * On a terminal the bar updates in place with an ETA; otherwise (pipes, CI
 * logs) it prints one line per epoch.
 */
import { Callback, type Logs } from './callback.ts';

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
  if (ms >= 1000) return `${(ms / 1000).toFixed(0)}s/step`;
  if (ms >= 1) return `${Math.round(ms)}ms/step`;
  return `${Math.round(ms * 1000)}us/step`;
}

export function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .sort(([a], [b]) => (a.startsWith('val_') === b.startsWith('val_') ? a.localeCompare(b) : a.startsWith('val_') ? 1 : -1))
    .map(([k, v]) => ` - ${k}: ${Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(4)}`)
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
    const time = final || !total ? formatDuration(elapsedMs / 1000) : formatDuration(((total - step) * perStep) / 1000);
    return `${count} ${bar} ${time} ${formatPerStep(perStep)}${formatLogs(logs)}`;
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.mode = 'train';
    this.epochStart = performance.now();
    this.seen = 0;
    if (this.params.verbose > 0) this.stream.write(`Epoch ${epoch + 1}/${this.params.epochs}\n`);
  }

  override async onTrainBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    this.seen = batch + 1;
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
