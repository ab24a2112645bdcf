/** History: records each epoch's logs; `fit` returns it. */
import { Callback, type Logs } from './callback.ts';

export class History extends Callback {
  /** Epoch numbers (0-based). */
  epoch: number[] = [];
  /** Per metric name, the value at the end of each epoch. */
  history: Record<string, number[]> = {};

  /**
   * Keras resets only `epoch` here; `history` keeps growing if the same
   * History object sees another training run (Strata cleared both).
   */
  override async onTrainBegin(): Promise<void> {
    this.epoch = [];
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}
