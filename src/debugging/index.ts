/** `strata.debugging`: the seed's troubleshooting guide, built in. */
import { zeros } from '../tensor/create.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { setSummaryOpsExpander } from '../models/summary.ts';
import { Functional } from '../models/functional.ts';
import { Sequential } from '../models/sequential.ts';
import { traceModel } from './trace-model.ts';

export { enableCheckNumerics, disableCheckNumerics, checkNumerics, NumericsError } from './numerics.ts';
export { gradientReport, GradientReport } from './gradient-report.ts';
export type { WeightReport, Verdict, GradientReportOptions } from './gradient-report.ts';
export { compareEagerAndGraph, ParityReport } from './compare.ts';
export type { CompareOptions, Divergence } from './compare.ts';
export { checkDeterminism, DeterminismReport } from './determinism.ts';
export type { DeterminismOptions } from './determinism.ts';
export { traceModel, ModelTrace, estimateFlops } from './trace-model.ts';
export type { TracedOp, LayerTrace } from './trace-model.ts';
export { memoryReport, trackMemory, memoryTracking, MemoryReport } from '../profiling/memory.ts';
export * as profiler from '../profiling/profiler.ts';

setSummaryOpsExpander((model, input) => {
  let x = input as Tensor | Tensor[] | undefined;
  if (x === undefined) {
    const shapes =
      model instanceof Functional ? model.inputTensors.map((k) => ({ shape: k.shape, dtype: k.dtype }))
      : model instanceof Sequential && model.inputLayer ? [{ shape: model.inputLayer.batchShape, dtype: model.inputLayer.inputDtype }]
      : null;
    if (!shapes) throw new Error(`summary({expandOps: true}): model '${model.name}' has no known input shape; pass {input: tensor}.`);
    const made = shapes.map((s) => zeros(s.shape.map((d) => d ?? 1), s.dtype));
    x = made.length === 1 ? made[0] : made;
  }
  return traceModel(model, x).toString();
});
