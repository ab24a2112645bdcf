/**
 * DepthwiseConv1D and DepthwiseConv2D: each input channel is convolved with
 * its own `depthMultiplier` filters, without mixing channels. The kernel has
 * Keras's layout (spatial..., in_channels, depth_multiplier); output channel
 * c * depthMultiplier + m comes from input channel c.
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

export interface BaseDepthwiseConvOptions extends ConvCommonOptions {
  /** 'valid' (default) or 'same'. */
  padding?: ConvPadding;
  /** Output channels per input channel (default 1). */
  depthMultiplier?: number;
  depthwiseInitializer?: initializers.InitializerIdentifier;
  depthwiseRegularizer?: regularizers.RegularizerIdentifier;
  depthwiseConstraint?: constraints.ConstraintIdentifier;
}

export type DepthwiseConv1DOptions = BaseDepthwiseConvOptions;
export type DepthwiseConv2DOptions = BaseDepthwiseConvOptions;

type DepthwiseConstructor = new (kernelSize: number | readonly number[], options: BaseDepthwiseConvOptions) => BaseDepthwiseConv;

/** The N-D depthwise convolution layer (Keras's BaseDepthwiseConv); use DepthwiseConv1D or DepthwiseConv2D. */
export class BaseDepthwiseConv extends ConvCommon {
  readonly depthMultiplier: number;
  readonly depthwiseInitializer: initializers.Initializer;
  readonly depthwiseRegularizer: regularizers.Regularizer | null;
  readonly depthwiseConstraint: constraints.Constraint | null;
  kernel!: Variable;

  protected constructor(rank: number, kernelSize: number | readonly number[], options: BaseDepthwiseConvOptions = {}) {
    super(rank, kernelSize, options);
    this.depthMultiplier = positiveInteger(this.where, 'depthMultiplier', options.depthMultiplier ?? 1);
    this.depthwiseInitializer = initializers.get(options.depthwiseInitializer ?? 'glorot_uniform');
    this.depthwiseRegularizer = regularizers.get(options.depthwiseRegularizer ?? null);
    this.depthwiseConstraint = constraints.get(options.depthwiseConstraint ?? null);
  }

  override build(inputShape: InputShape): void {
    const shape = inputShape as Shape;
    const channels = this.inputChannels(shape);
    checkWindowFits(this.where, shape, this.spatialAxes, this.kernelSize, this.strides, this.dilationRate, this.padding as 'valid' | 'same');
    this.kernel = this.addWeight({
      name: 'kernel',
      shape: [...this.kernelSize, channels, this.depthMultiplier],
      initializer: this.depthwiseInitializer,
      regularizer: this.depthwiseRegularizer,
      constraint: this.depthwiseConstraint,
    });
    this.makeBias(channels * this.depthMultiplier);
  }

  override call(inputs: Tensor): Tensor {
    const y = ops.depthwiseConv(inputs, this.kernel, { strides: this.strides, padding: this.padding as 'valid' | 'same', dataFormat: this.dataFormat, dilationRate: this.dilationRate });
    return this.activation(this.addBias(y));
  }

  override getConfig(): Config {
    return {
      ...super.getConfig(),
      depth_multiplier: this.depthMultiplier,
      ...this.windowConfig(),
      activation: activations.serialize(this.activation),
      use_bias: this.useBias,
      depthwise_initializer: initializers.serialize(this.depthwiseInitializer),
      bias_initializer: initializers.serialize(this.biasInitializer),
      depthwise_regularizer: regularizers.serialize(this.depthwiseRegularizer),
      bias_regularizer: regularizers.serialize(this.biasRegularizer),
      activity_regularizer: regularizers.serialize(this.activityRegularizer),
      depthwise_constraint: constraints.serialize(this.depthwiseConstraint),
      bias_constraint: constraints.serialize(this.biasConstraint),
    };
  }

  static override fromConfig(config: Config): BaseDepthwiseConv {
    const Ctor = this as unknown as DepthwiseConstructor;
    return new Ctor(config.kernel_size as number[], {
      ...convCommonOptionsFromConfig(config),
      depthMultiplier: (config.depth_multiplier as number | undefined) ?? 1,
      depthwiseInitializer: config.depthwise_initializer as initializers.InitializerIdentifier,
      depthwiseRegularizer: config.depthwise_regularizer as regularizers.RegularizerIdentifier,
      depthwiseConstraint: config.depthwise_constraint as constraints.ConstraintIdentifier,
    });
  }
}

/** 1-D depthwise convolution. */
export class DepthwiseConv1D extends BaseDepthwiseConv {
  static override readonly className = 'DepthwiseConv1D';
  constructor(kernelSize: number | readonly number[], options: DepthwiseConv1DOptions = {}) {
    super(1, kernelSize, options);
  }
}
registerBuiltin('keras.layers', DepthwiseConv1D);

/** 2-D depthwise convolution. */
export class DepthwiseConv2D extends BaseDepthwiseConv {
  static override readonly className = 'DepthwiseConv2D';
  constructor(kernelSize: number | readonly number[], options: DepthwiseConv2DOptions = {}) {
    super(2, kernelSize, options);
  }
}
registerBuiltin('keras.layers', DepthwiseConv2D);
