/**
 * BatchNormalization: `gamma * (x - mean) / sqrt(variance + epsilon) + beta`
 * per feature along `axis`. In training (and while the layer is trainable)
 * mean and variance are the batch's (the biased estimator, over every axis
 * but `axis`, leaving masked positions out), and the moving statistics move
 * towards them: `moving = moving * momentum + batch * (1 - momentum)`. In
 * inference, and when the layer is frozen, the moving statistics are used.
 * The updates are `Variable.assign` calls, so inside a traced training step
 * they become graph outputs.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { type Shape, formatShape } from '../../tensor/shape.ts';
import type { Variable } from '../../engine/variable.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import * as initializers from '../../initializers/index.ts';
import * as regularizers from '../../regularizers/index.ts';
import * as constraints from '../../constraints/index.ts';
import { InputSpec } from '../input-spec.ts';
import { type CallOptions, type InputShape, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

export interface BatchNormalizationOptions extends LayerOptions {
  /** The features axis (default -1); use 1 after channels_first convolutions. */
  axis?: number;
  /** Momentum of the moving averages (default 0.99). */
  momentum?: number;
  /** Added to the variance (default 1e-3). */
  epsilon?: number;
  /** Add the learned offset `beta` (default true). */
  center?: boolean;
  /** Multiply by the learned scale `gamma` (default true). */
  scale?: boolean;
  betaInitializer?: initializers.InitializerIdentifier;
  gammaInitializer?: initializers.InitializerIdentifier;
  movingMeanInitializer?: initializers.InitializerIdentifier;
  movingVarianceInitializer?: initializers.InitializerIdentifier;
  betaRegularizer?: regularizers.RegularizerIdentifier;
  gammaRegularizer?: regularizers.RegularizerIdentifier;
  betaConstraint?: constraints.ConstraintIdentifier;
  gammaConstraint?: constraints.ConstraintIdentifier;
  /** Cross-replica statistics (TensorFlow only in Keras); must be false. */
  synchronized?: boolean;
  /** Batch renormalization: not supported; must be false. */
  renorm?: boolean;
  renormClipping?: Record<string, number> | null;
  renormMomentum?: number;
}

/** Keras's backend epsilon, used by the masked statistics. */
const BACKEND_EPSILON = 1e-7;

export class BatchNormalization extends Layer {
  static override readonly className = 'BatchNormalization';
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaInitializer: initializers.Initializer;
  readonly gammaInitializer: initializers.Initializer;
  readonly movingMeanInitializer: initializers.Initializer;
  readonly movingVarianceInitializer: initializers.Initializer;
  readonly betaRegularizer: regularizers.Regularizer | null;
  readonly gammaRegularizer: regularizers.Regularizer | null;
  readonly betaConstraint: constraints.Constraint | null;
  readonly gammaConstraint: constraints.Constraint | null;
  readonly synchronized: boolean;
  readonly renorm: boolean;
  readonly renormClipping: Record<string, number> | null;
  readonly renormMomentum: number;
  gamma: Variable | null = null;
  beta: Variable | null = null;
  movingMean!: Variable;
  movingVariance!: Variable;

  constructor(options: BatchNormalizationOptions = {}) {
    super(options);
    const where = `BatchNormalization '${this.name}'`;
    this.axis = options.axis ?? -1;
    if (!Number.isInteger(this.axis)) throw new Error(`${where}: axis must be an integer. Received: axis=${JSON.stringify(options.axis)}`);
    this.momentum = options.momentum ?? 0.99;
    if (typeof this.momentum !== 'number' || !Number.isFinite(this.momentum)) throw new Error(`${where}: momentum must be a number. Received: momentum=${String(options.momentum)}`);
    this.epsilon = options.epsilon ?? 1e-3;
    if (typeof this.epsilon !== 'number' || !(this.epsilon >= 0)) throw new Error(`${where}: epsilon must be a non-negative number. Received: epsilon=${String(options.epsilon)}`);
    this.center = options.center ?? true;
    this.scale = options.scale ?? true;
    this.betaInitializer = initializers.get(options.betaInitializer ?? 'zeros');
    this.gammaInitializer = initializers.get(options.gammaInitializer ?? 'ones');
    this.movingMeanInitializer = initializers.get(options.movingMeanInitializer ?? 'zeros');
    this.movingVarianceInitializer = initializers.get(options.movingVarianceInitializer ?? 'ones');
    this.betaRegularizer = regularizers.get(options.betaRegularizer ?? null);
    this.gammaRegularizer = regularizers.get(options.gammaRegularizer ?? null);
    this.betaConstraint = constraints.get(options.betaConstraint ?? null);
    this.gammaConstraint = constraints.get(options.gammaConstraint ?? null);
    this.synchronized = options.synchronized ?? false;
    if (this.synchronized) throw new Error(`${where}: synchronized=true is only supported by Keras's TensorFlow backend (Strata runs on one device).`);
    this.renorm = options.renorm ?? false;
    if (this.renorm) throw new Error(`${where}: renorm=true (batch renormalization) is not supported.`);
    this.renormClipping = options.renormClipping ?? null;
    this.renormMomentum = options.renormMomentum ?? 0.99;
    this.supportsMasking = true;
  }

  override build(inputShape: InputShape): void {
    const shape = inputShape as Shape;
    const rank = shape.length;
    if (this.axis < -rank || this.axis >= rank) {
      throw new Error(`BatchNormalization '${this.name}': axis ${this.axis} is out of range for an input of rank ${rank} (shape ${formatShape(shape)}).`);
    }
    const dim = shape[this.axis < 0 ? rank + this.axis : this.axis];
    if (dim === null) {
      throw new Error(`BatchNormalization '${this.name}': the dimension along axis ${this.axis} must be known. Received input shape ${formatShape(shape)}.`);
    }
    if (this.scale) {
      this.gamma = this.addWeight({ name: 'gamma', shape: [dim], initializer: this.gammaInitializer, regularizer: this.gammaRegularizer, constraint: this.gammaConstraint });
    }
    if (this.center) {
      this.beta = this.addWeight({ name: 'beta', shape: [dim], initializer: this.betaInitializer, regularizer: this.betaRegularizer, constraint: this.betaConstraint });
    }
    this.movingMean = this.addWeight({ name: 'moving_mean', shape: [dim], initializer: this.movingMeanInitializer, trainable: false });
    this.movingVariance = this.addWeight({ name: 'moving_variance', shape: [dim], initializer: this.movingVarianceInitializer, trainable: false });
    this.inputSpec = new InputSpec({ ndim: rank, axes: { [this.axis]: dim } });
  }

  override call(inputs: Tensor, { training, mask }: CallOptions = {}): Tensor {
    const x = inputs;
    const rank = x.rank;
    const axis = this.axis < 0 ? rank + this.axis : this.axis;
    let mean: Tensor;
    let variance: Tensor;
    if (training && this.trainable) {
      const reduction = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis);
      [mean, variance] = mask && !Array.isArray(mask) ? this.maskedMoments(x, mask, reduction) : ops.moments(x, reduction);
      const m = this.momentum;
      const movingMean = ops.cast(this.movingMean, x.dtype);
      const movingVariance = ops.cast(this.movingVariance, x.dtype);
      this.movingMean.assign(ops.cast(ops.add(ops.multiply(movingMean, m), ops.multiply(mean, 1 - m)), this.movingMean.dtype));
      this.movingVariance.assign(ops.cast(ops.add(ops.multiply(movingVariance, m), ops.multiply(variance, 1 - m)), this.movingVariance.dtype));
    } else {
      mean = ops.cast(this.movingMean, x.dtype);
      variance = ops.cast(this.movingVariance, x.dtype);
    }
    return ops.batchNormalization(x, mean, variance, axis, {
      offset: this.beta ? ops.cast(this.beta, x.dtype) : null,
      scale: this.gamma ? ops.cast(this.gamma, x.dtype) : null,
      epsilon: this.epsilon,
    });
  }

  /** Mean and variance over `reduction`, weighting positions by a mask of the input's shape without the features axis. */
  private maskedMoments(x: Tensor, mask: Tensor, reduction: number[]): [Tensor, Tensor] {
    if (mask.rank !== x.rank - 1) {
      throw new Error(`BatchNormalization '${this.name}': the mask must have one dimension less than the inputs. Received: mask.shape=${formatShape(mask.shape)}, inputs.shape=${formatShape(x.shape)}`);
    }
    const w = ops.expandDims(ops.cast(mask, x.dtype), -1);
    const weighted = ops.multiply(w, x);
    const total = ops.add(ops.sum(w, { axis: reduction, keepdims: true }), BACKEND_EPSILON);
    const mean = ops.divide(ops.sum(weighted, { axis: reduction, keepdims: true }), total);
    const variance = ops.divide(ops.sum(ops.multiply(w, ops.square(ops.subtract(weighted, mean))), { axis: reduction, keepdims: true }), total);
    return [ops.squeeze(mean, reduction), ops.squeeze(variance, reduction)];
  }

  override getConfig(): Config {
    return {
      ...super.getConfig(),
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      beta_initializer: initializers.serialize(this.betaInitializer),
      gamma_initializer: initializers.serialize(this.gammaInitializer),
      moving_mean_initializer: initializers.serialize(this.movingMeanInitializer),
      moving_variance_initializer: initializers.serialize(this.movingVarianceInitializer),
      beta_regularizer: regularizers.serialize(this.betaRegularizer),
      gamma_regularizer: regularizers.serialize(this.gammaRegularizer),
      beta_constraint: constraints.serialize(this.betaConstraint),
      gamma_constraint: constraints.serialize(this.gammaConstraint),
      synchronized: this.synchronized,
      renorm: this.renorm,
      renorm_clipping: this.renormClipping,
      renorm_momentum: this.renormMomentum,
    };
  }

  static override fromConfig(config: Config): BatchNormalization {
    return new BatchNormalization({
      ...baseOptionsFromConfig(config),
      axis: (config.axis as number | undefined) ?? -1,
      momentum: (config.momentum as number | undefined) ?? 0.99,
      epsilon: (config.epsilon as number | undefined) ?? 1e-3,
      center: (config.center as boolean | undefined) ?? true,
      scale: (config.scale as boolean | undefined) ?? true,
      betaInitializer: config.beta_initializer as initializers.InitializerIdentifier,
      gammaInitializer: config.gamma_initializer as initializers.InitializerIdentifier,
      movingMeanInitializer: config.moving_mean_initializer as initializers.InitializerIdentifier,
      movingVarianceInitializer: config.moving_variance_initializer as initializers.InitializerIdentifier,
      betaRegularizer: config.beta_regularizer as regularizers.RegularizerIdentifier,
      gammaRegularizer: config.gamma_regularizer as regularizers.RegularizerIdentifier,
      betaConstraint: config.beta_constraint as constraints.ConstraintIdentifier,
      gammaConstraint: config.gamma_constraint as constraints.ConstraintIdentifier,
      synchronized: (config.synchronized as boolean | undefined) ?? false,
      renorm: (config.renorm as boolean | undefined) ?? false,
      renormClipping: (config.renorm_clipping as Record<string, number> | null | undefined) ?? null,
      renormMomentum: (config.renorm_momentum as number | undefined) ?? 0.99,
    });
  }
}
registerBuiltin('keras.layers', BatchNormalization);
