/**
 * ELU: x for x > 0, `alpha * (exp(x) - 1)` otherwise (default alpha 1).
 * The config includes `alpha` (Keras 3's ELU omits it, losing a non-default
 * alpha; Keras reads the key back through its constructor argument).
 */
import type { Tensor } from '../../tensor/tensor.ts';
import * as activations from '../../activations/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { numberArg } from '../core/arguments.ts';

export interface ELUOptions extends LayerOptions {
  /** Scale of the negative part (default 1). */
  alpha?: number;
}

export class ELU extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  static override readonly className = 'ELU';
  readonly alpha: number;

  constructor(options: ELUOptions = {}) {
    super(options);
    this.alpha = numberArg(options.alpha ?? 1, 'alpha', `ELU '${this.name}'`);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor): Tensor {
    return activations.elu(inputs, this.alpha);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), alpha: this.alpha };
  }

  static override fromConfig(config: Config): ELU {
    return new ELU({ ...baseOptionsFromConfig(config), alpha: (config.alpha as number | undefined) ?? 1 });
  }
}
registerBuiltin('keras.layers', ELU);
