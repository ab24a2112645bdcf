/**
 * Adagrad (keras/src/optimizers/adagrad.py).
 *
 * `acc += g^2; w -= lr * g / sqrt(acc + epsilon)`, accumulators starting at
 * `initialAccumulatorValue`.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { Variable } from '../engine/variable.ts';
import * as ops from '../ops/index.ts';
import { Constant } from '../initializers/constant.ts';
import { Optimizer, type OptimizerOptions } from './optimizer.ts';

export interface AdagradOptions extends OptimizerOptions {
  /** Starting value of the accumulators (>= 0). Default 0.1. */
  initialAccumulatorValue?: number;
  /** Default 1e-7. */
  epsilon?: number;
}

export class Adagrad extends Optimizer {
  static override readonly className: string = 'Adagrad';
  static override readonly ownConfigKeys = [
    ['initial_accumulator_value', 'initialAccumulatorValue'],
    ['epsilon', 'epsilon'],
  ] as const;
  readonly initialAccumulatorValue: number;
  readonly epsilon: number;
  private accumulators_: Variable[] = [];

  /** Learning rate default 0.001. */
  constructor(options: AdagradOptions = {}) {
    super(options, 0.001);
    this.initialAccumulatorValue = options.initialAccumulatorValue ?? 0.1;
    if (!(this.initialAccumulatorValue >= 0)) {
      throw new RangeError(`Adagrad: \`initial_accumulator_value\` must be non-negative. Received: initial_accumulator_value=${this.initialAccumulatorValue}`);
    }
    this.epsilon = options.epsilon ?? 1e-7;
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    super.build(variables);
    [this.accumulators_] = this.addOptimizerVariables(variables, ['accumulator'], new Constant(this.initialAccumulatorValue));
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    const { g, lr } = this.castToVariable(gradient, variable, learningRate);
    const acc = this.accumulators_[this.variableIndex(variable)];
    acc.assignAdd(ops.square(g));
    variable.assignSub(ops.divide(ops.multiply(lr, g), ops.sqrt(ops.add(acc.value, this.epsilon))));
  }
}
