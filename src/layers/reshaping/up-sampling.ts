/**
 * UpSampling1D / UpSampling2D: enlarge the spatial dims by integer factors.
 * 'nearest' repeats values; UpSampling2D's 'bilinear' interpolates linearly
 * along rows and columns with half-pixel centers and edge clamping, as
 * Keras's `ops.image.resize` does (no antialiasing is needed when
 * enlarging). The spatial sizes must be known.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { describe, formatShape } from '../../tensor/shape.ts';
import * as ops from '../../ops/index.ts';
import { sliceAxis } from '../../ops/defs/indexing.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { InputSpec } from '../input-spec.ts';
import { type DataFormat, dataFormatArg, intTuple } from '../core/arguments.ts';

export interface UpSampling1DOptions extends LayerOptions {
  /** Upsampling factor (default 2). */
  size?: number;
}

export class UpSampling1D extends Layer {
  static override readonly className = 'UpSampling1D';
  readonly size: number;

  constructor(options: UpSampling1DOptions = {}) {
    super(options);
    const size = options.size ?? 2;
    if (!Number.isInteger(size) || size <= 0) throw new Error(`UpSampling1D '${this.name}': size should be a positive integer. Received: size=${describe(size)}`);
    this.size = size;
    this.inputSpec = new InputSpec({ ndim: 3 });
  }

  override call(inputs: Tensor): Tensor {
    if (inputs.shape[1] === null) throw new Error(`UpSampling1D '${this.name}': the steps dim (axis 1) must be known. Received: input shape ${formatShape(inputs.shape)}`);
    return ops.repeat(inputs, this.size, 1);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), size: this.size };
  }

  static override fromConfig(config: Config): UpSampling1D {
    return new UpSampling1D({ ...baseOptionsFromConfig(config), size: (config.size as number | undefined) ?? 2 });
  }
}
registerBuiltin('keras.layers', UpSampling1D);

export type UpSamplingInterpolation = 'nearest' | 'bilinear';

export interface UpSampling2DOptions extends LayerOptions {
  /** Factors for rows and columns: n or [rows, cols] (default [2, 2]). */
  size?: number | readonly [number, number];
  dataFormat?: DataFormat;
  /** 'nearest' (default) or 'bilinear'. */
  interpolation?: UpSamplingInterpolation;
}

/**
 * Linear interpolation along `axis` by an integer factor: output i = k*s + j
 * samples the input at k + (j + 0.5)/s - 0.5, between the neighbours of k
 * (clamped at the edges).
 */
function bilinearAxis(x: Tensor, axis: number, factor: number): Tensor {
  if (factor === 1) return x;
  const n = x.shape[axis]!;
  const prev = n === 1 ? x : ops.concatenate([sliceAxis(x, axis, 0, 1), sliceAxis(x, axis, 0, n - 1)], axis);
  const next = n === 1 ? x : ops.concatenate([sliceAxis(x, axis, 1, n), sliceAxis(x, axis, n - 1, n)], axis);
  const phases = Array.from({ length: factor }, (_, j) => {
    const d = (j + 0.5) / factor - 0.5;
    if (d === 0) return x;
    return d < 0 ? ops.add(ops.multiply(x, 1 + d), ops.multiply(prev, -d)) : ops.add(ops.multiply(x, 1 - d), ops.multiply(next, d));
  });
  const stacked = ops.stack(phases, axis + 1);
  const target = x.shape.map((d, i) => (i === axis ? n * factor : d === null ? -1 : d));
  return ops.reshape(stacked, target);
}

export class UpSampling2D extends Layer {
  static override readonly className = 'UpSampling2D';
  readonly size: [number, number];
  readonly dataFormat: DataFormat;
  readonly interpolation: UpSamplingInterpolation;

  constructor(options: UpSampling2DOptions = {}) {
    super(options);
    const where = `UpSampling2D '${this.name}'`;
    this.size = intTuple(options.size ?? [2, 2], 2, 'size', where) as [number, number];
    this.dataFormat = dataFormatArg(options.dataFormat, where);
    const interpolation = typeof options.interpolation === 'string' ? options.interpolation.toLowerCase() : (options.interpolation ?? 'nearest');
    if (interpolation !== 'nearest' && interpolation !== 'bilinear') {
      throw new Error(`${where}: interpolation must be 'nearest' or 'bilinear' (Keras's 'bicubic', 'lanczos3' and 'lanczos5' are not supported). Received: interpolation=${describe(options.interpolation)}`);
    }
    this.interpolation = interpolation;
    this.inputSpec = new InputSpec({ ndim: 4 });
  }

  override call(inputs: Tensor): Tensor {
    const first = this.dataFormat === 'channels_first' ? 2 : 1;
    if (inputs.shape[first] === null || inputs.shape[first + 1] === null) {
      throw new Error(`UpSampling2D '${this.name}': the spatial dims must be known. Received: input shape ${formatShape(inputs.shape)} (${this.dataFormat})`);
    }
    if (this.interpolation === 'nearest') return ops.repeat(ops.repeat(inputs, this.size[0], first), this.size[1], first + 1);
    if (inputs.shape.filter((d) => d === null).length > 1) {
      throw new Error(`UpSampling2D '${this.name}': bilinear upsampling needs every dim but the batch dim known. Received: input shape ${formatShape(inputs.shape)}`);
    }
    return bilinearAxis(bilinearAxis(inputs, first, this.size[0]), first + 1, this.size[1]);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), size: [...this.size], data_format: this.dataFormat, interpolation: this.interpolation };
  }

  static override fromConfig(config: Config): UpSampling2D {
    return new UpSampling2D({
      ...baseOptionsFromConfig(config),
      size: (config.size as [number, number] | undefined) ?? [2, 2],
      dataFormat: (config.data_format as DataFormat | undefined) ?? 'channels_last',
      interpolation: (config.interpolation as UpSamplingInterpolation | undefined) ?? 'nearest',
    });
  }
}
registerBuiltin('keras.layers', UpSampling2D);
