/** Settings of graph execution (`strata.config`). */
import { availableParallelism } from 'node:os';
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
  // Every core, as TensorFlow and ONNX Runtime default to. On the 2-core machine this was
  // measured on, 2 threads train the bench MLP in 3.1 ms instead of 4.2 and the CNN in 22
  // instead of 31; a CPU-heavy map on the main thread may prefer cores - 1 (bench/README.md).
  intraOpNumThreads: availableParallelism(),
  optimizationLevel: 'all',
};
