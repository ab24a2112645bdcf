/** Identity: returns its input unchanged (a placeholder layer); masks pass through. */
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

export class Identity extends Layer {
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
