/**
 * Cropping1D / Cropping2D: remove values at the start and end of the
 * spatial dims. Works with unknown spatial sizes (the end is cropped with a
 * negative bound); a known size must exceed the total cropping.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { formatShape } from '../../tensor/shape.ts';
import { sliceAxis } from '../../ops/defs/indexing.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { InputSpec } from '../input-spec.ts';
import { type DataFormat, dataFormatArg, intTuple } from '../core/arguments.ts';
import { type Padding2D, pairs2D } from './zero-padding.ts';

export interface Cropping1DOptions extends LayerOptions {
  /** Values removed at the start and end: n, or [start, end] (default [1, 1]). */
  cropping?: number | readonly [number, number];
}

function crop(x: Tensor, axis: number, [start, end]: readonly number[]): Tensor {
  if (start === 0 && end === 0) return x;
  return sliceAxis(x, axis, start, end === 0 ? null : -end);
}

export class Cropping1D extends Layer {
  static override readonly className = 'Cropping1D';
  readonly cropping: [number, number];

  constructor(options: Cropping1DOptions = {}) {
    super(options);
    this.cropping = intTuple(options.cropping ?? [1, 1], 2, 'cropping', `Cropping1D '${this.name}'`, true) as [number, number];
    this.inputSpec = new InputSpec({ ndim: 3 });
  }

  override call(inputs: Tensor): Tensor {
    const n = inputs.shape[1];
    if (n !== null && this.cropping[0] + this.cropping[1] >= n) {
      throw new Error(`Cropping1D '${this.name}': the cropping parameter must be smaller than the input length. Received: input shape ${formatShape(inputs.shape)}, cropping=${JSON.stringify(this.cropping)}`);
    }
    return crop(inputs, 1, this.cropping);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), cropping: [...this.cropping] };
  }

  static override fromConfig(config: Config): Cropping1D {
    return new Cropping1D({ ...baseOptionsFromConfig(config), cropping: (config.cropping as [number, number] | undefined) ?? [1, 1] });
  }
}
registerBuiltin('keras.layers', Cropping1D);

export interface Cropping2DOptions extends LayerOptions {
  /** n, [rows, cols] (symmetric) or [[top, bottom], [left, right]] (default no cropping). */
  cropping?: Padding2D;
  dataFormat?: DataFormat;
}

export class Cropping2D extends Layer {
  static override readonly className = 'Cropping2D';
  /** [[top, bottom], [left, right]]. */
  readonly cropping: [number, number][];
  readonly dataFormat: DataFormat;

  constructor(options: Cropping2DOptions = {}) {
    super(options);
    const where = `Cropping2D '${this.name}'`;
    this.cropping = pairs2D(options.cropping ?? [[0, 0], [0, 0]], 'cropping', where);
    this.dataFormat = dataFormatArg(options.dataFormat, where);
    this.inputSpec = new InputSpec({ ndim: 4 });
  }

  override call(inputs: Tensor): Tensor {
    const first = this.dataFormat === 'channels_first' ? 2 : 1;
    this.cropping.forEach(([a, b], i) => {
      const n = inputs.shape[first + i];
      if (n !== null && a + b >= n) {
        throw new Error(`Cropping2D '${this.name}': values in the cropping argument should be smaller than the corresponding spatial dimension of the input. Received: input shape ${formatShape(inputs.shape)}, cropping=${JSON.stringify(this.cropping)}`);
      }
    });
    return crop(crop(inputs, first, this.cropping[0]), first + 1, this.cropping[1]);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), cropping: this.cropping.map((c) => [...c]), data_format: this.dataFormat };
  }

  static override fromConfig(config: Config): Cropping2D {
    return new Cropping2D({
      ...baseOptionsFromConfig(config),
      cropping: (config.cropping as Padding2D | undefined) ?? [[0, 0], [0, 0]],
      dataFormat: (config.data_format as DataFormat | undefined) ?? 'channels_last',
    });
  }
}
registerBuiltin('keras.layers', Cropping2D);
