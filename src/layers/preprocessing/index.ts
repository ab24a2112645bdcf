/** Preprocessing layers. (Rescaling is exported with the core layers.) */
export { Normalization } from './normalization.ts';
export type { NormalizationOptions, NormalizationValue } from './normalization.ts';
