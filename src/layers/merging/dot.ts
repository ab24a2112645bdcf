/**
 * Dot: the batchwise dot product of two tensors along `axes` (Keras's
 * `batch_dot`): one axis of each input (never the batch axis) is summed
 * over; the output has the first input's remaining dims followed by the
 * second's (without its batch dim), and at least 2 dims ([batch, 1] for two
 * vectors). With `normalize`, both inputs are L2-normalized along the
 * summed axes first, giving cosine similarities. The output has no mask.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { describe, formatShape } from '../../tensor/shape.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { type InputShape, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { shapeList } from './merge.ts';

export interface DotOptions extends LayerOptions {
  /** L2-normalize along the dot axes first (default false). */
  normalize?: boolean;
}

const EPSILON = 1e-7;

function l2Normalize(x: Tensor, axis: number): Tensor {
  const sq = ops.sum(ops.square(x), axis, true);
  return ops.multiply(x, ops.rsqrt(ops.maximum(sq, EPSILON * EPSILON)));
}

export class Dot extends Layer {
  static override readonly className = 'Dot';
  readonly axes: number | [number, number];
  readonly normalize: boolean;

  constructor(axes: number | readonly [number, number], options: DotOptions = {}) {
    super(options);
    const where = `Dot '${this.name}'`;
    if (Array.isArray(axes)) {
      if (axes.length !== 2 || !axes.every((a) => Number.isInteger(a))) throw new Error(`${where}: axes must be an integer or a list of two integers. Received: axes=${describe(axes)}`);
      this.axes = [axes[0], axes[1]];
    } else if (Number.isInteger(axes)) {
      this.axes = axes as number;
    } else {
      throw new Error(`${where}: axes must be an integer or a list of two integers. Received: axes=${describe(axes)}`);
    }
    this.normalize = options.normalize ?? false;
    this.supportsMasking = true;
  }

  /** The dot axes for inputs of the given ranks (negative axes resolved). */
  private resolveAxes(r1: number, r2: number): [number, number] {
    const [a1, a2] = Array.isArray(this.axes) ? this.axes : [this.axes, this.axes];
    return [a1 < 0 ? ((a1 % r1) + r1) % r1 : a1, a2 < 0 ? ((a2 % r2) + r2) % r2 : a2];
  }

  override build(inputShape: InputShape): void {
    const [s1, s2] = shapeList(this, inputShape, 2, 2);
    const where = `Dot '${this.name}'`;
    if (s1.length < 2 || s2.length < 2) throw new Error(`${where}: cannot do batch_dot on inputs with rank < 2. Received inputs with shapes ${formatShape(s1)} and ${formatShape(s2)}.`);
    if (s1[0] !== null && s2[0] !== null && s1[0] !== s2[0]) throw new Error(`${where}: cannot do batch_dot on inputs with different batch sizes. Received inputs with shapes ${formatShape(s1)} and ${formatShape(s2)}.`);
    const [a1, a2] = this.resolveAxes(s1.length, s2.length);
    if (a1 === 0 || a2 === 0 || a1 >= s1.length || a2 >= s2.length) {
      throw new Error(`${where}: invalid axes ${JSON.stringify(this.axes)} for inputs of shapes ${formatShape(s1)} and ${formatShape(s2)}; the batch axis 0 cannot be summed over.`);
    }
    if (s1[a1] !== null && s2[a2] !== null && s1[a1] !== s2[a2]) {
      throw new Error(`${where}: incompatible input shapes: axis values ${s1[a1]} (at axis ${a1}) != ${s2[a2]} (at axis ${a2}). Full input shapes: ${formatShape(s1)}, ${formatShape(s2)}`);
    }
  }

  override call(inputs: unknown): Tensor {
    if (!Array.isArray(inputs) || inputs.length !== 2) throw new Error(`Dot '${this.name}': a Dot layer should be called on a list of exactly 2 inputs.`);
    let [x, y] = inputs as Tensor[];
    const [a1, a2] = this.resolveAxes(x.rank, y.rank);
    if (this.normalize) {
      x = l2Normalize(x, a1);
      y = l2Normalize(y, a2);
    }
    // One einsum: the batch label is shared, the dot axes share a label.
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const xl = Array.from({ length: x.rank }, (_, i) => (i === 0 ? 'a' : i === a1 ? 'z' : letters[i]));
    const yl = Array.from({ length: y.rank }, (_, i) => (i === 0 ? 'a' : i === a2 ? 'z' : letters[x.rank + i]));
    const out = [...xl.filter((l) => l !== 'z'), ...yl.filter((l) => l !== 'z' && l !== 'a')];
    const result = ops.einsum(`${xl.join('')},${yl.join('')}->${out.join('')}`, x, y);
    return result.rank === 1 ? ops.expandDims(result, 1) : result;
  }

  override computeMask(): null {
    return null;
  }

  override getConfig(): Config {
    return { ...super.getConfig(), axes: Array.isArray(this.axes) ? [...this.axes] : this.axes, normalize: this.normalize };
  }

  static override fromConfig(config: Config): Dot {
    return new Dot(config.axes as number | [number, number], { ...baseOptionsFromConfig(config), normalize: (config.normalize as boolean | undefined) ?? false });
  }
}
registerBuiltin('keras.layers', Dot);
