/** Dense: `activation(inputs @ kernel + bias)` over the last axis. */
import type { Tensor } from '../../tensor/tensor.ts';
import type { Variable } from '../../engine/variable.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import * as activations from '../../activations/index.ts';
import * as initializers from '../../initializers/index.ts';
import * as regularizers from '../../regularizers/index.ts';
import * as constraints from '../../constraints/index.ts';
import { InputSpec } from '../input-spec.ts';
import { type InputShape, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import type { Shape } from '../../tensor/shape.ts';

export interface DenseOptions extends LayerOptions {
  activation?: activations.ActivationIdentifier;
  useBias?: boolean;
  kernelInitializer?: initializers.InitializerIdentifier;
  biasInitializer?: initializers.InitializerIdentifier;
  kernelRegularizer?: regularizers.RegularizerIdentifier;
  biasRegularizer?: regularizers.RegularizerIdentifier;
  kernelConstraint?: constraints.ConstraintIdentifier;
  biasConstraint?: constraints.ConstraintIdentifier;
}

export class Dense extends Layer {
  static override readonly className = 'Dense';
  readonly units: number;
  readonly activation: activations.Activation;
  readonly useBias: boolean;
  readonly kernelInitializer: initializers.Initializer;
  readonly biasInitializer: initializers.Initializer;
  readonly kernelRegularizer: regularizers.Regularizer | null;
  readonly biasRegularizer: regularizers.Regularizer | null;
  readonly kernelConstraint: constraints.Constraint | null;
  readonly biasConstraint: constraints.Constraint | null;
  kernel!: Variable;
  bias: Variable | null = null;

  constructor(units: number, options: DenseOptions = {}) {
    super(options);
    if (!Number.isInteger(units) || units <= 0) throw new Error(`Dense '${this.name}': units must be a positive integer. Received: units=${units}`);
    this.units = units;
    this.activation = activations.get(options.activation ?? null);
    this.useBias = options.useBias ?? true;
    this.kernelInitializer = initializers.get(options.kernelInitializer ?? 'glorot_uniform');
    this.biasInitializer = initializers.get(options.biasInitializer ?? 'zeros');
    this.kernelRegularizer = regularizers.get(options.kernelRegularizer ?? null);
    this.biasRegularizer = regularizers.get(options.biasRegularizer ?? null);
    this.kernelConstraint = constraints.get(options.kernelConstraint ?? null);
    this.biasConstraint = constraints.get(options.biasConstraint ?? null);
    this.inputSpec = new InputSpec({ minNdim: 2 });
    this.supportsMasking = true;
  }

  override build(inputShape: InputShape): void {
    const shape = inputShape as Shape;
    const inputDim = shape.at(-1);
    if (inputDim === null || inputDim === undefined) {
      throw new Error(`Dense '${this.name}': the last dimension of the input must be known. Received input shape ${JSON.stringify(shape)}.`);
    }
    this.kernel = this.addWeight({ name: 'kernel', shape: [inputDim, this.units], initializer: this.kernelInitializer, regularizer: this.kernelRegularizer, constraint: this.kernelConstraint });
    if (this.useBias) {
      this.bias = this.addWeight({ name: 'bias', shape: [this.units], initializer: this.biasInitializer, regularizer: this.biasRegularizer, constraint: this.biasConstraint });
    }
    this.inputSpec = new InputSpec({ minNdim: 2, axes: { [-1]: inputDim } });
  }

  override call(inputs: Tensor): Tensor {
    let y = ops.matmul(inputs, this.kernel);
    if (this.bias) y = ops.add(y, this.bias);
    return this.activation(y);
  }

  override getConfig(): Config {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: activations.serialize(this.activation),
      use_bias: this.useBias,
      kernel_initializer: initializers.serialize(this.kernelInitializer),
      bias_initializer: initializers.serialize(this.biasInitializer),
      kernel_regularizer: regularizers.serialize(this.kernelRegularizer),
      bias_regularizer: regularizers.serialize(this.biasRegularizer),
      kernel_constraint: constraints.serialize(this.kernelConstraint),
      bias_constraint: constraints.serialize(this.biasConstraint),
      quantization_config: null,
    };
  }

  static override fromConfig(config: Config): Dense {
    return new Dense(config.units as number, {
      ...baseOptionsFromConfig(config),
      activation: config.activation as activations.ActivationIdentifier,
      useBias: (config.use_bias as boolean | undefined) ?? true,
      kernelInitializer: config.kernel_initializer as initializers.InitializerIdentifier,
      biasInitializer: config.bias_initializer as initializers.InitializerIdentifier,
      kernelRegularizer: config.kernel_regularizer as regularizers.RegularizerIdentifier,
      biasRegularizer: config.bias_regularizer as regularizers.RegularizerIdentifier,
      kernelConstraint: config.kernel_constraint as constraints.ConstraintIdentifier,
      biasConstraint: config.bias_constraint as constraints.ConstraintIdentifier,
    });
  }
}
registerBuiltin('keras.layers', Dense);
