/**
 * TimeDistributed (keras.layers.TimeDistributed): applies one layer (one set
 * of weights) to every temporal slice of an input [batch, time, ...].
 *
 * The batch and time axes are merged, the layer runs once on
 * [batch * time, ...], and the result is split back to [batch, time, ...];
 * when the per-step dims are not all known (but the time length is), the
 * layer runs once per timestep instead. For layers that treat each sample
 * on its own (Dense, Conv2D, Dropout in inference...) this is exactly
 * Keras 3's per-timestep loop. Layers whose training behaviour mixes the
 * samples of a batch (BatchNormalization in training) see all timesteps
 * together, as in Keras 2, rather than one timestep at a time as in Keras 3.
 *
 * A mask [batch, time] passes through to the output (Keras does the same);
 * a mask with more dims is split per timestep for the wrapped layer. The
 * wrapped layer is kept in the field `layer` (Keras's attribute), so saved
 * weights land at `time_distributed/layer/vars`.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import type { Shape } from '../../tensor/shape.ts';
import { zeros } from '../../tensor/create.ts';
import { withNameScope } from '../../engine/scope.ts';
import * as ops from '../../ops/index.ts';
import { sliceAxis } from '../../ops/defs/indexing.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { type CallOptions, type InputShape, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { deserializeNestedLayer, serializeNestedLayer } from './rnn-base.ts';

export class TimeDistributed extends Layer {
  static override readonly className = 'TimeDistributed';
  /** The wrapped layer (Keras's attribute name, so weights save at `.../layer/vars`). */
  readonly layer: Layer;

  constructor(layer: Layer, options: LayerOptions = {}) {
    super(options);
    if (!((layer as unknown) instanceof Layer)) {
      throw new TypeError(`TimeDistributed '${this.name}' must wrap a layer instance. Received: ${String(layer)}`);
    }
    this.layer = layer;
    this.supportsMasking = true;
  }

  private childShape(inputShape: InputShape): Shape {
    const shape = inputShape as Shape;
    if (!Array.isArray(shape) || shape.length < 3 || !shape.every((d) => d === null || typeof d === 'number')) {
      throw new Error(`TimeDistributed '${this.name}' needs an input with at least 3 dims [batch, time, ...]. Received shape: ${JSON.stringify(inputShape)}`);
    }
    return [shape[0], ...shape.slice(2)];
  }

  override build(inputShape: InputShape): void {
    const child = this.childShape(inputShape);
    if (!this.layer.built) this.layer.buildFromShape(child);
  }

  override computeOutputShape(inputShape: InputShape): Shape {
    const shape = inputShape as Shape;
    const child = this.layer.computeOutputShape(this.childShape(inputShape)) as Shape;
    return [child[0], shape[1], ...child.slice(1)];
  }

  override call(inputs: Tensor, { training, mask }: CallOptions): Tensor {
    const x = inputs;
    const m = (Array.isArray(mask) ? mask[0] : mask) ?? null;
    if (m && (m.rank < 2 || (m.shape[1] !== null && x.shape[1] !== null && m.shape[1] !== x.shape[1]))) {
      throw new Error(`TimeDistributed '${this.name}': the mask must be at least 2D [batch, time] and match the input's first two dims. Received mask shape ${JSON.stringify(m.shape)} for input shape ${JSON.stringify(x.shape)}.`);
    }
    const stepMask = m && m.rank > 2 ? m : null;
    const rest = x.shape.slice(2);
    const steps = x.shape[1];
    if (rest.some((d) => d === null)) {
      if (steps === null) throw new Error(`TimeDistributed '${this.name}': with unknown per-step dims ${JSON.stringify(x.shape)}, the number of timesteps must be known.`);
      // One call per timestep (Keras 3's loop).
      const outs: Tensor[] = [];
      for (let t = 0; t < steps; t++) {
        const xt = ops.squeeze(sliceAxis(x, 1, t, t + 1), 1);
        const mt = stepMask ? ops.squeeze(sliceAxis(stepMask, 1, t, t + 1), 1) : undefined;
        outs.push(this.layer.apply(xt, { training, mask: mt }) as Tensor);
      }
      return ops.stack(outs, 1);
    }
    // Merge batch and time, run once, split again.
    const merged = ops.reshape(x, [-1, ...(rest as number[])]);
    const mergedMask = stepMask ? ops.reshape(stepMask, [-1, ...(stepMask.shape.slice(2) as number[])]) : undefined;
    const y = this.layer.apply(merged, { training, mask: mergedMask }) as Tensor;
    const outDims = y.shape.slice(1);
    if (outDims.some((d) => d === null)) throw new Error(`TimeDistributed '${this.name}': the wrapped layer's output ${JSON.stringify(y.shape)} has unknown per-step dims.`);
    const batch = x.shape[0];
    if (steps !== null) return ops.reshape(y, [batch ?? -1, steps, ...(outDims as number[])]);
    if (batch !== null) return ops.reshape(y, [batch, -1, ...(outDims as number[])]);
    // Batch and time both unknown: reshape like a [batch, time, ...out] tensor built by broadcasting.
    let base = x;
    for (let a = 2; a < x.rank; a++) base = sliceAxis(base, a, 0, 1);
    if (x.rank > 2) base = ops.squeeze(base, Array.from({ length: x.rank - 2 }, (_, i) => i + 2));
    let ref = base;
    if (outDims.length > 0) ref = ops.add(ops.expandDims(base, outDims.map((_, i) => i + 2)), zeros(outDims as number[], base.dtype));
    return ops.reshapeLike(y, ref);
  }

  override getConfig(): Config {
    return { ...super.getConfig(), layer: serializeNestedLayer(this.layer) };
  }

  static override fromConfig(config: Config): TimeDistributed {
    const name = String(config.name ?? 'time_distributed');
    // The wrapped layer is built from its build_config in this layer's name scope (its weights are `time_distributed/dense/kernel`, as in Keras).
    const build = config.layer && typeof config.layer === 'object' ? ((config.layer as Config).build_config as Config | undefined) : undefined;
    const nested = build ? { ...(config.layer as Config), build_config: undefined } : config.layer;
    const layer = deserializeNestedLayer(nested, `TimeDistributed '${name}' layer`);
    const wrapper = new TimeDistributed(layer, baseOptionsFromConfig(config));
    const shape = build?.input_shape;
    if (shape !== undefined && shape !== null) withNameScope(wrapper.name, () => layer.buildFromShape(shape as Shape));
    return wrapper;
  }
}
registerBuiltin('keras.layers', TimeDistributed);
