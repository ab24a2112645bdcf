/**
 * What `compile` sets up: losses and metrics matched to the model's outputs
 * (one per output, by list position or by output name), built on the first
 * batch once the output structure and shapes are known, with Keras's names
 * for the logs (`loss`, `accuracy`, `out_a_loss`, `val_...`).
 */
import type { Tensor } from '../tensor/tensor.ts';
import * as ops from '../ops/index.ts';
import * as losses from '../losses/index.ts';
import * as metrics from '../metrics/index.ts';
import type { Structure } from './data-adapter.ts';
import { structureLeaves } from './data-adapter.ts';

export type LossSpec = losses.LossIdentifier | losses.LossIdentifier[] | Record<string, losses.LossIdentifier>;
export type MetricSpec = metrics.MetricIdentifier[] | (metrics.MetricIdentifier[] | metrics.MetricIdentifier)[] | Record<string, metrics.MetricIdentifier | metrics.MetricIdentifier[]>;

/** The outputs of a model as a list with names (for dict-keyed losses and metrics, and log names). */
export interface NamedOutputs {
  names: string[];
  tensors: Tensor[];
}

export function namedLeaves(s: Structure | undefined, outputNames: readonly string[]): NamedOutputs {
  if (!s) return { names: [], tensors: [] };
  if (Array.isArray(s)) return { names: s.map((_, i) => outputNames[i] ?? `output_${i}`), tensors: s };
  if ('dtype' in s && 'shape' in s) return { names: [outputNames[0] ?? 'output'], tensors: [s as Tensor] };
  const entries = Object.entries(s as Record<string, Tensor>);
  return { names: entries.map(([k]) => k), tensors: entries.map(([, v]) => v) };
}

/** Matches targets to predictions: same structure, or a dict of targets keyed by output name. */
function alignTargets(yTrue: Structure, yPred: NamedOutputs, where: string): Tensor[] {
  if (yTrue && typeof yTrue === 'object' && !Array.isArray(yTrue) && !('dtype' in yTrue)) {
    const byName = yTrue as Record<string, Tensor>;
    return yPred.names.map((n) => {
      if (!(n in byName)) throw new Error(`${where}: no target for output '${n}'. Targets were given for: ${Object.keys(byName).join(', ')}.`);
      return byName[n];
    });
  }
  const list = structureLeaves(yTrue);
  if (list.length !== yPred.tensors.length) {
    throw new Error(`${where}: the model has ${yPred.tensors.length} outputs (${yPred.names.join(', ')}) but ${list.length} targets were given.`);
  }
  return list;
}

function perOutput<T>(spec: T | T[] | Record<string, T> | undefined, outputs: NamedOutputs, what: string, isLeaf: (x: unknown) => boolean): (T | undefined)[] {
  if (spec === undefined || spec === null) return outputs.names.map(() => undefined);
  if (Array.isArray(spec) && !isLeaf(spec)) {
    if (spec.length !== outputs.names.length) {
      throw new Error(`compile: ${what} has ${spec.length} entries but the model has ${outputs.names.length} outputs (${outputs.names.join(', ')}).`);
    }
    return spec as T[];
  }
  if (typeof spec === 'object' && !isLeaf(spec)) {
    const byName = spec as Record<string, T>;
    for (const k of Object.keys(byName)) {
      if (!outputs.names.includes(k)) throw new Error(`compile: ${what} names output '${k}', but the model's outputs are: ${outputs.names.join(', ')}.`);
    }
    return outputs.names.map((n) => byName[n]);
  }
  return outputs.names.map(() => spec as T);
}

const isLossLeaf = (x: unknown) => typeof x === 'string' || typeof x === 'function' || (typeof x === 'object' && x !== null && ('class_name' in x || x instanceof losses.Loss));

export class CompiledLoss {
  private built: { losses: (losses.Loss | null)[]; weights: number[]; names: string[]; trackers: metrics.Mean[] } | null = null;

  constructor(
    readonly spec: LossSpec | undefined,
    readonly lossWeights: number[] | Record<string, number> | undefined,
    readonly outputNames: () => readonly string[],
  ) {}

  private build(yTrue: Tensor[], yPred: NamedOutputs): NonNullable<CompiledLoss['built']> {
    const specs = perOutput(this.spec, yPred, 'loss', isLossLeaf);
    const built = specs.map((s, i) => (s === undefined || s === null ? null : losses.resolveLoss(s, yTrue[i].shape, yPred.tensors[i].shape)));
    if (built.every((l) => l === null)) {
      throw new Error('compile: no loss was given. Pass loss to model.compile() (for example "mse" or "sparse_categorical_crossentropy"), or override trainStep.');
    }
    const weights = perOutput(this.lossWeights as number | number[] | Record<string, number> | undefined, yPred, 'lossWeights', (x) => typeof x === 'number').map((w) => w ?? 1);
    const multi = yPred.names.length > 1;
    const trackers = yPred.names.map((n) => new metrics.Mean({ name: `${n}_loss` }));
    return { losses: built, weights, names: multi ? yPred.names : [], trackers: multi ? trackers : [] };
  }

  /** The weighted sum of the per-output losses (also updates the per-output loss trackers of multi-output models). */
  compute(yTrueStructure: Structure, yPredStructure: Structure, sampleWeight: Tensor | undefined): Tensor {
    const yPred = namedLeaves(yPredStructure, this.outputNames());
    const yTrue = alignTargets(yTrueStructure, yPred, 'Model');
    this.built ??= this.build(yTrue, yPred);
    let total: Tensor | null = null;
    this.built.losses.forEach((loss, i) => {
      if (!loss) return;
      const value = loss.apply(yTrue[i], yPred.tensors[i], sampleWeight ?? null);
      if (this.built!.trackers[i]) this.built!.trackers[i].updateState(value);
      const weighted = this.built!.weights[i] === 1 ? value : ops.multiply(value, this.built!.weights[i]);
      total = total ? ops.add(total, weighted) : weighted;
    });
    return total!;
  }

  get trackers(): metrics.Mean[] {
    return this.built?.trackers ?? [];
  }
}

export class CompiledMetrics {
  private built: { metric: metrics.Metric; output: number; logName: string; weighted: boolean }[] | null = null;

  constructor(
    readonly spec: MetricSpec | undefined,
    readonly weighted: MetricSpec | undefined,
    readonly lossSpec: LossSpec | undefined,
    readonly outputNames: () => readonly string[],
  ) {}

  private build(yTrue: Tensor[], yPred: NamedOutputs): NonNullable<CompiledMetrics['built']> {
    const out: NonNullable<CompiledMetrics['built']> = [];
    const multi = yPred.names.length > 1;
    const lossSpecs = perOutput(this.lossSpec, yPred, 'loss', isLossLeaf);
    const add = (spec: MetricSpec | undefined, weighted: boolean) => {
      if (!spec) return;
      const isMetricLeaf = (x: unknown) => !Array.isArray(x) && (typeof x !== 'object' || x === null || x instanceof metrics.Metric || 'class_name' in (x as object));
      let perOut: (metrics.MetricIdentifier | metrics.MetricIdentifier[] | undefined)[];
      if (Array.isArray(spec) && spec.every((s) => !Array.isArray(s))) perOut = yPred.names.map(() => spec as metrics.MetricIdentifier[]);
      else perOut = perOutput(spec as never, yPred, 'metrics', isMetricLeaf);
      perOut.forEach((list, i) => {
        for (const id of list === undefined ? [] : Array.isArray(list) ? list : [list]) {
          const metric = typeof id === 'string' && ['accuracy', 'acc'].includes(id) ? metrics.resolveAccuracy(lossSpecs[i], yTrue[i].shape, yPred.tensors[i].shape, id) : metrics.get(id);
          if (!metric) continue;
          const base = weighted ? `weighted_${metric.name}` : metric.name;
          out.push({ metric, output: i, logName: multi ? `${yPred.names[i]}_${base}` : base, weighted });
        }
      });
    };
    add(this.spec, false);
    add(this.weighted, true);
    return out;
  }

  /** Updates every metric (weighted metrics get the sample weights). */
  update(yTrueStructure: Structure, yPredStructure: Structure, sampleWeight: Tensor | undefined): void {
    const yPred = namedLeaves(yPredStructure, this.outputNames());
    const yTrue = alignTargets(yTrueStructure, yPred, 'Model');
    this.built ??= this.build(yTrue, yPred);
    for (const { metric, output, weighted } of this.built) {
      metric.updateState(yTrue[output], yPred.tensors[output], weighted ? sampleWeight : undefined);
    }
  }

  get entries(): { metric: metrics.Metric; logName: string }[] {
    return this.built ?? [];
  }
}
