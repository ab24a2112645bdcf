/**
 * LSTM and its cell (Hochreiter & Schmidhuber 1997), as in Keras 3:
 *
 *     z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias     (gates i, f, c, o)
 *     i = σ(z_i)   f = σ(z_f)   o = σ(z_o)                      (σ = recurrent_activation)
 *     c_t = f * c_{t-1} + i * activation(z_c)
 *     h_t = o * activation(c_t)
 *
 * Weights: kernel (inputDim, 4u), recurrent_kernel (u, 4u), bias (4u,), gate
 * order i, f, c, o. With `unitForgetBias` the forget-gate part of the bias
 * starts at 1. States are [h, c]; the output is h.
 */
import type { DType } from '../../tensor/dtype.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { ones } from '../../tensor/create.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import * as activations from '../../activations/index.ts';
import { type InputShape, baseOptionsFromConfig } from '../layer.ts';
import { RNN, RecurrentCell, type RecurrentCellOptions, type RNNOptions, type StepContext, type StepResult, cellOptionsFromConfig, flatLayerConfig, rnnOptionsFromConfig, splitRNNOptions } from './rnn-base.ts';

export interface LSTMCellOptions extends RecurrentCellOptions {
  /** Activation of the gates (default 'sigmoid'). */
  recurrentActivation?: activations.ActivationIdentifier;
  /** Start the forget-gate bias at 1 (default true; Jozefowicz et al. 2015). */
  unitForgetBias?: boolean;
}

export class LSTMCell extends RecurrentCell {
  static override readonly className: string = 'LSTMCell';
  readonly recurrentActivation: activations.Activation;
  readonly unitForgetBias: boolean;

  constructor(units: number, options: LSTMCellOptions = {}) {
    super(units, options);
    this.recurrentActivation = activations.get(options.recurrentActivation === undefined ? 'sigmoid' : options.recurrentActivation);
    this.unitForgetBias = options.unitForgetBias ?? true;
  }

  get stateSize(): number[] {
    return [this.units, this.units];
  }

  protected get gates(): number {
    return 4;
  }

  /** Keras uses per-gate masks (its implementation 1) when recurrent dropout is on. */
  protected override get dropoutMaskCount(): number {
    return this.recurrentDropout !== 0 ? 4 : 1;
  }

  override build(inputShape: InputShape): void {
    this.buildKernels(this.inputDimOf(inputShape));
    if (!this.useBias) return;
    const u = this.units;
    const init = this.biasInitializer;
    const initializer = this.unitForgetBias
      ? (_shape: number[], dtype: DType): Tensor => ops.concatenate([init.call([u], dtype), ones([u], dtype), init.call([2 * u], dtype)], 0)
      : init;
    this.addBias([4 * u], initializer);
  }

  projectInputs(x: Tensor, ctx: StepContext): Tensor {
    const { kernel, bias } = ctx.weights;
    let z: Tensor;
    if (ctx.inputMasks && ctx.inputMasks.length > 1) {
      // One mask per gate: each gate sees its own dropped inputs.
      const xs = this.maskedInputs(x, ctx.inputMasks, 4);
      const ks = ops.split(kernel, 4, 1);
      z = ops.concatenate(xs.map((xi, g) => ops.matmul(xi, ks[g])), -1);
    } else {
      z = ops.matmul(this.maskedInputs(x, ctx.inputMasks, 1)[0], kernel);
    }
    return bias ? ops.add(z, bias) : z;
  }

  step(projected: Tensor, states: Tensor[], ctx: StepContext): StepResult {
    const [hPrev, cPrev] = states;
    const r = ctx.weights.recurrentKernel;
    let zi: Tensor, zf: Tensor, zc: Tensor, zo: Tensor;
    if (ctx.recurrentMasks) {
      const xs = ops.split(projected, 4, -1);
      const rs = ops.split(r, 4, 1);
      [zi, zf, zc, zo] = xs.map((xg, g) => ops.add(xg, ops.matmul(ops.multiply(hPrev, ctx.recurrentMasks![Math.min(g, ctx.recurrentMasks!.length - 1)]), rs[g])));
    } else {
      [zi, zf, zc, zo] = ops.split(ops.add(projected, ops.matmul(hPrev, r)), 4, -1);
    }
    const i = this.recurrentActivation(zi);
    const f = this.recurrentActivation(zf);
    const c = ops.add(ops.multiply(f, cPrev), ops.multiply(i, this.activation(zc)));
    const o = this.recurrentActivation(zo);
    const h = ops.multiply(o, this.activation(c));
    return { output: h, states: [h, c] };
  }

  override getConfig(): Config {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: activations.serialize(this.activation),
      recurrent_activation: activations.serialize(this.recurrentActivation),
      use_bias: this.useBias,
      unit_forget_bias: this.unitForgetBias,
      ...this.commonConfig(),
      seed: this.seed,
    };
  }

  static override fromConfig(config: Config): LSTMCell {
    return new LSTMCell(config.units as number, { ...baseOptionsFromConfig(config), ...lstmCellOptionsFromConfig(config) });
  }
}
registerBuiltin('keras.layers', LSTMCell);

function lstmCellOptionsFromConfig(config: Config): LSTMCellOptions {
  return {
    ...cellOptionsFromConfig(config),
    recurrentActivation: config.recurrent_activation as activations.ActivationIdentifier | undefined,
    unitForgetBias: (config.unit_forget_bias as boolean | undefined) ?? undefined,
  };
}

export type LSTMOptions = LSTMCellOptions & RNNOptions;

/** Long Short-Term Memory layer (keras.layers.LSTM). Its weights live in `cell` (an LSTMCell named 'lstm_cell'). */
export class LSTM extends RNN {
  static override readonly className: string = 'LSTM';
  declare readonly cell: LSTMCell;

  constructor(units: number, options: LSTMOptions = {}) {
    const { rnn, cell } = splitRNNOptions(options);
    super(new LSTMCell(units, { ...cell, name: 'lstm_cell' }), rnn);
  }

  get units(): number {
    return this.cell.units;
  }

  override getConfig(): Config {
    return flatLayerConfig(this, super.getConfig(), [
      'units', 'activation', 'recurrent_activation', 'use_bias', 'kernel_initializer', 'recurrent_initializer', 'bias_initializer', 'unit_forget_bias',
      'kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer', 'activity_regularizer',
      'kernel_constraint', 'recurrent_constraint', 'bias_constraint', 'dropout', 'recurrent_dropout', 'seed',
    ]);
  }

  static override fromConfig(config: Config): LSTM {
    return new LSTM(config.units as number, { ...baseOptionsFromConfig(config), ...lstmCellOptionsFromConfig(config), ...rnnOptionsFromConfig(config) });
  }
}
registerBuiltin('keras.layers', LSTM);
