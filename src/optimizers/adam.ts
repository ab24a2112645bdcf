/**
 * Adam and AdamW (keras/src/optimizers/adam.py, adamw.py).
 *
 * `m += (g - m) * (1 - beta1)`, `v += (g^2 - v) * (1 - beta2)`,
 * `alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)` with `t = iterations + 1`,
 * `w -= alpha * m / (sqrt(v) + epsilon)`; with `amsgrad`, `v_hat = max(v_hat, v)`
 * replaces `v` in the denominator. AdamW is Adam with decoupled weight decay
 * on by default (0.004).
 */
import type { Tensor } from '../tensor/tensor.ts';
import { scalar } from '../tensor/create.ts';
import type { Variable } from '../engine/variable.ts';
import * as ops from '../ops/index.ts';
import { Optimizer, type OptimizerOptions } from './optimizer.ts';

export interface AdamOptions extends OptimizerOptions {
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7. */
  epsilon?: number;
  /** Default false. */
  amsgrad?: boolean;
}

export class Adam extends Optimizer {
  static override readonly className: string = 'Adam';
  static override readonly ownConfigKeys = [
    ['beta_1', 'beta1'],
    ['beta_2', 'beta2'],
    ['epsilon', 'epsilon'],
    ['amsgrad', 'amsgrad'],
  ] as const;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly amsgrad: boolean;
  private momentums: Variable[] = [];
  private velocities: Variable[] = [];
  private velocityHats: Variable[] = [];

  /** Learning rate default 0.001. */
  constructor(options: AdamOptions = {}) {
    super(options, 0.001);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-7;
    this.amsgrad = options.amsgrad ?? false;
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    super.build(variables);
    [this.momentums, this.velocities] = this.addOptimizerVariables(variables, ['momentum', 'velocity']);
    if (this.amsgrad) [this.velocityHats] = this.addOptimizerVariables(variables, ['velocity_hat']);
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    const { g, lr } = this.castToVariable(gradient, variable, learningRate);
    const dtype = variable.dtype;
    const t = ops.cast(ops.add(this.currentIterations(), 1), dtype);
    const beta1Power = ops.power(scalar(this.beta1, dtype), t);
    const beta2Power = ops.power(scalar(this.beta2, dtype), t);
    const i = this.variableIndex(variable);
    const m = this.momentums[i];
    let v = this.velocities[i];
    const alpha = ops.divide(ops.multiply(lr, ops.sqrt(ops.subtract(1, beta2Power))), ops.subtract(1, beta1Power));
    m.assignAdd(ops.multiply(ops.subtract(g, m.value), 1 - this.beta1));
    v.assignAdd(ops.multiply(ops.subtract(ops.square(g), v.value), 1 - this.beta2));
    if (this.amsgrad) {
      const vHat = this.velocityHats[i];
      vHat.assign(ops.maximum(vHat.value, v.value));
      v = vHat;
    }
    variable.assignSub(ops.divide(ops.multiply(m.value, alpha), ops.add(ops.sqrt(v.value), this.epsilon)));
  }
}

export interface AdamWOptions extends AdamOptions {
  /** Default 0.004 (must not be null). */
  weightDecay?: number;
}

export class AdamW extends Adam {
  static override readonly className: string = 'AdamW';

  constructor(options: AdamWOptions = {}) {
    if (options.weightDecay === null) throw new TypeError('AdamW: Argument `weight_decay` must be a float. Received: weight_decay=null');
    super({ ...options, weightDecay: options.weightDecay ?? 0.004 });
  }
}
