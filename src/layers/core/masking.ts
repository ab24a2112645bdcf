/**
 * Masking: marks the timesteps whose values all equal `maskValue` (along the
 * last axis) as masked, and zeroes them. The mask is `any(inputs !=
 * maskValue, axis=-1)`: true for timesteps to keep.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { InputSpec } from '../input-spec.ts';
import { numberArg } from './arguments.ts';

export interface MaskingOptions extends LayerOptions {
  /** The value that marks a masked timestep (default 0). */
  maskValue?: number;
}

export class Masking extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  static override readonly className = 'Masking';
  readonly maskValue: number;

  constructor(options: MaskingOptions = {}) {
    super(options);
    this.maskValue = numberArg(options.maskValue ?? 0, 'maskValue', `Masking '${this.name}'`);
    this.supportsMasking = true;
    this.inputSpec = new InputSpec({ minNdim: 1 });
  }

  override call(inputs: Tensor): Tensor {
    const keep = ops.any(ops.notEqual(inputs, this.maskValue), -1, true);
    return ops.multiply(inputs, ops.cast(keep, inputs.dtype));
  }

  override computeMask(inputs: unknown): Tensor {
    return ops.any(ops.notEqual(inputs as Tensor, this.maskValue), -1);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), mask_value: this.maskValue };
  }

  static override fromConfig(config: Config): Masking {
    return new Masking({ ...baseOptionsFromConfig(config), maskValue: (config.mask_value as number | undefined) ?? 0 });
  }
}
registerBuiltin('keras.layers', Masking);
