/** Attention layers: MultiHeadAttention, Attention (dot-product) and AdditiveAttention. */
export { MultiHeadAttention } from './multi-head-attention.ts';
export type { MultiHeadAttentionOptions, MultiHeadAttentionCallOptions } from './multi-head-attention.ts';
export { Attention, AdditiveAttention } from './attention.ts';
export type { AttentionOptions, AdditiveAttentionOptions, ScoreMode } from './attention.ts';
export type { AttentionCallOptions } from './masks.ts';
