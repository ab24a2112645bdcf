/** RepeatVector: repeats a [batch, features] input n times: [batch, n, features]. */
import type { Tensor } from '../../tensor/tensor.ts';
import { describe } from '../../tensor/shape.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { InputSpec } from '../input-spec.ts';

export class RepeatVector extends Layer {
  static override readonly className = 'RepeatVector';
  readonly n: number;

  constructor(n: number, options: LayerOptions = {}) {
    super(options);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`RepeatVector '${this.name}': n must be a positive integer. Received: n=${describe(n)}`);
    this.n = n;
    this.inputSpec = new InputSpec({ ndim: 2 });
  }

  override call(inputs: Tensor): Tensor {
    return ops.repeat(ops.expandDims(inputs, 1), this.n, 1);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), n: this.n };
  }

  static override fromConfig(config: Config): RepeatVector {
    return new RepeatVector(config.n as number, baseOptionsFromConfig(config));
  }
}
registerBuiltin('keras.layers', RepeatVector);
