/**
 * Image preprocessing and augmentation layers (Keras 3's
 * keras.layers.Resizing, CenterCrop, RandomFlip, RandomCrop, RandomContrast,
 * RandomBrightness, RandomTranslation, RandomRotation, RandomZoom), for
 * channels_last images: [h, w, c] or [batch, h, w, c], height and width
 * known.
 *
 * Resizing and CenterCrop always apply. The random layers transform only
 * when training; in inference they return their input unchanged (as Keras
 * 3 does, RandomCrop included). Each random layer draws its parameters with
 * `getRandomTransformation(images)` from its own SeedGenerator and applies
 * them with `transformImages(images, transformation)`, which can also be
 * given explicit parameters (the names are Keras's, in camelCase). Built
 * from public ops only (src/ops/api/image.ts), so they work eagerly, inside
 * strata.fn and in compiled fit.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { range } from '../../tensor/create.ts';
import { describe, formatShape } from '../../tensor/shape.ts';
import * as ops from '../../ops/index.ts';
import * as image from '../../ops/api/image.ts';
import * as random from '../../ops/api/random.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { type CallOptions, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { numberArg, seedArg } from '../core/arguments.ts';

export type Interpolation = image.ResizeInterpolation;
export type FillMode = image.FillMode;

function channelsLast(value: unknown, where: string): 'channels_last' {
  if (value === undefined || value === null || value === 'channels_last') return 'channels_last';
  throw new Error(`${where}: only dataFormat 'channels_last' is supported. Received: dataFormat=${describe(value)}`);
}

function positiveInt(value: unknown, name: string, where: string): number {
  if (!Number.isInteger(value) || (value as number) <= 0) throw new Error(`${where}: ${name} must be a positive integer. Received: ${name}=${describe(value)}`);
  return value as number;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], name: string, where: string): T {
  if (!allowed.includes(value as T)) throw new Error(`${where}: Unknown \`${name}\` ${describe(value)}. Expected one of ${JSON.stringify(allowed)}.`);
  return value as T;
}

/** A factor (a number f: [-|f|, |f|] clipped to the bounds; a pair: sorted), as Keras's `_set_factor`. */
function factorRange(factor: unknown, name: string, where: string, bounds: [number, number], clipLower: boolean): [number, number] {
  const error = () => new Error(`${where}: The \`${name}\` argument should be a number (or a list of two numbers) in the range [${bounds[0]}, ${bounds[1]}]. Received: ${name}=${describe(factor)}`);
  if (Array.isArray(factor)) {
    if (factor.length !== 2 || !factor.every((f) => typeof f === 'number' && Number.isFinite(f))) throw error();
    if (factor[0] > bounds[1] || factor[1] < bounds[0]) throw error();
    const [lo, hi] = [...(factor as number[])].sort((p, q) => p - q);
    return [lo, hi];
  }
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < bounds[0] || factor > bounds[1]) throw error();
  const f = Math.abs(factor);
  return [clipLower ? Math.max(-f, bounds[0]) : -f, f];
}

/** RandomTranslation / RandomZoom factors: each value in [-1, 1] (zoom: (-1, 1]). */
function heightWidthFactor(factor: unknown, name: string, where: string, openLower: boolean): [number, number] {
  const check = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v <= 1 && (openLower ? v > -1 : v >= -1);
  const error = () => new Error(`${where}: The \`${name}\` argument should be a number (or a list of two numbers) in the range ${openLower ? '(-1, 1]' : '[-1, 1]'}. Received: ${name}=${describe(factor)}`);
  if (Array.isArray(factor)) {
    if (factor.length !== 2 || !factor.every(check)) throw error();
    const [lo, hi] = [...(factor as number[])].sort((p, q) => p - q);
    return [lo, hi];
  }
  if (!check(factor)) throw error();
  const f = Math.abs(factor as number);
  return [-f, f];
}

const configFactor = (v: unknown): unknown => (Array.isArray(v) ? [...v] : v);

/** Images as a batch (a single image gets a batch dim of 1). */
function asBatch(images: Tensor): { x: Tensor; single: boolean } {
  if (images.rank !== 3 && images.rank !== 4) {
    throw new Error(`Expected the input image to be rank 3 or 4. Received inputs.shape=${formatShape(images.shape)}`);
  }
  return images.rank === 3 ? { x: ops.expandDims(images, 0), single: true } : { x: images, single: false };
}
const unbatch = (y: Tensor, single: boolean): Tensor => (single ? ops.squeeze(y, 0) : y);

export interface ImageLayerOptions extends LayerOptions {
  /** Only 'channels_last' is supported. */
  dataFormat?: 'channels_last' | null;
}

/** The base of the image layers: channels_last, data_format in the config. */
abstract class ImageLayer extends Layer {
  readonly dataFormat = 'channels_last' as const;
  constructor(options: ImageLayerOptions) {
    super(options);
    channelsLast(options.dataFormat, `${(this.constructor as typeof Layer).className} '${this.name}'`);
  }
  protected get where(): string {
    return `${(this.constructor as typeof Layer).className} '${this.name}'`;
  }
  protected floatInput(x: Tensor): Tensor {
    return x.dtype === this.computeDtype ? x : ops.cast(x, this.computeDtype);
  }
  override getConfig(): Config {
    return { ...super.getConfig(), data_format: this.dataFormat };
  }
}

const imageBase = (config: Config): ImageLayerOptions => ({ ...baseOptionsFromConfig(config), dataFormat: channelsLast(config.data_format, 'image layer config') });

// ---------------------------------------------------------------------------
// Deterministic layers

export interface ResizingOptions extends ImageLayerOptions {
  interpolation?: Interpolation;
  cropToAspectRatio?: boolean;
  padToAspectRatio?: boolean;
  /** Only 'constant' is supported (Keras's default). */
  fillMode?: 'constant';
  fillValue?: number;
  /** Only false is supported. */
  antialias?: boolean;
}

/** Resizes images to (height, width), in training and inference. */
export class Resizing extends ImageLayer {
  static override readonly className = 'Resizing';
  readonly height: number;
  readonly width: number;
  readonly interpolation: Interpolation;
  readonly cropToAspectRatio: boolean;
  readonly padToAspectRatio: boolean;
  readonly fillMode = 'constant' as const;
  readonly fillValue: number;
  readonly antialias = false;

  constructor(height: number, width: number, options: ResizingOptions = {}) {
    super(options);
    this.height = positiveInt(height, 'height', this.where);
    this.width = positiveInt(width, 'width', this.where);
    this.interpolation = oneOf(options.interpolation ?? 'bilinear', ['bilinear', 'nearest'] as const, 'interpolation', this.where);
    this.cropToAspectRatio = options.cropToAspectRatio ?? false;
    this.padToAspectRatio = options.padToAspectRatio ?? false;
    oneOf(options.fillMode ?? 'constant', ['constant'] as const, 'fill_mode', this.where);
    this.fillValue = numberArg(options.fillValue ?? 0, 'fillValue', this.where);
    if (options.antialias) throw new Error(`${this.where}: antialias=true is not supported.`);
  }

  override call(inputs: Tensor): Tensor {
    return image.resize(this.floatInput(inputs), [this.height, this.width], {
      interpolation: this.interpolation,
      cropToAspectRatio: this.cropToAspectRatio,
      padToAspectRatio: this.padToAspectRatio,
      fillValue: this.fillValue,
    });
  }

  override getConfig(): Config {
    return {
      ...super.getConfig(), height: this.height, width: this.width, interpolation: this.interpolation,
      crop_to_aspect_ratio: this.cropToAspectRatio, pad_to_aspect_ratio: this.padToAspectRatio,
      fill_mode: this.fillMode, fill_value: this.fillValue, antialias: this.antialias,
    };
  }

  static override fromConfig(config: Config): Resizing {
    return new Resizing(config.height as number, config.width as number, {
      ...imageBase(config),
      interpolation: (config.interpolation as Interpolation | undefined) ?? 'bilinear',
      cropToAspectRatio: (config.crop_to_aspect_ratio as boolean | undefined) ?? false,
      padToAspectRatio: (config.pad_to_aspect_ratio as boolean | undefined) ?? false,
      fillMode: (config.fill_mode as 'constant' | undefined) ?? 'constant',
      fillValue: (config.fill_value as number | undefined) ?? 0,
      antialias: (config.antialias as boolean | undefined) ?? false,
    });
  }
}
registerBuiltin('keras.layers', Resizing);

/**
 * Crops the central (height, width) window, in training and inference. An
 * image smaller than that along an axis is first cropped to the target
 * aspect ratio and resized (bilinear), as Keras's smart_resize.
 */
export class CenterCrop extends ImageLayer {
  static override readonly className = 'CenterCrop';
  readonly height: number;
  readonly width: number;

  constructor(height: number, width: number, options: ImageLayerOptions = {}) {
    super(options);
    this.height = positiveInt(height, 'height', this.where);
    this.width = positiveInt(width, 'width', this.where);
  }

  override call(inputs: Tensor): Tensor {
    const x = this.floatInput(inputs);
    const r = x.rank;
    if (r !== 3 && r !== 4) throw new Error(`${this.where}: expected rank 3 or 4 images. Received shape ${formatShape(x.shape)}`);
    const h = x.shape[r - 3], w = x.shape[r - 2];
    if (h === null || w === null) throw new Error(`${this.where}: the height and width must be known. Received shape ${formatShape(x.shape)}`);
    if (h >= this.height && w >= this.width) {
      const start = new Array<number>(r).fill(0);
      const size = new Array<number>(r).fill(-1);
      start[r - 3] = Math.floor((h - this.height) / 2);
      start[r - 2] = Math.floor((w - this.width) / 2);
      size[r - 3] = this.height;
      size[r - 2] = this.width;
      return ops.slice(x, start, size);
    }
    return image.resize(x, [this.height, this.width], { cropToAspectRatio: true });
  }

  override getConfig(): Config {
    return { ...super.getConfig(), height: this.height, width: this.width };
  }

  static override fromConfig(config: Config): CenterCrop {
    return new CenterCrop(config.height as number, config.width as number, imageBase(config));
  }
}
registerBuiltin('keras.layers', CenterCrop);

// ---------------------------------------------------------------------------
// Random layers

export interface RandomImageOptions extends ImageLayerOptions {
  seed?: number | null;
}

/** The base of the random layers: a SeedGenerator, identity in inference. */
abstract class RandomImageLayer<T> extends ImageLayer {
  readonly seed: number | null;
  readonly seedGenerator: random.SeedGenerator;

  constructor(options: RandomImageOptions, seed: number | null = seedArg(options.seed, 'random image layer')) {
    super(options);
    this.seed = seed;
    this.seedGenerator = new random.SeedGenerator(seed);
  }

  /** Draws the parameters of one transformation for `images` (a batch or one image). */
  abstract getRandomTransformation(images: Tensor): T;
  /** Applies a transformation (from getRandomTransformation, or explicit parameters) to `images`. */
  abstract transformImages(images: Tensor, transformation: T): Tensor;

  override call(inputs: Tensor, { training }: CallOptions): Tensor {
    if (!training) return inputs;
    const x = this.floatInput(inputs);
    return this.transformImages(x, this.getRandomTransformation(x));
  }

  /** Uniform values of shape [batch, 1, 1, 1] (batch 1 for one image). */
  protected drawPerImage(images: Tensor, minval: number, maxval: number): Tensor {
    const { x } = asBatch(images);
    return random.uniform([x.shape[0], 1, 1, 1], { minval, maxval, seed: this.seedGenerator, like: x, dtype: this.computeDtype });
  }

  override getConfig(): Config {
    return { ...super.getConfig(), seed: this.seed };
  }
}

export type FlipMode = 'horizontal' | 'vertical' | 'horizontal_and_vertical';
export interface RandomFlipOptions extends RandomImageOptions {
  /** Default 'horizontal_and_vertical'. */
  mode?: FlipMode;
}
export interface FlipTransformation {
  /** [batch, 1, 1, 1] booleans: which images are flipped. */
  flips: Tensor;
}

/** Flips each image horizontally and/or vertically with probability 1/2 (when training). */
export class RandomFlip extends RandomImageLayer<FlipTransformation> {
  static override readonly className = 'RandomFlip';
  readonly mode: FlipMode;

  constructor(mode: FlipMode = 'horizontal_and_vertical', options: RandomFlipOptions = {}) {
    super(options);
    this.mode = oneOf(options.mode ?? mode, ['horizontal', 'vertical', 'horizontal_and_vertical'] as const, 'mode', this.where);
  }

  getRandomTransformation(images: Tensor): FlipTransformation {
    return { flips: ops.lessEqual(this.drawPerImage(images, 0, 1), 0.5) };
  }

  transformImages(images: Tensor, { flips }: FlipTransformation): Tensor {
    const { x, single } = asBatch(images);
    const f = ops.reshape(ops.cast(flips, 'bool'), [-1, 1, 1, 1]);
    const both = this.mode === 'horizontal_and_vertical';
    return unbatch(image.flipWhere(x, f, both || this.mode === 'horizontal', both || this.mode === 'vertical'), single);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), mode: this.mode };
  }

  static override fromConfig(config: Config): RandomFlip {
    return new RandomFlip((config.mode as FlipMode | undefined) ?? 'horizontal_and_vertical', { ...imageBase(config), seed: (config.seed as number | null | undefined) ?? null });
  }
}
registerBuiltin('keras.layers', RandomFlip);

export interface CropTransformation {
  /** The top row and left column of the window (numbers or int32 scalars). */
  hStart: number | Tensor;
  wStart: number | Tensor;
}

/**
 * Crops a random (height, width) window (the same for the whole batch) when
 * training; an image not larger than the window along both axes is cropped
 * to the aspect ratio and resized. In inference the input passes through
 * unchanged (Keras 3). Like Keras, a layer made without a seed draws one and
 * writes it in its config.
 */
export class RandomCrop extends RandomImageLayer<CropTransformation> {
  static override readonly className = 'RandomCrop';
  readonly height: number;
  readonly width: number;

  constructor(height: number, width: number, options: RandomImageOptions = {}) {
    super(options, seedArg(options.seed, 'RandomCrop') ?? random.makeDefaultSeed());
    this.height = positiveInt(height, 'height', this.where);
    this.width = positiveInt(width, 'width', this.where);
  }

  private dims(images: Tensor): [number, number] {
    const h = images.shape[images.rank - 3], w = images.shape[images.rank - 2];
    if (h === null || w === null) throw new Error(`${this.where}: RandomCrop requires the input to have a fully defined height and width. Received: images.shape=${formatShape(images.shape)}`);
    return [h, w];
  }

  getRandomTransformation(images: Tensor): CropTransformation {
    asBatch(images);
    const [h, w] = this.dims(images);
    if (h > this.height && w > this.width) {
      const draw = (n: number) => ops.cast(ops.minimum(ops.floor(random.uniform([1], { minval: 0, maxval: n + 1, seed: this.seedGenerator })), n), 'int32');
      return { hStart: draw(h - this.height), wStart: draw(w - this.width) };
    }
    const c = image.aspectRatioCrop(h, w, this.height, this.width);
    return { hStart: c.top, wStart: c.left };
  }

  transformImages(images: Tensor, { hStart, wStart }: CropTransformation): Tensor {
    const { x, single } = asBatch(images);
    const [h, w] = this.dims(x);
    let y: Tensor;
    if (typeof hStart === 'number' && typeof wStart === 'number') {
      const ch = Math.min(this.height, h - hStart), cw = Math.min(this.width, w - wStart);
      y = ops.slice(x, [0, hStart, wStart, 0], [-1, ch, cw, -1]);
      if (ch !== this.height || cw !== this.width) y = image.resize(y, [this.height, this.width]);
    } else {
      // A window inside the image: gather its rows and columns.
      const rows = ops.add(range(0, this.height, 1, 'int32'), ops.reshape(ops.cast(hStart, 'int32'), [1]));
      const cols = ops.add(range(0, this.width, 1, 'int32'), ops.reshape(ops.cast(wStart, 'int32'), [1]));
      y = ops.take(ops.take(x, rows, 1), cols, 2);
    }
    return unbatch(y, single);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), height: this.height, width: this.width };
  }

  static override fromConfig(config: Config): RandomCrop {
    return new RandomCrop(config.height as number, config.width as number, { ...imageBase(config), seed: (config.seed as number | null | undefined) ?? null });
  }
}
registerBuiltin('keras.layers', RandomCrop);

export interface RandomValueRangeOptions extends RandomImageOptions {
  /** The range of the pixel values (default [0, 255]); outputs are clipped to it. */
  valueRange?: [number, number];
}

function valueRangeArg(v: unknown, where: string): [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((e) => typeof e === 'number' && Number.isFinite(e))) {
    throw new Error(`${where}: The \`value_range\` argument should be a list of two numbers. Received: value_range=${describe(v)}`);
  }
  return [v[0] as number, v[1] as number];
}

export interface ContrastTransformation {
  /** [batch, 1, 1, 1]: each image becomes (x - mean) * factor + mean. */
  contrastFactor: Tensor;
}

/**
 * Scales each image's deviation from its per-channel mean by a factor drawn
 * from [1 - factor[0], 1 + factor[1]], then clips to `valueRange` (when
 * training). A number `factor` f gives the range [0, f] (Keras clips the
 * lower bound at 0), so the factor is drawn from [1, 1 + f].
 */
export class RandomContrast extends RandomImageLayer<ContrastTransformation> {
  static override readonly className = 'RandomContrast';
  readonly factor: [number, number];
  readonly valueRange: [number, number];

  constructor(factor: number | [number, number], options: RandomValueRangeOptions = {}) {
    super(options);
    this.factor = factorRange(factor, 'factor', this.where, [0, 1], true);
    this.valueRange = valueRangeArg(options.valueRange ?? [0, 255], this.where);
  }

  getRandomTransformation(images: Tensor): ContrastTransformation {
    return { contrastFactor: this.drawPerImage(images, 1 - this.factor[0], 1 + this.factor[1]) };
  }

  transformImages(images: Tensor, { contrastFactor }: ContrastTransformation): Tensor {
    const { x, single } = asBatch(images);
    const mean = ops.mean(ops.mean(x, { axis: 1, keepdims: true }), { axis: 2, keepdims: true });
    const f = ops.cast(ops.reshape(contrastFactor, [-1, 1, 1, 1]), x.dtype);
    const out = ops.clip(ops.add(ops.multiply(ops.subtract(x, mean), f), mean), this.valueRange[0], this.valueRange[1]);
    return unbatch(out, single);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), factor: [...this.factor], value_range: [...this.valueRange] };
  }

  static override fromConfig(config: Config): RandomContrast {
    return new RandomContrast(configFactor(config.factor) as [number, number], {
      ...imageBase(config), seed: (config.seed as number | null | undefined) ?? null, valueRange: (config.value_range as [number, number] | undefined) ?? [0, 255],
    });
  }
}
registerBuiltin('keras.layers', RandomContrast);

export interface BrightnessTransformation {
  /** [batch, 1, 1, 1]: added to every pixel (in value-range units). */
  rgbDelta: Tensor;
}

/**
 * Adds to each image a delta drawn from factor * (valueRange[1] -
 * valueRange[0]), then clips to `valueRange` (when training).
 */
export class RandomBrightness extends RandomImageLayer<BrightnessTransformation> {
  static override readonly className = 'RandomBrightness';
  readonly factor: [number, number];
  readonly valueRange: [number, number];

  constructor(factor: number | [number, number], options: RandomValueRangeOptions = {}) {
    super(options);
    this.factor = factorRange(factor, 'factor', this.where, [-1, 1], true);
    const vr = valueRangeArg(options.valueRange ?? [0, 255], this.where);
    this.valueRange = [Math.min(...vr), Math.max(...vr)];
  }

  getRandomTransformation(images: Tensor): BrightnessTransformation {
    const span = this.valueRange[1] - this.valueRange[0];
    return { rgbDelta: ops.multiply(this.drawPerImage(images, this.factor[0], this.factor[1]), span) };
  }

  transformImages(images: Tensor, { rgbDelta }: BrightnessTransformation): Tensor {
    const { x, single } = asBatch(images);
    const d = ops.cast(ops.reshape(rgbDelta, [-1, 1, 1, 1]), x.dtype);
    return unbatch(ops.clip(ops.add(x, d), this.valueRange[0], this.valueRange[1]), single);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), factor: [...this.factor], value_range: [...this.valueRange] };
  }

  static override fromConfig(config: Config): RandomBrightness {
    return new RandomBrightness(configFactor(config.factor) as [number, number], {
      ...imageBase(config), seed: (config.seed as number | null | undefined) ?? null, valueRange: (config.value_range as [number, number] | undefined) ?? [0, 255],
    });
  }
}
registerBuiltin('keras.layers', RandomBrightness);

// --- Geometric layers (affine transforms) ----------------------------------

export interface AffineLayerOptions extends RandomImageOptions {
  /** Default 'reflect'. */
  fillMode?: FillMode;
  /** Default 'bilinear'. */
  interpolation?: Interpolation;
  /** The value outside the image with fillMode 'constant' (default 0). */
  fillValue?: number;
}

abstract class AffineImageLayer<T> extends RandomImageLayer<T> {
  readonly fillMode: FillMode;
  readonly interpolation: Interpolation;
  readonly fillValue: number;

  constructor(options: AffineLayerOptions) {
    super(options);
    this.fillMode = oneOf(options.fillMode ?? 'reflect', ['reflect', 'wrap', 'constant', 'nearest'] as const, 'fill_mode', this.where);
    this.interpolation = oneOf(options.interpolation ?? 'bilinear', ['bilinear', 'nearest'] as const, 'interpolation', this.where);
    this.fillValue = numberArg(options.fillValue ?? 0, 'fillValue', this.where);
  }

  /** The [batch, 8] transforms for a transformation of images of size (h, w). */
  protected abstract matrix(transformation: T, height: number, width: number): Tensor;

  transformImages(images: Tensor, transformation: T): Tensor {
    const { x, single } = asBatch(images);
    const h = x.shape[1], w = x.shape[2];
    if (h === null || w === null) throw new Error(`${this.where}: the height and width must be known. Received shape ${formatShape(images.shape)}`);
    const out = image.affineTransform(x, this.matrix(transformation, h, w), { interpolation: this.interpolation, fillMode: this.fillMode, fillValue: this.fillValue });
    return unbatch(out, single);
  }

  /** [batch] uniform values. */
  protected drawVector(images: Tensor, minval: number, maxval: number): Tensor {
    return ops.reshape(random.uniform([asBatch(images).x.shape[0], 1, 1, 1], { minval, maxval, seed: this.seedGenerator, like: asBatch(images).x }), [-1]);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), fill_mode: this.fillMode, fill_value: this.fillValue, interpolation: this.interpolation };
  }
}

const affineFromConfig = (config: Config): AffineLayerOptions => ({
  ...imageBase(config),
  seed: (config.seed as number | null | undefined) ?? null,
  fillMode: (config.fill_mode as FillMode | undefined) ?? 'reflect',
  interpolation: (config.interpolation as Interpolation | undefined) ?? 'bilinear',
  fillValue: (config.fill_value as number | undefined) ?? 0,
});

/** Columns [batch, 1] into a [batch, 8] transform. */
function transformRows(cols: (Tensor | 0)[], like: Tensor): Tensor {
  const zero = ops.zerosLike(like);
  return ops.concatenate(cols.map((c) => (c === 0 ? zero : ops.cast(c, 'float32'))), 1);
}

export interface RotationTransformation {
  /** [batch] angles in degrees (counter-clockwise as displayed). */
  angle: Tensor;
}

/** Rotates each image by an angle drawn from factor * 360 degrees (when training). */
export class RandomRotation extends AffineImageLayer<RotationTransformation> {
  static override readonly className = 'RandomRotation';
  readonly factor: [number, number];

  constructor(factor: number | [number, number], options: AffineLayerOptions = {}) {
    super(options);
    this.factor = factorRange(factor, 'factor', this.where, [-1, 1], true);
  }

  getRandomTransformation(images: Tensor): RotationTransformation {
    return { angle: this.drawVector(images, this.factor[0] * 360, this.factor[1] * 360) };
  }

  protected matrix({ angle }: RotationTransformation, height: number, width: number): Tensor {
    const theta = ops.reshape(ops.multiply(ops.cast(angle, 'float32'), Math.fround(Math.PI / 180)), [-1, 1]);
    const cx = 0.5 * (width - 1), cy = 0.5 * (height - 1);
    const cos = ops.cos(theta), sin = ops.sin(theta);
    // Output (x, y) reads input R(theta) ((x, y) - c) + c.
    const a2 = ops.subtract(ops.subtract(cx, ops.multiply(cos, cx)), ops.multiply(ops.negative(sin), cy));
    const b2 = ops.subtract(ops.subtract(cy, ops.multiply(sin, cx)), ops.multiply(cos, cy));
    return transformRows([cos, ops.negative(sin), a2, sin, cos, b2, 0, 0], theta);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), factor: [...this.factor] };
  }

  static override fromConfig(config: Config): RandomRotation {
    return new RandomRotation(configFactor(config.factor) as [number, number], affineFromConfig(config));
  }
}
registerBuiltin('keras.layers', RandomRotation);

export interface TranslationTransformation {
  /** [batch, 2]: the shift (dx, dy) in pixels. */
  translations: Tensor;
}

/** Shifts each image by fractions of its height and width drawn from the factors (when training). */
export class RandomTranslation extends AffineImageLayer<TranslationTransformation> {
  static override readonly className = 'RandomTranslation';
  readonly heightFactor: number | [number, number];
  readonly widthFactor: number | [number, number];
  readonly heightRange: [number, number];
  readonly widthRange: [number, number];

  constructor(heightFactor: number | [number, number], widthFactor: number | [number, number], options: AffineLayerOptions = {}) {
    super(options);
    this.heightRange = heightWidthFactor(heightFactor, 'height_factor', this.where, false);
    this.widthRange = heightWidthFactor(widthFactor, 'width_factor', this.where, false);
    this.heightFactor = configFactor(heightFactor) as number | [number, number];
    this.widthFactor = configFactor(widthFactor) as number | [number, number];
  }

  getRandomTransformation(images: Tensor): TranslationTransformation {
    const { x } = asBatch(images);
    const h = x.shape[1] as number, w = x.shape[2] as number;
    const dy = ops.multiply(this.drawVector(x, this.heightRange[0], this.heightRange[1]), h);
    const dx = ops.multiply(this.drawVector(x, this.widthRange[0], this.widthRange[1]), w);
    return { translations: ops.stack([dx, dy], 1) };
  }

  protected matrix({ translations }: TranslationTransformation): Tensor {
    const t = ops.cast(translations, 'float32');
    const dx = ops.slice(t, [0, 0], [-1, 1]), dy = ops.slice(t, [0, 1], [-1, 1]);
    const one = ops.onesLike(dx);
    return transformRows([one, 0, ops.negative(dx), 0, one, ops.negative(dy), 0, 0], dx);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), height_factor: configFactor(this.heightFactor), width_factor: configFactor(this.widthFactor) };
  }

  static override fromConfig(config: Config): RandomTranslation {
    return new RandomTranslation(configFactor(config.height_factor) as number, configFactor(config.width_factor) as number, affineFromConfig(config));
  }
}
registerBuiltin('keras.layers', RandomTranslation);

export interface ZoomTransformation {
  /** [batch, 1]: the input/output scale along each axis (above 1 zooms out). */
  heightZoom: Tensor;
  widthZoom: Tensor;
}

/**
 * Zooms each image by 1 + a value drawn from the factors (when training):
 * positive factors zoom out, negative zoom in. Without `widthFactor` both
 * axes use the same draw.
 */
export class RandomZoom extends AffineImageLayer<ZoomTransformation> {
  static override readonly className = 'RandomZoom';
  readonly heightFactor: number | [number, number];
  readonly widthFactor: number | [number, number] | null;
  readonly heightRange: [number, number];
  readonly widthRange: [number, number] | null;

  constructor(heightFactor: number | [number, number], widthFactor: number | [number, number] | null = null, options: AffineLayerOptions = {}) {
    super(options);
    this.heightRange = heightWidthFactor(heightFactor, 'height_factor', this.where, true);
    this.widthRange = widthFactor === null || widthFactor === undefined ? null : heightWidthFactor(widthFactor, 'width_factor', this.where, true);
    this.heightFactor = configFactor(heightFactor) as number | [number, number];
    this.widthFactor = (widthFactor === undefined ? null : configFactor(widthFactor)) as number | [number, number] | null;
  }

  getRandomTransformation(images: Tensor): ZoomTransformation {
    const heightZoom = ops.reshape(this.drawVector(images, 1 + this.heightRange[0], 1 + this.heightRange[1]), [-1, 1]);
    const widthZoom = this.widthRange ? ops.reshape(this.drawVector(images, 1 + this.widthRange[0], 1 + this.widthRange[1]), [-1, 1]) : heightZoom;
    return { heightZoom, widthZoom };
  }

  protected matrix({ heightZoom, widthZoom }: ZoomTransformation, height: number, width: number): Tensor {
    const zx = ops.reshape(ops.cast(widthZoom, 'float32'), [-1, 1]), zy = ops.reshape(ops.cast(heightZoom, 'float32'), [-1, 1]);
    const xOffset = ops.multiply((width - 1) / 2, ops.subtract(1, zx));
    const yOffset = ops.multiply((height - 1) / 2, ops.subtract(1, zy));
    return transformRows([zx, 0, xOffset, 0, zy, yOffset, 0, 0], zx);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), height_factor: configFactor(this.heightFactor), width_factor: configFactor(this.widthFactor) };
  }

  static override fromConfig(config: Config): RandomZoom {
    return new RandomZoom(configFactor(config.height_factor) as number, (configFactor(config.width_factor) ?? null) as number | null, affineFromConfig(config));
  }
}
registerBuiltin('keras.layers', RandomZoom);

