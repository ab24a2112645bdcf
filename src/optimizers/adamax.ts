/**
 * Adamax (keras/src/optimizers/adamax.py): Adam with the infinity norm.
 *
 * `m += (g - m) * (1 - beta1)`, `u = max(beta2 * u, |g|)`,
 * `w -= lr * m / ((1 - beta1^t) * (u + epsilon))` with `t = iterations + 1`.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { scalar } from '../tensor/create.ts';
import type { Variable } from '../engine/variable.ts';
import * as ops from '../ops/index.ts';
import { Optimizer, type OptimizerOptions } from './optimizer.ts';

export interface AdamaxOptions extends OptimizerOptions {
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7. */
  epsilon?: number;
}

export class Adamax extends Optimizer {
  static override readonly className: string = 'Adamax';
  static override readonly ownConfigKeys = [
    ['beta_1', 'beta1'],
    ['beta_2', 'beta2'],
    ['epsilon', 'epsilon'],
  ] as const;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private m: Variable[] = [];
  private u: Variable[] = [];

  /** Learning rate default 0.001. */
  constructor(options: AdamaxOptions = {}) {
    super(options, 0.001);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-7;
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    super.build(variables);
    [this.m, this.u] = this.addOptimizerVariables(variables, ['momentum', 'norm']);
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    const { g, lr } = this.castToVariable(gradient, variable, learningRate);
    const dtype = variable.dtype;
    const t = ops.cast(ops.add(this.currentIterations(), 1), dtype);
    const beta1Power = ops.power(scalar(this.beta1, dtype), t);
    const i = this.variableIndex(variable);
    const m = this.m[i];
    const u = this.u[i];
    m.assignAdd(ops.multiply(ops.subtract(g, m.value), 1 - this.beta1));
    u.assign(ops.maximum(ops.multiply(this.beta2, u.value), ops.abs(g)));
    variable.assignSub(ops.divide(ops.multiply(lr, m.value), ops.multiply(ops.subtract(1, beta1Power), ops.add(u.value, this.epsilon))));
  }
}
