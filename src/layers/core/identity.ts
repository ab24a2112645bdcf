/** Identity: returns its input unchanged (a placeholder layer); masks pass through. */
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

export class Identity extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  static override readonly className = 'Identity';

  constructor(options: LayerOptions = {}) {
    super(options);
    this.supportsMasking = true;
  }

  override call(inputs: unknown): unknown {
    return inputs;
  }

  static override fromConfig(config: Config): Identity {
    return new Identity(baseOptionsFromConfig(config));
  }
}
registerBuiltin('keras.layers', Identity);
