/** UnitNormalization: scales each example to an L2 norm of 1 over `axis`: `x / sqrt(max(sum(x^2), 1e-12))`. */
import type { Tensor } from '../../tensor/tensor.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

export interface UnitNormalizationOptions extends LayerOptions {
  /** The axis or axes to normalize over (default -1). */
  axis?: number | readonly number[];
}

export class UnitNormalization extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  static override readonly className = 'UnitNormalization';
  /** As given: an integer or a list (Keras keeps the form in its config). */
  readonly axis: number | number[];

  constructor(options: UnitNormalizationOptions = {}) {
    super(options);
    const axis = options.axis ?? -1;
    const ok = typeof axis === 'number' ? Number.isInteger(axis) : Array.isArray(axis) && axis.length > 0 && axis.every((a) => Number.isInteger(a));
    if (!ok) throw new Error(`UnitNormalization '${this.name}': axis must be an integer or a non-empty list of integers. Received: axis=${JSON.stringify(options.axis)}`);
    this.axis = typeof axis === 'number' ? axis : [...axis];
    this.supportsMasking = true;
  }

  override call(inputs: Tensor): Tensor {
    const rank = inputs.rank;
    for (const a of typeof this.axis === 'number' ? [this.axis] : this.axis) {
      if (a < -rank || a >= rank) {
        throw new Error(`UnitNormalization '${this.name}': axis ${a} is out of range for an input of rank ${rank} (shape ${JSON.stringify(inputs.shape)}).`);
      }
    }
    const x = inputs.dtype === this.computeDtype ? inputs : ops.cast(inputs, this.computeDtype);
    const squareSum = ops.sum(ops.square(x), { axis: this.axis, keepdims: true });
    return ops.multiply(x, ops.rsqrt(ops.maximum(squareSum, 1e-12)));
  }

  override getConfig(): Config {
    return { ...super.getConfig(), axis: typeof this.axis === 'number' ? this.axis : [...this.axis] };
  }

  static override fromConfig(config: Config): UnitNormalization {
    return new UnitNormalization({ ...baseOptionsFromConfig(config), axis: (config.axis as number | number[] | undefined) ?? -1 });
  }
}
registerBuiltin('keras.layers', UnitNormalization);
