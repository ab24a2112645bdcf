/**
 * Global pooling: the mean or max over every spatial (or temporal)
 * dimension, giving (batch, channels), or (batch, 1..., channels) with
 * `keepdims`. GlobalAveragePooling1D leaves masked steps out of the mean.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { InputSpec } from '../input-spec.ts';
import { type CallOptions, Layer, type LayerOptions, baseOptionsFromConfig, classNameOf } from '../layer.ts';
import { type DataFormat, standardizeDataFormat } from '../convolutional/arguments.ts';

export interface BaseGlobalPoolingOptions extends LayerOptions {
  /** Default 'channels_last'. */
  dataFormat?: DataFormat | null;
  /** Keep the pooled dimensions with size 1 (default false). */
  keepdims?: boolean;
}

export type GlobalAveragePooling1DOptions = BaseGlobalPoolingOptions;
export type GlobalAveragePooling2DOptions = BaseGlobalPoolingOptions;
export type GlobalAveragePooling3DOptions = BaseGlobalPoolingOptions;
export type GlobalMaxPooling1DOptions = BaseGlobalPoolingOptions;
export type GlobalMaxPooling2DOptions = BaseGlobalPoolingOptions;
export type GlobalMaxPooling3DOptions = BaseGlobalPoolingOptions;

type GlobalPoolingConstructor = new (options: BaseGlobalPoolingOptions) => BaseGlobalPooling;

/** Keras's BaseGlobalPooling; use the 1-D, 2-D and 3-D classes. */
export abstract class BaseGlobalPooling extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  readonly rank: number;
  readonly dataFormat: DataFormat;
  readonly keepdims: boolean;

  protected constructor(rank: number, options: BaseGlobalPoolingOptions = {}) {
    super(options);
    this.rank = rank;
    this.dataFormat = standardizeDataFormat(`${classNameOf(this.constructor as typeof Layer)} '${this.name}'`, options.dataFormat);
    this.keepdims = options.keepdims ?? false;
    this.inputSpec = new InputSpec({ ndim: rank + 2 });
  }

  /** The pooled axes of an input. */
  protected get spatialAxes(): number[] {
    const first = this.dataFormat === 'channels_last' ? 1 : 2;
    return Array.from({ length: this.rank }, (_, i) => first + i);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), data_format: this.dataFormat, keepdims: this.keepdims };
  }

  static override fromConfig(config: Config): BaseGlobalPooling {
    const Ctor = this as unknown as GlobalPoolingConstructor;
    return new Ctor({ ...baseOptionsFromConfig(config), dataFormat: (config.data_format as DataFormat | null | undefined) ?? null, keepdims: (config.keepdims as boolean | undefined) ?? false });
  }
}

abstract class GlobalAveragePooling extends BaseGlobalPooling {
  override call(inputs: Tensor): Tensor {
    return ops.mean(inputs, { axis: this.spatialAxes, keepdims: this.keepdims });
  }
}

abstract class GlobalMaxPooling extends BaseGlobalPooling {
  override call(inputs: Tensor): Tensor {
    return ops.max(inputs, { axis: this.spatialAxes, keepdims: this.keepdims });
  }
}

/** Mean over the steps of (batch, steps, features) inputs; masked steps (mask (batch, steps)) are left out. */
export class GlobalAveragePooling1D extends GlobalAveragePooling {
  static override readonly className = 'GlobalAveragePooling1D';
  constructor(options: GlobalAveragePooling1DOptions = {}) {
    super(1, options);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor, { mask }: CallOptions = {}): Tensor {
    if (!mask || Array.isArray(mask)) return super.call(inputs);
    const stepsAxis = this.dataFormat === 'channels_last' ? 1 : 2;
    if (mask.rank !== 2) {
      throw new Error(`GlobalAveragePooling1D '${this.name}': the mask must have shape (batch, steps). Received a mask of shape ${JSON.stringify(mask.shape)} for inputs of shape ${JSON.stringify(inputs.shape)}.`);
    }
    const m = ops.expandDims(ops.cast(mask, 'bool'), this.dataFormat === 'channels_last' ? 2 : 1);
    const kept = ops.where(m, inputs, 0);
    const count = ops.sum(ops.cast(m, inputs.dtype), { axis: stepsAxis, keepdims: this.keepdims });
    return ops.divide(ops.sum(kept, { axis: stepsAxis, keepdims: this.keepdims }), count);
  }

  /** The output has no steps left to mask. */
  override computeMask(): null {
    return null;
  }
}
registerBuiltin('keras.layers', GlobalAveragePooling1D);

export class GlobalAveragePooling2D extends GlobalAveragePooling {
  static override readonly className = 'GlobalAveragePooling2D';
  constructor(options: GlobalAveragePooling2DOptions = {}) {
    super(2, options);
  }
}
registerBuiltin('keras.layers', GlobalAveragePooling2D);

export class GlobalAveragePooling3D extends GlobalAveragePooling {
  static override readonly className = 'GlobalAveragePooling3D';
  constructor(options: GlobalAveragePooling3DOptions = {}) {
    super(3, options);
  }
}
registerBuiltin('keras.layers', GlobalAveragePooling3D);

export class GlobalMaxPooling1D extends GlobalMaxPooling {
  static override readonly className = 'GlobalMaxPooling1D';
  constructor(options: GlobalMaxPooling1DOptions = {}) {
    super(1, options);
  }
}
registerBuiltin('keras.layers', GlobalMaxPooling1D);

export class GlobalMaxPooling2D extends GlobalMaxPooling {
  static override readonly className = 'GlobalMaxPooling2D';
  constructor(options: GlobalMaxPooling2DOptions = {}) {
    super(2, options);
  }
}
registerBuiltin('keras.layers', GlobalMaxPooling2D);

export class GlobalMaxPooling3D extends GlobalMaxPooling {
  static override readonly className = 'GlobalMaxPooling3D';
  constructor(options: GlobalMaxPooling3DOptions = {}) {
    super(3, options);
  }
}
registerBuiltin('keras.layers', GlobalMaxPooling3D);
