/** Settings of graph execution (`strata.config`). */
export type GraphExecutorKind = 'onnxruntime' | 'interpreter';

export const graphConfig: {
  executor: GraphExecutorKind;
  intraOpNumThreads: number;
  optimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
} = {
  executor: 'onnxruntime',
  intraOpNumThreads: 1,
  optimizationLevel: 'all',
};
