/**
 * GRU and its cell (Cho et al. 2014), as in Keras 3. Gates z (update), r
 * (reset), h (candidate), in that order in the weights:
 *
 *     z = σ(x_z + h_{t-1} @ R_z)      r = σ(x_r + h_{t-1} @ R_r)   (x_g = x_t @ kernel_g + input_bias_g)
 *     resetAfter (default, cuDNN-compatible):  hh = activation(x_h + r * (h_{t-1} @ R_h + recurrent_bias_h))
 *     resetAfter false (the original GRU):     hh = activation(x_h + (r * h_{t-1}) @ R_h)
 *     h_t = z * h_{t-1} + (1 - z) * hh
 *
 * With resetAfter the recurrent part of z and r has its own bias too.
 * Weights: kernel (inputDim, 3u), recurrent_kernel (u, 3u), bias (2, 3u)
 * with resetAfter (row 0 the input bias, row 1 the recurrent bias), else (3u,).
 */
import type { Tensor } from '../../tensor/tensor.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import * as activations from '../../activations/index.ts';
import { type InputShape, baseOptionsFromConfig } from '../layer.ts';
import { RNN, RecurrentCell, type RecurrentCellOptions, type RNNOptions, type StepContext, type StepResult, cellOptionsFromConfig, flatLayerConfig, rnnOptionsFromConfig, splitRNNOptions } from './rnn-base.ts';

export interface GRUCellOptions extends RecurrentCellOptions {
  /** Activation of the update and reset gates (default 'sigmoid'). */
  recurrentActivation?: activations.ActivationIdentifier;
  /** Apply the reset gate after the recurrent matmul (default true, as in Keras 3 and cuDNN). */
  resetAfter?: boolean;
}

export class GRUCell extends RecurrentCell {
  static override readonly className: string = 'GRUCell';
  readonly recurrentActivation: activations.Activation;
  readonly resetAfter: boolean;

  constructor(units: number, options: GRUCellOptions = {}) {
    super(units, options);
    this.recurrentActivation = activations.get(options.recurrentActivation === undefined ? 'sigmoid' : options.recurrentActivation);
    this.resetAfter = options.resetAfter ?? true;
  }

  get stateSize(): number[] {
    return [this.units];
  }

  protected get gates(): number {
    return 3;
  }

  protected override get dropoutMaskCount(): number {
    return this.recurrentDropout !== 0 ? 3 : 1;
  }

  override build(inputShape: InputShape): void {
    this.buildKernels(this.inputDimOf(inputShape));
    if (this.useBias) this.addBias(this.resetAfter ? [2, 3 * this.units] : [3 * this.units]);
  }

  protected override readWeights(): Record<string, Tensor> {
    const w = super.readWeights();
    if (w.bias && this.resetAfter) {
      const [inputBias, recurrentBias] = ops.unstack(w.bias, { axis: 0 });
      w.inputBias = inputBias;
      w.recurrentBias = recurrentBias;
    } else if (w.bias) {
      w.inputBias = w.bias;
    }
    return w;
  }

  projectInputs(x: Tensor, ctx: StepContext): Tensor {
    const { kernel, inputBias } = ctx.weights;
    let z: Tensor;
    if (ctx.inputMasks && ctx.inputMasks.length > 1) {
      const xs = this.maskedInputs(x, ctx.inputMasks, 3);
      const ks = ops.split(kernel, 3, 1);
      z = ops.concatenate(xs.map((xi, g) => ops.matmul(xi, ks[g])), -1);
    } else {
      z = ops.matmul(this.maskedInputs(x, ctx.inputMasks, 1)[0], kernel);
    }
    return inputBias ? ops.add(z, inputBias) : z;
  }

  step(projected: Tensor, states: Tensor[], ctx: StepContext): StepResult {
    const hPrev = states[0];
    const { recurrentKernel, recurrentBias } = ctx.weights;
    const u = this.units;
    const [xz, xr, xh] = ops.split(projected, 3, -1);
    const masks = ctx.recurrentMasks;
    const hFor = (g: number) => (masks ? ops.multiply(hPrev, masks[Math.min(g, masks.length - 1)]) : hPrev);
    let rz: Tensor, rr: Tensor, rh: Tensor | null = null;
    if (masks) {
      // Keras's implementation 1: per-gate recurrent dropout, per-gate matmuls.
      const [kz, kr, kh] = ops.split(recurrentKernel, 3, 1);
      rz = ops.matmul(hFor(0), kz);
      rr = ops.matmul(hFor(1), kr);
      if (this.resetAfter) rh = ops.matmul(hFor(2), kh);
      if (this.resetAfter && recurrentBias) {
        const [bz, br, bh] = ops.split(recurrentBias, 3, 0);
        rz = ops.add(rz, bz);
        rr = ops.add(rr, br);
        rh = ops.add(rh!, bh);
      }
    } else if (this.resetAfter) {
      let inner = ops.matmul(hPrev, recurrentKernel);
      if (recurrentBias) inner = ops.add(inner, recurrentBias);
      [rz, rr, rh] = ops.split(inner, 3, -1);
    } else {
      const inner = ops.matmul(hPrev, ops.slice(recurrentKernel, [0, 0], [u, 2 * u]));
      [rz, rr] = ops.split(inner, 2, -1);
    }
    const z = this.recurrentActivation(ops.add(xz, rz));
    const r = this.recurrentActivation(ops.add(xr, rr));
    const recurrentH = this.resetAfter ? ops.multiply(r, rh!) : ops.matmul(ops.multiply(r, hFor(2)), ops.slice(recurrentKernel, [0, 2 * u], [u, u]));
    const hh = this.activation(ops.add(xh, recurrentH));
    // h = z * h_prev + (1 - z) * hh
    const h = ops.add(ops.multiply(z, hPrev), ops.multiply(ops.subtract(1, z), hh));
    return { output: h, states: [h] };
  }

  override getConfig(): Config {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: activations.serialize(this.activation),
      recurrent_activation: activations.serialize(this.recurrentActivation),
      use_bias: this.useBias,
      ...this.commonConfig(),
      reset_after: this.resetAfter,
      seed: this.seed,
    };
  }

  static override fromConfig(config: Config): GRUCell {
    return new GRUCell(config.units as number, { ...baseOptionsFromConfig(config), ...gruCellOptionsFromConfig(config) });
  }
}
registerBuiltin('keras.layers', GRUCell);

function gruCellOptionsFromConfig(config: Config): GRUCellOptions {
  return {
    ...cellOptionsFromConfig(config),
    recurrentActivation: config.recurrent_activation as activations.ActivationIdentifier | undefined,
    resetAfter: (config.reset_after as boolean | undefined) ?? undefined,
  };
}

export type GRUOptions = GRUCellOptions & RNNOptions;

/** Gated Recurrent Unit layer (keras.layers.GRU). Its weights live in `cell` (a GRUCell named 'gru_cell'). */
export class GRU extends RNN {
  static override readonly className: string = 'GRU';
  declare readonly cell: GRUCell;

  constructor(units: number, options: GRUOptions = {}) {
    const { rnn, cell } = splitRNNOptions(options);
    super(new GRUCell(units, { ...cell, name: 'gru_cell' }), rnn);
  }

  get units(): number {
    return this.cell.units;
  }

  get resetAfter(): boolean {
    return this.cell.resetAfter;
  }

  override getConfig(): Config {
    return flatLayerConfig(this, super.getConfig(), [
      'units', 'activation', 'recurrent_activation', 'use_bias', 'kernel_initializer', 'recurrent_initializer', 'bias_initializer',
      'kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer', 'activity_regularizer',
      'kernel_constraint', 'recurrent_constraint', 'bias_constraint', 'dropout', 'recurrent_dropout', 'reset_after', 'seed',
    ]);
  }

  static override fromConfig(config: Config): GRU {
    return new GRU(config.units as number, { ...baseOptionsFromConfig(config), ...gruCellOptionsFromConfig(config), ...rnnOptionsFromConfig(config) });
  }
}
registerBuiltin('keras.layers', GRU);
