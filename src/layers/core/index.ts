/** More core layers: Identity, Lambda, Masking, Embedding, EinsumDense, ActivityRegularization, Rescaling. */
export { Identity } from './identity.ts';
export { Lambda } from './lambda.ts';
export type { LambdaOptions, LambdaFunction, LambdaExtras, LambdaOutputShape, LambdaMask, LambdaFromConfigOptions } from './lambda.ts';
export { Masking } from './masking.ts';
export type { MaskingOptions } from './masking.ts';
export { Embedding } from './embedding.ts';
export type { EmbeddingOptions } from './embedding.ts';
export { EinsumDense } from './einsum-dense.ts';
export type { EinsumDenseOptions } from './einsum-dense.ts';
export { ActivityRegularization } from './activity-regularization.ts';
export type { ActivityRegularizationOptions } from './activity-regularization.ts';
export { Rescaling } from '../preprocessing/rescaling.ts';
export type { RescalingValue, RescalingOptions } from '../preprocessing/rescaling.ts';

export { NotEqual, Equal, Greater, Less, LogicalAnd, LogicalOr } from './keras-ops.ts';
