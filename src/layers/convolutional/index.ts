/** Convolution layers. */
export { ConvCommon } from './base-conv.ts';
export type { ConvCommonOptions, ConvPadding, Conv1DPadding } from './base-conv.ts';
export { BaseConv, Conv1D, Conv2D } from './conv.ts';
export type { BaseConvOptions, Conv1DOptions, Conv2DOptions } from './conv.ts';
export { BaseConvTranspose, Conv1DTranspose, Conv2DTranspose } from './conv-transpose.ts';
export type { BaseConvTransposeOptions, Conv1DTransposeOptions, Conv2DTransposeOptions } from './conv-transpose.ts';
export { BaseDepthwiseConv, DepthwiseConv1D, DepthwiseConv2D } from './depthwise-conv.ts';
export type { BaseDepthwiseConvOptions, DepthwiseConv1DOptions, DepthwiseConv2DOptions } from './depthwise-conv.ts';
export { BaseSeparableConv, SeparableConv1D, SeparableConv2D } from './separable-conv.ts';
export type { BaseSeparableConvOptions, SeparableConv1DOptions, SeparableConv2DOptions } from './separable-conv.ts';
// Keras's aliases.
export { Conv1D as Convolution1D, Conv2D as Convolution2D } from './conv.ts';
export { Conv1DTranspose as Convolution1DTranspose, Conv2DTranspose as Convolution2DTranspose } from './conv-transpose.ts';
export { SeparableConv1D as SeparableConvolution1D, SeparableConv2D as SeparableConvolution2D } from './separable-conv.ts';
