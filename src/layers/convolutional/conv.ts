/**
 * Conv1D and Conv2D: `activation(conv(inputs, kernel) + bias)`. The kernel
 * has Keras's layout (spatial..., in_channels / groups, filters); with
 * groups > 1 the input channels are split into groups convolved separately.
 * Conv1D also takes padding 'causal' (left padding only, as in WaveNet).
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
import { type Conv1DPadding, ConvCommon, type ConvCommonOptions, type ConvPadding, convCommonOptionsFromConfig } from './base-conv.ts';

export interface BaseConvOptions extends ConvCommonOptions {
  /** Number of groups the input channels are split into (default 1); it must divide the input channels and `filters`. */
  groups?: number;
  kernelInitializer?: initializers.InitializerIdentifier;
  kernelRegularizer?: regularizers.RegularizerIdentifier;
  kernelConstraint?: constraints.ConstraintIdentifier;
}

export interface Conv1DOptions extends BaseConvOptions {
  /** 'valid' (default), 'same' or 'causal'. */
  padding?: Conv1DPadding;
}

export interface Conv2DOptions extends BaseConvOptions {
  /** 'valid' (default) or 'same'. */
  padding?: ConvPadding;
}

type ConvConstructor = new (filters: number, kernelSize: number | readonly number[], options: BaseConvOptions) => BaseConv;

/** The N-D convolution layer (Keras's BaseConv); use Conv1D or Conv2D. */
export class BaseConv extends ConvCommon {
  readonly filters: number;
  readonly groups: number;
  readonly kernelInitializer: initializers.Initializer;
  readonly kernelRegularizer: regularizers.Regularizer | null;
  readonly kernelConstraint: constraints.Constraint | null;
  kernel!: Variable;

  protected constructor(rank: number, filters: number, kernelSize: number | readonly number[], options: BaseConvOptions = {}) {
    super(rank, kernelSize, options, rank === 1);
    this.filters = positiveInteger(this.where, 'filters', filters);
    this.groups = positiveInteger(this.where, 'groups', options.groups ?? 1);
    if (this.filters % this.groups !== 0) {
      throw new Error(`${this.where}: filters must be divisible by groups. Received: groups=${this.groups}, filters=${this.filters}`);
    }
    this.kernelInitializer = initializers.get(options.kernelInitializer ?? 'glorot_uniform');
    this.kernelRegularizer = regularizers.get(options.kernelRegularizer ?? null);
    this.kernelConstraint = constraints.get(options.kernelConstraint ?? null);
  }

  override build(inputShape: InputShape): void {
    const shape = inputShape as Shape;
    const channels = this.inputChannels(shape);
    if (channels % this.groups !== 0) {
      throw new Error(`${this.where}: the number of input channels must be divisible by groups. Received: groups=${this.groups}, but the input has ${channels} channels (input shape ${JSON.stringify(shape)}).`);
    }
    if (this.padding !== 'causal') checkWindowFits(this.where, shape, this.spatialAxes, this.kernelSize, this.strides, this.dilationRate, this.padding);
    this.kernel = this.addWeight({
      name: 'kernel',
      shape: [...this.kernelSize, channels / this.groups, this.filters],
      initializer: this.kernelInitializer,
      regularizer: this.kernelRegularizer,
      constraint: this.kernelConstraint,
    });
    this.makeBias(this.filters);
  }

  override call(inputs: Tensor): Tensor {
    let x = inputs;
    let padding = this.padding;
    if (padding === 'causal') {
      // Pad (dilation * (k - 1)) steps on the left only: output[t] sees inputs up to t.
      const left = this.dilationRate[0] * (this.kernelSize[0] - 1);
      const widths = this.dataFormat === 'channels_last' ? [[0, 0], [left, 0], [0, 0]] : [[0, 0], [0, 0], [left, 0]];
      x = ops.pad(x, widths);
      padding = 'valid';
    }
    const y = ops.conv(x, this.kernel, { strides: this.strides, padding, dataFormat: this.dataFormat, dilationRate: this.dilationRate });
    return this.activation(this.addBias(y));
  }

  override getConfig(): Config {
    return {
      ...super.getConfig(),
      filters: this.filters,
      ...this.windowConfig(),
      groups: this.groups,
      activation: activations.serialize(this.activation),
      use_bias: this.useBias,
      kernel_initializer: initializers.serialize(this.kernelInitializer),
      bias_initializer: initializers.serialize(this.biasInitializer),
      kernel_regularizer: regularizers.serialize(this.kernelRegularizer),
      bias_regularizer: regularizers.serialize(this.biasRegularizer),
      activity_regularizer: regularizers.serialize(this.activityRegularizer),
      kernel_constraint: constraints.serialize(this.kernelConstraint),
      bias_constraint: constraints.serialize(this.biasConstraint),
    };
  }

  static override fromConfig(config: Config): BaseConv {
    const Ctor = this as unknown as ConvConstructor;
    return new Ctor(config.filters as number, config.kernel_size as number[], {
      ...convCommonOptionsFromConfig(config),
      groups: (config.groups as number | undefined) ?? 1,
      kernelInitializer: config.kernel_initializer as initializers.InitializerIdentifier,
      kernelRegularizer: config.kernel_regularizer as regularizers.RegularizerIdentifier,
      kernelConstraint: config.kernel_constraint as constraints.ConstraintIdentifier,
    });
  }
}

/** 1-D convolution over (batch, steps, channels) inputs (or (batch, channels, steps) with channels_first). */
export class Conv1D extends BaseConv {
  static override readonly className = 'Conv1D';
  constructor(filters: number, kernelSize: number | readonly number[], options: Conv1DOptions = {}) {
    super(1, filters, kernelSize, options);
  }
}
registerBuiltin('keras.layers', Conv1D);

/** 2-D convolution over (batch, height, width, channels) inputs (or (batch, channels, height, width) with channels_first). */
export class Conv2D extends BaseConv {
  static override readonly className = 'Conv2D';
  constructor(filters: number, kernelSize: number | readonly number[], options: Conv2DOptions = {}) {
    super(2, filters, kernelSize, options);
  }
}
registerBuiltin('keras.layers', Conv2D);
