/**
 * ZeroPadding1D / ZeroPadding2D: add zeros before and after the spatial
 * dims (axis 1 for 1D; rows and columns for 2D).
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { describe } from '../../tensor/shape.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { InputSpec } from '../input-spec.ts';
import { type DataFormat, dataFormatArg, intTuple } from '../core/arguments.ts';

/** Keras's 2D padding/cropping argument: n, [rows, cols] or [[top, bottom], [left, right]]. */
export function pairs2D(value: unknown, name: string, where: string): [number, number][] {
  if (typeof value === 'number') {
    const [v] = intTuple(value, 1, name, where, true);
    return [[v, v], [v, v]];
  }
  if (!Array.isArray(value) || value.length !== 2) {
    throw new Error(`${where}: ${name} should be an integer, a list of 2 integers [symmetric_height, symmetric_width], or a list of 2 pairs [[top, bottom], [left, right]]. Received: ${name}=${describe(value)}`);
  }
  const rows = intTuple(value[0], 2, `1st entry of ${name}`, where, true);
  const cols = intTuple(value[1], 2, `2nd entry of ${name}`, where, true);
  return [[rows[0], rows[1]], [cols[0], cols[1]]];
}

export type Padding2D = number | readonly [number, number] | readonly [readonly [number, number], readonly [number, number]];

export interface ZeroPadding1DOptions extends LayerOptions {
  /** Zeros before and after: n, or [before, after] (default 1). */
  padding?: number | readonly [number, number];
  /** Recent Keras 3 versions have it (older configs have none: channels_last). */
  dataFormat?: DataFormat;
}

export class ZeroPadding1D extends Layer {
  static override readonly className = 'ZeroPadding1D';
  readonly padding: [number, number];
  readonly dataFormat: DataFormat;

  constructor(options: ZeroPadding1DOptions = {}) {
    super(options);
    const where = `ZeroPadding1D '${this.name}'`;
    this.padding = intTuple(options.padding ?? 1, 2, 'padding', where, true) as [number, number];
    this.dataFormat = dataFormatArg(options.dataFormat, where);
    this.inputSpec = new InputSpec({ ndim: 3 });
  }

  override call(inputs: Tensor): Tensor {
    return ops.pad(inputs, this.dataFormat === 'channels_first' ? [[0, 0], [0, 0], this.padding] : [[0, 0], this.padding, [0, 0]]);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), padding: [...this.padding], data_format: this.dataFormat };
  }

  static override fromConfig(config: Config): ZeroPadding1D {
    return new ZeroPadding1D({ ...baseOptionsFromConfig(config), padding: (config.padding as [number, number] | undefined) ?? 1, dataFormat: (config.data_format as DataFormat | undefined) ?? 'channels_last' });
  }
}
registerBuiltin('keras.layers', ZeroPadding1D);

export interface ZeroPadding2DOptions extends LayerOptions {
  /** n, [rows, cols] (symmetric) or [[top, bottom], [left, right]] (default [1, 1]). */
  padding?: Padding2D;
  dataFormat?: DataFormat;
}

export class ZeroPadding2D extends Layer {
  static override readonly className = 'ZeroPadding2D';
  /** [[top, bottom], [left, right]]. */
  readonly padding: [number, number][];
  readonly dataFormat: DataFormat;

  constructor(options: ZeroPadding2DOptions = {}) {
    super(options);
    const where = `ZeroPadding2D '${this.name}'`;
    this.padding = pairs2D(options.padding ?? [1, 1], 'padding', where);
    this.dataFormat = dataFormatArg(options.dataFormat, where);
    this.inputSpec = new InputSpec({ ndim: 4 });
  }

  override call(inputs: Tensor): Tensor {
    const [rows, cols] = this.padding;
    return ops.pad(inputs, this.dataFormat === 'channels_first' ? [[0, 0], [0, 0], rows, cols] : [[0, 0], rows, cols, [0, 0]]);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), padding: this.padding.map((p) => [...p]), data_format: this.dataFormat };
  }

  static override fromConfig(config: Config): ZeroPadding2D {
    return new ZeroPadding2D({
      ...baseOptionsFromConfig(config),
      padding: (config.padding as Padding2D | undefined) ?? [1, 1],
      dataFormat: (config.data_format as DataFormat | undefined) ?? 'channels_last',
    });
  }
}
registerBuiltin('keras.layers', ZeroPadding2D);
