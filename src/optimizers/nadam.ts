/**
 * Nadam: Adam with Nesterov momentum (keras/src/optimizers/nadam.py).
 *
 * With `t = iterations + 1`, `u_t = beta1 * (1 - 0.5 * 0.96^t)`,
 * `u_{t+1} = beta1 * (1 - 0.5 * 0.96^(t+1))` and the running product
 * `u_product` (updated once per step, before the variables):
 * `m += (g - m) * (1 - beta1)`, `v += (g^2 - v) * (1 - beta2)`,
 * `m_hat = u_{t+1} * m / (1 - u_product * u_{t+1}) + (1 - u_t) * g / (1 - u_product)`,
 * `v_hat = v / (1 - beta2^t)`, `w -= lr * m_hat / (sqrt(v_hat) + epsilon)`.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { scalar } from '../tensor/create.ts';
import type { Variable } from '../engine/variable.ts';
import * as ops from '../ops/index.ts';
import { Optimizer, type OptimizerOptions } from './optimizer.ts';

export interface NadamOptions extends OptimizerOptions {
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7. */
  epsilon?: number;
}

export class Nadam extends Optimizer {
  static override readonly className: string = 'Nadam';
  static override readonly ownConfigKeys = [
    ['beta_1', 'beta1'],
    ['beta_2', 'beta2'],
    ['epsilon', 'epsilon'],
  ] as const;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private momentums: Variable[] = [];
  private velocities: Variable[] = [];
  /** The running product of the momentum schedule (a scalar, after the slots in `variables`, as Keras). */
  private uProduct: Variable | null = null;

  /** Learning rate default 0.001. */
  constructor(options: NadamOptions = {}) {
    super(options, 0.001);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-7;
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    const dtype = variables.length > 0 ? variables[0].dtype : 'float32';
    super.build(variables);
    [this.momentums, this.velocities] = this.addOptimizerVariables(variables, ['momentum', 'velocity']);
    this.uProduct = this.addVariable([], { name: 'u_product', dtype, initializer: 'ones' });
  }

  protected override updateSteps(grads: readonly Tensor[], variables: readonly Variable[], learningRate: Tensor): void {
    const u = this.uProduct!;
    const t = ops.cast(ops.add(this.currentIterations(), 1), u.dtype);
    u.assign(ops.multiply(ops.multiply(u.value, this.beta1), ops.subtract(1, ops.multiply(0.5, ops.power(scalar(0.96, u.dtype), t)))));
    super.updateSteps(grads, variables, learningRate);
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    const { g, lr } = this.castToVariable(gradient, variable, learningRate);
    const dtype = variable.dtype;
    const it = this.currentIterations();
    const t = ops.cast(ops.add(it, 1), dtype);
    const next = ops.cast(ops.add(it, 2), dtype);
    const decay = scalar(0.96, dtype);
    const beta1 = this.beta1;
    const uT = ops.multiply(beta1, ops.subtract(1, ops.multiply(0.5, ops.power(decay, t))));
    const uT1 = ops.multiply(beta1, ops.subtract(1, ops.multiply(0.5, ops.power(decay, next))));
    const uProductT = ops.cast(this.uProduct!.value, dtype);
    const uProductT1 = ops.multiply(uProductT, uT1);
    const beta2Power = ops.power(scalar(this.beta2, dtype), t);
    const i = this.variableIndex(variable);
    const m = this.momentums[i];
    const v = this.velocities[i];
    m.assignAdd(ops.multiply(ops.subtract(g, m.value), 1 - beta1));
    v.assignAdd(ops.multiply(ops.subtract(ops.square(g), v.value), 1 - this.beta2));
    const mHat = ops.add(ops.divide(ops.multiply(uT1, m.value), ops.subtract(1, uProductT1)), ops.divide(ops.multiply(ops.subtract(1, uT), g), ops.subtract(1, uProductT)));
    const vHat = ops.divide(v.value, ops.subtract(1, beta2Power));
    variable.assignSub(ops.divide(ops.multiply(mHat, lr), ops.add(ops.sqrt(vHat), this.epsilon)));
  }
}
