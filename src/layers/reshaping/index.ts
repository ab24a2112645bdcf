/** Reshaping layers (Flatten lives in core/). */
export { Reshape } from './reshape.ts';
export { Permute } from './permute.ts';
export { RepeatVector } from './repeat-vector.ts';
export { ZeroPadding1D, ZeroPadding2D } from './zero-padding.ts';
export type { ZeroPadding1DOptions, ZeroPadding2DOptions, Padding2D } from './zero-padding.ts';
export { Cropping1D, Cropping2D } from './cropping.ts';
export type { Cropping1DOptions, Cropping2DOptions } from './cropping.ts';
export { UpSampling1D, UpSampling2D } from './up-sampling.ts';
export type { UpSampling1DOptions, UpSampling2DOptions, UpSamplingInterpolation } from './up-sampling.ts';
