/**
 * Conv1DTranspose and Conv2DTranspose: the transpose of a convolution (the
 * gradient of `conv` with respect to its input), e.g. for upsampling in
 * decoders. The kernel has Keras's layout (spatial..., filters, in_channels).
 * Output length, with k the dilated kernel size: without `outputPadding`,
 * input * stride ('same') or input * stride + max(k - stride, 0) ('valid');
 * with it, (input - 1) * stride + k - 2 * pad + outputPadding, pad being
 * 0 ('valid') or floor(k / 2) ('same').
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { type Shape, formatShape } from '../../tensor/shape.ts';
import type { Variable } from '../../engine/variable.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import * as activations from '../../activations/index.ts';
import * as initializers from '../../initializers/index.ts';
import * as regularizers from '../../regularizers/index.ts';
import * as constraints from '../../constraints/index.ts';
import type { InputShape } from '../layer.ts';
import { positiveInteger, standardizeTuple } from './arguments.ts';
import { ConvCommon, type ConvCommonOptions, type ConvPadding, convCommonOptionsFromConfig } from './base-conv.ts';

export interface BaseConvTransposeOptions extends ConvCommonOptions {
  /** 'valid' (default) or 'same'. */
  padding?: ConvPadding;
  /** Extra size at the end of each spatial output dimension, each smaller than the stride (default: none). */
  outputPadding?: number | readonly number[] | null;
  kernelInitializer?: initializers.InitializerIdentifier;
  kernelRegularizer?: regularizers.RegularizerIdentifier;
  kernelConstraint?: constraints.ConstraintIdentifier;
}

export type Conv1DTransposeOptions = BaseConvTransposeOptions;
export type Conv2DTransposeOptions = BaseConvTransposeOptions;

type ConvTransposeConstructor = new (filters: number, kernelSize: number | readonly number[], options: BaseConvTransposeOptions) => BaseConvTranspose;

/** The N-D transposed convolution layer (Keras's BaseConvTranspose); use Conv1DTranspose or Conv2DTranspose. */
export class BaseConvTranspose extends ConvCommon {
  readonly filters: number;
  readonly outputPadding: number[] | null;
  readonly kernelInitializer: initializers.Initializer;
  readonly kernelRegularizer: regularizers.Regularizer | null;
  readonly kernelConstraint: constraints.Constraint | null;
  kernel!: Variable;

  protected constructor(rank: number, filters: number, kernelSize: number | readonly number[], options: BaseConvTransposeOptions = {}) {
    super(rank, kernelSize, options);
    this.filters = positiveInteger(this.where, 'filters', filters);
    const op = options.outputPadding;
    this.outputPadding = op === undefined || op === null ? null : standardizeTuple(this.where, 'outputPadding', op, rank, true);
    if (this.outputPadding && this.outputPadding.some((p, i) => p >= this.strides[i])) {
      throw new Error(`${this.where}: outputPadding must be smaller than strides in every dimension. Received: outputPadding=${JSON.stringify(this.outputPadding)}, strides=${JSON.stringify(this.strides)}`);
    }
    this.kernelInitializer = initializers.get(options.kernelInitializer ?? 'glorot_uniform');
    this.kernelRegularizer = regularizers.get(options.kernelRegularizer ?? null);
    this.kernelConstraint = constraints.get(options.kernelConstraint ?? null);
  }

  override build(inputShape: InputShape): void {
    const shape = inputShape as Shape;
    const channels = this.inputChannels(shape);
    for (const ax of this.spatialAxes) {
      if (shape[ax] === null) {
        // ops.convTranspose needs static spatial sizes (the output size is an attribute of the primitive).
        throw new Error(`${this.where}: the spatial dimensions of the input must be known. Received input shape ${formatShape(shape)}.`);
      }
    }
    this.kernel = this.addWeight({
      name: 'kernel',
      shape: [...this.kernelSize, this.filters, channels],
      initializer: this.kernelInitializer,
      regularizer: this.kernelRegularizer,
      constraint: this.kernelConstraint,
    });
    this.makeBias(this.filters);
  }

  override call(inputs: Tensor): Tensor {
    const y = ops.convTranspose(inputs, this.kernel, {
      strides: this.strides,
      padding: this.padding as 'valid' | 'same',
      outputPadding: this.outputPadding,
      dataFormat: this.dataFormat,
      dilationRate: this.dilationRate,
    });
    return this.activation(this.addBias(y));
  }

  override getConfig(): Config {
    const { kernel_size, strides, padding, data_format, dilation_rate } = this.windowConfig();
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernel_size,
      strides,
      padding,
      output_padding: this.outputPadding ? [...this.outputPadding] : null,
      data_format,
      dilation_rate,
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

  static override fromConfig(config: Config): BaseConvTranspose {
    const Ctor = this as unknown as ConvTransposeConstructor;
    return new Ctor(config.filters as number, config.kernel_size as number[], {
      ...convCommonOptionsFromConfig(config),
      outputPadding: (config.output_padding as number[] | null | undefined) ?? null,
      kernelInitializer: config.kernel_initializer as initializers.InitializerIdentifier,
      kernelRegularizer: config.kernel_regularizer as regularizers.RegularizerIdentifier,
      kernelConstraint: config.kernel_constraint as constraints.ConstraintIdentifier,
    });
  }
}

/** 1-D transposed convolution. */
export class Conv1DTranspose extends BaseConvTranspose {
  static override readonly className = 'Conv1DTranspose';
  constructor(filters: number, kernelSize: number | readonly number[], options: Conv1DTransposeOptions = {}) {
    super(1, filters, kernelSize, options);
  }
}
registerBuiltin('keras.layers', Conv1DTranspose);

/** 2-D transposed convolution. */
export class Conv2DTranspose extends BaseConvTranspose {
  static override readonly className = 'Conv2DTranspose';
  constructor(filters: number, kernelSize: number | readonly number[], options: Conv2DTransposeOptions = {}) {
    super(2, filters, kernelSize, options);
  }
}
registerBuiltin('keras.layers', Conv2DTranspose);
