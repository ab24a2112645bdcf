/**
 * The recurrent machinery shared by SimpleRNN, LSTM and GRU (Keras's
 * `keras.layers.RNN` and its cells).
 *
 * A cell (`RecurrentCell`) is a Layer that owns the weights (`kernel`,
 * `recurrent_kernel`, `bias`, in Keras's shapes and gate order) and computes
 * one timestep. The RNN layer keeps its cell in the field `cell`, so saved
 * files hold its weights at `.../lstm/cell/vars`, exactly like Keras.
 *
 * Time loop. `ops.whileLoop` has no gradient, so the loop over timesteps is
 * a JavaScript loop over a static number of steps: eagerly it runs step by
 * step; inside `strata.fn` it unrolls into the graph. The number of timesteps
 * must therefore be known (the batch size may be unknown). Keras's `unroll`
 * flag is accepted and kept in configs; Strata always unrolls.
 *
 * Per step only the recurrent part is computed: the cells project the whole
 * input sequence with one matmul (`x @ kernel + bias`, shape
 * `[batch, timesteps, gates * units]`) before the loop. This is the same
 * arithmetic as Keras's per-step `x_t @ kernel`, in a different order of
 * float additions.
 *
 * Semantics follow Keras 3 (TensorFlow backend):
 * - masks: a masked timestep keeps the previous states; its output is the
 *   previous (masked) output, zeros before the first unmasked step, or zeros
 *   always with `zeroOutputForMask`. The last output is the final step's
 *   masked output.
 * - `goBackwards`: the sequence is processed from the end, and the returned
 *   sequence is in processing order (reversed), as in Keras.
 * - dropout / recurrent dropout: training only; one mask per call, shared
 *   by every timestep (Keras's DropoutRNNCell).
 * - initial states: the `initialState` call option, or the states appended
 *   to the inputs (`layer.apply([x, h0, c0])`, which also works with
 *   KerasTensors in functional models).
 * - `stateful`: the last states of a call become the initial states of the
 *   next; needs a fixed batch size. The state variables are not weights
 *   (Keras neither saves nor trains them); `resetState()` zeroes them.
 */
import type { DType } from '../../tensor/dtype.ts';
import { type Shape, formatShape } from '../../tensor/shape.ts';
import { Tensor } from '../../tensor/tensor.ts';
import { tensor, zeros } from '../../tensor/create.ts';
import { Variable } from '../../engine/variable.ts';
import type { TensorLike } from '../../ops/convert.ts';
import * as ops from '../../ops/index.ts';
import * as random from '../../ops/api/random.ts';
import { type Config, type SerializableClass, registerBuiltin, resolve } from '../../serialization/registry.ts';
import { type KerasObject, UnknownObjectError, isKerasObject, serializeObject } from '../../serialization/keras-object.ts';
import * as activations from '../../activations/index.ts';
import * as initializers from '../../initializers/index.ts';
import * as regularizers from '../../regularizers/index.ts';
import * as constraints from '../../constraints/index.ts';
import { InputSpec } from '../input-spec.ts';
import { KerasTensor } from '../keras-tensor.ts';
import { type CallOptions, type InputShape, Layer, type LayerOptions, baseOptionsFromConfig, classNameOf } from '../layer.ts';

// ---------------------------------------------------------------------------
// Cells

/** Options every built-in cell takes (SimpleRNNCell's; LSTM and GRU cells add theirs). */
export interface RecurrentCellOptions extends LayerOptions {
  /** Default 'tanh'. */
  activation?: activations.ActivationIdentifier;
  useBias?: boolean;
  /** Default 'glorot_uniform'. */
  kernelInitializer?: initializers.InitializerIdentifier;
  /** Default 'orthogonal'. */
  recurrentInitializer?: initializers.InitializerIdentifier;
  /** Default 'zeros'. */
  biasInitializer?: initializers.InitializerIdentifier;
  kernelRegularizer?: regularizers.RegularizerIdentifier;
  recurrentRegularizer?: regularizers.RegularizerIdentifier;
  biasRegularizer?: regularizers.RegularizerIdentifier;
  kernelConstraint?: constraints.ConstraintIdentifier;
  recurrentConstraint?: constraints.ConstraintIdentifier;
  biasConstraint?: constraints.ConstraintIdentifier;
  /** Fraction of the inputs dropped in training (clipped to [0, 1], as in Keras). */
  dropout?: number;
  /** Fraction of the recurrent state dropped in training. */
  recurrentDropout?: number;
  /** Seed of the cell's SeedGenerator (dropout masks). */
  seed?: number | null;
}

/** The dropout masks of one call (shared by every timestep), and the weights read once per call. */
export interface StepContext {
  /** Input dropout masks, shape [batch, inputDim]: one, or one per gate (Keras's implementation 1). */
  inputMasks: Tensor[] | null;
  /** Recurrent dropout masks, shape [batch, units]: one, or one per gate. */
  recurrentMasks: Tensor[] | null;
  /** Weight values read for this call (cell-specific). */
  weights: Record<string, Tensor>;
}

export interface StepResult {
  output: Tensor;
  states: Tensor[];
}

function checkRate(value: unknown, what: string, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${where}: ${what} must be a number in [0, 1]. Received: ${what}=${String(value)}`);
  return Math.min(1, Math.max(0, value));
}

/**
 * Base class of the built-in cells. A cell computes one timestep:
 * `apply([x, ...states])` returns `[output, ...newStates]` (Keras's
 * `cell(x, states)` returns `(output, new_states)`).
 */
export abstract class RecurrentCell extends Layer {
  static override readonly className: string = 'RecurrentCell';
  readonly units: number;
  readonly activation: activations.Activation;
  readonly useBias: boolean;
  readonly kernelInitializer: initializers.Initializer;
  readonly recurrentInitializer: initializers.Initializer;
  readonly biasInitializer: initializers.Initializer;
  readonly kernelRegularizer: regularizers.Regularizer | null;
  readonly recurrentRegularizer: regularizers.Regularizer | null;
  readonly biasRegularizer: regularizers.Regularizer | null;
  readonly kernelConstraint: constraints.Constraint | null;
  readonly recurrentConstraint: constraints.Constraint | null;
  readonly biasConstraint: constraints.Constraint | null;
  readonly dropout: number;
  readonly recurrentDropout: number;
  readonly seed: number | null;
  readonly seedGenerator: random.SeedGenerator;
  kernel!: Variable;
  recurrentKernel!: Variable;
  bias: Variable | null = null;

  constructor(units: number, options: RecurrentCellOptions = {}) {
    super(options);
    const where = `${classNameOf(this.constructor as typeof Layer)} '${this.name}'`;
    if (!Number.isInteger(units) || units <= 0) throw new Error(`${where}: units must be a positive integer. Received: units=${String(units)}`);
    this.units = units;
    this.activation = activations.get(options.activation === undefined ? 'tanh' : options.activation);
    this.useBias = options.useBias ?? true;
    this.kernelInitializer = initializers.get(options.kernelInitializer ?? 'glorot_uniform');
    this.recurrentInitializer = initializers.get(options.recurrentInitializer ?? 'orthogonal');
    this.biasInitializer = initializers.get(options.biasInitializer ?? 'zeros');
    this.kernelRegularizer = regularizers.get(options.kernelRegularizer ?? null);
    this.recurrentRegularizer = regularizers.get(options.recurrentRegularizer ?? null);
    this.biasRegularizer = regularizers.get(options.biasRegularizer ?? null);
    this.kernelConstraint = constraints.get(options.kernelConstraint ?? null);
    this.recurrentConstraint = constraints.get(options.recurrentConstraint ?? null);
    this.biasConstraint = constraints.get(options.biasConstraint ?? null);
    this.dropout = checkRate(options.dropout ?? 0, 'dropout', where);
    this.recurrentDropout = checkRate(options.recurrentDropout ?? 0, 'recurrentDropout', where);
    this.seed = options.seed ?? null;
    this.seedGenerator = new random.SeedGenerator(this.seed);
  }

  /** Size of each state (LSTM: [units, units] for h and c). */
  abstract get stateSize(): number[];

  get outputSize(): number {
    return this.units;
  }

  /** Number of gates: the kernel has `gates * units` columns. */
  protected abstract get gates(): number;

  /** Number of dropout masks per kind (Keras's `dropout_mask_count`): 1, or one per gate with recurrent dropout. */
  protected get dropoutMaskCount(): number {
    return 1;
  }

  /** `Cell 'name'`, for messages. */
  protected get where(): string {
    return `${classNameOf(this.constructor as typeof Layer)} '${this.name}'`;
  }

  /** The feature size of a step input shape `[batch, features]` (or of `[[batch, features], ...stateShapes]`). */
  protected inputDimOf(inputShape: InputShape): number {
    const shape = (Array.isArray(inputShape) && Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const dim = shape.at(-1);
    if (dim === null || dim === undefined) {
      throw new Error(`${this.where}: the last dimension of the input (the number of features) must be known. Received input shape ${formatShape(shape)}.`);
    }
    return dim;
  }

  /** Creates kernel [inputDim, gates*units] and recurrent_kernel [units, gates*units]; the bias is the subclass's. */
  protected buildKernels(inputDim: number): void {
    const cols = this.gates * this.units;
    this.kernel = this.addWeight({ name: 'kernel', shape: [inputDim, cols], initializer: this.kernelInitializer, regularizer: this.kernelRegularizer, constraint: this.kernelConstraint });
    this.recurrentKernel = this.addWeight({
      name: 'recurrent_kernel',
      shape: [this.units, cols],
      initializer: this.recurrentInitializer,
      regularizer: this.recurrentRegularizer,
      constraint: this.recurrentConstraint,
    });
  }

  protected addBias(shape: number[], initializer: initializers.InitializerIdentifier = this.biasInitializer): void {
    this.bias = this.addWeight({ name: 'bias', shape, initializer, regularizer: this.biasRegularizer, constraint: this.biasConstraint });
  }

  /**
   * Draws the dropout masks of one call (training only) and reads the
   * weights. `stepInput` is a [batch, inputDim] tensor, `state` a
   * [batch, units] one; they give the masks' shapes (the batch may be unknown).
   */
  prepare(stepInput: Tensor, state: Tensor, training: boolean): StepContext {
    const draw = (like: Tensor, rate: number): Tensor[] | null => {
      if (!training || !(rate > 0 && rate < 1)) return null;
      const ones = ops.onesLike(like);
      return Array.from({ length: this.dropoutMaskCount }, () => random.dropout(ones, rate, { seed: this.seedGenerator }));
    };
    return { inputMasks: draw(stepInput, this.dropout), recurrentMasks: draw(state, this.recurrentDropout), weights: this.readWeights() };
  }

  /** Reads the weights once per call (each read is a separate tensor for gradients). */
  protected readWeights(): Record<string, Tensor> {
    const w: Record<string, Tensor> = { kernel: this.kernel.read(), recurrentKernel: this.recurrentKernel.read() };
    if (this.bias) w.bias = this.bias.read();
    return w;
  }

  /**
   * The input part of every gate for a step input [batch, inputDim] or a
   * whole sequence [batch, timesteps, inputDim]: `(x * mask) @ kernel + bias`
   * (GRU: the input bias), last dim `gates * units`.
   */
  abstract projectInputs(x: Tensor, ctx: StepContext): Tensor;

  /** One timestep from the projected input [batch, gates*units] and the previous states. */
  abstract step(projected: Tensor, states: Tensor[], ctx: StepContext): StepResult;

  /** Zero states for a batch of `batchSize` (Keras's `get_initial_state`). */
  getInitialState(batchSize: number): Tensor[] {
    return this.stateSize.map((s) => zeros([batchSize, s], this.computeDtype));
  }

  /** Masks a [batch, features] input (or [batch, T, features] sequence) with per-gate masks: one product per mask. */
  protected maskedInputs(x: Tensor, masks: Tensor[] | null, count: number): Tensor[] {
    if (!masks) return Array.from({ length: count }, () => x);
    const expanded = x.rank === 3 ? masks.map((m) => ops.expandDims(m, 1)) : masks;
    return Array.from({ length: count }, (_, i) => ops.multiply(x, expanded[Math.min(i, expanded.length - 1)]));
  }

  /** `[x, ...states]` in, `[output, ...newStates]` out: one timestep. */
  override call(inputs: Tensor | Tensor[], { training }: CallOptions): Tensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const [x, ...states] = list;
    const sizes = this.stateSize;
    if (!(x instanceof Tensor) || x.rank !== 2) {
      throw new Error(`${this.where}: a cell is called on [inputs, ...states] with inputs of shape (batch_size, features). Received inputs of shape ${x instanceof Tensor ? formatShape(x.shape) : String(x)}.`);
    }
    checkStates(this.where, states, sizes, x.shape[0]);
    const ctx = this.prepare(x, states[0], training ?? false);
    const { output, states: next } = this.step(this.projectInputs(x, ctx), states, ctx);
    return [output, ...next];
  }

  override build(inputShape: InputShape): void {
    void inputShape;
  }

  /** The keys every cell writes, in Keras's order; subclasses insert theirs. */
  protected commonConfig(): Config {
    return {
      kernel_initializer: initializers.serialize(this.kernelInitializer),
      recurrent_initializer: initializers.serialize(this.recurrentInitializer),
      bias_initializer: initializers.serialize(this.biasInitializer),
      kernel_regularizer: regularizers.serialize(this.kernelRegularizer),
      recurrent_regularizer: regularizers.serialize(this.recurrentRegularizer),
      bias_regularizer: regularizers.serialize(this.biasRegularizer),
      kernel_constraint: constraints.serialize(this.kernelConstraint),
      recurrent_constraint: constraints.serialize(this.recurrentConstraint),
      bias_constraint: constraints.serialize(this.biasConstraint),
      dropout: this.dropout,
      recurrent_dropout: this.recurrentDropout,
    };
  }
}

/** The cell options in a Keras config (cell or layer). */
export function cellOptionsFromConfig(config: Config): RecurrentCellOptions {
  const opt = <T>(key: string): T | undefined => (config[key] === undefined ? undefined : (config[key] as T));
  return {
    activation: opt<activations.ActivationIdentifier>('activation'),
    useBias: opt<boolean>('use_bias'),
    kernelInitializer: opt<initializers.InitializerIdentifier>('kernel_initializer'),
    recurrentInitializer: opt<initializers.InitializerIdentifier>('recurrent_initializer'),
    biasInitializer: opt<initializers.InitializerIdentifier>('bias_initializer'),
    kernelRegularizer: opt<regularizers.RegularizerIdentifier>('kernel_regularizer'),
    recurrentRegularizer: opt<regularizers.RegularizerIdentifier>('recurrent_regularizer'),
    biasRegularizer: opt<regularizers.RegularizerIdentifier>('bias_regularizer'),
    kernelConstraint: opt<constraints.ConstraintIdentifier>('kernel_constraint'),
    recurrentConstraint: opt<constraints.ConstraintIdentifier>('recurrent_constraint'),
    biasConstraint: opt<constraints.ConstraintIdentifier>('bias_constraint'),
    dropout: opt<number>('dropout'),
    recurrentDropout: opt<number>('recurrent_dropout'),
    seed: opt<number | null>('seed'),
  };
}

/** Checks initial states: the right number, rank 2, `[batch, size]`. */
function checkStates(where: string, states: unknown[], sizes: number[], batch: number | null): void {
  const describeStates = () =>
    states.length === 0 ? 'no states' : `${states.length} state(s) of shape ${states.map((s) => (s instanceof Tensor || s instanceof KerasTensor ? formatShape(s.shape) : String(s))).join(', ')}`;
  const expected = `${sizes.length} tensor(s) of shape ${sizes.map((s) => formatShape([batch, s])).join(', ')}`;
  if (states.length !== sizes.length) {
    throw new Error(`${where}: expected initial state to be ${expected}. Received: ${describeStates()}.`);
  }
  states.forEach((s, i) => {
    const ok = s instanceof Tensor && s.rank === 2 && (s.shape[1] === sizes[i]) && (batch === null || s.shape[0] === null || s.shape[0] === batch);
    if (!ok) throw new Error(`${where}: expected initial state to be ${expected}. Received: ${describeStates()} (state ${i} does not fit).`);
  });
}

// ---------------------------------------------------------------------------
// Serialization of nested layers (cells in RNN, layers in Bidirectional)

/** Keras's serialize_keras_object for a layer: `{module, class_name, config, registered_name[, build_config]}`. */
export function serializeNestedLayer(layer: Layer): KerasObject {
  const out = serializeObject(layer as Layer & { constructor: unknown });
  // Keras writes the class name it exports (and the registered name for user classes).
  out.class_name = classNameOf(layer.constructor as typeof Layer);
  if (layer.built && layer.buildInputShape !== null) out.build_config = { input_shape: JSON.parse(JSON.stringify(layer.buildInputShape)) };
  return out;
}

/** Rebuilds a nested layer from its serialized form (building it when the form has a build_config). */
export function deserializeNestedLayer(value: unknown, where: string): Layer {
  if (!isKerasObject(value)) throw new TypeError(`${where}: expected a serialized layer {module, class_name, config}. Received: ${JSON.stringify(value)}`);
  const cls = resolve(value.class_name, value.module, value.registered_name, 'keras.layers') as (SerializableClass<Layer> & { prototype: unknown }) | undefined;
  if (!cls) throw new UnknownObjectError(value.class_name, value.registered_name ?? null, where);
  if (!(cls.prototype instanceof Layer) || typeof cls.fromConfig !== 'function') throw new TypeError(`${where}: '${value.class_name}' is not a layer class.`);
  const layer = cls.fromConfig(JSON.parse(JSON.stringify(value.config ?? {})));
  const build = value.build_config as Config | undefined;
  if (build && build.input_shape !== undefined && build.input_shape !== null && !layer.built) layer.buildFromShape(build.input_shape as Shape);
  return layer;
}

// ---------------------------------------------------------------------------
// The RNN layer

export interface RNNOptions extends LayerOptions {
  /** Return the whole output sequence [batch, timesteps, units] rather than the last output (default false). */
  returnSequences?: boolean;
  /** Also return the final states: `[output, ...states]` (default false). */
  returnState?: boolean;
  /** Process the sequence from the end; the output sequence is then reversed (default false). */
  goBackwards?: boolean;
  /** Carry the final states over to the next call (needs a fixed batch size; default false). */
  stateful?: boolean;
  /** Accepted for Keras compatibility: Strata always unrolls the time loop. */
  unroll?: boolean;
  /** With a mask and returnSequences, masked timesteps output zeros rather than the previous output (default false). */
  zeroOutputForMask?: boolean;
}

/**
 * Splits a recurrent layer's options (GRU, LSTM, SimpleRNN) into those of the
 * RNN wrapper and those of its cell; the cell shares the layer's dtype and
 * trainability.
 */
export function splitRNNOptions<C extends object>(options: C & RNNOptions): { rnn: RNNOptions; cell: Omit<C, keyof RNNOptions> & Pick<LayerOptions, 'dtype' | 'trainable'> } {
  const { name, trainable, dtype, activityRegularizer, inputShape, batchSize, returnSequences, returnState, goBackwards, stateful, unroll, zeroOutputForMask, ...cellOptions } = options;
  return {
    rnn: { name, trainable, dtype, activityRegularizer, inputShape, batchSize, returnSequences, returnState, goBackwards, stateful, unroll, zeroOutputForMask },
    cell: { ...(cellOptions as Omit<C, keyof RNNOptions>), dtype, trainable },
  };
}

/** Call options of recurrent layers: `initialState` gives the initial states (else zeros). */
export interface RNNCallOptions extends CallOptions {
  initialState?: TensorLike | KerasTensor | (TensorLike | KerasTensor)[] | null;
}

function stateSizesOf(cell: Layer, where: string): number[] {
  const size = (cell as unknown as { stateSize?: unknown }).stateSize;
  const list = typeof size === 'number' ? [size] : Array.isArray(size) ? size : null;
  if (!list || list.length === 0 || !list.every((s) => Number.isInteger(s) && s > 0)) {
    throw new Error(`${where}: the cell '${cell.name}' must have a stateSize property (a positive integer or a list of them, one per state). Received: stateSize=${JSON.stringify(size)}`);
  }
  return list as number[];
}

function bool(value: unknown, what: string, where: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new Error(`${where}: ${what} must be a boolean. Received: ${what}=${JSON.stringify(value)}`);
  return value;
}

/** Zeros of shape [batch, size] where the batch may be unknown (read at run time from `ref`, a [batch, k] tensor). */
function zeroState(ref: Tensor, size: number, dtype: DType): Tensor {
  const batch = ref.shape[0];
  if (batch !== null) return zeros([batch, size], dtype);
  const k = ref.shape[1] as number;
  return ops.matmul(ops.zerosLike(ref, dtype), zeros([k, size], dtype));
}

/**
 * Keras's `keras.layers.RNN`: runs a cell over the timesteps of a
 * [batch, timesteps, features] sequence. SimpleRNN, LSTM and GRU are RNNs
 * with their own cell; `new RNN(cell)` takes any cell (a Layer with
 * `stateSize` whose `apply([x, ...states])` returns `[output, ...states]`).
 */
export class RNN extends Layer {
  static override readonly className: string = 'RNN';
  readonly cell: Layer;
  returnSequences: boolean;
  returnState: boolean;
  goBackwards: boolean;
  readonly stateful: boolean;
  readonly unroll: boolean;
  /** Mutable: Bidirectional sets it to returnSequences, as Keras does. */
  zeroOutputForMask: boolean;
  /** Stateful state variables: private, so neither weights nor saved (as in Keras). */
  #states: Variable[] | null = null;

  constructor(cell: Layer, options: RNNOptions = {}) {
    super(options);
    const where = `${classNameOf(this.constructor as typeof Layer)} '${this.name}'`;
    if (!(cell instanceof Layer)) throw new TypeError(`${where}: the cell must be a Layer (an RNN cell such as LSTMCell). Received: ${String(cell)}`);
    stateSizesOf(cell, where);
    this.cell = cell;
    this.returnSequences = bool(options.returnSequences, 'returnSequences', where, false);
    this.returnState = bool(options.returnState, 'returnState', where, false);
    this.goBackwards = bool(options.goBackwards, 'goBackwards', where, false);
    this.stateful = bool(options.stateful, 'stateful', where, false);
    this.unroll = bool(options.unroll, 'unroll', where, false);
    this.zeroOutputForMask = bool(options.zeroOutputForMask, 'zeroOutputForMask', where, false);
    this.supportsMasking = true;
    // Checks the sequence (input 0) only: initial states may follow it in a list.
    this.inputSpec = [new InputSpec({ ndim: 3 })];
  }

  /** `ClassName 'name'`, for messages. */
  protected get where(): string {
    return `${classNameOf(this.constructor as typeof Layer)} '${this.name}'`;
  }

  /** Size of each state. */
  get stateSize(): number[] {
    return stateSizesOf(this.cell, this.where);
  }

  /** The current states of a stateful layer (null before it is built, or if not stateful). */
  get states(): Tensor[] | null {
    return this.#states ? this.#states.map((v) => v.value) : null;
  }

  /** Resets the states of a stateful layer to zeros, or to the given values. */
  resetState(states?: (Tensor | TensorLike)[] | null): void {
    if (!this.stateful) throw new Error(`${this.where}: resetState() needs a stateful layer (stateful: true).`);
    if (!this.#states) return;
    this.#states.forEach((v, i) => {
      const value = states?.[i];
      v.assign(value === undefined || value === null ? ops.zerosLike(v.value) : ops.cast(value instanceof Tensor ? value : tensor(value as never), v.dtype));
    });
  }

  /** Alias of resetState (Keras compatibility). */
  resetStates(states?: (Tensor | TensorLike)[] | null): void {
    this.resetState(states);
  }

  override apply(inputs: KerasTensor | KerasTensor[] | Record<string, KerasTensor>, options?: RNNCallOptions): KerasTensor;
  override apply(inputs: TensorLike | TensorLike[] | Record<string, TensorLike>, options?: RNNCallOptions): Tensor;
  override apply(inputs: unknown, options?: RNNCallOptions): unknown;
  override apply(inputs: unknown, options: RNNCallOptions = {}): unknown {
    const { initialState, ...rest } = options;
    if (initialState === undefined || initialState === null) return super.apply(inputs, rest);
    if (Array.isArray(inputs)) throw new Error(`${this.where}: pass initial states either in the inputs list ([x, ...states]) or as initialState, not both.`);
    const isOne = (v: unknown) => v instanceof Tensor || v instanceof KerasTensor || v instanceof Variable;
    const states = Array.isArray(initialState) && initialState.length > 0 && initialState.every(isOne) ? initialState : [initialState];
    return super.apply([inputs, ...(states as unknown[])], rest);
  }

  override build(inputShape: InputShape): void {
    const isList = Array.isArray(inputShape) && Array.isArray(inputShape[0]);
    const sequenceShape = (isList ? (inputShape as Shape[])[0] : inputShape) as Shape;
    if (!Array.isArray(sequenceShape) || sequenceShape.length !== 3) {
      throw new Error(`${this.where}: expected a 3D input (batch_size, timesteps, features). Received input shape ${JSON.stringify(inputShape)}.`);
    }
    if (!this.cell.built) this.cell.buildFromShape([sequenceShape[0], ...sequenceShape.slice(2)]);
    if (this.stateful) {
      const batch = sequenceShape[0];
      if (batch === null) {
        throw new Error(
          `${this.where}: when using stateful: true, the batch size must be static. Found dynamic batch size: sequence shape ${formatShape(sequenceShape)}. ` +
            'Give it with Input({shape, batchSize}) (and the same batchSize in fit).',
        );
      }
      this.#states = this.stateSize.map((s) => new Variable(zeros([batch, s], this.variableDtype), { name: 'rnn_state', trainable: false }));
    }
  }

  /** Output shape(s) without tracing: [batch, (timesteps,) outputSize], then one [batch, size] per state with returnState. */
  override computeOutputShape(inputShape: InputShape): Shape | Shape[] {
    const isList = Array.isArray(inputShape) && Array.isArray(inputShape[0]);
    const sequenceShape = (isList ? (inputShape as Shape[])[0] : inputShape) as Shape;
    const [batch, timesteps] = sequenceShape;
    const declared = (this.cell as unknown as { outputSize?: unknown }).outputSize;
    const outputSize = typeof declared === 'number' ? declared : this.stateSize[0];
    const output: Shape = this.returnSequences ? [batch, timesteps, outputSize] : [batch, outputSize];
    return this.returnState ? [output, ...this.stateSize.map((s) => [batch, s] as Shape)] : output;
  }

  override computeMask(inputs: unknown, mask: Tensor | null | (Tensor | null)[] | undefined): Tensor | null | (Tensor | null)[] {
    void inputs;
    const m = (Array.isArray(mask) ? mask[0] : mask) ?? null;
    const out = this.returnSequences ? m : null;
    return this.returnState ? [out, ...this.stateSize.map(() => null)] : out;
  }

  override call(inputs: Tensor | Tensor[], { training, mask }: CallOptions): Tensor | Tensor[] {
    const [sequences, ...given] = Array.isArray(inputs) ? inputs : [inputs];
    const where = this.where;
    const timesteps = sequences.shape[1];
    if (timesteps === null) {
      throw new Error(
        `${where}: the number of timesteps must be known, because Strata unrolls the time loop over them. Received input shape ${formatShape(sequences.shape)}. ` +
          'Give the sequences a fixed length (for example Input({shape: [20, features]}) or an inputSignature with the timesteps filled in), and pad or cut them to it ' +
          '(an Embedding with maskZero or a Masking layer makes the layer skip the padding).',
      );
    }
    if (timesteps === 0) throw new Error(`${where}: the input sequence has no timesteps (shape ${formatShape(sequences.shape)}).`);
    const sizes = this.stateSize;
    const batch = sequences.shape[0];
    const dtype = this.computeDtype;

    // Initial states: given, carried over (stateful) or zeros (made below, once a [batch, k] tensor exists).
    let states: Tensor[] | null = null;
    if (given.length > 0) {
      checkStates(where, given, sizes, batch);
      states = given.map((s) => (s.dtype === dtype ? s : ops.cast(s, dtype)));
    } else if (this.stateful && this.#states) {
      const expected = this.#states[0].shape[0];
      if (batch !== null && batch !== expected) {
        throw new Error(`${where}: the layer is stateful with batch size ${expected}, but received a batch of ${batch}. Every batch must have the batch size the layer was built with.`);
      }
      states = this.#states.map((v) => v.read());
    }

    // The first step's input [batch, features]: the shape of dropout masks and of zero states when the batch is unknown.
    const first = ops.squeeze(ops.slice(sequences, [0, 0, 0], [-1, 1, -1]), 1);
    states ??= sizes.map((s) => zeroState(first, s, dtype));
    let stepFn: (x: Tensor, s: Tensor[]) => StepResult;
    let perStep: Tensor[];
    const cell = this.cell;
    if (cell instanceof RecurrentCell) {
      const ctx = cell.prepare(first, states[0], training ?? false);
      perStep = ops.unstack(cell.projectInputs(sequences, ctx), { axis: 1 });
      stepFn = (x, s) => cell.step(x, s, ctx);
    } else {
      perStep = ops.unstack(sequences, { axis: 1 });
      stepFn = (x, s) => {
        const out = cell.apply([x, ...s], { training }) as unknown;
        if (out instanceof Tensor && sizes.length === 1) return { output: out, states: [out] };
        if (Array.isArray(out) && out.length === sizes.length + 1 && out.every((t) => t instanceof Tensor)) return { output: out[0], states: out.slice(1) };
        throw new Error(`${where}: the cell '${cell.name}' must return [output, ...newStates] (${sizes.length} state(s)). Received: ${String(out)}`);
      };
    }

    const seqMask = (Array.isArray(mask) ? mask[0] : mask) ?? null;
    let stepMasks: Tensor[] | null = null;
    if (seqMask) {
      if (seqMask.rank !== 2 || (seqMask.shape[1] !== null && seqMask.shape[1] !== timesteps)) {
        throw new Error(`${where}: the mask must have shape (batch_size, timesteps) = ${formatShape([batch, timesteps])}. Received a mask of shape ${formatShape(seqMask.shape)}.`);
      }
      const boolMask = seqMask.dtype === 'bool' ? seqMask : ops.notEqual(seqMask, 0);
      stepMasks = ops.unstack(boolMask, { axis: 1, num: timesteps }).map((m) => ops.expandDims(m, -1));
    }

    const order = Array.from({ length: timesteps }, (_, i) => (this.goBackwards ? timesteps - 1 - i : i));
    const outputs: Tensor[] = [];
    let last: Tensor | null = null;
    for (const t of order) {
      let { output, states: next } = stepFn(perStep[t], states);
      if (stepMasks) {
        const m = stepMasks[t];
        // Keras (TensorFlow backend): the previous masked output, zeros before any; or zeros with zeroOutputForMask.
        output = ops.where(m, output, (this.zeroOutputForMask || last === null) ? 0 : last);
        const prev = states;
        next = next.map((s, i) => ops.where(m, s, prev[i]));
      }
      states = next;
      last = output;
      if (this.returnSequences) outputs.push(output);
    }
    if (this.stateful && this.#states) this.#states.forEach((v, i) => v.assign(ops.cast(states![i], v.dtype)));
    const output = this.returnSequences ? ops.stack(outputs, 1) : last!;
    return this.returnState ? [output, ...states] : output;
  }

  override getConfig(): Config {
    return {
      ...super.getConfig(),
      return_sequences: this.returnSequences,
      return_state: this.returnState,
      go_backwards: this.goBackwards,
      stateful: this.stateful,
      unroll: this.unroll,
      zero_output_for_mask: this.zeroOutputForMask,
      // Keras's RNN writes its cell; SimpleRNN, LSTM and GRU delete it and write the cell's options flat.
      cell: serializeNestedLayer(this.cell),
    };
  }

  /** The generic RNN's config holds its cell. */
  static override fromConfig(config: Config): RNN {
    const name = String(config.name ?? 'rnn');
    const cell = deserializeNestedLayer(config.cell, `RNN '${name}' cell`);
    return new RNN(cell, { ...baseOptionsFromConfig(config), ...rnnOptionsFromConfig(config) });
  }
}
registerBuiltin('keras.layers', RNN);

/** The RNN options in a Keras config. */
export function rnnOptionsFromConfig(config: Config): RNNOptions {
  const opt = <T>(key: string): T | undefined => (config[key] === undefined || config[key] === null ? undefined : (config[key] as T));
  if (config.time_major) throw new Error(`${String(config.name ?? 'RNN')}: time_major=True (Keras 2) is not supported; inputs must be (batch, timesteps, features).`);
  return {
    returnSequences: opt<boolean>('return_sequences'),
    returnState: opt<boolean>('return_state'),
    goBackwards: opt<boolean>('go_backwards'),
    stateful: opt<boolean>('stateful'),
    unroll: opt<boolean>('unroll'),
    zeroOutputForMask: opt<boolean>('zero_output_for_mask'),
  };
}

/**
 * The config of SimpleRNN, LSTM and GRU: the RNN keys (without `cell`), then
 * `keys` in Keras's order, taken from the cell's config except
 * `activity_regularizer`, which is the layer's own.
 */
export function flatLayerConfig(layer: RNN, rnnConfig: Config, keys: readonly string[]): Config {
  const { cell: _cell, ...base } = rnnConfig;
  void _cell;
  const cellConfig = layer.cell.getConfig();
  const out: Config = { ...base };
  for (const key of keys) out[key] = key === 'activity_regularizer' ? regularizers.serialize(layer.activityRegularizer) : cellConfig[key];
  return out;
}
