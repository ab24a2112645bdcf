/**
 * Dropout: in training, zeroes a fraction `rate` of the inputs and scales the
 * rest by 1 / (1 - rate); in inference it is the identity. Draws from its own
 * SeedGenerator (seeded, or from the global seed), so runs are reproducible
 * after `setRandomSeed` and compiled steps draw the same masks as eager ones.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import * as random from '../../ops/api/random.ts';
import { type CallOptions, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

export interface DropoutOptions extends LayerOptions {
  noiseShape?: (number | null)[] | null;
  seed?: number | null;
}

export class Dropout extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  static override readonly className = 'Dropout';
  readonly rate: number;
  readonly noiseShape: (number | null)[] | null;
  readonly seed: number | null;
  readonly seedGenerator: random.SeedGenerator;

  constructor(rate: number, options: DropoutOptions = {}) {
    super(options);
    if (!(typeof rate === 'number' && rate >= 0 && rate < 1)) {
      throw new Error(`Dropout '${this.name}': rate must be a number in [0, 1). Received: rate=${rate}`);
    }
    this.rate = rate;
    this.noiseShape = options.noiseShape ?? null;
    this.seed = options.seed ?? null;
    this.seedGenerator = new random.SeedGenerator(this.seed);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor, { training }: CallOptions): Tensor {
    if (!training || this.rate === 0) return inputs;
    return random.dropout(inputs, this.rate, { noiseShape: this.noiseShape ?? undefined, seed: this.seedGenerator });
  }

  override getConfig(): Config {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed, noise_shape: this.noiseShape };
  }

  static override fromConfig(config: Config): Dropout {
    return new Dropout(config.rate as number, { ...baseOptionsFromConfig(config), seed: (config.seed as number | null) ?? null, noiseShape: (config.noise_shape as (number | null)[] | null) ?? null });
  }
}
registerBuiltin('keras.layers', Dropout);
