/** Regularization layers: SpatialDropout1D/2D, GaussianNoise, GaussianDropout (Dropout lives in core/). */
export { SpatialDropout1D, SpatialDropout2D } from './spatial-dropout.ts';
export type { SpatialDropoutOptions, SpatialDropout2DOptions } from './spatial-dropout.ts';
export { GaussianNoise } from './gaussian-noise.ts';
export type { GaussianNoiseOptions } from './gaussian-noise.ts';
export { GaussianDropout } from './gaussian-dropout.ts';
export type { GaussianDropoutOptions } from './gaussian-dropout.ts';
