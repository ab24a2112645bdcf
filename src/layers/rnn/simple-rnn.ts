/**
 * SimpleRNN and its cell: `h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)`.
 * Weights as in Keras: kernel (inputDim, units), recurrent_kernel (units, units), bias (units,).
 */
import type { Tensor } from '../../tensor/tensor.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import * as activations from '../../activations/index.ts';
import { type InputShape, baseOptionsFromConfig } from '../layer.ts';
import { RNN, RecurrentCell, type RecurrentCellOptions, type RNNOptions, type StepContext, type StepResult, cellOptionsFromConfig, flatLayerConfig, rnnOptionsFromConfig, splitRNNOptions } from './rnn-base.ts';

export type SimpleRNNCellOptions = RecurrentCellOptions;

export class SimpleRNNCell extends RecurrentCell {
  static override readonly className: string = 'SimpleRNNCell';

  constructor(units: number, options: SimpleRNNCellOptions = {}) {
    super(units, options);
  }

  get stateSize(): number[] {
    return [this.units];
  }

  protected get gates(): number {
    return 1;
  }

  override build(inputShape: InputShape): void {
    this.buildKernels(this.inputDimOf(inputShape));
    if (this.useBias) this.addBias([this.units]);
  }

  projectInputs(x: Tensor, ctx: StepContext): Tensor {
    const [masked] = this.maskedInputs(x, ctx.inputMasks, 1);
    const h = ops.matmul(masked, ctx.weights.kernel);
    return ctx.weights.bias ? ops.add(h, ctx.weights.bias) : h;
  }

  step(projected: Tensor, states: Tensor[], ctx: StepContext): StepResult {
    let prev = states[0];
    if (ctx.recurrentMasks) prev = ops.multiply(prev, ctx.recurrentMasks[0]);
    const output = this.activation(ops.add(projected, ops.matmul(prev, ctx.weights.recurrentKernel)));
    return { output, states: [output] };
  }

  override getConfig(): Config {
    const { kernel_initializer, ...rest } = this.commonConfig();
    return {
      ...super.getConfig(),
      units: this.units,
      activation: activations.serialize(this.activation),
      use_bias: this.useBias,
      kernel_initializer,
      ...rest,
      seed: this.seed,
    };
  }

  static override fromConfig(config: Config): SimpleRNNCell {
    return new SimpleRNNCell(config.units as number, { ...baseOptionsFromConfig(config), ...cellOptionsFromConfig(config) });
  }
}
registerBuiltin('keras.layers', SimpleRNNCell);

export type SimpleRNNOptions = SimpleRNNCellOptions & RNNOptions;

/** Fully-connected RNN where the output is fed back as the next input (keras.layers.SimpleRNN). */
export class SimpleRNN extends RNN {
  static override readonly className: string = 'SimpleRNN';
  declare readonly cell: SimpleRNNCell;

  constructor(units: number, options: SimpleRNNOptions = {}) {
    const { rnn, cell } = splitRNNOptions(options);
    super(new SimpleRNNCell(units, { ...cell, name: 'simple_rnn_cell' }), rnn);
  }

  get units(): number {
    return this.cell.units;
  }

  override getConfig(): Config {
    // Keras's SimpleRNN writes no seed (its cell does).
    return flatLayerConfig(this, super.getConfig(), [
      'units', 'activation', 'use_bias', 'kernel_initializer', 'recurrent_initializer', 'bias_initializer',
      'kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer', 'activity_regularizer',
      'kernel_constraint', 'recurrent_constraint', 'bias_constraint', 'dropout', 'recurrent_dropout',
    ]);
  }

  static override fromConfig(config: Config): SimpleRNN {
    return new SimpleRNN(config.units as number, { ...baseOptionsFromConfig(config), ...cellOptionsFromConfig(config), ...rnnOptionsFromConfig(config) });
  }
}
registerBuiltin('keras.layers', SimpleRNN);
