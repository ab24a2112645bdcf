/**
 * SpatialDropout1D / SpatialDropout2D: dropout of whole feature maps. In
 * training, each channel of each sample is zeroed with probability `rate`
 * (the noise shape has 1 on the spatial dims) and the rest are scaled by
 * 1 / (1 - rate); in inference the layers are the identity.
 *
 * Config as in Keras, which writes only `name`, `dtype` (the dtype name),
 * `rate` and `seed` (and `data_format` for 2D): no `trainable`.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { describe } from '../../tensor/shape.ts';
import * as random from '../../ops/api/random.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { type CallOptions, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { InputSpec } from '../input-spec.ts';
import { type DataFormat, dataFormatArg, seedArg } from '../core/arguments.ts';

export interface SpatialDropoutOptions extends LayerOptions {
  seed?: number | null;
}

export interface SpatialDropout2DOptions extends SpatialDropoutOptions {
  dataFormat?: DataFormat;
}

abstract class BaseSpatialDropout extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  readonly rate: number;
  readonly seed: number | null;
  readonly seedGenerator: random.SeedGenerator;

  constructor(rate: number, options: SpatialDropoutOptions, ndim: number) {
    super(options);
    const where = `${(this.constructor as typeof Layer).className} '${this.name}'`;
    if (!(typeof rate === 'number' && rate >= 0 && rate < 1)) throw new Error(`${where}: rate must be a number in [0, 1). Received: rate=${describe(rate)}`);
    this.rate = rate;
    this.seed = seedArg(options.seed, where);
    this.seedGenerator = new random.SeedGenerator(this.seed);
    this.supportsMasking = true;
    this.inputSpec = new InputSpec({ ndim });
  }

  /** The dropout noise shape: null (the input's dim) on batch and channels, 1 on the spatial dims. */
  protected abstract noiseShape(rank: number): (number | null)[];

  override call(inputs: Tensor, { training }: CallOptions): Tensor {
    if (!training || this.rate === 0) return inputs;
    return random.dropout(inputs, this.rate, { noiseShape: this.noiseShape(inputs.rank), seed: this.seedGenerator });
  }

  override getConfig(): Config {
    return { name: this.name, dtype: this.variableDtype, rate: this.rate, seed: this.seed };
  }
}

export class SpatialDropout1D extends BaseSpatialDropout {
  static override readonly className = 'SpatialDropout1D';

  constructor(rate: number, options: SpatialDropoutOptions = {}) {
    super(rate, options, 3);
  }

  protected override noiseShape(): (number | null)[] {
    return [null, 1, null];
  }

  static override fromConfig(config: Config): SpatialDropout1D {
    return new SpatialDropout1D(config.rate as number, { ...baseOptionsFromConfig(config), seed: (config.seed as number | null | undefined) ?? null });
  }
}
registerBuiltin('keras.layers', SpatialDropout1D);

export class SpatialDropout2D extends BaseSpatialDropout {
  static override readonly className = 'SpatialDropout2D';
  readonly dataFormat: DataFormat;

  constructor(rate: number, options: SpatialDropout2DOptions = {}) {
    super(rate, options, 4);
    this.dataFormat = dataFormatArg(options.dataFormat, `SpatialDropout2D '${this.name}'`);
  }

  protected override noiseShape(): (number | null)[] {
    return this.dataFormat === 'channels_first' ? [null, null, 1, 1] : [null, 1, 1, null];
  }

  override getConfig(): Config {
    return { ...super.getConfig(), data_format: this.dataFormat };
  }

  static override fromConfig(config: Config): SpatialDropout2D {
    return new SpatialDropout2D(config.rate as number, {
      ...baseOptionsFromConfig(config),
      seed: (config.seed as number | null | undefined) ?? null,
      dataFormat: (config.data_format as DataFormat | undefined) ?? 'channels_last',
    });
  }
}
registerBuiltin('keras.layers', SpatialDropout2D);
