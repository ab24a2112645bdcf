/** Activation layers (Activation itself lives in core/). */
export { ReLU } from './relu.ts';
export type { ReLUOptions } from './relu.ts';
export { LeakyReLU } from './leaky-relu.ts';
export type { LeakyReLUOptions } from './leaky-relu.ts';
export { PReLU } from './prelu.ts';
export type { PReLUOptions } from './prelu.ts';
export { ELU } from './elu.ts';
export type { ELUOptions } from './elu.ts';
export { Softmax } from './softmax.ts';
export type { SoftmaxOptions } from './softmax.ts';
