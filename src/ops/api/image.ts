/**
 * `ops.image`: image composites (keras.ops.image in camelCase), channels_last
 * only. Everything is composed from public ops (take, takeAlongAxis, where,
 * floor, clip ...), so these functions run eagerly, trace into strata.fn
 * graphs and lower to ONNX without op definitions of their own.
 *
 * Height and width must be known (static); the batch dim may be unknown.
 *
 * Conventions follow TensorFlow's kernels, which Keras's TensorFlow backend
 * uses:
 * - `resize`: half-pixel centers without antialiasing (tf.image.resize).
 *   Bilinear samples at `(o + 0.5) * in / out - 0.5`, clamped to the image;
 *   nearest takes `min(floor((o + 0.5) * in / out), in - 1)`. The index and
 *   weight tables are computed here in float32 arithmetic, as TF does.
 * - `affineTransform`: ImageProjectiveTransformV3. A transform
 *   `[a0, a1, a2, b0, b1, b2, c0, c1]` maps an output pixel (x, y) to the
 *   input point ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k), with
 *   k = c0 x + c1 y + 1. The fill mode first maps that point into the image
 *   (reflect, wrap, nearest: clamped to [0, size - 1]; constant: unchanged);
 *   then nearest rounds it half away from zero and bilinear blends the four
 *   neighbours. Any neighbour outside the image reads `fillValue`.
 */
import { type Shape, formatShape } from '../../tensor/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { tensor } from '../../tensor/create.ts';
import { isFloat } from '../../tensor/dtype.ts';
import { type TensorLike, toTensor } from '../convert.ts';
import * as m from './math.ts';
import * as a from './array.ts';
import * as ix from './indexing.ts';

export type ResizeInterpolation = 'bilinear' | 'nearest';
export type FillMode = 'reflect' | 'wrap' | 'constant' | 'nearest';

const f32 = Math.fround;

function imagesArg(images: TensorLike, where: string): { x: Tensor; single: boolean } {
  let x = toTensor(images, where);
  if (x.rank !== 3 && x.rank !== 4) {
    throw new TypeError(`${where}: Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). Received input with shape: ${formatShape(x.shape)}`);
  }
  if (x.shape[x.rank - 3] === null || x.shape[x.rank - 2] === null) {
    throw new TypeError(`${where}: the height and width of the images must be known. Received input with shape: ${formatShape(x.shape)}`);
  }
  if (!isFloat(x.dtype)) x = m.cast(x, 'float32');
  const single = x.rank === 3;
  return { x: single ? a.expandDims(x, 0) : x, single };
}

const finish = (y: Tensor, single: boolean): Tensor => (single ? a.squeeze(y, 0) : y);

/** Samples `x` along `axis` at the output size `out` (half-pixel centers). */
function resizeAxis(x: Tensor, axis: number, out: number, interpolation: ResizeInterpolation): Tensor {
  const size = x.shape[axis] as number;
  if (size === out) return x;
  const scale = f32(size / out);
  const bcast = (values: number[], dtype: 'int32' | 'float32') => {
    const shape = new Array<number>(x.rank - axis).fill(1);
    shape[0] = out;
    return tensor(values, shape, dtype);
  };
  if (interpolation === 'nearest') {
    const idx = Array.from({ length: out }, (_, o) => Math.max(0, Math.min(Math.floor(f32(f32(o + 0.5) * scale)), size - 1)));
    return ix.take(x, tensor(idx, [out], 'int32'), axis);
  }
  const lower: number[] = [], upper: number[] = [], lerp: number[] = [];
  for (let o = 0; o < out; o++) {
    const p = f32(f32(f32(o + 0.5) * scale) - 0.5);
    const fl = Math.floor(p);
    lower.push(Math.max(fl, 0));
    upper.push(Math.min(Math.ceil(p), size - 1));
    lerp.push(f32(p - fl));
  }
  const lo = ix.take(x, tensor(lower, [out], 'int32'), axis);
  const hi = ix.take(x, tensor(upper, [out], 'int32'), axis);
  const w = m.cast(bcast(lerp, 'float32'), x.dtype);
  return m.add(lo, m.multiply(m.subtract(hi, lo), w));
}

export interface ResizeOptions {
  interpolation?: ResizeInterpolation;
  /** Crop the largest centered window of the target aspect ratio first (default false). */
  cropToAspectRatio?: boolean;
  /** Pad with `fillValue` to the target aspect ratio first (default false). */
  padToAspectRatio?: boolean;
  /** The padding value for `padToAspectRatio` (default 0). */
  fillValue?: number;
}

/** The (start, size) of the centered window of the target aspect ratio (Keras's crop_to_aspect_ratio). */
export function aspectRatioCrop(height: number, width: number, targetHeight: number, targetWidth: number): { top: number; left: number; height: number; width: number } {
  const cropHeight = Math.max(Math.min(height, Math.trunc(f32(f32(width * targetHeight) / targetWidth))), 1);
  const cropWidth = Math.max(Math.min(width, Math.trunc(f32(f32(height * targetWidth) / targetHeight))), 1);
  return { top: Math.trunc((height - cropHeight) / 2), left: Math.trunc((width - cropWidth) / 2), height: cropHeight, width: cropWidth };
}

/**
 * Resizes images ([h, w, c] or [batch, h, w, c]) to `size` = [height, width]
 * (keras.ops.image.resize without antialiasing). Integer images are resized
 * as float32.
 */
export function resize(images: TensorLike, size: readonly [number, number] | readonly number[], options: ResizeOptions = {}): Tensor {
  const where = 'image.resize';
  const { x: input, single } = imagesArg(images, where);
  if (!Array.isArray(size) || size.length !== 2 || !size.every((d) => Number.isInteger(d) && d > 0)) {
    throw new TypeError(`${where}: Argument \`size\` must be a tuple of two positive integers (height, width). Received: size=${JSON.stringify(size)}`);
  }
  const interpolation = options.interpolation ?? 'bilinear';
  if (interpolation !== 'bilinear' && interpolation !== 'nearest') {
    throw new TypeError(`${where}: Received: interpolation=${JSON.stringify(interpolation)}; expected 'bilinear' or 'nearest'.`);
  }
  if (options.cropToAspectRatio && options.padToAspectRatio) {
    throw new TypeError(`${where}: Only one of cropToAspectRatio and padToAspectRatio can be true.`);
  }
  const [th, tw] = size;
  let x = input;
  const h = x.shape[1] as number, w = x.shape[2] as number;
  if (options.cropToAspectRatio) {
    const c = aspectRatioCrop(h, w, th, tw);
    x = ix.slice(x, [0, c.top, c.left, 0], [-1, c.height, c.width, -1]);
  } else if (options.padToAspectRatio) {
    const padHeight = Math.max(h, Math.trunc(f32(f32(w * th) / tw)));
    const padWidth = Math.max(w, Math.trunc(f32(f32(h * tw) / th)));
    // Keras pads the same amount on both sides (the floor of half the difference).
    const top = Math.trunc((padHeight - h) / 2), left = Math.trunc((padWidth - w) / 2);
    if (top > 0 || left > 0) {
      x = ix.pad(x, [[0, 0], [top, top], [left, left], [0, 0]], 'constant', options.fillValue ?? 0);
    }
  }
  x = resizeAxis(x, 1, th, interpolation);
  x = resizeAxis(x, 2, tw, interpolation);
  return finish(x, single);
}

/** Maps input coordinates into [0, size - 1] as TensorFlow's fill modes do. */
function mapCoordinate(c: Tensor, size: number, mode: FillMode): Tensor {
  if (mode === 'constant') return c;
  if (mode === 'nearest' || size <= 1) return m.clip(size <= 1 ? m.multiply(c, 0) : c, 0, size - 1);
  let mapped: Tensor;
  if (mode === 'reflect') {
    // Reflect [abcd] to [dcba|abcd|dcba].
    const sz2 = 2 * size;
    const nShift = m.add(m.multiply(m.floor(m.divide(m.negative(c), sz2)), sz2), c);
    const negative = m.where(m.less(nShift, -size), m.add(nShift, sz2), m.subtract(m.negative(nShift), 1));
    const pShift = m.subtract(c, m.multiply(m.floor(m.divide(c, sz2)), sz2));
    const positive = m.where(m.greaterEqual(pShift, size), m.subtract(sz2 - 1, pShift), pShift);
    mapped = m.where(m.less(c, 0), negative, m.where(m.greater(c, size - 1), positive, c));
  } else {
    // Wrap [abcd] to [abcd|abcd|abcd] (TensorFlow's arithmetic, including its use of size - 1).
    const sz = size - 1;
    const negative = m.add(c, m.multiply(m.add(m.floor(m.divide(m.negative(c), sz)), 1), size));
    const positive = m.subtract(c, m.multiply(m.floor(m.divide(c, sz)), size));
    mapped = m.where(m.less(c, 0), negative, m.where(m.greater(c, size - 1), positive, c));
  }
  return m.clip(mapped, 0, size - 1);
}

export interface AffineTransformOptions {
  interpolation?: ResizeInterpolation;
  fillMode?: FillMode;
  /** The value of points outside the image (constant mode; default 0). */
  fillValue?: number;
}

/**
 * Applies projective transforms to images (keras.ops.image.affine_transform):
 * `transform` is [8] for one image or [batch, 8], each row mapping output
 * points to input points (see the module comment).
 */
export function affineTransform(images: TensorLike, transform: TensorLike, options: AffineTransformOptions = {}): Tensor {
  const where = 'image.affineTransform';
  const { x, single } = imagesArg(images, where);
  const interpolation = options.interpolation ?? 'bilinear';
  const fillMode = options.fillMode ?? 'reflect';
  const fillValue = options.fillValue ?? 0;
  if (interpolation !== 'bilinear' && interpolation !== 'nearest') {
    throw new TypeError(`${where}: Received: interpolation=${JSON.stringify(interpolation)}; expected 'bilinear' or 'nearest'.`);
  }
  if (!['reflect', 'wrap', 'constant', 'nearest'].includes(fillMode)) {
    throw new TypeError(`${where}: Received: fillMode=${JSON.stringify(fillMode)}; expected 'reflect', 'wrap', 'constant' or 'nearest'.`);
  }
  let t = m.cast(toTensor(transform, where), 'float32');
  if (t.rank === 1) t = a.expandDims(t, 0);
  if (t.rank !== 2 || t.shape[1] !== 8) {
    throw new TypeError(`${where}: Invalid transform shape: expected [8] or [batch, 8]. Received: ${formatShape(t.shape)}`);
  }
  const h = x.shape[1] as number, w = x.shape[2] as number;
  const hw = h * w;
  const xs: number[] = [], ys: number[] = [];
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) { ys.push(i); xs.push(j); }
  const gx = tensor(xs, [1, hw], 'float32');
  const gy = tensor(ys, [1, hw], 'float32');
  const col = (k: number) => ix.slice(t, [0, k], [-1, 1]); // [batch, 1]
  const projection = m.add(m.add(m.multiply(col(6), gx), m.multiply(col(7), gy)), 1);
  const inX = m.divide(m.add(m.add(m.multiply(col(0), gx), m.multiply(col(1), gy)), col(2)), projection);
  const inY = m.divide(m.add(m.add(m.multiply(col(3), gx), m.multiply(col(4), gy)), col(5)), projection);
  const px = mapCoordinate(inX, w, fillMode);
  const py = mapCoordinate(inY, h, fillMode);

  const flat = a.reshape(x, [-1, hw, x.shape[3] as number]); // [batch, h*w, c]
  const fill = m.cast(fillValue, x.dtype);
  // Reads the pixels at integer (float-valued) coordinates [batch, h*w]; outside the image: fillValue.
  const read = (yi: Tensor, xi: Tensor): Tensor => {
    const yc = m.clip(yi, -1, h), xc = m.clip(xi, -1, w);
    const valid = m.logicalAnd(m.logicalAnd(m.greaterEqual(yc, 0), m.less(yc, h)), m.logicalAnd(m.greaterEqual(xc, 0), m.less(xc, w)));
    const index = m.cast(m.add(m.multiply(m.clip(yc, 0, h - 1), w), m.clip(xc, 0, w - 1)), 'int32');
    const gathered = ix.takeAlongAxis(flat, a.broadcastLike(a.expandDims(index, -1), flat), 1);
    return m.where(a.expandDims(valid, -1), gathered, fill);
  };
  const e = (v: Tensor) => m.cast(a.expandDims(v, -1), x.dtype);
  let out: Tensor;
  if (interpolation === 'nearest') {
    const roundAway = (v: Tensor) => m.multiply(m.sign(v), m.floor(m.add(m.abs(v), 0.5)));
    out = read(roundAway(py), roundAway(px));
  } else {
    const x0 = m.floor(px), y0 = m.floor(py);
    const x1 = m.add(x0, 1), y1 = m.add(y0, 1);
    const top = m.add(m.multiply(e(m.subtract(x1, px)), read(y0, x0)), m.multiply(e(m.subtract(px, x0)), read(y0, x1)));
    const bottom = m.add(m.multiply(e(m.subtract(x1, px)), read(y1, x0)), m.multiply(e(m.subtract(px, x0)), read(y1, x1)));
    out = m.add(m.multiply(e(m.subtract(y1, py)), top), m.multiply(e(m.subtract(py, y0)), bottom));
  }
  return finish(a.reshapeLike(out, x), single);
}

/** Flips each image of a batch horizontally (axis 2) and/or vertically (axis 1) where `flips` ([batch, 1, 1, 1] bool) is true. */
export function flipWhere(images: Tensor, flips: Tensor, horizontal: boolean, vertical: boolean): Tensor {
  let out = images;
  if (horizontal) out = m.where(flips, ix.flip(out, images.rank - 2), out);
  if (vertical) out = m.where(flips, ix.flip(out, images.rank - 3), out);
  return out;
}

/** The shape of a batch of images with height and width replaced. */
export function resizedShape(shape: Shape, height: number, width: number): Shape {
  const s = [...shape];
  s[s.length - 3] = height;
  s[s.length - 2] = width;
  return s;
}
