/** Flatten: collapses every dim but the batch dim (`channels_first` inputs are moved to channels-last order first). */
import type { Tensor } from '../../tensor/tensor.ts';
import { sizeOf } from '../../tensor/shape.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { InputSpec } from '../input-spec.ts';

export interface FlattenOptions extends LayerOptions {
  dataFormat?: 'channels_last' | 'channels_first';
}

export class Flatten extends Layer {
  static override readonly className = 'Flatten';
  readonly dataFormat: 'channels_last' | 'channels_first';

  constructor(options: FlattenOptions = {}) {
    super(options);
    this.dataFormat = options.dataFormat ?? 'channels_last';
    if (this.dataFormat !== 'channels_last' && this.dataFormat !== 'channels_first') {
      throw new Error(`Flatten '${this.name}': dataFormat must be 'channels_last' or 'channels_first'. Received: ${String(this.dataFormat)}`);
    }
    this.inputSpec = new InputSpec({ minNdim: 1 });
  }

  override call(inputs: Tensor): Tensor {
    let x = inputs;
    if (this.dataFormat === 'channels_first' && x.rank > 2) {
      x = ops.transpose(x, [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2), 1]);
    }
    if (x.rank === 1) return ops.expandDims(x, 1);
    const rest = sizeOf(x.shape.slice(1));
    if (rest !== null) return ops.reshape(x, [-1, rest]);
    if (x.shape[0] !== null) return ops.reshape(x, [x.shape[0], -1]);
    throw new Error(`Flatten '${this.name}': cannot flatten shape ${JSON.stringify(x.shape)} with more than one unknown dimension.`);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), data_format: this.dataFormat };
  }

  static override fromConfig(config: Config): Flatten {
    return new Flatten({ ...baseOptionsFromConfig(config), dataFormat: (config.data_format as FlattenOptions['dataFormat']) ?? 'channels_last' });
  }
}
registerBuiltin('keras.layers', Flatten);
