/**
 * The seam through which dispatch tells gradient tapes what ran. The tapes
 * themselves (and the backward pass, which needs ops) live in `autodiff/`.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { OpDef } from './op.ts';
import type { Variable } from './variable.ts';

export interface OpRecord {
  readonly def: OpDef<any>;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: unknown;
  /** Layer path the op ran in. */
  readonly scope: string;
}

export interface TapeRecorder {
  recordOp(record: OpRecord): void;
  recordVariableRead(variable: Variable, value: Tensor): void;
}

const activeTapes: TapeRecorder[] = [];

export function pushTape(tape: TapeRecorder): void {
  activeTapes.push(tape);
}

export function popTape(tape: TapeRecorder): void {
  const i = activeTapes.lastIndexOf(tape);
  if (i >= 0) activeTapes.splice(i, 1);
}

export function recordingTapes(): readonly TapeRecorder[] {
  return activeTapes;
}

/** Runs `fn` with no tape recording (used while a tape computes its own gradients). */
export function withoutTape<T>(tape: TapeRecorder, fn: () => T): T {
  const i = activeTapes.lastIndexOf(tape);
  if (i < 0) return fn();
  activeTapes.splice(i, 1);
  try {
    return fn();
  } finally {
    activeTapes.splice(i, 0, tape);
  }
}

/** Runs `fn` with every tape paused (control-flow branches are traced once, not recorded op by op). */
export function withTapesPaused<T>(fn: () => T): T {
  const saved = activeTapes.splice(0, activeTapes.length);
  try {
    return fn();
  } finally {
    activeTapes.splice(0, activeTapes.length, ...saved);
  }
}
