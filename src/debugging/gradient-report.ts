/**
 * strata.debugging.gradientReport: the seed's "model trains but doesn't
 * learn" question, answered per weight. One training-mode forward and
 * backward pass (eager, so every op is observable) gives each trainable
 * weight's gradient norm and a verdict:
 *   ok | none (why: not on the loss path, cut by stopGradient at an op in a
 *   layer, cut by a non-differentiable op) | zero (likely cause: dead ReLU
 *   units, saturated sigmoid/tanh, zero upstream gradient) | vanishing |
 *   exploding (norm far below / above the other layers').
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { Variable } from '../engine/variable.ts';
import { addOpHook } from '../engine/hooks.ts';
import * as ops from '../ops/index.ts';
import { GradientTape } from '../autodiff/tape.ts';
import type { NullGradientReason } from '../autodiff/reasons.ts';
import type { Layer } from '../layers/layer.ts';
import * as losses from '../losses/index.ts';
import { type DataLike, type Structure, toStructure } from '../training/data-adapter.ts';

export type Verdict = 'ok' | 'none' | 'zero' | 'vanishing' | 'exploding';

export interface WeightReport {
  /** The weight's path (`dense_1/kernel`). */
  path: string;
  /** The layer that owns it (the path without the weight name). */
  layer: string;
  norm: number | null;
  verdict: Verdict;
  /** A sentence explaining the verdict (empty for ok). */
  reason: string;
  /** How to fix it. */
  fix: string;
  /** For 'none': the tape's reason. */
  nullReason?: NullGradientReason;
  /** Fractions found in the owning layer's activations. */
  deadFraction?: number;
  saturatedFraction?: number;
}

export interface GradientReportOptions {
  /** The loss (default: the model's compiled loss). */
  loss?: losses.LossIdentifier;
  sampleWeight?: DataLike;
  /** A layer whose gradient norm is this many times below the median of the layers' norms is 'vanishing'. */
  vanishingRatio?: number;
  /** ... or this many times above: 'exploding'. */
  explodingRatio?: number;
  /** Fraction of dead ReLU units (never positive in the batch) or saturated units that counts as the cause of a zero gradient. */
  activationThreshold?: number;
}

export class GradientReport {
  constructor(
    readonly weights: WeightReport[],
    readonly loss: number,
  ) {}

  /** Weights whose verdict is not 'ok'. */
  get problems(): WeightReport[] {
    return this.weights.filter((w) => w.verdict !== 'ok');
  }

  get healthy(): boolean {
    return this.problems.length === 0;
  }

  /** A readable table: path, gradient norm, verdict, reason. */
  toString(): string {
    const rows = this.weights.map((w) => [w.path, w.norm === null ? 'None' : w.norm.toExponential(2), w.verdict, w.reason]);
    const widths = [0, 1, 2].map((i) => Math.max(['weight', 'grad norm', 'verdict'][i].length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => `${r[0].padEnd(widths[0])}  ${r[1].padStart(widths[1])}  ${r[2].padEnd(widths[2])}  ${r[3]}`;
    const out = [`Gradient report (loss ${this.loss.toPrecision(5)}):`, line(['weight', 'grad norm', 'verdict', 'reason']), ...rows.map(line)];
    const fixes = [...new Set(this.problems.map((p) => p.fix).filter(Boolean))];
    if (fixes.length) out.push('', 'How to fix:', ...fixes.map((f) => `  - ${f}`));
    else out.push('', 'No problems found: every trainable weight receives a healthy gradient.');
    return out.join('\n');
  }
}

interface ActivationStats {
  relu: { dead: number; total: number } | null;
  saturation: { saturated: number; total: number; kind: 'sigmoid' | 'tanh' } | null;
}

/** Fractions of dead ReLU units and saturated sigmoid/tanh units per layer scope, from the ops that ran. */
function activationStats(events: { op: string; scope: string; inputs: readonly Tensor[]; output: Tensor }[]): Map<string, ActivationStats> {
  const stats = new Map<string, ActivationStats>();
  const get = (scope: string) => {
    let s = stats.get(scope);
    if (!s) stats.set(scope, (s = { relu: null, saturation: null }));
    return s;
  };
  for (const e of events) {
    const y = e.output._values;
    if (!y || e.output.rank < 1) continue;
    const units = e.output.shape.at(-1) as number;
    if (units === 0) continue;
    const rows = y.length / units;
    // relu is maximum(x, 0): a scalar zero as one operand.
    const isRelu = e.op === 'maximum' && e.inputs.some((t) => t.size === 1 && t._values?.[0] === 0);
    if (isRelu) {
      let dead = 0;
      for (let u = 0; u < units; u++) {
        let alive = false;
        for (let r = 0; r < rows && !alive; r++) alive = y[r * units + u] > 0;
        if (!alive) dead++;
      }
      get(e.scope).relu = { dead, total: units };
    } else if (e.op === 'sigmoid' || e.op === 'tanh') {
      let saturated = 0;
      for (let i = 0; i < y.length; i++) {
        const v = y[i];
        if (e.op === 'sigmoid' ? v < 1e-3 || v > 1 - 1e-3 : Math.abs(v) > 1 - 1e-3) saturated++;
      }
      get(e.scope).saturation = { saturated, total: y.length, kind: e.op };
    }
  }
  return stats;
}

const DEAD_FIX = 'Dead ReLUs: lower the learning rate, initialise biases at 0 (not very negative), use LeakyReLU/ELU, or normalise inputs.';
const SATURATED_FIX = 'Saturated sigmoid/tanh: normalise the inputs, use smaller initial weights (glorot/he), use ReLU in hidden layers, or add BatchNormalization.';
/** A layer this many times below the typical norm is flagged when its activations explain it. */
const SUSPICIOUS_RATIO = 1e-2;

function layerOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[s.length >> 1];
}

/**
 * One forward/backward pass on (x, y) in training mode; the gradient of
 * every trainable weight, with a verdict and a reason. Returns the report
 * (print it with `String(report)`).
 */
export async function gradientReport(model: Layer, x: DataLike, y: DataLike, options: GradientReportOptions = {}): Promise<GradientReport> {
  const vanishing = options.vanishingRatio ?? 1e-4;
  const exploding = options.explodingRatio ?? 1e4;
  const threshold = options.activationThreshold ?? 0.5;
  const compiled = (model as unknown as { computeLoss?: (x: Structure, y: Structure, yPred: Structure, sw?: Tensor) => Tensor; compiled?: boolean });
  const lossFn = options.loss !== undefined ? losses.get(options.loss) : null;
  if (!lossFn && !compiled.compiled) {
    throw new Error(`gradientReport: model '${model.name}' is not compiled; pass {loss} (for example 'mse' or 'sparse_categorical_crossentropy').`);
  }
  const xs = toStructure(x, 'gradientReport x');
  const ys = toStructure(y, 'gradientReport y');
  const sw = options.sampleWeight === undefined ? undefined : (toStructure(options.sampleWeight, 'gradientReport sampleWeight') as Tensor);

  const events: { op: string; scope: string; inputs: readonly Tensor[]; output: Tensor }[] = [];
  // Build the model first (its weights are created on the first call), so only the training pass is observed.
  if (!model.built) model.apply(xs as never, { training: false });
  const weights = model.trainableWeights;
  let loss: Tensor;
  const tape = new GradientTape();
  const stop = addOpHook({
    afterOp: (e) => {
      if (!e.symbolic && e.outputs.length === 1 && !e.scope.endsWith('grad')) events.push({ op: e.def.name, scope: e.scope, inputs: e.inputs, output: e.outputs[0] });
    },
  });
  try {
    loss = tape.record(() => {
      const yPred = model.apply(xs as never, { training: true }) as unknown as Structure;
      return lossFn ? lossFn.apply(ys as Tensor, yPred as Tensor, sw ?? null) : compiled.computeLoss!(xs, ys, yPred, sw);
    });
  } finally {
    stop();
  }
  const grads = tape.gradient(loss, weights);
  const norms = grads.map((g) => (g ? Math.sqrt(ops.sum(ops.square(g)).item()) : null));
  const stats = activationStats(events);

  // Per-layer norms for the depth comparison (layers with a non-zero gradient).
  const layerNorms = new Map<string, number>();
  weights.forEach((w, i) => {
    const n = norms[i];
    if (n !== null && n > 0) layerNorms.set(layerOf(w.path), Math.hypot(layerNorms.get(layerOf(w.path)) ?? 0, n));
  });
  const typical = median([...layerNorms.values()]);

  /** Dead ReLUs or saturated sigmoid/tanh in the layer that owns a weight (its scope, or a scope ending with its name). */
  const activationCause = (layer: string): { kind: 'dead' | 'saturated'; fraction: number; scope: string; activation?: string } | null => {
    const leaf = layer.split('/').at(-1)!;
    for (const [scope, st] of stats) {
      if (!(scope === layer || scope.endsWith(`/${leaf}`) || scope === leaf)) continue;
      if (st.relu && st.relu.dead / st.relu.total >= threshold) return { kind: 'dead', fraction: st.relu.dead / st.relu.total, scope };
      if (st.saturation && st.saturation.saturated / st.saturation.total >= threshold) return { kind: 'saturated', fraction: st.saturation.saturated / st.saturation.total, scope, activation: st.saturation.kind };
    }
    return null;
  };

  const reports = weights.map((w: Variable, i): WeightReport => {
    const layer = layerOf(w.path);
    const norm = norms[i];
    const base = { path: w.path, layer, norm };
    if (norm === null) {
      const why = tape.whyNull(w)!;
      const fix =
        why.kind === 'stopGradient' ? 'Remove ops.stopGradient from the path between this weight and the loss (it blocks backpropagation on purpose).'
        : why.kind === 'nonDifferentiable' ? `Replace the non-differentiable op '${why.op}' on the loss path (e.g. softmax probabilities instead of argmax, or keep float values instead of casting to integers).`
        : 'Make sure the layer that owns this weight is used to compute the model output that the loss sees, or remove it.';
      return { ...base, verdict: 'none', reason: why.message, fix, nullReason: why };
    }
    const cause = activationCause(layer);
    if (norm === 0 || norm < 1e-30) {
      if (cause?.kind === 'dead') {
        return {
          ...base,
          verdict: 'zero',
          reason: `zero gradient: ${(cause.fraction * 100).toFixed(0)}% of the ReLU units of layer '${cause.scope}' are dead (never positive on this batch), so no gradient flows through them.`,
          fix: DEAD_FIX,
          deadFraction: cause.fraction,
        };
      }
      if (cause?.kind === 'saturated') {
        return {
          ...base,
          verdict: 'zero',
          reason: `zero gradient: ${(cause.fraction * 100).toFixed(0)}% of the ${cause.activation} outputs of layer '${cause.scope}' are saturated (derivative ~0).`,
          fix: SATURATED_FIX,
          saturatedFraction: cause.fraction,
        };
      }
      // No cause in this layer: a dead layer elsewhere zeroes its inputs, or the layers after it pass back nothing.
      const deadElsewhere = [...stats].find(([, st]) => st.relu && st.relu.dead === st.relu.total);
      if (deadElsewhere) {
        return {
          ...base,
          verdict: 'zero',
          reason: `zero gradient: every ReLU unit of layer '${deadElsewhere[0]}' is dead, so the values flowing through the model there are all zero (this layer sees zero inputs or receives no gradient).`,
          fix: DEAD_FIX,
        };
      }
      return { ...base, verdict: 'zero', reason: 'zero gradient: this layer receives a zero gradient from the layers after it, or its inputs are all zero.', fix: 'Check the layers between this weight and the loss: zero weights, a zero-valued multiplier, a constant output, or all-zero inputs.' };
    }
    const ln = layerNorms.get(layer) ?? norm;
    const ratio = layerNorms.size >= 2 && typical > 0 ? ln / typical : 1;
    // Far below the others, or clearly below and explained by saturated / dead activations.
    if (ratio < vanishing || (ratio < SUSPICIOUS_RATIO && cause)) {
      const why = cause
        ? cause.kind === 'saturated'
          ? ` ${(cause.fraction * 100).toFixed(0)}% of the ${cause.activation} outputs of layer '${cause.scope}' are saturated.`
          : ` ${(cause.fraction * 100).toFixed(0)}% of the ReLU units of layer '${cause.scope}' are dead.`
        : '';
      return {
        ...base,
        verdict: 'vanishing',
        reason: `vanishing gradient: the layer's gradient norm is ${ratio.toExponential(1)} times the typical layer's (${typical.toExponential(2)}).${why}`,
        fix: cause?.kind === 'saturated' ? SATURATED_FIX : cause?.kind === 'dead' ? DEAD_FIX : 'Vanishing gradients: use ReLU-family activations, He/Glorot initialisation, BatchNormalization or residual connections.',
        ...(cause?.kind === 'saturated' ? { saturatedFraction: cause.fraction } : cause?.kind === 'dead' ? { deadFraction: cause.fraction } : {}),
      };
    }
    if (ratio > exploding) {
      return { ...base, verdict: 'exploding', reason: `exploding gradient: the layer's gradient norm is ${ratio.toExponential(1)} times the typical layer's (${typical.toExponential(2)}).`, fix: 'Exploding gradients: clip gradients (optimizer clipnorm / globalClipnorm), lower the learning rate, or normalise inputs.' };
    }
    return { ...base, verdict: 'ok', reason: '', fix: '' };
  });
  return new GradientReport(reports, loss.item());
}
