/** Activation: applies an activation function (by name or as a function). */
import type { Tensor } from '../../tensor/tensor.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import * as activations from '../../activations/index.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

export class Activation extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  static override readonly className = 'Activation';
  readonly activation: activations.Activation;

  constructor(activation: activations.ActivationIdentifier, options: LayerOptions = {}) {
    super(options);
    this.activation = activations.get(activation);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor): Tensor {
    return this.activation(inputs);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), activation: activations.serialize(this.activation) };
  }

  static override fromConfig(config: Config): Activation {
    return new Activation(config.activation as activations.ActivationIdentifier, baseOptionsFromConfig(config));
  }
}
registerBuiltin('keras.layers', Activation);
