/** Settings of graph execution (`strata.config`). */
export type GraphExecutorKind = 'onnxruntime' | 'interpreter';

export const graphConfig: {
  executor: GraphExecutorKind;
  /** Run ONNX Runtime in a worker thread (keeps the event loop free); false runs it on the calling thread. */
  useWorker: boolean;
  intraOpNumThreads: number;
  optimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
} = {
  executor: 'onnxruntime',
  useWorker: true,
  intraOpNumThreads: 1,
  optimizationLevel: 'all',
};
