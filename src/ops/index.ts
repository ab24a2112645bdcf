/**
 * The public `ops` namespace: keras.ops names in camelCase.
 */
import { setVariableArithmetic } from '../engine/variable.ts';
import { add, subtract } from './api/math.ts';

setVariableArithmetic({ add, subtract });

export * from './api/math.ts';
export * from './api/array.ts';
export * from './api/reduce.ts';
export type { TensorLike } from './convert.ts';
