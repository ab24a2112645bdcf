/**
 * GaussianDropout: in training, multiplies the inputs by Gaussian noise of
 * mean 1 and standard deviation sqrt(rate / (1 - rate)); in inference it is
 * the identity.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { describe } from '../../tensor/shape.ts';
import * as random from '../../ops/api/random.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { type CallOptions, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { seedArg } from '../core/arguments.ts';

export interface GaussianDropoutOptions extends LayerOptions {
  seed?: number | null;
}

export class GaussianDropout extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  static override readonly className = 'GaussianDropout';
  readonly rate: number;
  readonly seed: number | null;
  readonly seedGenerator: random.SeedGenerator;

  constructor(rate: number, options: GaussianDropoutOptions = {}) {
    super(options);
    const where = `GaussianDropout '${this.name}'`;
    // Keras also accepts rate = 1, which gives an infinite standard deviation.
    if (!(typeof rate === 'number' && rate >= 0 && rate < 1)) throw new Error(`${where}: rate must be a number in [0, 1). Received: rate=${describe(rate)}`);
    this.rate = rate;
    this.seed = seedArg(options.seed, where);
    this.seedGenerator = new random.SeedGenerator(this.seed);
    this.supportsMasking = true;
  }

  /** The noise's standard deviation, sqrt(rate / (1 - rate)). */
  get stddev(): number {
    return Math.sqrt(this.rate / (1 - this.rate));
  }

  override call(inputs: Tensor, { training }: CallOptions): Tensor {
    if (!training || this.rate === 0) return inputs;
    const noise = random.normal(inputs.shape, { mean: 1, stddev: this.stddev, dtype: this.computeDtype, seed: this.seedGenerator, like: inputs });
    return ops.multiply(inputs, noise);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }

  static override fromConfig(config: Config): GaussianDropout {
    return new GaussianDropout(config.rate as number, { ...baseOptionsFromConfig(config), seed: (config.seed as number | null | undefined) ?? null });
  }
}
registerBuiltin('keras.layers', GaussianDropout);
