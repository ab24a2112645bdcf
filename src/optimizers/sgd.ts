/**
 * SGD with optional (Nesterov) momentum (keras/src/optimizers/sgd.py).
 *
 * Without momentum: `w -= lr * g`. With momentum:
 * `m = momentum * m - lr * g; w += m`, or with Nesterov
 * `w += momentum * m - lr * g` (the updated `m`).
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { Variable } from '../engine/variable.ts';
import * as ops from '../ops/index.ts';
import { Optimizer, type OptimizerOptions } from './optimizer.ts';

export interface SGDOptions extends OptimizerOptions {
  /** In [0, 1]. Default 0 (plain gradient descent; no momentum slots). */
  momentum?: number;
  /** Default false. */
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  static override readonly className: string = 'SGD';
  static override readonly ownConfigKeys = [
    ['momentum', 'momentum'],
    ['nesterov', 'nesterov'],
  ] as const;
  readonly momentum: number;
  readonly nesterov: boolean;
  private momentums: Variable[] = [];

  /** Learning rate default 0.01. */
  constructor(options: SGDOptions = {}) {
    super(options, 0.01);
    const momentum = options.momentum ?? 0.0;
    if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) {
      throw new RangeError(`SGD: \`momentum\` must be a float between [0, 1]. Received: momentum=${String(momentum)}`);
    }
    this.momentum = momentum;
    this.nesterov = options.nesterov ?? false;
  }

  override build(variables: readonly Variable[]): void {
    if (this.built) return;
    super.build(variables);
    this.momentums = this.momentum !== 0 ? variables.map((v) => this.addVariableFromReference(v, 'momentum')) : [];
  }

  updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void {
    const { g, lr } = this.castToVariable(gradient, variable, learningRate);
    if (this.momentum === 0) {
      variable.assignSub(ops.multiply(g, lr));
      return;
    }
    const m = this.momentums[this.variableIndex(variable)];
    m.assign(ops.subtract(ops.multiply(m.value, this.momentum), ops.multiply(g, lr)));
    if (this.nesterov) variable.assignAdd(ops.subtract(ops.multiply(m.value, this.momentum), ops.multiply(g, lr)));
    else variable.assignAdd(m.value);
  }
}
