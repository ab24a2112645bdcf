/**
 * Elementwise merge layers: Add, Subtract, Multiply, Average, Maximum,
 * Minimum. They take a list of tensors whose shapes (after the batch dim)
 * broadcast against each other; inputs of lower rank get size-1 dims
 * inserted after the batch dim first, as Keras does.
 *
 * Masks (Keras's rules): the output mask is the OR of the input masks when
 * every input has one, else none. Maximum and Minimum ignore masked
 * positions of an input (they take the other inputs' values there);
 * Multiply treats masked positions as 1 and zeroes positions masked in
 * every input.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { type Dim, type Shape, formatShape } from '../../tensor/shape.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { type CallOptions, type InputShape, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

type Masks = (Tensor | null)[] | null;

const fmt = (shapes: readonly Shape[]) => `[${shapes.map(formatShape).join(', ')}]`;

/** The input shapes as a list, or a clear error when the layer got a single tensor. */
export function shapeList(layer: Layer, inputShape: InputShape, min = 1, max = Infinity): Shape[] {
  const cls = (layer.constructor as typeof Layer).className;
  if (!Array.isArray(inputShape) || !inputShape.every((s) => Array.isArray(s))) {
    throw new Error(`${cls} '${layer.name}': a merge layer should be called on a list of inputs. Received: an input of shape ${Array.isArray(inputShape) ? formatShape(inputShape as unknown as Shape) : 'a structure'} (not a list of tensors).`);
  }
  const shapes = inputShape as Shape[];
  if (shapes.length < min || shapes.length > max) {
    const expected = min === max ? `exactly ${min}` : `at least ${min}`;
    throw new Error(`${cls} '${layer.name}': expected ${expected} input${min === 1 && max === 1 ? '' : 's'}, received ${shapes.length}. Full input shapes: ${fmt(shapes)}`);
  }
  return shapes;
}

/** Keras's `_compute_elemwise_op_output_shape` (shapes without the batch dim). */
function elementwiseShape(a: readonly Dim[], b: readonly Dim[], where: string): Dim[] {
  if (a.length < b.length) return elementwiseShape(b, a, where);
  if (b.length === 0) return [...a];
  const out: Dim[] = a.slice(0, a.length - b.length);
  a.slice(a.length - b.length).forEach((i, k) => {
    const j = b[k];
    if (i === null || j === null) out.push(null);
    else if (i === 1) out.push(j);
    else if (j === 1) out.push(i);
    else if (i !== j) throw new Error(`${where}: inputs have incompatible shapes. Received shapes ${formatShape(a)} and ${formatShape(b)}`);
    else out.push(i);
  });
  return out;
}

/** A mask broadcast to the shape of `x` (a [batch, time] mask gets the feature dims added). */
function maskLike(mask: Tensor, x: Tensor): Tensor {
  let m = mask;
  while (m.rank < x.rank) m = ops.expandDims(m, -1);
  return ops.broadcastLike(m, x);
}

export abstract class Merge extends Layer {
  constructor(options: LayerOptions = {}) {
    super(options);
    this.supportsMasking = true;
  }

  protected get where(): string {
    return `${(this.constructor as typeof Layer).className} '${this.name}'`;
  }

  /** The minimum and maximum number of inputs. */
  protected inputCount(): [number, number] {
    return [1, Infinity];
  }

  override build(inputShape: InputShape): void {
    const shapes = shapeList(this, inputShape, ...this.inputCount());
    const batches = new Set(shapes.map((s) => s[0]).filter((d) => d !== null && d !== undefined));
    if (batches.size > 1) throw new Error(`${this.where}: cannot merge tensors with different batch sizes. Received tensors with shapes ${fmt(shapes)}`);
    shapes.slice(1).reduce<Dim[]>((acc, s) => elementwiseShape(acc, s.slice(1), this.where), shapes[0].slice(1));
  }

  /** Merges inputs of equal rank; `masks` are the input masks (or null). */
  protected abstract merge(inputs: Tensor[], masks: Masks): Tensor;

  override call(inputs: unknown, { mask }: CallOptions): Tensor {
    if (!Array.isArray(inputs)) throw new Error(`${this.where}: a merge layer should be called on a list of inputs.`);
    const xs = inputs as Tensor[];
    const maxRank = Math.max(...xs.map((x) => x.rank));
    const reshaped = xs.map((x) => (x.rank < maxRank ? ops.expandDims(x, Array.from({ length: maxRank - x.rank }, (_, i) => i + 1)) : x));
    return this.merge(reshaped, Array.isArray(mask) ? mask : null);
  }

  override computeMask(inputs: unknown, mask: Tensor | null | (Tensor | null)[] | undefined): Tensor | null {
    if (!mask) return null;
    if (!Array.isArray(mask)) throw new Error(`${this.where}: mask should be a list (one per input).`);
    if (mask.some((m) => m === null)) return null;
    return (mask as Tensor[]).reduce((acc, m) => ops.logicalOr(acc, m));
  }
}

/** Keras's `_apply_merge_op_and_or_mask`, for ops without an identity element (maximum, minimum). */
function mergeIgnoringMasked(inputs: Tensor[], masks: Masks, op: (a: Tensor, b: Tensor) => Tensor): Tensor {
  let output = inputs[0];
  let outMask: Tensor | null = masks?.[0] ? maskLike(masks[0], output) : null;
  for (let i = 1; i < inputs.length; i++) {
    let x = inputs[i];
    const m = masks?.[i] ? maskLike(masks[i]!, x) : null;
    if (m) x = ops.where(m, x, output);
    if (outMask) output = ops.where(outMask, output, x);
    outMask = m && outMask ? ops.logicalOr(outMask, m) : null;
    output = op(output, x);
  }
  return output;
}

export class Add extends Merge {
  static override readonly className = 'Add';
  protected override merge(inputs: Tensor[]): Tensor {
    return inputs.reduce((acc, x) => ops.add(acc, x));
  }
  static override fromConfig(config: Config): Add {
    return new Add(baseOptionsFromConfig(config));
  }
}
registerBuiltin('keras.layers', Add);

export class Subtract extends Merge {
  static override readonly className = 'Subtract';
  protected override inputCount(): [number, number] {
    return [2, 2];
  }
  protected override merge(inputs: Tensor[]): Tensor {
    if (inputs.length !== 2) throw new Error(`${this.where}: a Subtract layer should be called on exactly 2 inputs. Received: ${inputs.length} inputs.`);
    return ops.subtract(inputs[0], inputs[1]);
  }
  static override fromConfig(config: Config): Subtract {
    return new Subtract(baseOptionsFromConfig(config));
  }
}
registerBuiltin('keras.layers', Subtract);

export class Multiply extends Merge {
  static override readonly className = 'Multiply';
  protected override merge(inputs: Tensor[], masks: Masks): Tensor {
    if (!masks || masks.every((m) => m === null)) return inputs.reduce((acc, x) => ops.multiply(acc, x));
    const all = masks.every((m) => m !== null);
    let output: Tensor | null = null;
    let outMask: Tensor | null = null;
    for (let i = 0; i < inputs.length; i++) {
      let x = inputs[i];
      const m = masks[i] ? maskLike(masks[i]!, x) : null;
      if (m) {
        // Masked positions count as 1 in the product.
        x = ops.where(m, x, ops.onesLike(x));
        if (all) outMask = outMask ? ops.logicalOr(outMask, m) : m;
      }
      output = output ? ops.multiply(output, x) : x;
    }
    return all && outMask ? ops.where(outMask, output!, ops.zerosLike(output!)) : output!;
  }
  static override fromConfig(config: Config): Multiply {
    return new Multiply(baseOptionsFromConfig(config));
  }
}
registerBuiltin('keras.layers', Multiply);

export class Average extends Merge {
  static override readonly className = 'Average';
  protected override merge(inputs: Tensor[]): Tensor {
    return ops.divide(inputs.reduce((acc, x) => ops.add(acc, x)), inputs.length);
  }
  static override fromConfig(config: Config): Average {
    return new Average(baseOptionsFromConfig(config));
  }
}
registerBuiltin('keras.layers', Average);

export class Maximum extends Merge {
  static override readonly className = 'Maximum';
  protected override merge(inputs: Tensor[], masks: Masks): Tensor {
    return mergeIgnoringMasked(inputs, masks, ops.maximum);
  }
  static override fromConfig(config: Config): Maximum {
    return new Maximum(baseOptionsFromConfig(config));
  }
}
registerBuiltin('keras.layers', Maximum);

export class Minimum extends Merge {
  static override readonly className = 'Minimum';
  protected override merge(inputs: Tensor[], masks: Masks): Tensor {
    return mergeIgnoringMasked(inputs, masks, ops.minimum);
  }
  static override fromConfig(config: Config): Minimum {
    return new Minimum(baseOptionsFromConfig(config));
  }
}
registerBuiltin('keras.layers', Minimum);
