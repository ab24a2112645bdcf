/**
 * PReLU: x for x >= 0, `alpha * x` otherwise, with `alpha` a learned weight
 * of the input's shape (without the batch dim); `sharedAxes` (1-based, as in
 * Keras) share one alpha along those axes.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { type Shape, describe, formatShape } from '../../tensor/shape.ts';
import type { Variable } from '../../engine/variable.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import * as initializers from '../../initializers/index.ts';
import * as regularizers from '../../regularizers/index.ts';
import * as constraints from '../../constraints/index.ts';
import { InputSpec } from '../input-spec.ts';
import { type InputShape, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

export interface PReLUOptions extends LayerOptions {
  /** Default 'Zeros'. */
  alphaInitializer?: initializers.InitializerIdentifier;
  alphaRegularizer?: regularizers.RegularizerIdentifier;
  alphaConstraint?: constraints.ConstraintIdentifier;
  /** Axes (1-based; the batch axis is 0) along which alpha is shared. */
  sharedAxes?: number | readonly number[] | null;
}

export class PReLU extends Layer {
  static override readonly className = 'PReLU';
  readonly alphaInitializer: initializers.Initializer;
  readonly alphaRegularizer: regularizers.Regularizer | null;
  readonly alphaConstraint: constraints.Constraint | null;
  readonly sharedAxes: number[] | null;
  alpha!: Variable;

  constructor(options: PReLUOptions = {}) {
    super(options);
    this.alphaInitializer = initializers.get(options.alphaInitializer ?? 'Zeros');
    this.alphaRegularizer = regularizers.get(options.alphaRegularizer ?? null);
    this.alphaConstraint = constraints.get(options.alphaConstraint ?? null);
    const shared = options.sharedAxes ?? null;
    if (shared === null) this.sharedAxes = null;
    else {
      const list = typeof shared === 'number' ? [shared] : shared;
      if (!Array.isArray(list) || !list.every((a) => Number.isInteger(a) && a >= 1)) {
        throw new Error(`PReLU '${this.name}': sharedAxes must be an axis or a list of axes >= 1 (the batch axis 0 is always excluded). Received: sharedAxes=${describe(shared)}`);
      }
      this.sharedAxes = [...list];
    }
    this.supportsMasking = true;
  }

  override build(inputShape: InputShape): void {
    const shape = inputShape as Shape;
    const where = `PReLU '${this.name}'`;
    if (shape.length < 2) throw new Error(`${where}: the input needs a batch dim and at least one more dim. Received input shape ${formatShape(shape)}.`);
    const shared = new Set(this.sharedAxes ?? []);
    for (const a of shared) {
      if (a >= shape.length) throw new Error(`${where}: sharedAxes ${JSON.stringify(this.sharedAxes)} has axis ${a}, but the input has rank ${shape.length} (shape ${formatShape(shape)}).`);
    }
    const paramShape = shape.slice(1).map((d, i) => (shared.has(i + 1) ? 1 : d));
    if (paramShape.some((d) => d === null)) {
      throw new Error(`${where}: every non-shared dim of the input must be known to create alpha. Received input shape ${formatShape(shape)} with sharedAxes=${JSON.stringify(this.sharedAxes)}.`);
    }
    this.alpha = this.addWeight({ name: 'alpha', shape: paramShape as number[], initializer: this.alphaInitializer, regularizer: this.alphaRegularizer, constraint: this.alphaConstraint });
    const axes: Record<number, number> = {};
    for (let i = 1; i < shape.length; i++) if (!shared.has(i)) axes[i] = shape[i] as number;
    this.inputSpec = new InputSpec({ ndim: shape.length, axes });
  }

  override call(inputs: Tensor): Tensor {
    return ops.subtract(ops.relu(inputs), ops.multiply(this.alpha, ops.relu(ops.negative(inputs))));
  }

  override getConfig(): Config {
    return {
      ...super.getConfig(),
      alpha_initializer: initializers.serialize(this.alphaInitializer),
      alpha_regularizer: regularizers.serialize(this.alphaRegularizer),
      alpha_constraint: constraints.serialize(this.alphaConstraint),
      shared_axes: this.sharedAxes ? [...this.sharedAxes] : null,
    };
  }

  static override fromConfig(config: Config): PReLU {
    return new PReLU({
      ...baseOptionsFromConfig(config),
      alphaInitializer: (config.alpha_initializer as initializers.InitializerIdentifier) ?? 'Zeros',
      alphaRegularizer: config.alpha_regularizer as regularizers.RegularizerIdentifier,
      alphaConstraint: config.alpha_constraint as constraints.ConstraintIdentifier,
      sharedAxes: (config.shared_axes as number[] | number | null | undefined) ?? null,
    });
  }
}
registerBuiltin('keras.layers', PReLU);
