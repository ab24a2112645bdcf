/**
 * Lion (keras/src/optimizers/lion.py; Chen et al., 2023).
 *
 * `w -= lr * sign(beta1 * m + (1 - beta1) * g)`, then
 * `m = beta2 * m + (1 - beta2) * g`.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { Variable } from '../engine/variable.ts';
import * as ops from '../ops/index.ts';
import { Optimizer, type OptimizerOptions } from './optimizer.ts';

export interface LionOptions extends OptimizerOptions {
  /** In (0, 1]. Default 0.9. */
  beta1?: number;
  /** Default 0.99. */
  beta2?: number;
}

export class Lion extends Optimizer {
  static override readonly className: string = 'Lion';
  static override readonly ownConfigKeys = [
    ['beta_1', 'beta1'],
    ['beta_2', 'beta2'],
  ] as const;
  readonly beta1: number;
  readonly beta2: number;
  private momentums: Variable[] = [];

  /** Learning rate default 0.001. */
  constructor(options: LionOptions = {}) {
    super(options, 0.001);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.99;
    if (!(this.beta1 > 0 && this.beta1 <= 1)) {
      throw new RangeError(`Lion: Argument \`beta_1\` must be in the [0, 1] range. Otherwise, the optimizer degenerates to SignSGD. Received: beta_1=${this.beta1}.`);
    }
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    super.build(variables);
    [this.momentums] = this.addOptimizerVariables(variables, ['momentum']);
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    const { g, lr } = this.castToVariable(gradient, variable, learningRate);
    const m = this.momentums[this.variableIndex(variable)];
    const b1 = this.beta1;
    const b2 = this.beta2;
    variable.assignSub(ops.multiply(lr, ops.sign(ops.add(ops.multiply(m.value, b1), ops.multiply(g, 1 - b1)))));
    m.assign(ops.add(ops.multiply(m.value, b2), ops.multiply(g, 1 - b2)));
  }
}
