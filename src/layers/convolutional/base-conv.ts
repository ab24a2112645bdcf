/**
 * What the convolution layers share: kernel size, strides, padding, data
 * format, dilation, bias and activation, their checks and their config keys.
 * The families (BaseConv, BaseConvTranspose, BaseDepthwiseConv,
 * BaseSeparableConv) add their kernels; 1-D and 2-D classes fix the rank.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import type { Shape } from '../../tensor/shape.ts';
import { formatShape } from '../../tensor/shape.ts';
import type { Variable } from '../../engine/variable.ts';
import * as ops from '../../ops/index.ts';
import type { Config } from '../../serialization/registry.ts';
import * as activations from '../../activations/index.ts';
import * as initializers from '../../initializers/index.ts';
import * as regularizers from '../../regularizers/index.ts';
import * as constraints from '../../constraints/index.ts';
import { InputSpec } from '../input-spec.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig, classNameOf } from '../layer.ts';
import {
  type DataFormat,
  channelAxis,
  checkSpecBeforeBuild,
  checkStridesAndDilation,
  standardizeDataFormat,
  standardizePadding,
  standardizeTuple,
} from './arguments.ts';

export type ConvPadding = 'valid' | 'same' | 'VALID' | 'SAME';
export type Conv1DPadding = ConvPadding | 'causal' | 'CAUSAL';

/** Options every convolution layer takes. */
export interface ConvCommonOptions extends LayerOptions {
  /** An integer or one per spatial dimension (default 1). */
  strides?: number | readonly number[];
  /** Default 'valid'. */
  padding?: string;
  /** Default 'channels_last'. */
  dataFormat?: DataFormat | null;
  /** An integer or one per spatial dimension (default 1). */
  dilationRate?: number | readonly number[];
  activation?: activations.ActivationIdentifier;
  useBias?: boolean;
  biasInitializer?: initializers.InitializerIdentifier;
  biasRegularizer?: regularizers.RegularizerIdentifier;
  biasConstraint?: constraints.ConstraintIdentifier;
}

export abstract class ConvCommon extends Layer {
  readonly rank: number;
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly padding: 'valid' | 'same' | 'causal';
  readonly dataFormat: DataFormat;
  readonly dilationRate: number[];
  readonly activation: activations.Activation;
  readonly useBias: boolean;
  readonly biasInitializer: initializers.Initializer;
  readonly biasRegularizer: regularizers.Regularizer | null;
  readonly biasConstraint: constraints.Constraint | null;
  bias: Variable | null = null;

  protected constructor(rank: number, kernelSize: number | readonly number[], options: ConvCommonOptions, allowCausal = false) {
    super(options);
    const where = this.where;
    this.rank = rank;
    this.kernelSize = standardizeTuple(where, 'kernelSize', kernelSize, rank);
    this.strides = standardizeTuple(where, 'strides', options.strides ?? 1, rank);
    this.padding = standardizePadding(where, options.padding ?? 'valid', allowCausal);
    this.dataFormat = standardizeDataFormat(where, options.dataFormat);
    this.dilationRate = standardizeTuple(where, 'dilationRate', options.dilationRate ?? 1, rank);
    checkStridesAndDilation(where, this.strides, this.dilationRate);
    this.activation = activations.get(options.activation ?? null);
    this.useBias = options.useBias ?? true;
    this.biasInitializer = initializers.get(options.biasInitializer ?? 'zeros');
    this.biasRegularizer = regularizers.get(options.biasRegularizer ?? null);
    this.biasConstraint = constraints.get(options.biasConstraint ?? null);
    this.inputSpec = new InputSpec({ ndim: rank + 2 });
  }

  /** "Conv2D 'conv2d'": how errors name the layer. */
  protected get where(): string {
    return `${classNameOf(this.constructor as typeof Layer)} '${this.name}'`;
  }

  /** Checks the input's rank and returns its (known) channel count; sets the input spec to it. */
  protected inputChannels(inputShape: Shape): number {
    checkSpecBeforeBuild(this, inputShape);
    const axis = channelAxis(this.dataFormat, this.rank + 2);
    const channels = inputShape[axis.index];
    if (channels === null || channels === undefined) {
      throw new Error(`${this.where}: the channel dimension of the input (axis ${axis.key}, data format '${this.dataFormat}') must be known. Received input shape ${formatShape(inputShape)}.`);
    }
    this.inputSpec = new InputSpec({ ndim: this.rank + 2, axes: { [axis.key]: channels } });
    return channels;
  }

  /** Indices of the spatial axes of an input of this layer. */
  protected get spatialAxes(): number[] {
    const first = this.dataFormat === 'channels_last' ? 1 : 2;
    return Array.from({ length: this.rank }, (_, i) => first + i);
  }

  protected addBias(y: Tensor): Tensor {
    if (!this.bias) return y;
    if (this.dataFormat === 'channels_last') return ops.add(y, this.bias);
    const n = this.bias.shape[0] as number;
    return ops.add(y, ops.reshape(this.bias, [1, n, ...new Array<number>(this.rank).fill(1)]));
  }

  protected makeBias(size: number): void {
    if (!this.useBias) return;
    this.bias = this.addWeight({ name: 'bias', shape: [size], initializer: this.biasInitializer, regularizer: this.biasRegularizer, constraint: this.biasConstraint });
  }

  /** The window keys of the config (kernel_size ... dilation_rate), in Keras's order. */
  protected windowConfig(): Config {
    return {
      kernel_size: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
      data_format: this.dataFormat,
      dilation_rate: [...this.dilationRate],
    };
  }
}

/** The common options from a Keras config. */
export function convCommonOptionsFromConfig(config: Config): ConvCommonOptions & { padding: ConvPadding } {
  return {
    ...baseOptionsFromConfig(config),
    strides: (config.strides as number | number[] | undefined) ?? 1,
    padding: (config.padding as ConvPadding | undefined) ?? 'valid',
    dataFormat: (config.data_format as DataFormat | null | undefined) ?? null,
    dilationRate: (config.dilation_rate as number | number[] | undefined) ?? 1,
    activation: config.activation as activations.ActivationIdentifier,
    useBias: (config.use_bias as boolean | undefined) ?? true,
    biasInitializer: config.bias_initializer as initializers.InitializerIdentifier,
    biasRegularizer: config.bias_regularizer as regularizers.RegularizerIdentifier,
    biasConstraint: config.bias_constraint as constraints.ConstraintIdentifier,
  };
}
