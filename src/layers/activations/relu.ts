/**
 * ReLU: `maxValue` where x >= maxValue, x where threshold <= x < maxValue,
 * `negativeSlope * (x - threshold)` otherwise (defaults: max(x, 0)).
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { describe } from '../../tensor/shape.ts';
import * as activations from '../../activations/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

export interface ReLUOptions extends LayerOptions {
  /** Saturation value, >= 0 (default none). */
  maxValue?: number | null;
  /** Slope below the threshold, >= 0 (default 0). */
  negativeSlope?: number;
  /** Threshold, >= 0 (default 0). */
  threshold?: number;
}

export class ReLU extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  static override readonly className = 'ReLU';
  readonly maxValue: number | null;
  readonly negativeSlope: number;
  readonly threshold: number;

  constructor(options: ReLUOptions = {}) {
    super(options);
    const where = `ReLU '${this.name}'`;
    const maxValue = options.maxValue ?? null;
    if (maxValue !== null && !(typeof maxValue === 'number' && Number.isFinite(maxValue) && maxValue >= 0)) {
      throw new Error(`${where}: maxValue cannot be a negative value (or a non-number). Received: maxValue=${describe(maxValue)}`);
    }
    const negativeSlope = options.negativeSlope ?? 0;
    if (!(typeof negativeSlope === 'number' && Number.isFinite(negativeSlope) && negativeSlope >= 0)) {
      throw new Error(`${where}: negativeSlope cannot be None or a negative value. Received: negativeSlope=${describe(options.negativeSlope)}`);
    }
    const threshold = options.threshold ?? 0;
    if (!(typeof threshold === 'number' && Number.isFinite(threshold) && threshold >= 0)) {
      throw new Error(`${where}: threshold cannot be None or a negative value. Received: threshold=${describe(options.threshold)}`);
    }
    this.maxValue = maxValue;
    this.negativeSlope = negativeSlope;
    this.threshold = threshold;
    this.supportsMasking = true;
  }

  override call(inputs: Tensor): Tensor {
    return activations.relu(inputs, { negativeSlope: this.negativeSlope, maxValue: this.maxValue, threshold: this.threshold });
  }

  override getConfig(): Config {
    return { ...super.getConfig(), max_value: this.maxValue, negative_slope: this.negativeSlope, threshold: this.threshold };
  }

  static override fromConfig(config: Config): ReLU {
    return new ReLU({
      ...baseOptionsFromConfig(config),
      maxValue: (config.max_value as number | null | undefined) ?? null,
      negativeSlope: (config.negative_slope as number | undefined) ?? 0,
      threshold: (config.threshold as number | undefined) ?? 0,
    });
  }
}
registerBuiltin('keras.layers', ReLU);
