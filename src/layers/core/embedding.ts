/**
 * Embedding: maps non-negative integer indices (of any rank) to dense
 * vectors, `embeddings[inputs]`; the output has shape `[...inputs.shape,
 * outputDim]`. Float inputs are cast to int32 (as Keras does). With
 * `maskZero`, index 0 is padding: the output mask is `inputs != 0`.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import type { Variable } from '../../engine/variable.ts';
import type { TensorLike } from '../../ops/convert.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import * as initializers from '../../initializers/index.ts';
import * as regularizers from '../../regularizers/index.ts';
import * as constraints from '../../constraints/index.ts';
import { describe } from '../../tensor/shape.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

export interface EmbeddingOptions extends LayerOptions {
  /** Default 'uniform' (RandomUniform in [-0.05, 0.05]). */
  embeddingsInitializer?: initializers.InitializerIdentifier;
  embeddingsRegularizer?: regularizers.RegularizerIdentifier;
  embeddingsConstraint?: constraints.ConstraintIdentifier;
  /** Treat index 0 as padding and output a mask (default false). */
  maskZero?: boolean;
  /** Initial embeddings, shape [inputDim, outputDim] (builds the layer at construction). */
  weights?: Tensor | TensorLike;
}

export class Embedding extends Layer {
  static override readonly className = 'Embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly embeddingsInitializer: initializers.Initializer;
  readonly embeddingsRegularizer: regularizers.Regularizer | null;
  readonly embeddingsConstraint: constraints.Constraint | null;
  readonly maskZero: boolean;
  embeddings!: Variable;

  constructor(inputDim: number, outputDim: number, options: EmbeddingOptions = {}) {
    super(options);
    const where = `Embedding '${this.name}'`;
    if (!Number.isInteger(inputDim) || inputDim <= 0) throw new Error(`${where}: inputDim must be a positive integer. Received: inputDim=${describe(inputDim)}`);
    if (!Number.isInteger(outputDim) || outputDim <= 0) throw new Error(`${where}: outputDim must be a positive integer. Received: outputDim=${describe(outputDim)}`);
    this.inputDim = inputDim;
    this.outputDim = outputDim;
    this.embeddingsInitializer = initializers.get(options.embeddingsInitializer ?? 'uniform');
    this.embeddingsRegularizer = regularizers.get(options.embeddingsRegularizer ?? null);
    this.embeddingsConstraint = constraints.get(options.embeddingsConstraint ?? null);
    this.maskZero = options.maskZero ?? false;
    if (typeof this.maskZero !== 'boolean') throw new Error(`${where}: maskZero must be a boolean. Received: maskZero=${describe(options.maskZero)}`);
    this.supportsMasking = this.maskZero;
    // Integer indices must not be cast to the compute dtype.
    this.autocastInputs = false;
    if (options.weights !== undefined) {
      this.buildFromShape([null]);
      this.setWeights([options.weights]);
    }
  }

  override build(): void {
    this.embeddings = this.addWeight({
      name: 'embeddings',
      shape: [this.inputDim, this.outputDim],
      initializer: this.embeddingsInitializer,
      regularizer: this.embeddingsRegularizer,
      constraint: this.embeddingsConstraint,
    });
  }

  override call(inputs: Tensor): Tensor {
    const indices = inputs.dtype === 'int32' ? inputs : ops.cast(inputs, 'int32');
    const out = ops.take(this.embeddings, indices, 0);
    return out.dtype === this.computeDtype ? out : ops.cast(out, this.computeDtype);
  }

  override computeMask(inputs: unknown): Tensor | null {
    return this.maskZero ? ops.notEqual(inputs as Tensor, 0) : null;
  }

  override getConfig(): Config {
    return {
      ...super.getConfig(),
      input_dim: this.inputDim,
      output_dim: this.outputDim,
      embeddings_initializer: initializers.serialize(this.embeddingsInitializer),
      embeddings_regularizer: regularizers.serialize(this.embeddingsRegularizer),
      activity_regularizer: regularizers.serialize(this.activityRegularizer),
      embeddings_constraint: constraints.serialize(this.embeddingsConstraint),
      mask_zero: this.maskZero,
      quantization_config: null,
    };
  }

  static override fromConfig(config: Config): Embedding {
    if (config.quantization_config !== undefined && config.quantization_config !== null) {
      throw new Error(`Embedding '${String(config.name)}': quantized embeddings (quantization_config) are not supported.`);
    }
    if (config.lora_rank) throw new Error(`Embedding '${String(config.name)}': LoRA (lora_rank) is not supported.`);
    return new Embedding(config.input_dim as number, config.output_dim as number, {
      ...baseOptionsFromConfig(config),
      embeddingsInitializer: (config.embeddings_initializer as initializers.InitializerIdentifier) ?? 'uniform',
      embeddingsRegularizer: config.embeddings_regularizer as regularizers.RegularizerIdentifier,
      embeddingsConstraint: config.embeddings_constraint as constraints.ConstraintIdentifier,
      maskZero: (config.mask_zero as boolean | undefined) ?? false,
    });
  }
}
registerBuiltin('keras.layers', Embedding);
