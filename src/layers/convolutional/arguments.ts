/**
 * Argument checks shared by the convolution and pooling layers (Keras's
 * `standardize_tuple`, `standardize_padding`, `standardize_data_format`).
 * Errors name the layer ("Conv2D 'conv2d'") and the argument.
 */
import { formatShape, type Shape } from '../../tensor/shape.ts';
import type { InputSpec } from '../input-spec.ts';
import { currentScope } from '../../engine/scope.ts';

export type DataFormat = 'channels_last' | 'channels_first';

const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v));

/**
 * An integer or a list of `n` integers, as a list of `n` integers (positive,
 * or non-negative with `allowZero`).
 */
export function standardizeTuple(where: string, arg: string, value: unknown, n: number, allowZero = false): number[] {
  const list = typeof value === 'number' ? new Array<number>(n).fill(value) : Array.isArray(value) ? [...(value as unknown[])] : null;
  const ok = list !== null && list.length === n && list.every((v) => typeof v === 'number' && Number.isInteger(v) && (allowZero ? v >= 0 : v > 0));
  if (!ok) {
    const what = allowZero ? 'non-negative integer' : 'positive integer';
    throw new Error(`${where}: ${arg} must be a ${what} or a list of ${n} ${what}s${n > 1 ? ' (one per spatial dimension)' : ''}. Received: ${arg}=${show(value)}`);
  }
  return list as number[];
}

/** 'valid', 'same' (and 'causal' where allowed), case-insensitive; returned in lower case. */
export function standardizePadding(where: string, value: unknown, allowCausal = false): 'valid' | 'same' | 'causal' {
  const p = typeof value === 'string' ? value.toLowerCase() : value;
  if (p === 'valid' || p === 'same' || (allowCausal && p === 'causal')) return p;
  throw new Error(`${where}: padding must be 'valid'${allowCausal ? ", 'same' or 'causal'" : " or 'same'"}. Received: padding=${show(value)}`);
}

export function standardizeDataFormat(where: string, value: unknown): DataFormat {
  const f = value === undefined || value === null ? 'channels_last' : typeof value === 'string' ? value.toLowerCase() : value;
  if (f === 'channels_last' || f === 'channels_first') return f;
  throw new Error(`${where}: dataFormat must be 'channels_last' or 'channels_first'. Received: dataFormat=${show(value)}`);
}

export function positiveInteger(where: string, arg: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${where}: ${arg} must be a positive integer. Received: ${arg}=${show(value)}`);
  }
  return value;
}

/** Keras refuses strides > 1 together with dilation_rate > 1. */
export function checkStridesAndDilation(where: string, strides: readonly number[], dilationRate: readonly number[]): void {
  if (Math.max(...strides) > 1 && Math.max(...dilationRate) > 1) {
    throw new Error(`${where}: strides > 1 is not supported together with dilationRate > 1. Received: strides=${JSON.stringify(strides)} and dilationRate=${JSON.stringify(dilationRate)}`);
  }
}

/** Channel axis of a (batch, spatial..., channels) or (batch, channels, spatial...) input, as a non-negative index and as Keras writes it. */
export function channelAxis(dataFormat: DataFormat, rank: number): { index: number; key: number } {
  return dataFormat === 'channels_last' ? { index: rank - 1, key: -1 } : { index: 1, key: 1 };
}

/**
 * The base Layer checks `inputSpec` only after `build`; layers whose build
 * reads the input's layout check the construction-time spec first, so a
 * wrong input gets the same clear error on the first call as later.
 */
export function checkSpecBeforeBuild(layer: { inputSpec: InputSpec | InputSpec[] | null; name: string; path: string }, shape: Shape): void {
  const spec = layer.inputSpec;
  if (!spec || Array.isArray(spec)) return;
  // build runs inside the layer's own name scope, where `layer.path` would name the layer twice.
  const scope = currentScope();
  const path = scope === layer.name || scope.endsWith(`/${layer.name}`) ? scope : layer.path;
  spec.check(path, 0, { shape, dtype: 'float32' });
}

/** Output length of a sliding window ('valid' or 'same'), null when the input length is unknown. */
export function windowOutputLength(length: number | null, kernel: number, stride: number, dilation: number, padding: 'valid' | 'same'): number | null {
  if (length === null) return null;
  if (padding === 'same') return Math.ceil(length / stride);
  const dk = (kernel - 1) * dilation + 1;
  return Math.floor((length - dk) / stride) + 1;
}

/** Throws when a 'valid' window does not fit the input (Keras checks this in build). */
export function checkWindowFits(where: string, shape: Shape, spatialAxes: readonly number[], kernel: readonly number[], strides: readonly number[], dilation: readonly number[], padding: 'valid' | 'same', what = 'kernelSize'): void {
  spatialAxes.forEach((ax, i) => {
    const out = windowOutputLength(shape[ax], kernel[i], strides[i], dilation[i], padding);
    if (out !== null && out <= 0) {
      throw new Error(
        `${where}: the input of shape ${formatShape(shape)} is too small for ${what}=${JSON.stringify(kernel)} with dilationRate=${JSON.stringify(dilation)} and padding='${padding}': ` +
          `spatial dimension ${i} would have size ${out}. Use padding='same' or a larger input.`,
      );
    }
  });
}
