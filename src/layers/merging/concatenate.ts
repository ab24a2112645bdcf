/**
 * Concatenate: joins a list of tensors along `axis` (default -1); the other
 * dims must match. Masks: when any input has one, the output mask is the
 * concatenation of the input masks (all-true for unmasked inputs), reduced
 * with `any` over the last axis, as in Keras.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { type Shape, describe, formatShape } from '../../tensor/shape.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { type InputShape, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { shapeList } from './merge.ts';

export interface ConcatenateOptions extends LayerOptions {
  /** The axis to join along (default -1). */
  axis?: number;
}

export class Concatenate extends Layer {
  static override readonly className = 'Concatenate';
  readonly axis: number;

  constructor(options: ConcatenateOptions = {}) {
    super(options);
    const axis = options.axis ?? -1;
    if (!Number.isInteger(axis)) throw new Error(`Concatenate '${this.name}': axis must be an integer. Received: axis=${describe(axis)}`);
    this.axis = axis;
    this.supportsMasking = true;
  }

  override build(inputShape: InputShape): void {
    const shapes = shapeList(this, inputShape);
    const fail = (why: string) =>
      new Error(`Concatenate '${this.name}': a Concatenate layer requires inputs with matching shapes except for the concatenation axis (${why}). Received: input_shape=[${shapes.map(formatShape).join(', ')}]`);
    const rank = shapes[0].length;
    if (shapes.some((s) => s.length !== rank)) throw fail('the ranks differ');
    const axis = this.axis < 0 ? this.axis + rank : this.axis;
    if (axis < 0 || axis >= rank) throw fail(`axis ${this.axis} is out of range for rank ${rank}`);
    for (let d = 0; d < rank; d++) {
      if (d === axis) continue;
      const sizes = new Set(shapes.map((s: Shape) => s[d]).filter((v) => v !== null));
      if (sizes.size > 1) throw fail(`axis ${d} differs`);
    }
  }

  override call(inputs: unknown): Tensor {
    if (!Array.isArray(inputs)) throw new Error(`Concatenate '${this.name}': a Concatenate layer should be called on a list of inputs.`);
    const xs = inputs as Tensor[];
    return ops.concatenate(xs, this.axis < 0 ? this.axis + xs[0].rank : this.axis);
  }

  override computeMask(inputs: unknown, mask: Tensor | null | (Tensor | null)[] | undefined): Tensor | null {
    if (!mask) return null;
    if (!Array.isArray(mask) || !Array.isArray(inputs)) throw new Error(`Concatenate '${this.name}': mask should be a list (one per input).`);
    if (mask.every((m) => m === null)) return null;
    const xs = inputs as Tensor[];
    const full = xs.map((x, i) => {
      const m = mask[i];
      if (!m) return ops.onesLike(x, 'bool');
      let e = m;
      while (e.rank < x.rank) e = ops.expandDims(e, -1);
      return ops.broadcastLike(e, x);
    });
    const axis = this.axis < 0 ? this.axis + xs[0].rank : this.axis;
    return ops.any(ops.concatenate(full, axis), -1);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), axis: this.axis };
  }

  static override fromConfig(config: Config): Concatenate {
    return new Concatenate({ ...baseOptionsFromConfig(config), axis: (config.axis as number | undefined) ?? -1 });
  }
}
registerBuiltin('keras.layers', Concatenate);
