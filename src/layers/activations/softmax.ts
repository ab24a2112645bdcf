/**
 * Softmax over `axis` (default -1; a list of axes normalizes over all of
 * them). With a mask (true = keep), masked positions get -1e9 added before
 * the softmax, so they receive (almost) zero probability, as in Keras. A
 * mask of lower rank than the inputs (a [batch, time] mask propagated to
 * [batch, time, features] logits) gets trailing size-1 dims, so a masked
 * timestep gets a uniform distribution; Keras broadcasts it as given, which
 * fails or misaligns for such masks.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { describe } from '../../tensor/shape.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { type CallOptions, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

export interface SoftmaxOptions extends LayerOptions {
  axis?: number | readonly number[];
}

/** The value added to masked logits (Keras: -1e9, or -3e4 for float16). */
const LARGE_NEGATIVE = -1e9;

export class Softmax extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  static override readonly className = 'Softmax';
  readonly axis: number | number[];

  constructor(options: SoftmaxOptions = {}) {
    super(options);
    const axis = options.axis ?? -1;
    const ok = Number.isInteger(axis) || (Array.isArray(axis) && axis.length > 0 && axis.every((a) => Number.isInteger(a)));
    if (!ok) throw new Error(`Softmax '${this.name}': axis must be an integer or a non-empty list of integers. Received: axis=${describe(options.axis)}`);
    this.axis = typeof axis === 'number' ? axis : [...axis];
    this.supportsMasking = true;
  }

  override call(inputs: Tensor, { mask }: CallOptions): Tensor {
    let x = inputs;
    let m = Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null);
    if (m) {
      // A [batch, time] mask on [batch, time, features] logits covers whole timesteps.
      while (m.rank < x.rank) m = ops.expandDims(m, -1);
      x = ops.add(x, ops.multiply(ops.subtract(1, ops.cast(m, x.dtype)), LARGE_NEGATIVE));
    }
    return ops.softmax(x, this.axis);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), axis: Array.isArray(this.axis) ? [...this.axis] : this.axis };
  }

  static override fromConfig(config: Config): Softmax {
    return new Softmax({ ...baseOptionsFromConfig(config), axis: (config.axis as number | number[] | undefined) ?? -1 });
  }
}
registerBuiltin('keras.layers', Softmax);
