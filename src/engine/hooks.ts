/**
 * Observers of eager op execution: numerics checks, the profiler, op logs.
 * Each diagnostic is one hook here rather than code in every op.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { OpDef } from './op.ts';

export interface OpEvent {
  readonly def: OpDef<any>;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: unknown;
  readonly scope: string;
  /** Wall time of the kernel in milliseconds (eager only; 0 while tracing). */
  readonly durationMs: number;
  readonly symbolic: boolean;
}

export interface OpHook {
  afterOp(event: OpEvent): void;
}

const hooks: OpHook[] = [];

export function addOpHook(hook: OpHook): () => void {
  hooks.push(hook);
  return () => {
    const i = hooks.indexOf(hook);
    if (i >= 0) hooks.splice(i, 1);
  };
}

export function opHooks(): readonly OpHook[] {
  return hooks;
}
