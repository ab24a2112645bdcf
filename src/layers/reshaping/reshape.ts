/**
 * Reshape: reshapes each sample to `targetShape` (the batch dim is kept).
 * One entry may be -1: it is inferred from the sample size.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { type Dim, describe, formatShape, sizeOf } from '../../tensor/shape.ts';
import * as ops from '../../ops/index.ts';
import { sliceAxis } from '../../ops/defs/indexing.ts';
import { zeros } from '../../tensor/create.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { InputSpec } from '../input-spec.ts';

/** `t` ([batch, n], n possibly unknown) concatenated with itself to [batch, n * r], with O(log r) concatenations. */
function repeatRows(t: Tensor, r: number): Tensor {
  let result: Tensor | null = null;
  let power = t;
  for (let k = r; k > 0; k >>= 1) {
    if (k & 1) result = result ? ops.concatenate([result, power], 1) : power;
    if (k > 1) power = ops.concatenate([power, power], 1);
  }
  return result!;
}

export class Reshape extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  static override readonly className = 'Reshape';
  readonly targetShape: number[];

  constructor(targetShape: readonly number[], options: LayerOptions = {}) {
    super(options);
    const where = `Reshape '${this.name}'`;
    if (!Array.isArray(targetShape) || !targetShape.every((d) => Number.isInteger(d) && (d >= 0 || d === -1))) {
      throw new Error(`${where}: targetShape must be a list of non-negative integers (one may be -1), without the batch dim. Received: targetShape=${describe(targetShape)}`);
    }
    if (targetShape.filter((d) => d === -1).length > 1) {
      throw new Error(`${where}: the targetShape argument must not contain more than one -1 value. Received: targetShape=${JSON.stringify(targetShape)}`);
    }
    this.targetShape = [...targetShape];
    this.inputSpec = new InputSpec({ minNdim: 1 });
  }

  /** The target shape with -1 resolved when the sample size is known (checking that the sizes agree). */
  private resolve(inputShape: readonly Dim[]): Dim[] {
    const rest = inputShape.slice(1);
    const restSize = sizeOf(rest);
    const known = this.targetShape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    const hasFree = this.targetShape.includes(-1);
    if (restSize === null) return this.targetShape.map((d) => (d === -1 ? null : d));
    const fail = () =>
      new Error(
        `Reshape '${this.name}': the total size of each sample must be unchanged. Received: input shape ${formatShape(inputShape)} ` +
          `(${restSize} values per sample), targetShape=${JSON.stringify(this.targetShape)}.`,
      );
    if (!hasFree) {
      if (known !== restSize) throw fail();
      return [...this.targetShape];
    }
    if (known === 0 ? restSize !== 0 : restSize % known !== 0) throw fail();
    return this.targetShape.map((d) => (d === -1 ? (known === 0 ? 0 : restSize / known) : d));
  }

  override call(inputs: Tensor): Tensor {
    const target = this.resolve(inputs.shape);
    const batch = inputs.shape[0];
    if (batch !== null) return ops.reshape(inputs, [batch, ...target.map((d) => d ?? -1)]);
    if (target.every((d) => d !== null)) return ops.reshape(inputs, [-1, ...(target as number[])]);
    return ops.reshapeLike(inputs, this.referenceLike(inputs));
  }

  /**
   * With the batch dim and one sample dim unknown, the -1 entry is that
   * dim times a known factor r. A tensor of the output's shape is built
   * from the input (the unknown dim repeated r times along the batch
   * rows, then broadcast against the known target dims) for `reshapeLike`.
   */
  private referenceLike(x: Tensor): Tensor {
    const unknownAxes = x.shape.map((d, i) => (i > 0 && d === null ? i : -1)).filter((i) => i > 0);
    const knownIn = x.shape.slice(1).reduce<number>((p, d) => p * (d ?? 1), 1);
    const knownOut = this.targetShape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    if (unknownAxes.length !== 1 || knownOut === 0 || knownIn % knownOut !== 0) {
      throw new Error(
        `Reshape '${this.name}': cannot infer the -1 entry of targetShape=${JSON.stringify(this.targetShape)} for an input of shape ${formatShape(x.shape)}: ` +
          'with the batch dim unknown, it works only for one other unknown dim whose known neighbours hold a multiple of the known target dims. Give the input a known shape, or a targetShape without -1.',
      );
    }
    const axis = unknownAxes[0];
    // Only the shape of the reference matters; booleans become numbers so they can be added.
    let t = x.dtype === 'bool' ? ops.cast(x, 'int32') : x;
    const others = x.shape.map((_, i) => i).filter((i) => i > 0 && i !== axis);
    for (const i of others) t = sliceAxis(t, i, 0, 1);
    if (others.length > 0) t = ops.squeeze(t, others); // [batch, n]
    t = repeatRows(t, knownIn / knownOut); // [batch, n * r]
    const free = this.targetShape.indexOf(-1) + 1;
    const rest = this.targetShape.map((_, i) => i + 1).filter((i) => i !== free);
    if (rest.length > 0) t = ops.expandDims(t, rest);
    return ops.add(t, zeros(this.targetShape.map((d) => (d === -1 ? 1 : d)), t.dtype));
  }

  override getConfig(): Config {
    return { ...super.getConfig(), target_shape: [...this.targetShape] };
  }

  static override fromConfig(config: Config): Reshape {
    return new Reshape(config.target_shape as number[], baseOptionsFromConfig(config));
  }
}
registerBuiltin('keras.layers', Reshape);
