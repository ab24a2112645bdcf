/**
 * SeparableConv1D and SeparableConv2D: a depthwise convolution (each input
 * channel with its own `depthMultiplier` filters) followed by a pointwise
 * (1x1) convolution mixing channels into `filters` outputs. Kernels have
 * Keras's layouts: depthwise (spatial..., in_channels, depth_multiplier),
 * pointwise (1..., in_channels * depth_multiplier, filters).
 */
import type { Tensor } from '../../tensor/tensor.ts';
import type { Shape } from '../../tensor/shape.ts';
import type { Variable } from '../../engine/variable.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import * as activations from '../../activations/index.ts';
import * as initializers from '../../initializers/index.ts';
import * as regularizers from '../../regularizers/index.ts';
import * as constraints from '../../constraints/index.ts';
import type { InputShape } from '../layer.ts';
import { checkWindowFits, positiveInteger } from './arguments.ts';
import { ConvCommon, type ConvCommonOptions, type ConvPadding, convCommonOptionsFromConfig } from './base-conv.ts';

export interface BaseSeparableConvOptions extends ConvCommonOptions {
  /** 'valid' (default) or 'same'. */
  padding?: ConvPadding;
  /** Depthwise output channels per input channel (default 1). */
  depthMultiplier?: number;
  depthwiseInitializer?: initializers.InitializerIdentifier;
  pointwiseInitializer?: initializers.InitializerIdentifier;
  depthwiseRegularizer?: regularizers.RegularizerIdentifier;
  pointwiseRegularizer?: regularizers.RegularizerIdentifier;
  depthwiseConstraint?: constraints.ConstraintIdentifier;
  pointwiseConstraint?: constraints.ConstraintIdentifier;
}

export type SeparableConv1DOptions = BaseSeparableConvOptions;
export type SeparableConv2DOptions = BaseSeparableConvOptions;

type SeparableConstructor = new (filters: number, kernelSize: number | readonly number[], options: BaseSeparableConvOptions) => BaseSeparableConv;

/** The N-D separable convolution layer (Keras's BaseSeparableConv); use SeparableConv1D or SeparableConv2D. */
export class BaseSeparableConv extends ConvCommon {
  readonly filters: number;
  readonly depthMultiplier: number;
  readonly depthwiseInitializer: initializers.Initializer;
  readonly pointwiseInitializer: initializers.Initializer;
  readonly depthwiseRegularizer: regularizers.Regularizer | null;
  readonly pointwiseRegularizer: regularizers.Regularizer | null;
  readonly depthwiseConstraint: constraints.Constraint | null;
  readonly pointwiseConstraint: constraints.Constraint | null;
  depthwiseKernel!: Variable;
  pointwiseKernel!: Variable;

  protected constructor(rank: number, filters: number, kernelSize: number | readonly number[], options: BaseSeparableConvOptions = {}) {
    super(rank, kernelSize, options);
    this.filters = positiveInteger(this.where, 'filters', filters);
    this.depthMultiplier = positiveInteger(this.where, 'depthMultiplier', options.depthMultiplier ?? 1);
    this.depthwiseInitializer = initializers.get(options.depthwiseInitializer ?? 'glorot_uniform');
    this.pointwiseInitializer = initializers.get(options.pointwiseInitializer ?? 'glorot_uniform');
    this.depthwiseRegularizer = regularizers.get(options.depthwiseRegularizer ?? null);
    this.pointwiseRegularizer = regularizers.get(options.pointwiseRegularizer ?? null);
    this.depthwiseConstraint = constraints.get(options.depthwiseConstraint ?? null);
    this.pointwiseConstraint = constraints.get(options.pointwiseConstraint ?? null);
  }

  override build(inputShape: InputShape): void {
    const shape = inputShape as Shape;
    const channels = this.inputChannels(shape);
    checkWindowFits(this.where, shape, this.spatialAxes, this.kernelSize, this.strides, this.dilationRate, this.padding as 'valid' | 'same');
    this.depthwiseKernel = this.addWeight({
      name: 'depthwise_kernel',
      shape: [...this.kernelSize, channels, this.depthMultiplier],
      initializer: this.depthwiseInitializer,
      regularizer: this.depthwiseRegularizer,
      constraint: this.depthwiseConstraint,
    });
    this.pointwiseKernel = this.addWeight({
      name: 'pointwise_kernel',
      shape: [...new Array<number>(this.rank).fill(1), channels * this.depthMultiplier, this.filters],
      initializer: this.pointwiseInitializer,
      regularizer: this.pointwiseRegularizer,
      constraint: this.pointwiseConstraint,
    });
    this.makeBias(this.filters);
  }

  override call(inputs: Tensor): Tensor {
    const y = ops.separableConv(inputs, this.depthwiseKernel, this.pointwiseKernel, {
      strides: this.strides,
      padding: this.padding as 'valid' | 'same',
      dataFormat: this.dataFormat,
      dilationRate: this.dilationRate,
    });
    return this.activation(this.addBias(y));
  }

  override getConfig(): Config {
    return {
      ...super.getConfig(),
      depth_multiplier: this.depthMultiplier,
      filters: this.filters,
      ...this.windowConfig(),
      activation: activations.serialize(this.activation),
      use_bias: this.useBias,
      depthwise_initializer: initializers.serialize(this.depthwiseInitializer),
      pointwise_initializer: initializers.serialize(this.pointwiseInitializer),
      bias_initializer: initializers.serialize(this.biasInitializer),
      depthwise_regularizer: regularizers.serialize(this.depthwiseRegularizer),
      pointwise_regularizer: regularizers.serialize(this.pointwiseRegularizer),
      bias_regularizer: regularizers.serialize(this.biasRegularizer),
      activity_regularizer: regularizers.serialize(this.activityRegularizer),
      depthwise_constraint: constraints.serialize(this.depthwiseConstraint),
      pointwise_constraint: constraints.serialize(this.pointwiseConstraint),
      bias_constraint: constraints.serialize(this.biasConstraint),
    };
  }

  static override fromConfig(config: Config): BaseSeparableConv {
    const Ctor = this as unknown as SeparableConstructor;
    return new Ctor(config.filters as number, config.kernel_size as number[], {
      ...convCommonOptionsFromConfig(config),
      depthMultiplier: (config.depth_multiplier as number | undefined) ?? 1,
      depthwiseInitializer: config.depthwise_initializer as initializers.InitializerIdentifier,
      pointwiseInitializer: config.pointwise_initializer as initializers.InitializerIdentifier,
      depthwiseRegularizer: config.depthwise_regularizer as regularizers.RegularizerIdentifier,
      pointwiseRegularizer: config.pointwise_regularizer as regularizers.RegularizerIdentifier,
      depthwiseConstraint: config.depthwise_constraint as constraints.ConstraintIdentifier,
      pointwiseConstraint: config.pointwise_constraint as constraints.ConstraintIdentifier,
    });
  }
}

/** 1-D depthwise separable convolution. */
export class SeparableConv1D extends BaseSeparableConv {
  static override readonly className = 'SeparableConv1D';
  constructor(filters: number, kernelSize: number | readonly number[], options: SeparableConv1DOptions = {}) {
    super(1, filters, kernelSize, options);
  }
}
registerBuiltin('keras.layers', SeparableConv1D);

/** 2-D depthwise separable convolution. */
export class SeparableConv2D extends BaseSeparableConv {
  static override readonly className = 'SeparableConv2D';
  constructor(filters: number, kernelSize: number | readonly number[], options: SeparableConv2DOptions = {}) {
    super(2, filters, kernelSize, options);
  }
}
registerBuiltin('keras.layers', SeparableConv2D);
