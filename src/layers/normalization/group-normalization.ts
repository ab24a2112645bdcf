/**
 * GroupNormalization: the channels along `axis` are split into `groups`
 * groups of consecutive channels, and each example is normalized over each
 * group (its channels and every other non-batch axis), then scaled by gamma
 * and shifted by beta per channel. groups = -1 makes one group per channel
 * (instance normalization); groups = 1 is layer normalization over all axes.
 *
 * The group statistics are computed from per-channel statistics (every
 * channel holds the same number of values), so only the small statistics
 * tensors are regrouped and unknown spatial dims need no dynamic reshape.
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
import { type InputShape, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

export interface GroupNormalizationOptions extends LayerOptions {
  /** Number of groups (default 32); it must divide the channels. -1: one group per channel. */
  groups?: number;
  /** The channels axis (default -1). */
  axis?: number;
  /** Added to the variance (default 1e-3). */
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: initializers.InitializerIdentifier;
  gammaInitializer?: initializers.InitializerIdentifier;
  betaRegularizer?: regularizers.RegularizerIdentifier;
  gammaRegularizer?: regularizers.RegularizerIdentifier;
  betaConstraint?: constraints.ConstraintIdentifier;
  gammaConstraint?: constraints.ConstraintIdentifier;
}

export class GroupNormalization extends Layer {
  static override readonly className = 'GroupNormalization';
  /** The number of groups (-1 until built, when given as -1). */
  groups: number;
  readonly axis: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaInitializer: initializers.Initializer;
  readonly gammaInitializer: initializers.Initializer;
  readonly betaRegularizer: regularizers.Regularizer | null;
  readonly gammaRegularizer: regularizers.Regularizer | null;
  readonly betaConstraint: constraints.Constraint | null;
  readonly gammaConstraint: constraints.Constraint | null;
  gamma: Variable | null = null;
  beta: Variable | null = null;

  constructor(options: GroupNormalizationOptions = {}) {
    super(options);
    const where = `GroupNormalization '${this.name}'`;
    this.groups = options.groups ?? 32;
    if (!Number.isInteger(this.groups) || (this.groups <= 0 && this.groups !== -1)) {
      throw new Error(`${where}: groups must be a positive integer or -1. Received: groups=${JSON.stringify(options.groups)}`);
    }
    this.axis = options.axis ?? -1;
    if (!Number.isInteger(this.axis)) throw new Error(`${where}: axis must be an integer. Received: axis=${JSON.stringify(options.axis)}`);
    this.epsilon = options.epsilon ?? 1e-3;
    if (typeof this.epsilon !== 'number' || !(this.epsilon >= 0)) throw new Error(`${where}: epsilon must be a non-negative number. Received: epsilon=${String(options.epsilon)}`);
    this.center = options.center ?? true;
    this.scale = options.scale ?? true;
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
    const where = `GroupNormalization '${this.name}'`;
    if (this.axis < -rank || this.axis >= rank || (this.axis < 0 ? rank + this.axis : this.axis) === 0) {
      throw new Error(`${where}: axis ${this.axis} is out of range (or the batch axis) for an input of rank ${rank} (shape ${formatShape(shape)}).`);
    }
    const dim = shape[this.axis < 0 ? rank + this.axis : this.axis];
    if (dim === null) {
      throw new Error(`${where}: axis ${this.axis} of the input should have a defined dimension, but the layer received an input with shape ${formatShape(shape)}.`);
    }
    if (this.groups === -1) this.groups = dim;
    if (dim < this.groups) throw new Error(`${where}: the number of groups (${this.groups}) cannot be more than the number of channels (${dim}).`);
    if (dim % this.groups !== 0) throw new Error(`${where}: the number of channels (${dim}) must be a multiple of the number of groups (${this.groups}).`);
    this.inputSpec = new InputSpec({ ndim: rank, axes: { [this.axis]: dim } });
    if (this.scale) {
      this.gamma = this.addWeight({ name: 'gamma', shape: [dim], initializer: this.gammaInitializer, regularizer: this.gammaRegularizer, constraint: this.gammaConstraint });
    }
    if (this.center) {
      this.beta = this.addWeight({ name: 'beta', shape: [dim], initializer: this.betaInitializer, regularizer: this.betaRegularizer, constraint: this.betaConstraint });
    }
  }

  override call(inputs: Tensor): Tensor {
    const x = inputs;
    const rank = x.rank;
    const axis = this.axis < 0 ? rank + this.axis : this.axis;
    const channels = x.shape[axis] as number;
    const perGroup = channels / this.groups;
    const others = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== 0 && i !== axis);
    const meanOver = (t: Tensor): Tensor => (others.length > 0 ? ops.mean(t, { axis: others, keepdims: true }) : t);
    // Per-channel statistics (batch, 1..., channels, 1...) -> averaged over each group's channels.
    const groupAverage = (perChannel: Tensor): Tensor => {
      const statShape = perChannel.shape.map((d, i) => (i === 0 ? -1 : (d as number)));
      const grouped = [...statShape.slice(0, axis), this.groups, perGroup, ...statShape.slice(axis + 1)];
      const g = ops.reshape(perChannel, grouped);
      const avg = ops.mean(g, { axis: axis + 1, keepdims: true });
      return ops.reshape(ops.add(avg, ops.zerosLike(g)), statShape);
    };
    const mean = groupAverage(meanOver(x));
    const centered = ops.subtract(x, mean);
    const variance = groupAverage(meanOver(ops.square(centered)));
    let inv = ops.rsqrt(ops.add(variance, this.epsilon));
    const paramShape = Array.from({ length: rank }, (_, i) => (i === axis ? channels : 1));
    if (this.gamma) inv = ops.multiply(inv, ops.reshape(ops.cast(this.gamma, x.dtype), paramShape));
    const y = ops.multiply(centered, inv);
    return this.beta ? ops.add(y, ops.reshape(ops.cast(this.beta, x.dtype), paramShape)) : y;
  }

  override getConfig(): Config {
    return {
      ...super.getConfig(),
      groups: this.groups,
      axis: this.axis,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      beta_initializer: initializers.serialize(this.betaInitializer),
      gamma_initializer: initializers.serialize(this.gammaInitializer),
      beta_regularizer: regularizers.serialize(this.betaRegularizer),
      gamma_regularizer: regularizers.serialize(this.gammaRegularizer),
      beta_constraint: constraints.serialize(this.betaConstraint),
      gamma_constraint: constraints.serialize(this.gammaConstraint),
    };
  }

  static override fromConfig(config: Config): GroupNormalization {
    return new GroupNormalization({
      ...baseOptionsFromConfig(config),
      groups: (config.groups as number | undefined) ?? 32,
      axis: (config.axis as number | undefined) ?? -1,
      epsilon: (config.epsilon as number | undefined) ?? 1e-3,
      center: (config.center as boolean | undefined) ?? true,
      scale: (config.scale as boolean | undefined) ?? true,
      betaInitializer: config.beta_initializer as initializers.InitializerIdentifier,
      gammaInitializer: config.gamma_initializer as initializers.InitializerIdentifier,
      betaRegularizer: config.beta_regularizer as regularizers.RegularizerIdentifier,
      gammaRegularizer: config.gamma_regularizer as regularizers.RegularizerIdentifier,
      betaConstraint: config.beta_constraint as constraints.ConstraintIdentifier,
      gammaConstraint: config.gamma_constraint as constraints.ConstraintIdentifier,
    });
  }
}
registerBuiltin('keras.layers', GroupNormalization);
