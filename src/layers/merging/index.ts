/** Merging layers: elementwise merges, Concatenate and Dot. */
export { Merge, Add, Subtract, Multiply, Average, Maximum, Minimum } from './merge.ts';
export { Concatenate } from './concatenate.ts';
export type { ConcatenateOptions } from './concatenate.ts';
export { Dot } from './dot.ts';
export type { DotOptions } from './dot.ts';
