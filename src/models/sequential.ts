/**
 * Sequential: a plain stack of layers. Built from an Input (or a first layer
 * with `inputShape`) at construction, or on its first call otherwise. When
 * the input shape is known, the stack is also a functional graph (for the
 * summary's output shapes and for saving).
 */
import type { Shape } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { registerBuiltin, type Config } from '../serialization/registry.ts';
import { KerasTensor } from '../layers/keras-tensor.ts';
import { type CallOptions, type InputShape, Layer, type LayerOptions } from '../layers/layer.ts';
import { InputLayer } from '../layers/core/input-layer.ts';
import { Model } from './model.ts';
import { withNameScope } from '../engine/scope.ts';

export class Sequential extends Model {
  static override readonly className = 'Sequential';
  #layers: Layer[] = [];
  #input: InputLayer | null = null;
  #outputs: KerasTensor | null = null;

  constructor(layers: readonly (Layer | KerasTensor)[] = [], options: LayerOptions = {}) {
    super(options);
    this.autocastInputs = false;
    for (const l of layers) this.add(l);
  }

  /** The layers, without the InputLayer (as in Keras). */
  override get layers(): Layer[] {
    return [...this.#layers];
  }

  /** The InputLayer, if the input shape is known. */
  get inputLayer(): InputLayer | null {
    return this.#input;
  }

  /** The symbolic output, once the input shape is known. */
  get outputTensor(): KerasTensor | null {
    return this.#outputs;
  }

  add(layer: Layer | KerasTensor): void {
    if (layer instanceof KerasTensor) {
      const source = layer.history?.layer;
      if (!(source instanceof InputLayer)) throw new TypeError(`Sequential '${this.name}'.add: only strata.Input(...) KerasTensors can be added; add layers instead.`);
      layer = source;
    }
    if (!(layer instanceof Layer)) throw new TypeError(`Sequential '${this.name}'.add: expected a Layer. Received: ${String(layer)}`);
    if (layer instanceof InputLayer) {
      if (this.#input || this.#layers.length > 0) throw new Error(`Sequential '${this.name}': an InputLayer can only be the first layer.`);
      this.#input = layer;
      this.#outputs = layer.output;
      return;
    }
    if (this.#layers.some((l) => l.name === layer.name)) {
      throw new Error(`Sequential '${this.name}': all layer names should be unique, but '${layer.name}' is already in the model.`);
    }
    if (!this.#input && this.#layers.length === 0 && layer.batchInputShape) {
      this.#input = new InputLayer({ batchShape: layer.batchInputShape });
      this.#outputs = this.#input.output;
    }
    this.#layers.push(layer);
    if (this.#outputs) {
      // The input shape is known: wire the new layer symbolically (builds it and checks compatibility).
      // Built in the model's name scope, its weights get Keras's paths (`sequential/dense/kernel`).
      const input = this.#outputs;
      const out = withNameScope(this.name, () => layer.apply(input));
      if (!(out instanceof KerasTensor)) {
        throw new Error(`Sequential '${this.name}': layer '${layer.name}' returned several outputs; Sequential layers must have exactly one output.`);
      }
      this.#outputs = out;
      this.built = true;
    }
  }

  /** Removes the last layer. */
  pop(): Layer {
    const layer = this.#layers.pop();
    if (!layer) throw new Error(`Sequential '${this.name}' has no layers to pop.`);
    // Rebuild the symbolic graph for the remaining layers.
    if (this.#input) {
      let out: KerasTensor = this.#input.output;
      for (const l of this.#layers) out = withNameScope(this.name, () => l.apply(out)) as KerasTensor;
      this.#outputs = out;
    }
    return layer;
  }

  override build(inputShape: InputShape): void {
    if (this.#input) return;
    const shape = inputShape as Shape;
    this.#input = new InputLayer({ batchShape: shape.map((d, i) => (i === 0 ? null : d)) as (number | null)[] });
    let out: KerasTensor = this.#input.output;
    for (const l of this.#layers) out = l.apply(out) as KerasTensor;
    this.#outputs = out;
  }

  override call(inputs: unknown, options: CallOptions): unknown {
    if (this.#layers.length === 0) throw new Error(`Sequential '${this.name}' has no layers. Add layers before calling it.`);
    let x = inputs as Tensor;
    for (const layer of this.#layers) x = layer.apply(x, { training: options.training }) as Tensor;
    return x;
  }

  override getConfig(): Config {
    return { name: this.name, trainable: this.trainable };
  }
}
registerBuiltin('keras', Sequential);
