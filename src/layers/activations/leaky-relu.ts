/** LeakyReLU: x for x >= 0, `negativeSlope * x` otherwise (Keras 3 default slope 0.3). */
import type { Tensor } from '../../tensor/tensor.ts';
import { describe } from '../../tensor/shape.ts';
import * as activations from '../../activations/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

export interface LeakyReLUOptions extends LayerOptions {
  /** Slope for x < 0, >= 0 (default 0.3). */
  negativeSlope?: number;
}

export class LeakyReLU extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  static override readonly className = 'LeakyReLU';
  readonly negativeSlope: number;

  constructor(options: LeakyReLUOptions = {}) {
    super(options);
    const slope = options.negativeSlope ?? 0.3;
    if (!(typeof slope === 'number' && Number.isFinite(slope) && slope >= 0)) {
      throw new Error(`LeakyReLU '${this.name}': the negativeSlope value cannot be None or negative. Expected a float. Received: negativeSlope=${describe(options.negativeSlope)}`);
    }
    this.negativeSlope = slope;
    this.supportsMasking = true;
  }

  override call(inputs: Tensor): Tensor {
    return activations.leakyRelu(inputs, this.negativeSlope);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), negative_slope: this.negativeSlope };
  }

  static override fromConfig(config: Config): LeakyReLU {
    // Keras 2 files call the slope `alpha`.
    const slope = (config.negative_slope ?? config.alpha ?? 0.3) as number;
    return new LeakyReLU({ ...baseOptionsFromConfig(config), negativeSlope: slope });
  }
}
registerBuiltin('keras.layers', LeakyReLU);
