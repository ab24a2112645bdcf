/**
 * MaxPooling1D/2D and AveragePooling1D/2D: the max or mean over sliding
 * windows of `poolSize`, moved by `strides` (default: the pool size).
 * With padding 'same', padded positions never win a max and are left out of
 * averages.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import type { Shape } from '../../tensor/shape.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { InputSpec } from '../input-spec.ts';
import { type InputShape, Layer, type LayerOptions, baseOptionsFromConfig, classNameOf } from '../layer.ts';
import { type DataFormat, checkSpecBeforeBuild, checkWindowFits, standardizeDataFormat, standardizePadding, standardizeTuple } from '../convolutional/arguments.ts';

export type PoolPadding = 'valid' | 'same' | 'VALID' | 'SAME';

export interface BasePoolingOptions extends LayerOptions {
  /** An integer or one per spatial dimension; default: the pool size. */
  strides?: number | readonly number[] | null;
  /** 'valid' (default) or 'same' (case-insensitive). */
  padding?: PoolPadding;
  /** Default 'channels_last'. */
  dataFormat?: DataFormat | null;
}

export type MaxPooling1DOptions = BasePoolingOptions;
export type MaxPooling2DOptions = BasePoolingOptions;
export type AveragePooling1DOptions = BasePoolingOptions;
export type AveragePooling2DOptions = BasePoolingOptions;

type PoolingConstructor = new (poolSize: number | readonly number[], options: BasePoolingOptions) => BasePooling;

/** The N-D pooling layer (Keras's BasePooling); use the 1-D and 2-D classes. */
export abstract class BasePooling extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  readonly rank: number;
  readonly poolMode: 'max' | 'average';
  readonly poolSize: number[];
  readonly strides: number[];
  /** As given (Keras keeps the caller's spelling); checked case-insensitively. */
  readonly padding: PoolPadding;
  readonly dataFormat: DataFormat;

  protected constructor(rank: number, poolMode: 'max' | 'average', poolSize: number | readonly number[], options: BasePoolingOptions = {}) {
    super(options);
    const where = `${classNameOf(this.constructor as typeof Layer)} '${this.name}'`;
    this.rank = rank;
    this.poolMode = poolMode;
    this.poolSize = standardizeTuple(where, 'poolSize', poolSize, rank);
    this.strides = standardizeTuple(where, 'strides', options.strides ?? this.poolSize, rank);
    standardizePadding(where, options.padding ?? 'valid');
    this.padding = options.padding ?? 'valid';
    this.dataFormat = standardizeDataFormat(where, options.dataFormat);
    this.inputSpec = new InputSpec({ ndim: rank + 2 });
  }

  override build(inputShape: InputShape): void {
    const shape = inputShape as Shape;
    checkSpecBeforeBuild(this, shape);
    const first = this.dataFormat === 'channels_last' ? 1 : 2;
    const where = `${classNameOf(this.constructor as typeof Layer)} '${this.name}'`;
    const spatial = Array.from({ length: this.rank }, (_, i) => first + i);
    checkWindowFits(where, shape, spatial, this.poolSize, this.strides, new Array<number>(this.rank).fill(1), this.padding.toLowerCase() as 'valid' | 'same', 'poolSize');
  }

  override call(inputs: Tensor): Tensor {
    const options = { strides: this.strides, padding: this.padding, dataFormat: this.dataFormat };
    return this.poolMode === 'max' ? ops.maxPool(inputs, this.poolSize, options) : ops.averagePool(inputs, this.poolSize, options);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), pool_size: [...this.poolSize], padding: this.padding, strides: [...this.strides], data_format: this.dataFormat };
  }

  static override fromConfig(config: Config): BasePooling {
    const Ctor = this as unknown as PoolingConstructor;
    return new Ctor(config.pool_size as number[], {
      ...baseOptionsFromConfig(config),
      strides: (config.strides as number[] | null | undefined) ?? null,
      padding: (config.padding as PoolPadding | undefined) ?? 'valid',
      dataFormat: (config.data_format as DataFormat | null | undefined) ?? null,
    });
  }
}

export class MaxPooling1D extends BasePooling {
  static override readonly className = 'MaxPooling1D';
  /** `poolSize` defaults to 2. */
  constructor(poolSize: number | readonly number[] = 2, options: MaxPooling1DOptions = {}) {
    super(1, 'max', poolSize, options);
  }
}
registerBuiltin('keras.layers', MaxPooling1D);

export class MaxPooling2D extends BasePooling {
  static override readonly className = 'MaxPooling2D';
  /** `poolSize` defaults to [2, 2]. */
  constructor(poolSize: number | readonly number[] = [2, 2], options: MaxPooling2DOptions = {}) {
    super(2, 'max', poolSize, options);
  }
}
registerBuiltin('keras.layers', MaxPooling2D);

export class AveragePooling1D extends BasePooling {
  static override readonly className = 'AveragePooling1D';
  /** `poolSize` defaults to 2. */
  constructor(poolSize: number | readonly number[] = 2, options: AveragePooling1DOptions = {}) {
    super(1, 'average', poolSize, options);
  }
}
registerBuiltin('keras.layers', AveragePooling1D);

export class AveragePooling2D extends BasePooling {
  static override readonly className = 'AveragePooling2D';
  /** `poolSize` defaults to [2, 2]. */
  constructor(poolSize: number | readonly number[] = [2, 2], options: AveragePooling2DOptions = {}) {
    super(2, 'average', poolSize, options);
  }
}
registerBuiltin('keras.layers', AveragePooling2D);
