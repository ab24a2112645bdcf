/**
 * Strata: a Keras-style deep-learning library for TypeScript.
 * `import * as strata from 'strata'`.
 */
export { Tensor, TensorSpec } from './tensor/tensor.ts';
export type { NestedArray, Scalar } from './tensor/tensor.ts';
export type { DType, TypedArray } from './tensor/dtype.ts';
export type { Shape, Dim } from './tensor/shape.ts';
export { tensor, scalar, zeros, ones, fill, range, eye } from './tensor/create.ts';
export type { TensorData } from './tensor/create.ts';
export { Variable } from './engine/variable.ts';
export type { VariableOptions } from './engine/variable.ts';
export { GradientTape } from './autodiff/tape.ts';
export type { GradientTapeOptions } from './autodiff/tape.ts';
export type { NullGradientReason } from './autodiff/reasons.ts';
export { grad, valueAndGrad } from './autodiff/functional.ts';
export * as ops from './public-ops.ts';
export * as config from './config.ts';
export { fn } from './graph/function.ts';
export type { FnOptions, StrataFunction, ConcreteFunction } from './graph/function.ts';
export { zerosLike, onesLike } from './ops/api/array.ts';
export * as random from './ops/api/random.ts';
export * as initializers from './initializers/index.ts';
export * as regularizers from './regularizers/index.ts';
export * as constraints from './constraints/index.ts';
export * as activations from './activations/index.ts';
export * as layers from './layers/index.ts';
export { Input } from './layers/core/input-layer.ts';
export { Model } from './models/model.ts';
export { Functional } from './models/functional.ts';
export { Sequential } from './models/sequential.ts';
export * as optimizers from './optimizers/index.ts';
export * as losses from './losses/index.ts';
export * as metrics from './metrics/index.ts';
export { Loss } from './losses/index.ts';
export { Metric } from './metrics/index.ts';
export * as callbacks from './callbacks/index.ts';
export * as saving from './saving/index.ts';
export * as debugging from './debugging/index.ts';
export * as profiler from './profiling/profiler.ts';
export * as summary from './summary/index.ts';
export * as data from './data/index.ts';
export * as serving from './serving/index.ts';
