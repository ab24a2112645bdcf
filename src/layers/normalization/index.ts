/** Normalization layers. */
export { BatchNormalization } from './batch-normalization.ts';
export type { BatchNormalizationOptions } from './batch-normalization.ts';
export { LayerNormalization } from './layer-normalization.ts';
export type { LayerNormalizationOptions } from './layer-normalization.ts';
export { GroupNormalization } from './group-normalization.ts';
export type { GroupNormalizationOptions } from './group-normalization.ts';
export { UnitNormalization } from './unit-normalization.ts';
export type { UnitNormalizationOptions } from './unit-normalization.ts';
