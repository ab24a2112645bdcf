/**
 * Rescaling: `inputs * scale + offset`, in training and inference. Integer
 * inputs are cast to the layer's compute dtype first. `scale` and `offset`
 * are numbers, or lists of numbers that broadcast against the last axis
 * (per channel).
 *
 * Config: numbers are written as numbers and lists as lists, as Keras writes
 * Python numbers and lists; a value read from Keras's NumPy form
 * (`{class_name: '__numpy__', config: {value, dtype}}`) is written back in
 * that form. All three forms are read.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { tensor } from '../../tensor/create.ts';
import { describe } from '../../tensor/shape.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

export type RescalingValue = number | number[];

function checkValue(value: unknown, name: string, where: string): RescalingValue {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) return [...value];
  throw new Error(`${where}: ${name} must be a finite number or a non-empty list of finite numbers. Received: ${name}=${describe(value)}`);
}

/** Reads a config value: a number, a list, or Keras's `__numpy__` / `__tensor__` object. */
function readValue(value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as { class_name?: unknown; config?: { value?: unknown } };
    if ((v.class_name === '__numpy__' || v.class_name === '__tensor__') && v.config) return readValue(v.config.value);
  }
  if (Array.isArray(value)) return value.flat(Infinity);
  return value;
}

/** Whether a config value is Keras's NumPy / tensor form. */
function isArrayObject(value: unknown): boolean {
  const v = value as { class_name?: unknown } | null;
  return !!v && typeof v === 'object' && !Array.isArray(v) && (v.class_name === '__numpy__' || v.class_name === '__tensor__');
}

// Keras serializes scale/offset with serialize_keras_object, which writes a
// Python list as a plain list (only NumPy arrays become `__numpy__`). Strata
// wrote every list as `__numpy__`, so its configs differed from Keras's for
// the usual list argument; lists now stay lists unless read as NumPy arrays.
function writeValue(value: RescalingValue, asNumpy: boolean): unknown {
  if (typeof value === 'number') return value;
  return asNumpy ? { class_name: '__numpy__', config: { value: [...value], dtype: 'float32' } } : [...value];
}

export interface RescalingOptions extends LayerOptions {
  /** Added after scaling (default 0). */
  offset?: RescalingValue;
}

export class Rescaling extends Layer {
  static override readonly className = 'Rescaling';
  readonly scale: RescalingValue;
  readonly offset: RescalingValue;
  /** Which of scale / offset were read from Keras's NumPy form (written back the same way). */
  #numpyForm = { scale: false, offset: false };

  constructor(scale: RescalingValue, options: RescalingOptions = {}) {
    super(options);
    const where = `Rescaling '${this.name}'`;
    this.scale = checkValue(scale, 'scale', where);
    this.offset = checkValue(options.offset ?? 0, 'offset', where);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor): Tensor {
    const dtype = this.computeDtype;
    const x = inputs.dtype === dtype ? inputs : ops.cast(inputs, dtype);
    const asTensor = (v: RescalingValue) => (typeof v === 'number' ? v : tensor(v, [v.length], dtype));
    const scaled = this.scale === 1 ? x : ops.multiply(x, asTensor(this.scale));
    return this.offset === 0 ? scaled : ops.add(scaled, asTensor(this.offset));
  }

  override getConfig(): Config {
    return { ...super.getConfig(), scale: writeValue(this.scale, this.#numpyForm.scale), offset: writeValue(this.offset, this.#numpyForm.offset) };
  }

  static override fromConfig(config: Config): Rescaling {
    const layer = new Rescaling(readValue(config.scale) as RescalingValue, { ...baseOptionsFromConfig(config), offset: (readValue(config.offset) ?? 0) as RescalingValue });
    layer.#numpyForm = { scale: isArrayObject(config.scale), offset: isArrayObject(config.offset) };
    return layer;
  }
}
registerBuiltin('keras.layers', Rescaling);
