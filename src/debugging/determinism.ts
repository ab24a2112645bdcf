/**
 * strata.debugging.checkDeterminism: the seed's "why does accuracy
 * fluctuate between runs?". Trains the model for a few steps twice from
 * the same state (weights, optimizer state, random-generator counters) and
 * reports the first weight that differs, or that the runs are identical.
 * The model is left as it was before the check.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { Variable } from '../engine/variable.ts';
import { SeedGenerator, getGlobalSeedGenerator } from '../ops/api/random.ts';
import type { Layer } from '../layers/layer.ts';
import type { Model } from '../models/model.ts';
import { ArrayDataAdapter, type DataLike, toStructure } from '../training/data-adapter.ts';

export interface DeterminismOptions {
  steps?: number;
  batchSize?: number;
}

export class DeterminismReport {
  constructor(
    readonly deterministic: boolean,
    readonly steps: number,
    /** The first weight (in model.weights order) whose values differ. */
    readonly firstDifference: { path: string; maxAbsDiff: number } | null,
  ) {}

  toString(): string {
    return this.deterministic
      ? `deterministic: two runs of ${this.steps} training steps from the same state give bit-identical weights.`
      : `NOT deterministic: after ${this.steps} steps, weight '${this.firstDifference!.path}' differs by up to ${this.firstDifference!.maxAbsDiff.toExponential(3)}. ` +
          'Look for randomness without a seed (a SeedGenerator created per call, Math.random in the model), or for data order that changes between runs.';
  }
}

/** Every variable training touches: weights, optimizer state, random-generator counters. */
function stateVariables(model: Model): Variable[] {
  const out = new Set<Variable>(model.weights);
  for (const v of model.optimizer?.variables ?? []) out.add(v);
  const visit = (layer: Layer) => {
    for (const value of Object.values(layer)) if (value instanceof SeedGenerator) out.add(value.counter);
    for (const sub of layer.layers) visit(sub);
  };
  visit(model);
  out.add(getGlobalSeedGenerator().counter);
  return [...out];
}

export async function checkDeterminism(model: Model, x: DataLike, y: DataLike, options: DeterminismOptions = {}): Promise<DeterminismReport> {
  if (!model.compiled) throw new Error(`checkDeterminism: model '${model.name}' is not compiled.`);
  const steps = options.steps ?? 3;
  model.prepareForRestore();
  const adapter = new ArrayDataAdapter(toStructure(x, 'checkDeterminism x'), toStructure(y, 'checkDeterminism y'), { batchSize: options.batchSize ?? 32, shuffle: false });
  const batches = [...adapter.batches(0)];
  const variables = stateVariables(model);
  const snapshot = variables.map((v) => v.value);
  const run = async (): Promise<Tensor[]> => {
    for (let s = 0; s < steps; s++) {
      const b = batches[s % batches.length];
      await model.trainOnBatch(b.x as never, b.y as never);
    }
    return model.weights.map((w) => w.value);
  };
  const restore = () => variables.forEach((v, i) => v.assign(snapshot[i]));
  const first = await run();
  restore();
  const second = await run();
  restore();
  const weights = model.weights;
  for (let i = 0; i < first.length; i++) {
    const a = first[i].dataSync();
    const b = second[i].dataSync();
    let max = 0;
    let differs = false;
    for (let j = 0; j < a.length; j++) {
      if (!Object.is(a[j], b[j])) {
        differs = true;
        max = Math.max(max, Math.abs(a[j] - b[j]));
      }
    }
    if (differs) return new DeterminismReport(false, steps, { path: weights[i].path, maxAbsDiff: max });
  }
  return new DeterminismReport(true, steps, null);
}
