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
import { type MonitorMode, checkMode, improvementDirection, isImprovement, resolveDirection } from './early-stopping.ts';
import { PyFormatError, pyFormat } from './pyformat.ts';

/**
 * Fills a Python-style template (`{epoch:02d}-{val_loss:.2f}`) as Python's
 * `str.format` does, through `pyFormat`: the names in `ints` (epoch and batch
 * counters) are Python ints, the rest floats. Matching Keras byte for byte
 * matters because users glob for these names: JavaScript's formatting wrote
 * '{val_loss}' = 1 as '1' (Python: '1.0'), 1e-5 as '1e-5' ('1e-05'), rounded
 * exact ties up ('{:.2f}' of 0.125: '0.13', Python '0.12'), zero-padded
 * before the sign ('0-1.50'), and rejected alignment / grouping / sign specs.
 */
export function formatFilepath(template: string, values: Record<string, number>, ints: ReadonlySet<string> = new Set(['epoch', 'batch'])): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g, (whole, name: string, spec: string | undefined) => {
    if (!(name in values)) {
      throw new Error(`ModelCheckpoint: the filepath template uses '{${name}}', but the logs have no '${name}' (available: epoch, batch, ${Object.keys(values).filter((k) => k !== 'epoch' && k !== 'batch').join(', ')}).`);
    }
    try {
      return pyFormat(values[name], spec ?? '', ints.has(name));
    } catch (e) {
      if (e instanceof PyFormatError) throw new Error(`ModelCheckpoint: cannot format '${whole}': ${e.message}.`);
      throw e;
    }
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
  /** For mode 'auto' a name-based guess until the first epoch end resolves it (as Keras does). */
  mode: 'min' | 'max';
  readonly saveFreq: 'epoch' | number;
  /** The best value so far; null (nothing seen, no initialValueThreshold) counts any first value as an improvement, as in Keras. */
  best: number | null;
  /** Paths written, in order. */
  readonly saved: string[] = [];
  private epoch = 0;
  private batchesSinceSave = 0;
  private lastBatchSeen: number | null = null;
  private readonly requestedMode: MonitorMode;

  constructor(
    readonly filepath: string,
    options: ModelCheckpointOptions = {},
  ) {
    super();
    this.monitor = options.monitor ?? 'val_loss';
    this.verbose = options.verbose ?? 0;
    this.saveBestOnly = options.saveBestOnly ?? false;
    this.saveWeightsOnly = options.saveWeightsOnly ?? false;
    this.requestedMode = checkMode('ModelCheckpoint', options.mode);
    this.mode = improvementDirection(this.monitor, this.requestedMode);
    this.saveFreq = options.saveFreq ?? 'epoch';
    if (this.saveFreq !== 'epoch' && !(Number.isInteger(this.saveFreq) && this.saveFreq > 0)) {
      throw new Error(`ModelCheckpoint: saveFreq must be 'epoch' or a positive integer. Received: ${String(this.saveFreq)}`);
    }
    this.best = options.initialValueThreshold ?? null;
    // Keras accepts '.h5' (the legacy HDF5 format, which model.save writes) as well as '.keras' for whole models.
    const ok = this.saveWeightsOnly ? filepath.endsWith('.weights.h5') : filepath.endsWith('.keras') || filepath.endsWith('.h5');
    if (!ok) {
      throw new Error(`ModelCheckpoint: with saveWeightsOnly=${this.saveWeightsOnly} the filepath must end in ${this.saveWeightsOnly ? '.weights.h5' : '.keras (or .h5)'}. Received: ${filepath}`);
    }
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.epoch = epoch;
  }

  /**
   * Counts batches from the batch index, as Keras does: with several steps
   * per execution the callback sees only every N-th batch, and counting
   * calls undercounted; a batch index not above the last one starts a new
   * epoch.
   */
  override async onTrainBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    if (this.saveFreq === 'epoch') return;
    this.batchesSinceSave += this.lastBatchSeen === null || batch <= this.lastBatchSeen ? batch + 1 : batch - this.lastBatchSeen;
    this.lastBatchSeen = batch;
    if (this.batchesSinceSave >= this.saveFreq) {
      this.batchesSinceSave = 0;
      await this.maybeSave(this.epoch, batch, logs);
    }
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    this.mode = resolveDirection('ModelCheckpoint', this.monitor, this.requestedMode, this.model);
    if (this.saveFreq === 'epoch') await this.maybeSave(epoch, null, logs);
  }

  private say(text: string): void {
    if (this.verbose > 0) process.stdout.write(`${text}\n`);
  }

  private async maybeSave(epoch: number, batch: number | null, logs: Logs): Promise<void> {
    // A 'batch' entry in the logs wins over the batch counter (Keras formats with the logs' value, a float).
    const ints = new Set(['epoch', ...(batch === null || 'batch' in logs ? [] : ['batch'])]);
    const path = formatFilepath(this.filepath, { ...logs, epoch: epoch + 1, ...(batch === null || 'batch' in logs ? {} : { batch: batch + 1 }) }, ints);
    if (this.saveBestOnly) {
      const current = logs[this.monitor];
      if (current === undefined) {
        // Keras warns and saves anyway (Strata skipped the save).
        warnOnce(`checkpoint:${this.monitor}`, `ModelCheckpoint: can save best model only with ${this.monitor} available; saving anyway. Available: ${Object.keys(logs).join(', ')}.`);
      } else {
        // Keras's messages, with its 5-decimal formatting ('None' before the first value).
        const bestText = this.best === null ? 'None' : pyFormat(this.best, '.5f', false);
        if (!isImprovement(this.mode, 0, current, this.best)) {
          this.say(`\nEpoch ${epoch + 1}: ${this.monitor} did not improve from ${bestText}`);
          return;
        }
        this.say(`\nEpoch ${epoch + 1}: ${this.monitor} improved from ${bestText} to ${pyFormat(current, '.5f', false)}, saving model to ${path}`);
        this.best = current;
      }
    } else this.say(`\nEpoch ${epoch + 1}: saving model to ${path}`);
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
    this.say(`\nEpoch ${epoch + 1}: finished saving model to ${path}`);
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

  /**
   * Keras's layout: `training_metadata.json` holding `{"epoch": <next epoch>,
   * "batch": 0}` (Strata wrote `training_state.json` with the last finished
   * epoch, so neither could resume the other's backup). Strata adds its
   * random-generator counters under "random", which Keras ignores.
   */
  private get statePath(): string {
    return join(this.backupDir, 'training_metadata.json');
  }

  override async onTrainBegin(): Promise<void> {
    const model = this.model as (typeof this.model & { prepareForRestore?(): void; initialEpochOverride?: number | null; randomState?: RandomState }) | null;
    if (!model || !existsSync(this.weightsPath)) return;
    model.prepareForRestore?.();
    await model.loadWeights!(this.weightsPath);
    if (!existsSync(this.statePath)) return;
    const state = JSON.parse(await readFile(this.statePath, 'utf8')) as { epoch: number; batch?: number; random?: Record<string, number> };
    if (state.random) model.randomState?.restore(state.random);
    model.initialEpochOverride = state.epoch;
  }

  override async onEpochEnd(epoch: number): Promise<void> {
    const model = this.model as typeof this.model & { randomState?: RandomState };
    await mkdir(this.backupDir, { recursive: true });
    await model!.saveWeights!(this.weightsPath);
    const tmp = `${this.statePath}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify({ epoch: epoch + 1, batch: 0, random: model!.randomState?.capture() ?? {} }).replace(/^\{"epoch":(\d+),"batch":0,/, '{"epoch": $1, "batch": 0, '));
    await rename(tmp, this.statePath);
  }

  override async onTrainEnd(): Promise<void> {
    // A run that finishes (also by early stopping) needs no backup; a killed run never gets here.
    if (this.deleteCheckpoint) await rm(this.backupDir, { recursive: true, force: true });
  }
}
