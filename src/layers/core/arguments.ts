/**
 * Argument checks shared by the core, reshaping, regularization, merging and
 * activation layers: data formats, integer tuples (Keras's
 * `standardize_tuple`), numbers, and JSON-safe copies of config values.
 */
import { describe } from '../../tensor/shape.ts';

export type DataFormat = 'channels_last' | 'channels_first';

/** Keras's `standardize_data_format` (Strata has no image_data_format setting: the default is channels_last). */
export function dataFormatArg(value: unknown, where: string): DataFormat {
  if (value === undefined || value === null) return 'channels_last';
  const v = typeof value === 'string' ? value.toLowerCase() : value;
  if (v !== 'channels_last' && v !== 'channels_first') {
    throw new Error(`${where}: dataFormat must be 'channels_last' or 'channels_first'. Received: dataFormat=${describe(value)}`);
  }
  return v;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/**
 * An integer or a list of `n` integers as a tuple of `n` (Keras's
 * `standardize_tuple`): values must be positive, or non-negative with
 * `allowZero`.
 */
export function intTuple(value: unknown, n: number, name: string, where: string, allowZero = false): number[] {
  const ok = (v: unknown) => isInt(v) && (allowZero ? v >= 0 : v > 0);
  const req = allowZero ? 'non-negative' : 'positive';
  if (isInt(value)) {
    if (!ok(value)) throw new Error(`${where}: ${name} must be a ${req} integer or a list of ${n} ${req} integers. Received: ${name}=${describe(value)}`);
    return Array.from({ length: n }, () => value);
  }
  if (!Array.isArray(value) || value.length !== n || !value.every(ok)) {
    throw new Error(`${where}: ${name} must be a ${req} integer or a list of ${n} ${req} integers. Received: ${name}=${describe(value)}`);
  }
  return [...value];
}

/** A finite number (optionally with a lower bound). */
export function numberArg(value: unknown, name: string, where: string, min?: number, max?: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (min !== undefined && value < min) || (max !== undefined && value > max)) {
    const range = min !== undefined && max !== undefined ? ` in [${min}, ${max}]` : min !== undefined ? ` >= ${min}` : '';
    throw new Error(`${where}: ${name} must be a finite number${range}. Received: ${name}=${describe(value)}`);
  }
  return value;
}

/** An integer seed or null. */
export function seedArg(value: unknown, where: string): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value)) throw new Error(`${where}: seed must be an integer or null. Received: seed=${describe(value)}`);
  return value as number;
}
