/**
 * ModelCheckpoint and BackupAndRestore: callbacks that write the model
 * during training (through model.save / model.saveWeights, so every file is
 * written to a temporary name and renamed).
 */
import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { warnOnce } from '../engine/warnings.ts';
import { Callback, type Logs } from './callback.ts';
import { type MonitorMode, improvementDirection } from './early-stopping.ts';

/**
 * Fills a Python-style template: `{epoch:02d}-{val_loss:.2f}`. Supported
 * specs: `d` with optional zero padding and width, `.Nf`, `.Ne`, `.Ng`, none.
 */
export function formatFilepath(template: string, values: Record<string, number>): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g, (whole, name: string, spec: string | undefined) => {
    if (!(name in values)) {
      throw new Error(`ModelCheckpoint: the filepath template uses '{${name}}', but the logs have no '${name}' (available: epoch, batch, ${Object.keys(values).filter((k) => k !== 'epoch' && k !== 'batch').join(', ')}).`);
    }
    const v = values[name];
    if (!spec) return String(v);
    const m = /^(0?)(\d*)(?:\.(\d+))?([dfeg%])?$/.exec(spec);
    if (!m) throw new Error(`ModelCheckpoint: unsupported format spec '${spec}' in '${whole}'.`);
    const [, zero, width, precision, type] = m;
    let text: string;
    switch (type) {
      case 'd': text = String(Math.trunc(v)); break;
      case 'f': text = v.toFixed(precision ? Number(precision) : 6); break;
      case 'e': text = v.toExponential(precision ? Number(precision) : 6).replace(/e([+-])(\d)$/, 'e$10$2'); break;
      case 'g': text = String(Number(v.toPrecision(precision ? Number(precision) : 6))); break;
      case '%': text = `${(v * 100).toFixed(precision ? Number(precision) : 6)}%`; break;
      default: text = precision ? v.toFixed(Number(precision)) : String(v);
    }
    if (width) text = zero ? text.padStart(Number(width), '0') : text.padStart(Number(width));
    return text;
  });
}

export interface ModelCheckpointOptions {
  monitor?: string;
  verbose?: number;
  saveBestOnly?: boolean;
  saveWeightsOnly?: boolean;
  mode?: MonitorMode;
  /** 'epoch', or save every N batches. */
  saveFreq?: 'epoch' | number;
  initialValueThreshold?: number;
}

export class ModelCheckpoint extends Callback {
  readonly monitor: string;
  readonly verbose: number;
  readonly saveBestOnly: boolean;
  readonly saveWeightsOnly: boolean;
  readonly mode: 'min' | 'max';
  readonly saveFreq: 'epoch' | number;
  best: number;
  /** Paths written, in order. */
  readonly saved: string[] = [];
  private epoch = 0;
  private batchesSinceSave = 0;

  constructor(
    readonly filepath: string,
    options: ModelCheckpointOptions = {},
  ) {
    super();
    this.monitor = options.monitor ?? 'val_loss';
    this.verbose = options.verbose ?? 0;
    this.saveBestOnly = options.saveBestOnly ?? false;
    this.saveWeightsOnly = options.saveWeightsOnly ?? false;
    this.mode = improvementDirection(this.monitor, options.mode ?? 'auto');
    this.saveFreq = options.saveFreq ?? 'epoch';
    if (this.saveFreq !== 'epoch' && !(Number.isInteger(this.saveFreq) && this.saveFreq > 0)) {
      throw new Error(`ModelCheckpoint: saveFreq must be 'epoch' or a positive integer. Received: ${String(this.saveFreq)}`);
    }
    this.best = options.initialValueThreshold ?? (this.mode === 'min' ? Infinity : -Infinity);
    const expected = this.saveWeightsOnly ? '.weights.h5' : '.keras';
    if (!filepath.endsWith(expected)) {
      throw new Error(`ModelCheckpoint: with saveWeightsOnly=${this.saveWeightsOnly} the filepath must end in ${expected}. Received: ${filepath}`);
    }
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.epoch = epoch;
  }

  override async onTrainBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    if (this.saveFreq === 'epoch') return;
    this.batchesSinceSave++;
    if (this.batchesSinceSave >= this.saveFreq) {
      this.batchesSinceSave = 0;
      await this.maybeSave(this.epoch, batch, logs);
    }
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    if (this.saveFreq === 'epoch') await this.maybeSave(epoch, null, logs);
  }

  private async maybeSave(epoch: number, batch: number | null, logs: Logs): Promise<void> {
    if (this.saveBestOnly) {
      const current = logs[this.monitor];
      if (current === undefined) {
        warnOnce(`checkpoint:${this.monitor}`, `ModelCheckpoint: can save the best model only when '${this.monitor}' is in the logs; skipping. Available: ${Object.keys(logs).join(', ')}.`);
        return;
      }
      const better = this.mode === 'min' ? current < this.best : current > this.best;
      if (!better) return;
      if (this.verbose > 0) process.stdout.write(`\nEpoch ${epoch + 1}: ${this.monitor} improved from ${this.best} to ${current}, saving model\n`);
      this.best = current;
    }
    const path = formatFilepath(this.filepath, { ...logs, epoch: epoch + 1, ...(batch === null ? {} : { batch: batch + 1 }) });
    await mkdir(dirname(path), { recursive: true });
    const model = this.model!;
    if (this.saveWeightsOnly) {
      if (!model.saveWeights) throw new Error('ModelCheckpoint: the model cannot save weights.');
      await model.saveWeights(path);
    } else {
      if (!model.save) throw new Error('ModelCheckpoint: the model cannot be saved.');
      await model.save(path);
    }
    this.saved.push(path);
  }
}

/** State of the random generators a training run uses, so a resumed run draws the same numbers. */
export interface RandomState {
  capture(): Record<string, number>;
  restore(state: Record<string, number>): void;
}

export interface BackupAndRestoreOptions {
  /** 'epoch' (default) or every N batches (resumes at the start of that epoch). */
  saveFreq?: 'epoch';
  deleteCheckpoint?: boolean;
}

/**
 * Saves the training state (weights, optimizer state, random-generator
 * counters, last finished epoch) after every epoch in `backupDir`. When fit
 * starts and a backup exists, it restores it and resumes at the next epoch,
 * so an interrupted run ends with the same weights as an uninterrupted one.
 * The backup is deleted when training finishes.
 */
export class BackupAndRestore extends Callback {
  readonly deleteCheckpoint: boolean;

  constructor(
    readonly backupDir: string,
    options: BackupAndRestoreOptions = {},
  ) {
    super();
    if (!backupDir) throw new Error('BackupAndRestore: backupDir is required.');
    this.deleteCheckpoint = options.deleteCheckpoint ?? true;
  }

  private get weightsPath(): string {
    return join(this.backupDir, 'latest.weights.h5');
  }

  private get statePath(): string {
    return join(this.backupDir, 'training_state.json');
  }

  override async onTrainBegin(): Promise<void> {
    const model = this.model as (typeof this.model & { prepareForRestore?(): void; initialEpochOverride?: number | null; randomState?: RandomState }) | null;
    if (!model || !existsSync(this.statePath) || !existsSync(this.weightsPath)) return;
    const state = JSON.parse(await readFile(this.statePath, 'utf8')) as { epoch: number; random: Record<string, number> };
    model.prepareForRestore?.();
    await model.loadWeights!(this.weightsPath);
    model.randomState?.restore(state.random);
    model.initialEpochOverride = state.epoch + 1;
  }

  override async onEpochEnd(epoch: number): Promise<void> {
    const model = this.model as typeof this.model & { randomState?: RandomState };
    await mkdir(this.backupDir, { recursive: true });
    await model!.saveWeights!(this.weightsPath);
    const tmp = `${this.statePath}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify({ epoch, random: model!.randomState?.capture() ?? {} }));
    await rename(tmp, this.statePath);
  }

  override async onTrainEnd(): Promise<void> {
    // A run that finishes (also by early stopping) needs no backup; a killed run never gets here.
    if (this.deleteCheckpoint) await rm(this.backupDir, { recursive: true, force: true });
  }
}
