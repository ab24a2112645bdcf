/** Pooling layers. */
export { BasePooling, MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D } from './pooling.ts';
export type { BasePoolingOptions, PoolPadding, MaxPooling1DOptions, MaxPooling2DOptions, AveragePooling1DOptions, AveragePooling2DOptions } from './pooling.ts';
export {
  BaseGlobalPooling,
  GlobalAveragePooling1D,
  GlobalAveragePooling2D,
  GlobalAveragePooling3D,
  GlobalMaxPooling1D,
  GlobalMaxPooling2D,
  GlobalMaxPooling3D,
} from './global-pooling.ts';
export type {
  BaseGlobalPoolingOptions,
  GlobalAveragePooling1DOptions,
  GlobalAveragePooling2DOptions,
  GlobalAveragePooling3DOptions,
  GlobalMaxPooling1DOptions,
  GlobalMaxPooling2DOptions,
  GlobalMaxPooling3DOptions,
} from './global-pooling.ts';
// Keras's aliases.
export { MaxPooling1D as MaxPool1D, MaxPooling2D as MaxPool2D, AveragePooling1D as AvgPool1D, AveragePooling2D as AvgPool2D } from './pooling.ts';
export {
  GlobalAveragePooling1D as GlobalAvgPool1D,
  GlobalAveragePooling2D as GlobalAvgPool2D,
  GlobalAveragePooling3D as GlobalAvgPool3D,
  GlobalMaxPooling1D as GlobalMaxPool1D,
  GlobalMaxPooling2D as GlobalMaxPool2D,
  GlobalMaxPooling3D as GlobalMaxPool3D,
} from './global-pooling.ts';
