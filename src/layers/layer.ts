/**
 * The Layer base class: lifecycle (constructor → lazy `build(inputShape)` on
 * first call → `call(inputs, {training, mask})`), weights made with
 * `addWeight`, automatic tracking of sublayers and variables held in fields,
 * arrays and plain objects, configs in Keras's format, masks, regularization
 * losses, and the functional API (calling a layer on KerasTensors).
 */
import type { DType } from '../tensor/dtype.ts';
import { isFloat } from '../tensor/dtype.ts';
import { type Shape, formatShape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { tensor } from '../tensor/create.ts';
import { Variable } from '../engine/variable.ts';
import { currentScope, withNameScope } from '../engine/scope.ts';
import { initScope, withTracer, currentTracer } from '../engine/tracing.ts';
import { warnOnce } from '../engine/warnings.ts';
import * as ops from '../ops/index.ts';
import { type TensorLike, isTensorLike } from '../ops/convert.ts';
import { GraphTracer } from '../graph/tracer.ts';
import { toSnakeCase } from '../serialization/keras-object.ts';
import type { Config } from '../serialization/registry.ts';
import * as initializers from '../initializers/index.ts';
import { SeedGenerator } from '../ops/api/random.ts';
import * as regularizers from '../regularizers/index.ts';
import * as constraints from '../constraints/index.ts';
import { DTypePolicy, dtypePolicy, serializeDTypePolicy } from './dtype-policy.ts';
import { InputSpec } from './input-spec.ts';
import { KerasTensor, containsKerasTensor } from './keras-tensor.ts';
import { type LayerNode, recordNode } from './node.ts';

export interface LayerOptions {
  name?: string;
  trainable?: boolean;
  /** A dtype ('float32', 'float64') or a DTypePolicy (serialized forms accepted). */
  dtype?: DType | DTypePolicy | Config | string | null;
  /** Regularizer applied to the layer's output (adds to `losses`). */
  activityRegularizer?: regularizers.RegularizerIdentifier;
  /** Keras 2 style: the input shape without the batch dim, for the first layer of a Sequential. */
  inputShape?: readonly (number | null)[];
  batchSize?: number;
}

export interface CallOptions {
  /** Training-only behaviour (dropout, batch statistics). Inherited from the enclosing call when omitted. */
  training?: boolean;
  mask?: Tensor | null | (Tensor | null)[];
}

export interface AddWeightOptions {
  name: string;
  shape: readonly number[];
  dtype?: DType;
  initializer?: initializers.InitializerIdentifier;
  regularizer?: regularizers.RegularizerIdentifier;
  constraint?: constraints.ConstraintIdentifier;
  trainable?: boolean;
}

/** Shape(s) of a layer's input, in the same structure as the input. */
export type InputShape = Shape | Shape[] | { [name: string]: Shape };

// ---------------------------------------------------------------------------
// Unique names: `dense`, `dense_1`, ... per snake_case base, as in Keras.

const nameCounts = new Map<string, number>();
export function uniqueLayerName(base: string): string {
  const n = nameCounts.get(base) ?? 0;
  nameCounts.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

// ---------------------------------------------------------------------------
// Masks attached to eager/traced tensors (Keras's `_keras_mask`).

const masks = new WeakMap<Tensor, Tensor>();
export function getMask(t: unknown): Tensor | null {
  return t instanceof Tensor ? (masks.get(t) ?? null) : null;
}
export function setMask(t: Tensor, mask: Tensor | null): void {
  if (mask) masks.set(t, mask);
}

// ---------------------------------------------------------------------------
// The training flag of the enclosing call, inherited by nested layers.

const trainingStack: boolean[] = [];
function inheritedTraining(): boolean {
  return trainingStack.length > 0 ? trainingStack[trainingStack.length - 1] : false;
}

/** Applies `fn` to each leaf of a single value, an array, or a plain object (one level, as layer inputs are). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function mapStructure(x: unknown, fn: (t: any) => unknown): unknown {
  if (Array.isArray(x)) return x.map(fn);
  if (isPlainObject(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, fn(v)]));
  return fn(x);
}

function leaves<T>(x: unknown, test: (v: unknown) => v is T): T[] {
  if (test(x)) return [x];
  if (Array.isArray(x)) return x.flatMap((v) => leaves(v, test));
  if (x && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) return Object.values(x).flatMap((v) => leaves(v, test));
  return [];
}

const isTensor = (v: unknown): v is Tensor => v instanceof Tensor;
const isLayer = (v: unknown): v is Layer => v instanceof Layer;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype;
}

export abstract class Layer {
  /** Keras's class name, used in configs and summaries. Subclasses set their own. */
  static readonly className: string = 'Layer';
  /**
   * Keras marks some built-in layers built in their constructor
   * (`_build_at_init`: activations, dropout and noise, pooling, Reshape,
   * Masking, Identity...), so it never records a build shape for them and
   * writes no `build_config` in their serialized form. Those classes set
   * this, so Strata's configs match the ones Keras writes.
   */
  static readonly builtAtInit: boolean = false;

  name: string;
  built = false;
  /** Whether the layer passes its input mask through (or computes one). */
  supportsMasking = false;
  /** Cast floating inputs to the layer's compute dtype (models leave it to their layers). */
  protected autocastInputs = true;
  /** Checked on every call after building. */
  inputSpec: InputSpec | InputSpec[] | null = null;
  readonly dtypePolicy: DTypePolicy;
  activityRegularizer: regularizers.Regularizer | null;

  // Internal state lives in private fields, invisible to the attribute scan.
  #trainable: boolean;
  #ownWeights: Variable[] = [];
  /** Own variables created trainable (the trainable setter toggles only these). */
  #trainableCreated = new Set<Variable>();
  #regularized: { variable: Variable; regularizer: regularizers.Regularizer }[] = [];
  #activityLosses: Tensor[] = [];
  #addedLosses: Tensor[] = [];
  #buildInputShape: InputShape | null = null;
  #inboundNodes: LayerNode[] = [];
  #outputShapes: Shape[] | null = null;
  #batchInputShape: (number | null)[] | null = null;

  constructor(options: LayerOptions = {}) {
    this.name = options.name ?? uniqueLayerName(toSnakeCase(classNameOf(this.constructor as typeof Layer)));
    if (typeof this.name !== 'string' || this.name.length === 0) throw new TypeError(`Layer name must be a non-empty string. Received: ${String(options.name)}`);
    this.#trainable = options.trainable ?? true;
    this.dtypePolicy = dtypePolicy(options.dtype);
    this.activityRegularizer = options.activityRegularizer ? regularizers.get(options.activityRegularizer) : null;
    if (options.inputShape) this.#batchInputShape = [options.batchSize ?? null, ...options.inputShape];
  }

  // -------------------------------------------------------------------------
  // What subclasses implement

  /** Creates the layer's weights from the shape of its first input. */
  build(inputShape: InputShape): void {
    void inputShape;
  }

  /** The computation. `inputs` is a tensor or a structure of tensors. */
  abstract call(inputs: unknown, options: CallOptions): unknown;

  /** The output mask (default: the input mask if the layer supports masking, else none). */
  computeMask(inputs: unknown, mask: Tensor | null | (Tensor | null)[] | undefined): Tensor | null | (Tensor | null)[] {
    void inputs;
    return this.supportsMasking ? (mask ?? null) : null;
  }

  /**
   * The output shape for an input shape. The default runs `call` on
   * symbolic tensors (no values are computed), so layers rarely override it.
   */
  computeOutputShape(inputShape: InputShape): Shape | Shape[] {
    // One shape is an array of dims; several inputs are an array (or object) of shapes.
    const single = Array.isArray(inputShape) && inputShape.every((d) => d === null || typeof d === 'number');
    const types = this.computeOutputSpec((single ? { shape: inputShape as Shape, dtype: this.computeDtype } : mapStructure(inputShape, (s: Shape) => ({ shape: s, dtype: this.computeDtype }))) as never);
    return Array.isArray(types) ? types.map((t) => t.shape) : types.shape;
  }

  /** The layer's configuration in Keras's format (snake_case keys). */
  getConfig(): Config {
    const config: Config = { name: this.name, trainable: this.trainable, dtype: serializeDTypePolicy(this.dtypePolicy) };
    if (this.activityRegularizer) config.activity_regularizer = regularizers.serialize(this.activityRegularizer);
    if (this.#batchInputShape) config.batch_input_shape = [...this.#batchInputShape];
    return config;
  }

  /**
   * Keras's `build_config` when it is not `{input_shape}`: layers whose
   * Keras `build` takes several named shapes (MultiHeadAttention's
   * `query_shape`, `value_shape`...) write `{shapes_dict: {...}}`. Null (the
   * default) means `{input_shape}`.
   */
  kerasBuildConfig(): Config | null {
    return null;
  }

  /**
   * How a recorded call is written as a Keras 3 functional node, for layers
   * whose Keras `call` takes several positional arguments or keyword
   * arguments beyond `training` and `mask`. Null (the default) writes the
   * inputs as one argument and the call options as kwargs.
   */
  toKerasNode(inputs: unknown, callOptions: CallOptions): { args: unknown[]; kwargs: Record<string, unknown> } | null {
    void inputs;
    void callOptions;
    return null;
  }

  /**
   * The inverse of `toKerasNode`: the `apply` inputs and options for a Keras 3
   * node's (resolved) args and kwargs. Null (the default) passes the args as
   * the inputs and keeps only `training` and `mask` from the kwargs.
   */
  fromKerasNode(args: unknown[], kwargs: Record<string, unknown>): { inputs: unknown; options: CallOptions } | null {
    void args;
    void kwargs;
    return null;
  }

  /** Rebuilds a layer from `getConfig()` output. Subclasses map the Keras keys to their options. */
  static fromConfig(this: new (options: LayerOptions) => Layer, config: Config): Layer {
    return new this(baseOptionsFromConfig(config));
  }

  // -------------------------------------------------------------------------
  // Properties

  get computeDtype(): DType {
    return this.dtypePolicy.computeDtype;
  }

  get variableDtype(): DType {
    return this.dtypePolicy.variableDtype;
  }

  /** Setting it freezes or unfreezes the layer and all its sublayers. */
  get trainable(): boolean {
    return this.#trainable;
  }

  set trainable(value: boolean) {
    this.#trainable = Boolean(value);
    for (const v of this.#trainableCreated) v.trainable = this.#trainable;
    for (const l of this.layers) l.trainable = value;
  }

  /** The batch input shape given with `inputShape` (Keras 2 style), if any. */
  get batchInputShape(): (number | null)[] | null {
    return this.#batchInputShape;
  }

  /** The shape the layer was built with. */
  get buildInputShape(): InputShape | null {
    return this.#buildInputShape;
  }

  /**
   * Whether Keras would have built this layer at construction (see
   * `builtAtInit`): the nearest class declaring the flag sets it, and the
   * layer still uses that class's `build` (as in Keras, a subclass with its
   * own build step is built lazily and keeps its build_config).
   */
  get isBuiltAtInit(): boolean {
    for (let c = this.constructor as typeof Layer; c && c !== Layer; c = Object.getPrototypeOf(c) as typeof Layer) {
      if (Object.prototype.hasOwnProperty.call(c, 'builtAtInit')) return c.builtAtInit && this.build === c.prototype.build;
    }
    return false;
  }

  /** Output shapes of the most recent call (for summaries of subclassed models). */
  get lastOutputShapes(): Shape[] | null {
    return this.#outputShapes;
  }

  /** The calls of this layer in functional models. */
  get inboundNodes(): readonly LayerNode[] {
    return this.#inboundNodes;
  }

  /** @internal Records a call on KerasTensors; returns its node index. */
  _addInboundNode(node: LayerNode): number {
    this.#inboundNodes.push(node);
    return this.#inboundNodes.length - 1;
  }

  /** Direct sublayers: layers held in fields, arrays and plain objects. */
  get layers(): Layer[] {
    return this.scan().layers;
  }

  /** Every variable of the layer and its sublayers: own variables first (creation order). */
  get weights(): Variable[] {
    const out: Variable[] = [];
    const seen = new Set<Variable>();
    const add = (v: Variable) => {
      if (!seen.has(v)) {
        seen.add(v);
        out.push(v);
      }
    };
    this.#ownWeights.forEach(add);
    this.scan().variables.forEach(add);
    for (const l of this.layers) l.weights.forEach(add);
    return out;
  }

  get variables(): Variable[] {
    return this.weights;
  }

  get trainableWeights(): Variable[] {
    return this.trainable ? this.weights.filter((v) => v.trainable) : [];
  }

  get nonTrainableWeights(): Variable[] {
    return this.trainable ? this.weights.filter((v) => !v.trainable) : this.weights;
  }

  get trainableVariables(): Variable[] {
    return this.trainableWeights;
  }

  get nonTrainableVariables(): Variable[] {
    return this.nonTrainableWeights;
  }

  /** Own variables only (made with addWeight or held in fields), trainable first: Keras's save order. */
  get ownVariables(): Variable[] {
    const own = [...this.#ownWeights, ...this.scan().variables.filter((v) => !this.#ownWeights.includes(v))];
    return [...own.filter((v) => this.#trainableCreated.has(v) || v.trainable), ...own.filter((v) => !(this.#trainableCreated.has(v) || v.trainable))];
  }

  countParams(): number {
    if (!this.built) {
      throw new Error(`You tried to call countParams on layer '${this.name}', but the layer isn't built. Call it on an input (or build it) first.`);
    }
    return this.weights.reduce((n, v) => n + v.shape.reduce((p: number, d) => p * (d ?? 0), 1), 0);
  }

  /** Current values of every weight, in `weights` order. */
  getWeights(): Tensor[] {
    return this.weights.map((v) => v.value);
  }

  /** Sets every weight from values in `weights` order (tensors, typed arrays or nested arrays). */
  setWeights(values: readonly (Tensor | TensorLike)[]): void {
    const weights = this.weights;
    if (values.length !== weights.length) {
      throw new Error(
        `Layer '${this.name}' expected ${weights.length} weights (${weights.map((w) => `${w.path} ${formatShape(w.shape)}`).join(', ') || 'none'}), but received ${values.length}.`,
      );
    }
    // Check every shape before assigning anything, so a bad list changes nothing.
    const tensors = values.map((v, i) => {
      const w = weights[i];
      const t = v instanceof Tensor ? v : tensor(v as never, undefined, w.dtype);
      const sameShape = t.shape.length === w.shape.length && t.shape.every((d, k) => d === w.shape[k]);
      if (!sameShape) {
        throw new Error(`Layer '${this.name}' weight ${i} ('${w.path}') has shape ${formatShape(w.shape)}, but the value given has shape ${formatShape(t.shape)}.`);
      }
      return t.dtype === w.dtype ? t : ops.cast(t, w.dtype);
    });
    tensors.forEach((t, i) => weights[i].assign(t));
  }

  /**
   * Regularization losses: weight regularizers (computed from the current
   * weights), activity regularizers of the last call, and `addLoss` terms,
   * for this layer and its sublayers.
   */
  get losses(): Tensor[] {
    // Keras's order (Layer.losses): first the losses of the last call (each
    // layer's `addLoss` terms, then its activity regularizer, which Keras adds
    // after `call` returns), this layer then its sublayers depth-first, each
    // once; then the weight regularizers. Strata listed weight regularizers
    // first and activity losses before addLoss terms, so `layer.losses`
    // disagreed with Keras's list element by element.
    const all: Layer[] = [];
    const seen = new Set<Layer>();
    const visit = (l: Layer): void => {
      if (seen.has(l)) return;
      seen.add(l);
      all.push(l);
      for (const child of l.layers) visit(child);
    };
    visit(this);
    const out: Tensor[] = [];
    for (const l of all) out.push(...l.#addedLosses, ...l.#activityLosses);
    for (const l of all) {
      for (const { variable, regularizer } of l.#regularized) {
        if (variable.trainable || !l.trainable) out.push(regularizer.call(variable.value));
      }
    }
    return out;
  }

  /** Adds a loss term from inside `call` (it is reset at the next call). */
  addLoss(loss: Tensor): void {
    this.#addedLosses.push(loss);
  }

  // -------------------------------------------------------------------------
  // Weights

  addWeight(options: AddWeightOptions): Variable {
    const { name, shape } = options;
    const dtype = options.dtype ?? this.variableDtype;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new Error(`Layer '${this.name}'.addWeight('${name}'): shape must be a list of non-negative integers. Received: ${JSON.stringify(shape)}. (Unknown dims such as the batch size cannot be part of a weight's shape.)`);
    }
    const initializer = initializers.get(options.initializer ?? (isFloat(dtype) ? 'glorot_uniform' : 'zeros'));
    const trainable = (options.trainable ?? true) && isFloat(dtype);
    const scope = currentScope();
    const inOwnScope = scope === this.name || scope.endsWith(`/${this.name}`);
    // Paths follow the name scope (`model/dense/kernel`); weights made outside the layer's own scope get it added.
    const create = () => new Variable(initializer.call([...shape], dtype), { name, trainable, dtype });
    const variable = initScope(() => (inOwnScope ? create() : withNameScope(this.name, create)));
    if (options.constraint) variable.constraint = constraints.get(options.constraint);
    if (options.regularizer) this.#regularized.push({ variable, regularizer: regularizers.get(options.regularizer)! });
    this.#ownWeights.push(variable);
    if (trainable) this.#trainableCreated.add(variable);
    if (!this.#trainable) variable.trainable = false;
    return variable;
  }

  // -------------------------------------------------------------------------
  // Calling

  /**
   * Calls the layer: builds it on first use, checks the input against its
   * input spec, runs `call` in the layer's name scope. Eager or traced
   * tensors in give tensors out; KerasTensors in give KerasTensors out (and
   * record the call for a functional model).
   */
  apply(inputs: KerasTensor | KerasTensor[] | Record<string, KerasTensor>, options?: CallOptions): KerasTensor;
  apply(inputs: TensorLike | TensorLike[] | Record<string, TensorLike>, options?: CallOptions): Tensor;
  apply(inputs: unknown, options?: CallOptions): unknown;
  apply(inputs: unknown, options: CallOptions = {}): unknown {
    if (containsKerasTensor(inputs)) return this.applySymbolic(inputs, options);
    const converted = mapStructure(inputs as TensorLike, (x) => {
      if (x instanceof Tensor) return x;
      if (x instanceof Variable) return x.value;
      if (isTensorLike(x)) return ops.cast(tensor(x as never), this.computeDtype);
      throw new TypeError(`Layer '${this.name}' was called on ${Object.prototype.toString.call(x)}; expected tensors (or KerasTensors from strata.Input).`);
    });
    const flat = leaves(converted, isTensor);
    if (flat.length === 0) throw new TypeError(`Layer '${this.name}' was called without any tensor input.`);
    // Checked before building too, so a wrong rank fails with a clear error rather than inside build().
    this.checkInputSpec(flat);
    this.maybeBuild(mapStructure(converted as Tensor, (t) => t.shape) as InputShape);
    this.checkInputSpec(flat);
    const cast = this.autocast(converted);
    const mask = options.mask !== undefined ? options.mask : this.inputMasks(converted);
    const training = options.training ?? inheritedTraining();
    this.#activityLosses = [];
    this.#addedLosses = [];
    trainingStack.push(training);
    let outputs: unknown;
    try {
      outputs = withNameScope(this.name, () => this.call(cast, { training, mask: mask ?? null }));
    } finally {
      trainingStack.pop();
    }
    if (this.activityRegularizer) {
      // Keras divides the activity penalty by the batch size.
      for (const o of leaves(outputs, isTensor)) {
        this.#activityLosses.push(ops.divide(this.activityRegularizer.call(o), o.rank > 0 ? ops.reducedSize(o, [0], o.dtype) : 1));
      }
    }
    const outMask = this.computeMask(cast, mask);
    const outLeaves = leaves(outputs, isTensor);
    outLeaves.forEach((o, i) => setMask(o, Array.isArray(outMask) ? (outMask[i] ?? null) : outMask));
    this.#outputShapes = outLeaves.map((o) => o.shape);
    return outputs;
  }

  /** Creates the weights if the layer is not built yet (outside any traced graph). */
  maybeBuild(inputShape: InputShape): void {
    if (this.built) return;
    initScope(() => withNameScope(this.name, () => this.build(inputShape)));
    this.#buildInputShape = inputShape;
    this.built = true;
  }

  /** Builds from a shape without calling (Keras's `layer.build(shape)` from outside). */
  buildFromShape(inputShape: InputShape): void {
    this.maybeBuild(inputShape);
  }

  private checkInputSpec(inputs: Tensor[]): void {
    if (!this.inputSpec) return;
    const specs = Array.isArray(this.inputSpec) ? this.inputSpec : inputs.map(() => this.inputSpec as InputSpec);
    inputs.forEach((t, i) => specs[i]?.check(this.path, i, t));
  }

  /** This layer's path in the current call stack (`model/block/dense`), for messages. */
  get path(): string {
    const scope = currentScope();
    // Inside the layer's own build/call the scope already ends with its name.
    if (scope === this.name || scope.endsWith(`/${this.name}`)) return scope;
    return scope ? `${scope}/${this.name}` : this.name;
  }

  private autocast(inputs: unknown): unknown {
    if (!this.autocastInputs) return inputs;
    const target = this.computeDtype;
    return mapStructure(inputs as Tensor, (t) => (isFloat(t.dtype) && isFloat(target) && t.dtype !== target ? ops.cast(t, target) : t));
  }

  private inputMasks(inputs: unknown): Tensor | null | (Tensor | null)[] {
    const flat = leaves(inputs, isTensor);
    const found = flat.map(getMask);
    if (found.every((m) => m === null)) return null;
    return flat.length === 1 && !Array.isArray(inputs) ? found[0] : found;
  }

  /** Output types of `call` for symbolic inputs, computed by tracing (no values are computed). */
  computeOutputSpec(inputs: { shape: Shape; dtype: DType } | { shape: Shape; dtype: DType }[]): { shape: Shape; dtype: DType } | { shape: Shape; dtype: DType }[] {
    const tracer = new GraphTracer(`${this.name}_output_spec`);
    const isType = (t: unknown): t is { shape: Shape; dtype: DType } => typeof t === 'object' && t !== null && 'shape' in t && 'dtype' in t;
    const symbolic = isType(inputs) ? tracer.addInput(inputs, 'x') : mapStructure(inputs, (t: { shape: Shape; dtype: DType }) => tracer.addInput(t, 'x'));
    const outputs = withTracer(tracer, () => this.apply(symbolic));
    const types = mapStructure(outputs as Tensor, (t) => ({ shape: t.shape, dtype: t.dtype }));
    return types as { shape: Shape; dtype: DType };
  }

  private applySymbolic(inputs: unknown, options: CallOptions): unknown {
    if (currentTracer()) {
      throw new Error(`Layer '${this.name}' was called on KerasTensors inside a traced function. KerasTensors only describe functional models; call the model on tensors instead.`);
    }
    const keras = leaves(inputs, (v): v is KerasTensor => v instanceof KerasTensor);
    if (leaves(inputs, isTensor).length > 0) {
      throw new TypeError(`Layer '${this.name}' was called on a mix of KerasTensors and tensors. In a functional model, wrap constants in a layer (e.g. a Lambda) or pass them as inputs.`);
    }
    // Build with the symbolic shapes, then trace `call` once to learn the output types.
    const specInputs = keras.map((k) => ({ shape: k.shape, dtype: k.dtype }) as Tensor);
    this.checkInputSpec(specInputs);
    this.maybeBuild(mapStructure(inputs as KerasTensor, (k) => (k instanceof KerasTensor ? k.shape : null)) as InputShape);
    this.checkInputSpec(specInputs);
    const tracer = new GraphTracer(`${this.name}_output_spec`);
    const symbolic = mapStructure(inputs as KerasTensor, (k) => {
      // Constant arguments (e.g. the 0 of NotEqual(tokens, 0)) stay as they are.
      if (!(k instanceof KerasTensor)) return k;
      const t = tracer.addInput({ shape: k.shape, dtype: k.dtype }, k.name || 'x');
      // Carry the input's mask as a symbolic tensor too.
      if (k.mask) setMask(t, tracer.addInput({ shape: k.mask.shape, dtype: k.mask.dtype }, 'mask'));
      return t;
    });
    // An explicit mask argument may be KerasTensors too (functional models pass masks between layers).
    const traceOptions: CallOptions = { ...options };
    if (containsKerasTensor(options.mask)) {
      traceOptions.mask = mapStructure(options.mask, (k: KerasTensor | null) => (k ? tracer.addInput({ shape: k.shape, dtype: k.dtype }, 'mask') : null)) as Tensor | (Tensor | null)[];
    }
    const outputs = withTracer(tracer, () => this.apply(symbolic, traceOptions));
    const outKeras = mapStructure(outputs as Tensor, (t) => {
      if (!(t instanceof Tensor)) throw new TypeError(`Layer '${this.name}'.call returned ${String(t)}; layers must return tensors.`);
      const k = new KerasTensor(t.shape, t.dtype);
      const m = getMask(t);
      if (m) k.mask = new KerasTensor(m.shape, m.dtype);
      return k;
    });
    const nodeIndex = this._addInboundNode(recordNode(this, inputs, outKeras, options));
    leaves(outKeras, (v): v is KerasTensor => v instanceof KerasTensor).forEach((k, i) => {
      k.history = { layer: this, nodeIndex, tensorIndex: i };
    });
    return outKeras;
  }

  // -------------------------------------------------------------------------
  // Tracking

  /**
   * Finds sublayers and variables in the layer's fields, arrays and plain
   * objects. A variable or layer kept anywhere else (a Map, a Set, another
   * object) cannot be tracked: it would silently miss saving and training,
   * so a warning names the layer and the property.
   */
  private scan(): { layers: Layer[]; variables: Variable[] } {
    const layers: Layer[] = [];
    const variables: Variable[] = [];
    const visit = (value: unknown, path: string, depth: number): void => {
      if (value instanceof Layer) {
        if (value !== this && !layers.includes(value)) layers.push(value);
      } else if (value instanceof Variable) {
        if (!variables.includes(value)) variables.push(value);
      } else if (Array.isArray(value)) {
        if (depth < 8) value.forEach((v, i) => visit(v, `${path}[${i}]`, depth + 1));
      } else if (isPlainObject(value)) {
        if (depth < 8) for (const [k, v] of Object.entries(value)) visit(v, `${path}.${k}`, depth + 1);
      } else if (value instanceof Map || value instanceof Set) {
        const hidden = [...value.values()].filter((v) => v instanceof Variable || v instanceof Layer);
        if (hidden.length > 0) this.warnUntracked(path, `a ${value instanceof Map ? 'Map' : 'Set'}`, hidden);
      } else if (value && typeof value === 'object' && !(value instanceof Tensor) && depth === 0 && !isFrameworkObject(value)) {
        const hidden = Object.values(value).filter((v) => v instanceof Variable || v instanceof Layer);
        if (hidden.length > 0) this.warnUntracked(path, `an object of class ${value.constructor?.name ?? 'unknown'}`, hidden);
      }
    };
    for (const key of Object.keys(this)) visit((this as Record<string, unknown>)[key], key, 0);
    return { layers, variables };
  }

  private warnUntracked(property: string, container: string, hidden: unknown[]): void {
    const what = hidden.map((h) => (h instanceof Variable ? `Variable '${h.path}'` : `Layer '${(h as Layer).name}'`)).join(', ');
    warnOnce(
      `untracked:${this.name}:${property}`,
      `Layer '${this.name}' keeps ${what} in property '${property}' inside ${container}, where Strata cannot track it: ` +
        'it will not be trained, saved or counted. Create weights with this.addWeight() and keep variables and layers in fields, arrays or plain objects.',
    );
  }
}

/**
 * The class name used in configs and summaries: a class's own `className`,
 * or its JavaScript name for user subclasses that do not set one.
 */
export function classNameOf(ctor: { readonly className?: string; readonly name: string }): string {
  return Object.prototype.hasOwnProperty.call(ctor, 'className') ? ctor.className! : ctor.name;
}

/** Objects of Strata's own making held by layers (initializers, regularizers...) hold no weights. */
function isFrameworkObject(value: object): boolean {
  // A SeedGenerator's state variables are not weights (Keras does not save them either).
  return value instanceof SeedGenerator || value instanceof DTypePolicy || value instanceof InputSpec || value instanceof KerasTensor || value instanceof initializers.Initializer || value instanceof regularizers.Regularizer || value instanceof constraints.Constraint;
}

/** The options every layer takes, from a Keras config. */
export function baseOptionsFromConfig(config: Config): LayerOptions {
  const options: LayerOptions = {};
  if (typeof config.name === 'string') options.name = config.name;
  if (typeof config.trainable === 'boolean') options.trainable = config.trainable;
  if (config.dtype !== undefined) options.dtype = config.dtype as Config;
  if (config.activity_regularizer) options.activityRegularizer = config.activity_regularizer as regularizers.RegularizerIdentifier;
  const batchShape = (config.batch_input_shape ?? config.batch_shape) as (number | null)[] | undefined;
  if (Array.isArray(batchShape)) {
    options.inputShape = batchShape.slice(1);
    if (typeof batchShape[0] === 'number') options.batchSize = batchShape[0];
  }
  return options;
}

export { isLayer, leaves, mapStructure };
