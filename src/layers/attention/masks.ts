/**
 * Pieces shared by the attention layers: the extra call options (Keras's
 * `return_attention_scores`, `use_causal_mask`) in both spellings, and
 * boolean masks built from tensors whose sequence lengths may be unknown
 * until run time (inside `strata.fn` or a functional model).
 */
import type { Tensor } from '../../tensor/tensor.ts';
import * as ops from '../../ops/index.ts';
import { sliceAxis } from '../../ops/defs/indexing.ts';
import type { CallOptions } from '../layer.ts';

/** Call options of the attention layers (camelCase; Keras's snake_case keys are accepted too). */
export interface AttentionCallOptions extends CallOptions {
  /** Also return the attention scores: `[output, scores]` (default false). */
  returnAttentionScores?: boolean;
  /** Let position i attend only to positions j <= i (decoder self-attention; default false). */
  useCausalMask?: boolean;
}

/** The options a recorded call keeps: Keras's keyword names, only where they differ from the defaults (as Keras records them). */
export interface AttentionExtras {
  return_attention_scores?: boolean;
  use_causal_mask?: boolean;
}

/** Reads the extra options from camelCase or snake_case keys (functional models replay the recorded snake_case ones). */
export function readExtras(options: Record<string, unknown>): AttentionExtras {
  const pick = (camel: string, snake: string): boolean => Boolean(options[camel] ?? options[snake] ?? false);
  const out: AttentionExtras = {};
  if (pick('returnAttentionScores', 'return_attention_scores')) out.return_attention_scores = true;
  if (pick('useCausalMask', 'use_causal_mask')) out.use_causal_mask = true;
  return out;
}

/** `{training, mask}` of the options, plus the extras under Keras's names (what a functional node records). */
export function baseOptions(options: Record<string, unknown>, extras: AttentionExtras): CallOptions {
  const out: Record<string, unknown> = {};
  if (options.training !== undefined) out.training = options.training;
  if (options.mask !== undefined) out.mask = options.mask;
  return { ...out, ...extras } as CallOptions;
}

/** A `[1, n, 1...]`-style int32 tensor of ones along `axis` of `x` (size 1 elsewhere), read at run time. */
function onesAlong(x: Tensor, axis: number): Tensor {
  let t = x;
  for (let a = 0; a < t.rank; a++) if (a !== axis) t = sliceAxis(t, a, 0, 1);
  return ops.onesLike(t, 'int32');
}

/**
 * Keras's causal mask, shape [1, T, S]: true where the query position
 * (axis 1 of `query`) is at or after the key position (axis 1 of `value`).
 * Made from cumulative sums of ones, so unknown lengths work.
 */
export function causalMask(query: Tensor, value: Tensor): Tensor {
  const [rows, cols] = positionGrids(query, value);
  return ops.greaterEqual(rows, cols);
}

/** Keras's sliding-window band, shape [1, T, S]: true where |i - j| < window. */
export function slidingWindowMask(query: Tensor, value: Tensor, window: number): Tensor {
  const [rows, cols] = positionGrids(query, value);
  return ops.less(ops.abs(ops.subtract(rows, cols)), window);
}

/** 1-based positions: rows [1, T, 1] from the query's axis 1, cols [1, 1, S] from the value's axis 1. */
function positionGrids(query: Tensor, value: Tensor): [Tensor, Tensor] {
  const q = ops.reshape(onesAlong(query, 1), [1, -1, 1]);
  const v = ops.reshape(onesAlong(value, 1), [1, 1, -1]);
  return [ops.cumsum(q, 1), ops.cumsum(v, 2)];
}
