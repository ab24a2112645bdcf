/**
 * GaussianNoise: in training, adds zero-mean Gaussian noise of standard
 * deviation `stddev`; in inference it is the identity.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import * as random from '../../ops/api/random.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { type CallOptions, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { numberArg, seedArg } from '../core/arguments.ts';

export interface GaussianNoiseOptions extends LayerOptions {
  seed?: number | null;
}

export class GaussianNoise extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  static override readonly className = 'GaussianNoise';
  readonly stddev: number;
  readonly seed: number | null;
  readonly seedGenerator: random.SeedGenerator;

  constructor(stddev: number, options: GaussianNoiseOptions = {}) {
    super(options);
    const where = `GaussianNoise '${this.name}'`;
    // Keras accepts stddev in [0, 1].
    this.stddev = numberArg(stddev, 'stddev', where, 0, 1);
    this.seed = seedArg(options.seed, where);
    this.seedGenerator = new random.SeedGenerator(this.seed);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor, { training }: CallOptions): Tensor {
    if (!training || this.stddev === 0) return inputs;
    const noise = random.normal(inputs.shape, { mean: 0, stddev: this.stddev, dtype: this.computeDtype, seed: this.seedGenerator, like: inputs });
    return ops.add(inputs, noise);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), stddev: this.stddev, seed: this.seed };
  }

  static override fromConfig(config: Config): GaussianNoise {
    return new GaussianNoise(config.stddev as number, { ...baseOptionsFromConfig(config), seed: (config.seed as number | null | undefined) ?? null });
  }
}
registerBuiltin('keras.layers', GaussianNoise);
