/**
 * RMSprop (keras/src/optimizers/rmsprop.py).
 *
 * `velocity = rho * velocity + (1 - rho) * g^2`; centered:
 * `avg = rho * avg + (1 - rho) * g`, denominator `velocity - avg^2 + epsilon`,
 * else `velocity + epsilon`; `increment = lr * g / sqrt(denominator)`;
 * with momentum `m = momentum * m + increment; w -= m`, else `w -= increment`.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { Variable } from '../engine/variable.ts';
import * as ops from '../ops/index.ts';
import { Optimizer, type OptimizerOptions } from './optimizer.ts';

export interface RMSpropOptions extends OptimizerOptions {
  /** Discount of the squared-gradient average. Default 0.9. */
  rho?: number;
  /** Default 0 (no momentum slots). */
  momentum?: number;
  /** Default 1e-7. */
  epsilon?: number;
  /** Normalize by the estimated variance of the gradient. Default false. */
  centered?: boolean;
}

export class RMSprop extends Optimizer {
  static override readonly className: string = 'RMSprop';
  static override readonly ownConfigKeys = [
    ['rho', 'rho'],
    ['momentum', 'momentum'],
    ['epsilon', 'epsilon'],
    ['centered', 'centered'],
  ] as const;
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;
  private velocities: Variable[] = [];
  private momentums: Variable[] = [];
  private averageGradients: Variable[] = [];

  /** Learning rate default 0.001. */
  constructor(options: RMSpropOptions = {}) {
    super(options, 0.001);
    this.rho = options.rho ?? 0.9;
    this.momentum = options.momentum ?? 0.0;
    this.epsilon = options.epsilon ?? 1e-7;
    this.centered = options.centered ?? false;
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    super.build(variables);
    // Keras creates each kind of slot for all variables in turn (not interleaved).
    [this.velocities] = this.addOptimizerVariables(variables, ['velocity']);
    this.momentums = this.momentum > 0 ? this.addOptimizerVariables(variables, ['momentum'])[0] : [];
    this.averageGradients = this.centered ? this.addOptimizerVariables(variables, ['average_gradient'])[0] : [];
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    const { g, lr } = this.castToVariable(gradient, variable, learningRate);
    const i = this.variableIndex(variable);
    const velocity = this.velocities[i];
    const rho = this.rho;
    velocity.assign(ops.add(ops.multiply(rho, velocity.value), ops.multiply(1 - rho, ops.square(g))));
    let denominator: Tensor;
    if (this.centered) {
      const avg = this.averageGradients[i];
      avg.assign(ops.add(ops.multiply(rho, avg.value), ops.multiply(1 - rho, g)));
      denominator = ops.add(ops.subtract(velocity.value, ops.square(avg.value)), this.epsilon);
    } else {
      denominator = ops.add(velocity.value, this.epsilon);
    }
    const increment = ops.divide(ops.multiply(lr, g), ops.sqrt(denominator));
    if (this.momentum > 0) {
      const m = this.momentums[i];
      m.assign(ops.add(ops.multiply(this.momentum, m.value), increment));
      variable.assignSub(m.value);
    } else {
      variable.assignSub(increment);
    }
  }
}
