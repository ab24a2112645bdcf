/**
 * Adadelta (keras/src/optimizers/adadelta.py).
 *
 * `accG = rho * accG + (1 - rho) * g^2`,
 * `delta = -sqrt(accD + eps) * g / sqrt(accG + eps)`,
 * `accD = rho * accD + (1 - rho) * delta^2`, `w += lr * delta`.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { Variable } from '../engine/variable.ts';
import * as ops from '../ops/index.ts';
import { Optimizer, type OptimizerOptions } from './optimizer.ts';

export interface AdadeltaOptions extends OptimizerOptions {
  /** Decay rate. Default 0.95. */
  rho?: number;
  /** Default 1e-7. */
  epsilon?: number;
}

export class Adadelta extends Optimizer {
  static override readonly className: string = 'Adadelta';
  static override readonly ownConfigKeys = [
    ['rho', 'rho'],
    ['epsilon', 'epsilon'],
  ] as const;
  readonly rho: number;
  readonly epsilon: number;
  private accumulatedGrads: Variable[] = [];
  private accumulatedDeltaVars: Variable[] = [];

  /** Learning rate default 0.001 (the paper's form uses 1.0). */
  constructor(options: AdadeltaOptions = {}) {
    super(options, 0.001);
    this.rho = options.rho ?? 0.95;
    this.epsilon = options.epsilon ?? 1e-7;
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    super.build(variables);
    [this.accumulatedGrads, this.accumulatedDeltaVars] = this.addOptimizerVariables(variables, ['accumulated_grad', 'accumulated_delta_var']);
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    const { g, lr } = this.castToVariable(gradient, variable, learningRate);
    const i = this.variableIndex(variable);
    const accGrad = this.accumulatedGrads[i];
    const accDelta = this.accumulatedDeltaVars[i];
    const rho = this.rho;
    const rms = (x: Tensor) => ops.sqrt(ops.add(x, this.epsilon));
    accGrad.assign(ops.add(ops.multiply(rho, accGrad.value), ops.multiply(1 - rho, ops.square(g))));
    const delta = ops.negative(ops.divide(ops.multiply(rms(accDelta.value), g), rms(accGrad.value)));
    accDelta.assign(ops.add(ops.multiply(rho, accDelta.value), ops.multiply(1 - rho, ops.square(delta))));
    variable.assignAdd(ops.multiply(lr, delta));
  }
}
