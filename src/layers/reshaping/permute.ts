/** Permute: permutes the dims of each sample; `dims` is 1-based and excludes the batch dim (`[2, 1]` swaps the two). */
import type { Tensor } from '../../tensor/tensor.ts';
import { describe } from '../../tensor/shape.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { InputSpec } from '../input-spec.ts';

export class Permute extends Layer {
  static override readonly className = 'Permute';
  readonly dims: number[];

  constructor(dims: readonly number[], options: LayerOptions = {}) {
    super(options);
    const ok = Array.isArray(dims) && dims.length > 0 && [...dims].sort((a, b) => a - b).every((d, i) => d === i + 1);
    if (!ok) {
      throw new Error(`Permute '${this.name}': invalid permutation argument dims. The set of indices in dims must be consecutive and start from 1 (the batch dim is excluded). Received: dims=${describe(dims)}`);
    }
    this.dims = [...dims];
    this.inputSpec = new InputSpec({ ndim: this.dims.length + 1 });
  }

  override call(inputs: Tensor): Tensor {
    return ops.transpose(inputs, [0, ...this.dims]);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), dims: [...this.dims] };
  }

  static override fromConfig(config: Config): Permute {
    return new Permute(config.dims as number[], baseOptionsFromConfig(config));
  }
}
registerBuiltin('keras.layers', Permute);
