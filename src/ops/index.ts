/**
 * The public `ops` namespace: keras.ops names in camelCase.
 */
import { setVariableArithmetic } from '../engine/variable.ts';
import { add, subtract } from './api/math.ts';

setVariableArithmetic({ add, subtract });

export * from './api/math.ts';
export * from './api/array.ts';
export * from './api/reduce.ts';
export * from './api/indexing.ts';
export * from './api/linalg.ts';
export * from './api/nn.ts';
export * from './api/activations.ts';
export * from './api/crossentropy.ts';
export type { TensorLike } from './convert.ts';
export * as image from './api/image.ts';
