/**
 * LayerNormalization: each example is normalized over `axis` (default the
 * last), `(x - mean) / sqrt(variance + epsilon) * gamma + beta`, with gamma
 * and beta spanning the normalized axes. The deprecated `rmsScaling` flag
 * behaves as in Keras: it scales by 1 / sqrt(variance + epsilon) and gamma,
 * without centering (use an RMS normalization layer for a true RMS norm).
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { type Shape, formatShape } from '../../tensor/shape.ts';
import type { Variable } from '../../engine/variable.ts';
import { warnOnce } from '../../engine/warnings.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import * as initializers from '../../initializers/index.ts';
import * as regularizers from '../../regularizers/index.ts';
import * as constraints from '../../constraints/index.ts';
import { InputSpec } from '../input-spec.ts';
import { type InputShape, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

export interface LayerNormalizationOptions extends LayerOptions {
  /** The axis or axes to normalize over (default -1). */
  axis?: number | readonly number[];
  /** Added to the variance (default 1e-3). */
  epsilon?: number;
  /** Add the learned offset `beta` (default true). */
  center?: boolean;
  /** Multiply by the learned scale `gamma` (default true). */
  scale?: boolean;
  /** Deprecated in Keras (it scales by the variance, not the mean square); default false. */
  rmsScaling?: boolean;
  betaInitializer?: initializers.InitializerIdentifier;
  gammaInitializer?: initializers.InitializerIdentifier;
  betaRegularizer?: regularizers.RegularizerIdentifier;
  gammaRegularizer?: regularizers.RegularizerIdentifier;
  betaConstraint?: constraints.ConstraintIdentifier;
  gammaConstraint?: constraints.ConstraintIdentifier;
}

export class LayerNormalization extends Layer {
  static override readonly className = 'LayerNormalization';
  /** Always a list, as in Keras's configs. */
  readonly axis: number[];
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly rmsScaling: boolean;
  readonly betaInitializer: initializers.Initializer;
  readonly gammaInitializer: initializers.Initializer;
  readonly betaRegularizer: regularizers.Regularizer | null;
  readonly gammaRegularizer: regularizers.Regularizer | null;
  readonly betaConstraint: constraints.Constraint | null;
  readonly gammaConstraint: constraints.Constraint | null;
  gamma: Variable | null = null;
  beta: Variable | null = null;

  constructor(options: LayerNormalizationOptions = {}) {
    super(options);
    const where = `LayerNormalization '${this.name}'`;
    const axis = options.axis ?? -1;
    const list = typeof axis === 'number' ? [axis] : Array.isArray(axis) ? [...axis] : null;
    if (!list || list.length === 0 || !list.every((a) => Number.isInteger(a))) {
      throw new Error(`${where}: axis must be an integer or a non-empty list of integers. Received: axis=${JSON.stringify(options.axis)}`);
    }
    this.axis = list;
    this.epsilon = options.epsilon ?? 1e-3;
    if (typeof this.epsilon !== 'number' || !(this.epsilon >= 0)) throw new Error(`${where}: epsilon must be a non-negative number. Received: epsilon=${String(options.epsilon)}`);
    this.center = options.center ?? true;
    this.scale = options.scale ?? true;
    this.rmsScaling = options.rmsScaling ?? false;
    if (this.rmsScaling) {
      warnOnce(
        'LayerNormalization.rmsScaling',
        `${where}: rmsScaling=true is deprecated in Keras: it scales the input by the variance, not the root mean square. It is kept for compatibility with Keras files.`,
      );
    }
    this.betaInitializer = initializers.get(options.betaInitializer ?? 'zeros');
    this.gammaInitializer = initializers.get(options.gammaInitializer ?? 'ones');
    this.betaRegularizer = regularizers.get(options.betaRegularizer ?? null);
    this.gammaRegularizer = regularizers.get(options.gammaRegularizer ?? null);
    this.betaConstraint = constraints.get(options.betaConstraint ?? null);
    this.gammaConstraint = constraints.get(options.gammaConstraint ?? null);
    this.supportsMasking = true;
  }

  override build(inputShape: InputShape): void {
    const shape = inputShape as Shape;
    const rank = shape.length;
    const where = `LayerNormalization '${this.name}'`;
    const axes = this.axis.map((a) => {
      if (a < -rank || a >= rank) throw new Error(`${where}: axis ${a} is out of range for an input of rank ${rank} (shape ${formatShape(shape)}).`);
      return a < 0 ? rank + a : a;
    });
    if (new Set(axes).size !== axes.length) throw new Error(`${where}: axis ${JSON.stringify(this.axis)} names the same axis twice.`);
    const paramShape = this.axis.map((a, i) => {
      const d = shape[axes[i]];
      if (d === null) throw new Error(`${where}: the dimensions along axis ${JSON.stringify(this.axis)} must be known. Received input shape ${formatShape(shape)}.`);
      return d;
    });
    if (this.scale || this.rmsScaling) {
      this.gamma = this.addWeight({ name: 'gamma', shape: paramShape, initializer: this.gammaInitializer, regularizer: this.gammaRegularizer, constraint: this.gammaConstraint });
    }
    if (this.center && !this.rmsScaling) {
      this.beta = this.addWeight({ name: 'beta', shape: paramShape, initializer: this.betaInitializer, regularizer: this.betaRegularizer, constraint: this.betaConstraint });
    }
    // Inputs of another rank work as long as the normalized axes keep their sizes.
    const minNdim = Math.max(...this.axis.map((a) => (a < 0 ? -a : a + 1)));
    this.inputSpec = new InputSpec({ minNdim, axes: Object.fromEntries(this.axis.map((a, i) => [a, paramShape[i]])) });
  }

  override call(inputs: Tensor): Tensor {
    const x = inputs;
    const rank = x.rank;
    const axes = this.axis.map((a) => (a < 0 ? rank + a : a));
    // As in Keras, gamma and beta (shaped like the normalized dims in `axis` order) are
    // reshaped to the broadcast shape, which keeps their values in place for sorted axes.
    const broadcast = (v: Variable | null): Tensor | null => {
      if (!v) return null;
      const p = ops.cast(v, x.dtype);
      if (v.shape.length === rank || (axes.length === 1 && axes[0] === rank - 1)) return p;
      const shape = Array.from({ length: rank }, () => 1);
      axes.forEach((a, i) => (shape[a] = v.shape[i] as number));
      return ops.reshape(p, shape);
    };
    const gamma = broadcast(this.gamma);
    if (this.rmsScaling) {
      const variance = ops.variance(x, { axis: axes, keepdims: true });
      const inv = ops.rsqrt(ops.add(variance, this.epsilon));
      return gamma ? ops.multiply(ops.multiply(x, inv), gamma) : ops.multiply(x, inv);
    }
    const [mean, variance] = ops.moments(x, axes, true);
    let inv = ops.rsqrt(ops.add(variance, this.epsilon));
    if (gamma) inv = ops.multiply(inv, gamma);
    let res = ops.negative(ops.multiply(mean, inv));
    const beta = broadcast(this.beta);
    if (beta) res = ops.add(res, beta);
    return ops.add(ops.multiply(x, inv), res);
  }

  override getConfig(): Config {
    return {
      ...super.getConfig(),
      axis: [...this.axis],
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      rms_scaling: this.rmsScaling,
      beta_initializer: initializers.serialize(this.betaInitializer),
      gamma_initializer: initializers.serialize(this.gammaInitializer),
      beta_regularizer: regularizers.serialize(this.betaRegularizer),
      gamma_regularizer: regularizers.serialize(this.gammaRegularizer),
      beta_constraint: constraints.serialize(this.betaConstraint),
      gamma_constraint: constraints.serialize(this.gammaConstraint),
    };
  }

  static override fromConfig(config: Config): LayerNormalization {
    return new LayerNormalization({
      ...baseOptionsFromConfig(config),
      axis: (config.axis as number | number[] | undefined) ?? -1,
      epsilon: (config.epsilon as number | undefined) ?? 1e-3,
      center: (config.center as boolean | undefined) ?? true,
      scale: (config.scale as boolean | undefined) ?? true,
      rmsScaling: (config.rms_scaling as boolean | undefined) ?? false,
      betaInitializer: config.beta_initializer as initializers.InitializerIdentifier,
      gammaInitializer: config.gamma_initializer as initializers.InitializerIdentifier,
      betaRegularizer: config.beta_regularizer as regularizers.RegularizerIdentifier,
      gammaRegularizer: config.gamma_regularizer as regularizers.RegularizerIdentifier,
      betaConstraint: config.beta_constraint as constraints.ConstraintIdentifier,
      gammaConstraint: config.gamma_constraint as constraints.ConstraintIdentifier,
    });
  }
}
registerBuiltin('keras.layers', LayerNormalization);
