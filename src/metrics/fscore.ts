/**
 * F-scores (keras.metrics.FBetaScore, F1Score) for multi-class and
 * multi-label classification: inputs [batch, num_classes], labels one-hot
 * or multi-hot.
 */
import { describe, formatShape } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Variable } from '../engine/variable.ts';
import type { Config } from '../serialization/registry.ts';
import { type TensorLike, toTensor } from '../ops/convert.ts';
import * as ops from '../ops/index.ts';
import { EPSILON } from '../losses/loss.ts';
import { Metric, type MetricOptions } from './metric.ts';
import { readMetricConfig } from './accuracy.ts';

export type FScoreAverage = 'micro' | 'macro' | 'weighted' | null;

export interface FBetaScoreOptions extends MetricOptions {
  /**
   * null (default): one score per class; 'micro': from the total counts;
   * 'macro': the mean of the class scores; 'weighted': their mean weighted
   * by support (the number of true instances of each class).
   */
  average?: FScoreAverage;
  /** Weight of recall in the harmonic mean (> 0). Default 1. */
  beta?: number;
  /**
   * Predictions above it count as 1, in (0, 1]. Default null: the largest
   * prediction of each row counts as 1 (unless it is 0).
   */
  threshold?: number | null;
}

/** (1 + beta^2) precision recall / (beta^2 precision + recall) (name 'fbeta_score'). */
export class FBetaScore extends Metric {
  static override readonly className: string = 'FBetaScore';
  readonly average: FScoreAverage;
  readonly beta: number;
  readonly threshold: number | null;
  #built = false;
  truePositives!: Variable;
  falsePositives!: Variable;
  falseNegatives!: Variable;
  intermediateWeights!: Variable;

  constructor(options: FBetaScoreOptions = {}) {
    const { average, beta, threshold, ...base } = options;
    super({ ...base, name: base.name ?? 'fbeta_score' });
    const where = this.label();
    const avg = average ?? null;
    if (avg !== null && avg !== 'micro' && avg !== 'macro' && avg !== 'weighted') {
      throw new RangeError(`${where}: Invalid \`average\` argument value. Expected one of: {null, 'micro', 'macro', 'weighted'}. Received: average=${describe(average)}`);
    }
    const b = beta ?? 1;
    if (typeof b !== 'number' || !Number.isFinite(b) || b <= 0) throw new RangeError(`${where}: Invalid \`beta\` argument value. It should be > 0. Received: beta=${describe(beta)}`);
    const th = threshold ?? null;
    if (th !== null && (typeof th !== 'number' || !(th > 0 && th <= 1))) {
      throw new RangeError(`${where}: Invalid \`threshold\` argument value. It should verify 0 < threshold <= 1. Received: threshold=${describe(threshold)}`);
    }
    this.average = avg;
    this.beta = b;
    this.threshold = th;
  }

  private build(yTrue: Tensor, yPred: Tensor): void {
    const where = this.label();
    const classes = yPred.shape[yPred.rank - 1];
    if (yPred.rank !== 2 || yTrue.rank !== 2) {
      throw new Error(
        `${where}: expects 2D inputs with shape (batch_size, output_dim). Received input shapes: y_pred.shape=${formatShape(yPred.shape)} and y_true.shape=${formatShape(yTrue.shape)}.` +
          (yTrue.rank === 1 ? ' For integer class ids, one-hot encode them first (ops.oneHot).' : ''),
      );
    }
    if (classes === null || yTrue.shape[1] === null) {
      throw new Error(`${where}: expects 2D inputs with shape (batch_size, output_dim), with output_dim fully defined. Received input shapes: y_pred.shape=${formatShape(yPred.shape)} and y_true.shape=${formatShape(yTrue.shape)}.`);
    }
    const shape = this.average === 'micro' ? [] : [classes];
    this.truePositives = this.addVariable(shape, 'zeros', this.dtype, 'true_positives');
    this.falsePositives = this.addVariable(shape, 'zeros', this.dtype, 'false_positives');
    this.falseNegatives = this.addVariable(shape, 'zeros', this.dtype, 'false_negatives');
    this.intermediateWeights = this.addVariable(shape, 'zeros', this.dtype, 'intermediate_weights');
    this.#built = true;
  }

  updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void {
    const where = this.label();
    if (yPred === null || yPred === undefined) throw new TypeError(`${where} '${this.name}'.updateState: y_pred is missing.`);
    const yt = ops.cast(toTensor(yTrue, where), this.dtype);
    let yp = ops.cast(toTensor(yPred, where), this.dtype);
    if (!this.#built) this.build(yt, yp);
    if (yt.rank !== 2 || yp.rank !== 2 || (yt.shape[1] !== null && yp.shape[1] !== null && yt.shape[1] !== yp.shape[1])) {
      throw new Error(`${where}: Received: y_true.shape=${formatShape(yt.shape)} and y_pred.shape=${formatShape(yp.shape)}; expected both of shape (batch_size, output_dim).`);
    }
    if (this.threshold === null) {
      const top = ops.max(yp, { axis: -1, keepdims: true });
      // [0, 0, 0] must not become [1, 1, 1].
      yp = ops.cast(ops.logicalAnd(ops.greaterEqual(yp, top), ops.greater(ops.abs(yp), 1e-9)), this.dtype);
    } else yp = ops.cast(ops.greater(yp, this.threshold), this.dtype);
    let sw: Tensor | null = null;
    if (sampleWeight !== null && sampleWeight !== undefined) {
      sw = ops.cast(toTensor(sampleWeight, where), this.dtype);
      if (sw.rank === 2 && sw.shape[1] === 1) sw = ops.squeeze(sw, -1);
      if (sw.rank > 1) throw new Error(`${where}: Received: sample_weight.shape=${formatShape(sw.shape)}; expected one weight per sample (shape [batch]) or a scalar.`);
      sw = sw.rank === 1 ? ops.expandDims(sw, 1) : sw;
    }
    const weightedSum = (v: Tensor): Tensor => ops.sum(sw ? ops.multiply(v, sw) : v, this.average === 'micro' ? null : 0);
    const notPred = ops.subtract(1, yp);
    const notTrue = ops.subtract(1, yt);
    this.truePositives.assignAdd(weightedSum(ops.multiply(yp, yt)));
    this.falsePositives.assignAdd(weightedSum(ops.multiply(yp, notTrue)));
    this.falseNegatives.assignAdd(weightedSum(ops.multiply(notPred, yt)));
    this.intermediateWeights.assignAdd(weightedSum(yt));
  }

  result(): Tensor {
    if (!this.#built) return ops.cast(0, this.dtype);
    const tp = this.truePositives.read();
    const precision = ops.divide(tp, ops.add(ops.add(tp, this.falsePositives.read()), EPSILON));
    const recall = ops.divide(tp, ops.add(ops.add(tp, this.falseNegatives.read()), EPSILON));
    const b2 = this.beta * this.beta;
    const score = ops.multiply(ops.divide(ops.multiply(precision, recall), ops.add(ops.add(ops.multiply(precision, b2), recall), EPSILON)), 1 + b2);
    if (this.average === 'weighted') {
      const w = this.intermediateWeights.read();
      return ops.sum(ops.multiply(score, ops.divide(w, ops.add(ops.sum(w), EPSILON))));
    }
    if (this.average !== null) return ops.mean(score);
    return score;
  }

  override resetState(): void {
    if (this.#built) super.resetState();
  }

  override getConfig(): Config {
    return { name: this.name, dtype: this.dtype, average: this.average, beta: this.beta, threshold: this.threshold };
  }

  static override fromConfig(config: Config): FBetaScore {
    const c = readMetricConfig('FBetaScore', config, ['average', 'beta', 'threshold']);
    return new FBetaScore({ ...c, average: c.average as FScoreAverage | undefined, beta: c.beta as number | undefined, threshold: c.threshold as number | undefined });
  }
}

export interface F1ScoreOptions extends MetricOptions {
  average?: FScoreAverage;
  threshold?: number | null;
}

/** 2 precision recall / (precision + recall) (name 'f1_score'). */
export class F1Score extends FBetaScore {
  static override readonly className: string = 'F1Score';
  constructor(options: F1ScoreOptions = {}) {
    super({ ...options, beta: 1, name: options.name ?? 'f1_score' });
  }

  override getConfig(): Config {
    const { beta: _b, ...rest } = super.getConfig();
    return rest;
  }

  static override fromConfig(config: Config): F1Score {
    const c = readMetricConfig('F1Score', config, ['average', 'threshold']);
    return new F1Score({ ...c, average: c.average as FScoreAverage | undefined, threshold: c.threshold as number | undefined });
  }
}
