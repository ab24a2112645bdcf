/**
 * Bidirectional wrapper for recurrent layers (keras.layers.Bidirectional):
 * runs a copy of the layer forwards and one backwards over the sequence and
 * merges their outputs ('concat', 'sum', 'ave', 'mul', or null for both).
 *
 * As in Keras, the forward layer is rebuilt from the given layer's config
 * (named `forward_<name>`) and the backward layer too, with goBackwards
 * flipped (named `backward_<name>`), unless `backwardLayer` is given. The
 * backward output sequence is flipped back to the input's time order. With
 * returnSequences both layers output zeros at masked timesteps
 * (zeroOutputForMask), so the merged sequence is zero there.
 *
 * The sublayers are kept in the fields `forward_layer` and `backward_layer`
 * (Keras's attribute names), so saved weights land at
 * `bidirectional/forward_layer/cell/vars` like Keras's.
 */
import { Tensor } from '../../tensor/tensor.ts';
import { Variable } from '../../engine/variable.ts';
import { withNameScope } from '../../engine/scope.ts';
import type { TensorLike } from '../../ops/convert.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { KerasTensor } from '../keras-tensor.ts';
import { type CallOptions, type InputShape, Layer, type LayerOptions, baseOptionsFromConfig, classNameOf } from '../layer.ts';
import { RNN, type RNNCallOptions, deserializeNestedLayer, serializeNestedLayer } from './rnn-base.ts';
import type { Shape } from '../../tensor/shape.ts';

export type MergeMode = 'concat' | 'sum' | 'ave' | 'mul' | null;

export interface BidirectionalOptions extends LayerOptions {
  /** How the two outputs are combined (default 'concat'; null returns both). */
  mergeMode?: MergeMode;
  /** The backward layer (default: a copy of `layer` with goBackwards flipped). */
  backwardLayer?: RNN | null;
}

const MERGE_MODES: readonly MergeMode[] = ['concat', 'sum', 'ave', 'mul', null];

function removePrefix(name: string, prefix: string): string {
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

/** A fresh layer of the same class from `layer`'s config, with changes (Keras serializes and deserializes). */
function recreate(layer: RNN, changes: Config): RNN {
  const cls = layer.constructor as unknown as { fromConfig(config: Config): Layer };
  if (typeof cls.fromConfig !== 'function') throw new Error(`Bidirectional: layer '${layer.name}' has no static fromConfig, so it cannot be copied.`);
  return cls.fromConfig({ ...JSON.parse(JSON.stringify(layer.getConfig())), ...changes }) as RNN;
}

export class Bidirectional extends Layer {
  static override readonly className = 'Bidirectional';
  /** Keras's attribute name (the saved weights' path); also `forwardLayer`. */
  readonly forward_layer: RNN;
  /** Keras's attribute name (the saved weights' path); also `backwardLayer`. */
  readonly backward_layer: RNN;
  readonly mergeMode: MergeMode;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly stateful: boolean;

  constructor(layer: RNN, options: BidirectionalOptions = {}) {
    super(options);
    const where = `Bidirectional '${this.name}'`;
    if (!((layer as unknown) instanceof RNN)) {
      const given = layer as unknown;
      throw new TypeError(`${where}: the wrapped layer must be a recurrent layer (SimpleRNN, LSTM, GRU or RNN). Received: ${given instanceof Layer ? `${classNameOf(given.constructor as typeof Layer)} '${given.name}'` : String(given)}`);
    }
    const backward = options.backwardLayer ?? null;
    if (backward !== null && !(backward instanceof RNN)) throw new TypeError(`${where}: backwardLayer must be a recurrent layer. Received: ${String(backward)}`);
    const mergeMode = options.mergeMode === undefined ? 'concat' : options.mergeMode;
    if (!MERGE_MODES.includes(mergeMode)) {
      throw new Error(`${where}: invalid mergeMode. Received: ${JSON.stringify(options.mergeMode)}. It should be one of 'sum', 'mul', 'ave', 'concat' or null.`);
    }
    this.forward_layer = recreate(layer, { name: `forward_${removePrefix(layer.name, 'forward_')}` });
    this.backward_layer = backward ?? recreate(layer, { go_backwards: !layer.goBackwards, name: `backward_${removePrefix(layer.name, 'backward_')}` });
    // Keras copies a built layer with its build_config, so the copies are built too (with fresh weights).
    const shape = layer.built ? layer.buildInputShape : null;
    if (shape !== null) {
      withNameScope(this.name, () => {
        this.forward_layer.buildFromShape(shape);
        if (!backward) this.backward_layer.buildFromShape(shape);
      });
    }
    if (this.forward_layer.goBackwards === this.backward_layer.goBackwards) {
      throw new Error(
        `${where}: the forward and backward layers should have different goBackwards values. Received: forward_layer.goBackwards=${this.forward_layer.goBackwards}, backward_layer.goBackwards=${this.backward_layer.goBackwards}`,
      );
    }
    for (const attr of ['stateful', 'returnSequences', 'returnState'] as const) {
      if (this.forward_layer[attr] !== this.backward_layer[attr]) {
        throw new Error(`${where}: the forward and backward layers are expected to have the same value for ${attr}, got ${this.forward_layer[attr]} for the forward layer and ${this.backward_layer[attr]} for the backward layer.`);
      }
    }
    // Masked timesteps output zeros when returning sequences (Keras forces this).
    this.forward_layer.zeroOutputForMask = this.forward_layer.returnSequences;
    this.backward_layer.zeroOutputForMask = this.backward_layer.returnSequences;
    this.mergeMode = mergeMode;
    this.returnSequences = layer.returnSequences;
    this.returnState = layer.returnState;
    this.stateful = layer.stateful;
    this.supportsMasking = true;
    this.inputSpec = [...(this.forward_layer.inputSpec as never[])];
  }

  get forwardLayer(): RNN {
    return this.forward_layer;
  }

  get backwardLayer(): RNN {
    return this.backward_layer;
  }

  override apply(inputs: KerasTensor | KerasTensor[] | Record<string, KerasTensor>, options?: RNNCallOptions): KerasTensor;
  override apply(inputs: TensorLike | TensorLike[] | Record<string, TensorLike>, options?: RNNCallOptions): Tensor;
  override apply(inputs: unknown, options?: RNNCallOptions): unknown;
  override apply(inputs: unknown, options: RNNCallOptions = {}): unknown {
    const { initialState, ...rest } = options;
    if (initialState === undefined || initialState === null) return super.apply(inputs, rest);
    if (Array.isArray(inputs)) throw new Error(`Bidirectional '${this.name}': pass initial states either in the inputs list ([x, ...states]) or as initialState, not both.`);
    const isOne = (v: unknown) => v instanceof Tensor || v instanceof KerasTensor || v instanceof Variable;
    const states = Array.isArray(initialState) && initialState.every(isOne) ? initialState : [initialState];
    return super.apply([inputs, ...(states as unknown[])], rest);
  }

  override build(inputShape: InputShape): void {
    const isList = Array.isArray(inputShape) && Array.isArray(inputShape[0]);
    const sequenceShape = (isList ? (inputShape as Shape[])[0] : inputShape) as Shape;
    this.forward_layer.buildFromShape(sequenceShape);
    this.backward_layer.buildFromShape(sequenceShape);
  }

  override call(inputs: Tensor | Tensor[], { training, mask }: CallOptions): Tensor | Tensor[] {
    const [sequences, ...states] = Array.isArray(inputs) ? inputs : [inputs];
    const seqMask = (Array.isArray(mask) ? mask[0] : mask) ?? null;
    let forwardInputs: Tensor | Tensor[] = sequences;
    let backwardInputs: Tensor | Tensor[] = sequences;
    if (states.length > 0) {
      const expected = this.forward_layer.stateSize.length + this.backward_layer.stateSize.length;
      if (states.length !== expected) {
        throw new Error(`Bidirectional '${this.name}': expected ${expected} initial states (the forward layer's, then the backward layer's). Received: ${states.length}.`);
      }
      const half = states.length / 2;
      forwardInputs = [sequences, ...states.slice(0, half)];
      backwardInputs = [sequences, ...states.slice(half)];
    }
    const asList = (y: unknown): Tensor[] => (Array.isArray(y) ? (y as Tensor[]) : [y as Tensor]);
    const fwd = asList(this.forward_layer.apply(forwardInputs, { training, mask: seqMask }));
    const bwd = asList(this.backward_layer.apply(backwardInputs, { training, mask: seqMask }));
    const y = fwd[0];
    let yRev = bwd[0];
    if (this.returnSequences) yRev = ops.flip(yRev, 1);
    let output: Tensor | Tensor[];
    switch (this.mergeMode) {
      case 'concat':
        output = ops.concatenate([y, yRev], -1);
        break;
      case 'sum':
        output = ops.add(y, yRev);
        break;
      case 'ave':
        output = ops.divide(ops.add(y, yRev), 2);
        break;
      case 'mul':
        output = ops.multiply(y, yRev);
        break;
      default:
        output = [y, yRev];
    }
    if (!this.returnState) return output;
    return [...(Array.isArray(output) ? output : [output]), ...fwd.slice(1), ...bwd.slice(1)];
  }

  override computeOutputShape(inputShape: InputShape): Shape | Shape[] {
    const isList = Array.isArray(inputShape) && Array.isArray(inputShape[0]);
    const sequenceShape = (isList ? (inputShape as Shape[])[0] : inputShape) as Shape;
    const shapes = (f: Shape | Shape[]): Shape[] => (this.returnState ? (f as Shape[]) : [f as Shape]);
    const [fwd, ...fwdStates] = shapes(this.forward_layer.computeOutputShape(sequenceShape));
    const [, ...bwdStates] = shapes(this.backward_layer.computeOutputShape(sequenceShape));
    const last = fwd.at(-1) as number;
    const merged: Shape[] = this.mergeMode === null ? [fwd, fwd] : [this.mergeMode === 'concat' ? [...fwd.slice(0, -1), 2 * last] : fwd];
    if (this.returnState) return [...merged, ...fwdStates, ...bwdStates];
    return this.mergeMode === null ? merged : merged[0];
  }

  override computeMask(inputs: unknown, mask: Tensor | null | (Tensor | null)[] | undefined): Tensor | null | (Tensor | null)[] {
    void inputs;
    const m = (Array.isArray(mask) ? mask[0] : mask) ?? null;
    const out = this.returnSequences ? m : null;
    const outputs: (Tensor | null)[] = this.mergeMode === null ? [out, out] : [out];
    if (this.returnState) {
      const nStates = this.forward_layer.stateSize.length + this.backward_layer.stateSize.length;
      return [...outputs, ...Array.from({ length: nStates }, () => null)];
    }
    return this.mergeMode === null ? outputs : out;
  }

  override getConfig(): Config {
    return {
      ...super.getConfig(),
      merge_mode: this.mergeMode,
      layer: serializeNestedLayer(this.forward_layer),
      backward_layer: serializeNestedLayer(this.backward_layer),
    };
  }

  static override fromConfig(config: Config): Bidirectional {
    const name = String(config.name ?? 'bidirectional');
    const layer = deserializeNestedLayer(config.layer, `Bidirectional '${name}' layer`);
    const backwardLayer = config.backward_layer ? deserializeNestedLayer(config.backward_layer, `Bidirectional '${name}' backward_layer`) : null;
    if (!(layer instanceof RNN) || (backwardLayer !== null && !(backwardLayer instanceof RNN))) {
      throw new Error(`Bidirectional '${name}': the wrapped layers must be recurrent layers (SimpleRNN, LSTM, GRU or RNN).`);
    }
    if (config.weights) throw new Error(`Bidirectional '${name}': initial weights in the config (weights) are not supported; set them with setWeights after building.`);
    return new Bidirectional(layer, {
      ...baseOptionsFromConfig(config),
      mergeMode: config.merge_mode === undefined ? 'concat' : (config.merge_mode as MergeMode),
      backwardLayer: backwardLayer as RNN | null,
    });
  }
}
registerBuiltin('keras.layers', Bidirectional);
