/**
 * MultiHeadAttention (keras.layers.MultiHeadAttention): projects query, key
 * and value into `numHeads` heads with EinsumDense sublayers, takes scaled
 * dot-product attention over `attentionAxes`, and projects the heads back
 * with a fourth EinsumDense (to the query's last dim, or `outputShape`).
 *
 * Calling: `mha.apply(query, value, key?, {attentionMask, useCausalMask,
 * returnAttentionScores, training})`; `key` defaults to `value`. The Keras
 * masks of the inputs (from Embedding(maskZero), Masking...) are combined
 * with the attention mask and the causal mask as in Keras; the output
 * carries the query's mask.
 *
 * Weights and files: the sublayers live in the fields `query_dense`,
 * `key_dense`, `value_dense`, `output_dense` (`_gate_dense` with useGate),
 * Keras's attribute names, named 'query', 'key', 'value',
 * 'attention_output', with Keras's kernel and bias shapes, so `.keras`
 * weight paths (`multi_head_attention/query_dense/vars/0`) and `weights`
 * order match files Keras writes. A functional call is written as Keras's
 * node `{args: [query, value(, key)], kwargs: {attention_mask, ...}}` and
 * the build config as `{shapes_dict: {query_shape, value_shape(, key_shape)}}`.
 *
 * Keras (TensorFlow backend) has two paths that differ only at query
 * positions where every key is masked: without dropout and attention
 * scores, on rank-3 inputs, it calls the fused dot_product_attention (such
 * rows get uniform weights); otherwise it uses its masked Softmax (such rows
 * get zero weights). Strata follows the same rule so outputs agree at
 * every position.
 */
import { Tensor } from '../../tensor/tensor.ts';
import type { Shape } from '../../tensor/shape.ts';
import { describe } from '../../tensor/shape.ts';
import { Variable } from '../../engine/variable.ts';
import type { TensorLike } from '../../ops/convert.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import * as initializers from '../../initializers/index.ts';
import * as regularizers from '../../regularizers/index.ts';
import * as constraints from '../../constraints/index.ts';
import { KerasTensor } from '../keras-tensor.ts';
import { type CallOptions, type InputShape, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { EinsumDense } from '../core/einsum-dense.ts';
import { Dropout } from '../core/dropout.ts';
import { type AttentionCallOptions, type AttentionExtras, baseOptions, causalMask, readExtras, slidingWindowMask } from './masks.ts';

export interface MultiHeadAttentionOptions extends LayerOptions {
  /** Number of attention heads. */
  numHeads: number;
  /** Size of each head for query and key. */
  keyDim: number;
  /** Size of each head for value (default keyDim). */
  valueDim?: number | null;
  /** Dropout rate on the attention scores (default 0). */
  dropout?: number;
  /** Whether the projections have biases (default true). */
  useBias?: boolean;
  /** The output's dims after the batch and sequence dims (default: the query's last dim). */
  outputShape?: number | readonly number[] | null;
  /** Axes attention is applied over (default: all but batch, heads and features). */
  attentionAxes?: number | readonly number[] | null;
  /** Restrict each query position to keys within `slidingWindow - 1` positions (default none). */
  slidingWindow?: number | null;
  /** Gate the attention output with sigmoid(a projection of the query) (default false). */
  useGate?: boolean;
  kernelInitializer?: initializers.InitializerIdentifier;
  biasInitializer?: initializers.InitializerIdentifier;
  kernelRegularizer?: regularizers.RegularizerIdentifier;
  biasRegularizer?: regularizers.RegularizerIdentifier;
  kernelConstraint?: constraints.ConstraintIdentifier;
  biasConstraint?: constraints.ConstraintIdentifier;
  /** Seed of the dropout. */
  seed?: number | null;
}

export interface MultiHeadAttentionCallOptions extends AttentionCallOptions {
  /** Boolean mask [batch, T, S] (broadcastable): which query positions may attend to which key positions. */
  attentionMask?: Tensor | KerasTensor | TensorLike | null;
  /** The key (default: the value); may also be given as the third argument. */
  key?: Tensor | KerasTensor | TensorLike | null;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Keras's projection equation: `freeDims` kept axes, `boundDims` contracted, `outputDims` new (these get the bias). */
export function projectionEquation(freeDims: number, boundDims: number, outputDims: number): { equation: string; biasAxes: string; outputRank: number } {
  const free = LETTERS.slice(0, freeDims);
  const bound = LETTERS.slice(freeDims, freeDims + boundDims);
  const out = LETTERS.slice(freeDims + boundDims, freeDims + boundDims + outputDims);
  return { equation: `${free}${bound},${bound}${out}->${free}${out}`, biasAxes: out, outputRank: freeDims + outputDims };
}

/** `[null, ..., null, ...known]` of length `rank`. */
function partialShape(rank: number, known: readonly number[]): (number | null)[] {
  return [...Array.from({ length: rank - known.length }, () => null), ...known];
}

interface AttentionPlan {
  /** einsum of (key, query) -> scores, and of (scores, value) -> output. */
  dotEquation: string;
  combineEquation: string;
  /** Batch axes (including heads) of the projected tensors, in order. */
  batchAxes: number[];
  scoresRank: number;
  /** Axes of the scores normalized by the softmax. */
  normAxes: number[];
}

/**
 * The attention equations for projected tensors of rank `rank` (batch,
 * other dims, attention dims, heads, channels). The scores are
 * [batch dims (with heads), query attention dims, key attention dims].
 */
function attentionPlan(rank: number, attnAxes: readonly number[]): AttentionPlan {
  const target = LETTERS.slice(0, rank);
  const batchAxes = Array.from({ length: rank }, (_, i) => i).filter((i) => !attnAxes.includes(i) && i !== rank - 1);
  let next = rank;
  let source = '';
  for (let i = 0; i < rank; i++) source += batchAxes.includes(i) || i === rank - 1 ? target[i] : LETTERS[next++];
  const product = [...batchAxes.map((i) => target[i]), ...attnAxes.map((i) => target[i]), ...attnAxes.map((i) => source[i])].join('');
  const scoresRank = product.length;
  return {
    dotEquation: `${source},${target}->${product}`,
    combineEquation: `${product},${source}->${target}`,
    batchAxes,
    scoresRank,
    normAxes: Array.from({ length: attnAxes.length }, (_, i) => scoresRank - attnAxes.length + i),
  };
}

const isTensorArg = (v: unknown): boolean => v instanceof Tensor || v instanceof KerasTensor || v instanceof Variable;
const isOptionsObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

export class MultiHeadAttention extends Layer {
  static override readonly className = 'MultiHeadAttention';
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly dropout: number;
  readonly useBias: boolean;
  readonly useGate: boolean;
  /** As given (null: the query's last dim). */
  readonly outputShape: number[] | null;
  /** As given, then (after building) the resolved non-negative axes, as Keras reports them. */
  attentionAxes: number[] | null;
  readonly slidingWindow: number | null;
  readonly seed: number | null;
  readonly kernelInitializer: initializers.Initializer;
  readonly biasInitializer: initializers.Initializer;
  readonly kernelRegularizer: regularizers.Regularizer | null;
  readonly biasRegularizer: regularizers.Regularizer | null;
  /** Applied by the projections (as in Keras), not by this layer. */
  readonly projectionActivityRegularizer: regularizers.Regularizer | null;
  readonly kernelConstraint: constraints.Constraint | null;
  readonly biasConstraint: constraints.Constraint | null;
  // Sublayers under Keras's attribute names, declared in Keras's creation order (the order of `weights`).
  query_dense: EinsumDense | null = null;
  key_dense: EinsumDense | null = null;
  _gate_dense: EinsumDense | null = null;
  value_dense: EinsumDense | null = null;
  output_dense: EinsumDense | null = null;
  _dropout_layer: Dropout;
  #plan: AttentionPlan | null = null;
  /** The projected rank (query rank + 1). */
  #projRank = 0;
  /** The extras of the call in progress. */
  #extras: AttentionExtras = {};

  constructor(options: MultiHeadAttentionOptions) {
    // The activity regularizer goes to the projections (Keras), so the base layer does not apply it.
    super({ ...options, activityRegularizer: undefined });
    const where = `MultiHeadAttention '${this.name}'`;
    const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
    if (!options || !positiveInt(options.numHeads)) throw new Error(`${where}: numHeads must be a positive integer. Received: numHeads=${describe(options?.numHeads)}`);
    if (!positiveInt(options.keyDim)) throw new Error(`${where}: keyDim must be a positive integer. Received: keyDim=${describe(options.keyDim)}`);
    if (options.valueDim !== undefined && options.valueDim !== null && !positiveInt(options.valueDim)) {
      throw new Error(`${where}: valueDim must be a positive integer or null. Received: valueDim=${describe(options.valueDim)}`);
    }
    const dropout = options.dropout ?? 0;
    if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new Error(`${where}: dropout must be a number in [0, 1). Received: dropout=${describe(dropout)}`);
    this.numHeads = options.numHeads;
    this.keyDim = options.keyDim;
    this.valueDim = options.valueDim || options.keyDim;
    this.dropout = dropout;
    this.useBias = options.useBias ?? true;
    this.useGate = options.useGate ?? false;
    const os = options.outputShape;
    if (os === undefined || os === null || (Array.isArray(os) && os.length === 0) || os === 0) this.outputShape = null;
    else {
      const dims = typeof os === 'number' ? [os] : [...os];
      if (!dims.every(positiveInt)) throw new Error(`${where}: outputShape must be a positive integer or a list of them. Received: outputShape=${describe(os)}`);
      this.outputShape = dims;
    }
    const axes = options.attentionAxes;
    if (axes === undefined || axes === null) this.attentionAxes = null;
    else {
      const list = typeof axes === 'number' ? [axes] : Array.isArray(axes) ? [...axes] : null;
      if (!list || list.length === 0 || !list.every((a) => Number.isInteger(a))) throw new Error(`${where}: attentionAxes must be an integer or a list of integers. Received: attentionAxes=${describe(axes)}`);
      this.attentionAxes = list;
    }
    const window = options.slidingWindow ?? null;
    if (window !== null && !positiveInt(window)) throw new Error(`${where}: slidingWindow must be null or a positive integer. Received: slidingWindow=${describe(window)}`);
    this.slidingWindow = window;
    this.seed = options.seed ?? null;
    this.kernelInitializer = initializers.get(options.kernelInitializer ?? 'glorot_uniform');
    this.biasInitializer = initializers.get(options.biasInitializer ?? 'zeros');
    this.kernelRegularizer = regularizers.get(options.kernelRegularizer ?? null);
    this.biasRegularizer = regularizers.get(options.biasRegularizer ?? null);
    this.projectionActivityRegularizer = regularizers.get(options.activityRegularizer ?? null);
    this.kernelConstraint = constraints.get(options.kernelConstraint ?? null);
    this.biasConstraint = constraints.get(options.biasConstraint ?? null);
    this._dropout_layer = new Dropout(this.dropout, { seed: this.seed, dtype: this.dtypePolicy });
    this.supportsMasking = true;
  }

  // -------------------------------------------------------------------------
  // Calling

  override apply(query: KerasTensor, value: KerasTensor, key: KerasTensor | null | undefined, options: MultiHeadAttentionCallOptions & { returnAttentionScores: true }): [KerasTensor, KerasTensor];
  override apply(query: KerasTensor, value: KerasTensor, options: MultiHeadAttentionCallOptions & { returnAttentionScores: true }): [KerasTensor, KerasTensor];
  override apply(query: KerasTensor, value: KerasTensor, key?: KerasTensor | null, options?: MultiHeadAttentionCallOptions): KerasTensor;
  override apply(query: KerasTensor, value: KerasTensor, options?: MultiHeadAttentionCallOptions): KerasTensor;
  override apply(query: TensorLike, value: TensorLike, key: TensorLike | null | undefined, options: MultiHeadAttentionCallOptions & { returnAttentionScores: true }): [Tensor, Tensor];
  override apply(query: TensorLike, value: TensorLike, options: MultiHeadAttentionCallOptions & { returnAttentionScores: true }): [Tensor, Tensor];
  override apply(query: TensorLike, value: TensorLike, key?: TensorLike | null, options?: MultiHeadAttentionCallOptions): Tensor;
  override apply(query: TensorLike, value: TensorLike, options?: MultiHeadAttentionCallOptions): Tensor;
  /** The list form `[query, value, key?, attentionMask?]` (what functional models replay). */
  override apply(inputs: KerasTensor | KerasTensor[] | Record<string, KerasTensor>, options?: CallOptions): KerasTensor;
  override apply(inputs: TensorLike | TensorLike[] | Record<string, TensorLike>, options?: CallOptions): Tensor;
  override apply(inputs: unknown, options?: CallOptions): unknown;
  override apply(...args: unknown[]): unknown {
    let inputs: unknown[];
    let options: Record<string, unknown>;
    if (Array.isArray(args[0]) && args[0].length >= 2 && args[0].every(isTensorArg)) {
      // The list form: [query, value, key?, attentionMask?].
      inputs = [...args[0]];
      options = isOptionsObject(args[1]) ? args[1] : {};
    } else {
      const [query, value] = args;
      let key = args[2];
      options = {};
      if (isOptionsObject(key)) {
        options = key;
        key = undefined;
      } else if (isOptionsObject(args[3])) {
        options = args[3];
      }
      if (value === undefined || value === null || isOptionsObject(value)) {
        throw new TypeError(`MultiHeadAttention '${this.name}' takes (query, value, key?, options?): the value is missing.`);
      }
      key = key ?? options.key ?? null;
      const attentionMask = options.attentionMask ?? options.attention_mask ?? null;
      inputs = [query, value];
      if (key !== null || attentionMask !== null) inputs.push(key ?? value);
      if (attentionMask !== null) inputs.push(attentionMask);
    }
    const extras = readExtras(options);
    const previous = this.#extras;
    this.#extras = extras;
    try {
      return super.apply(inputs, baseOptions(options, extras));
    } finally {
      this.#extras = previous;
    }
  }

  /** Keras's node: `args [query, value(, key)]`, kwargs `attention_mask`, `use_causal_mask`... */
  override toKerasNode(inputs: unknown, callOptions: CallOptions): { args: unknown[]; kwargs: Record<string, unknown> } {
    const list = inputs as unknown[];
    const args = list.length >= 3 && list[2] !== list[1] ? list.slice(0, 3) : list.slice(0, 2);
    const kwargs: Record<string, unknown> = {};
    if (list.length >= 4) kwargs.attention_mask = list[3];
    const { mask, ...rest } = callOptions as Record<string, unknown>;
    void mask;
    return { args, kwargs: { ...kwargs, ...rest } };
  }

  override fromKerasNode(args: unknown[], kwargs: Record<string, unknown>): { inputs: unknown; options: CallOptions } {
    const [query, value] = args;
    const key = args[2] ?? kwargs.key ?? null;
    const attentionMask = kwargs.attention_mask ?? null;
    const inputs: unknown[] = [query, value];
    if (key !== null || attentionMask !== null) inputs.push(key ?? value);
    if (attentionMask !== null) inputs.push(attentionMask);
    const options: Record<string, unknown> = { ...readExtras(kwargs) };
    if (typeof kwargs.training === 'boolean') options.training = kwargs.training;
    return { inputs, options: options as CallOptions };
  }

  // -------------------------------------------------------------------------
  // Building

  private commonSublayerOptions() {
    // Fresh initializers per projection (Keras clones them so seeded ones do not repeat values).
    return {
      kernelInitializer: initializers.get(initializers.serialize(this.kernelInitializer)),
      biasInitializer: initializers.get(initializers.serialize(this.biasInitializer)),
      kernelRegularizer: this.kernelRegularizer,
      biasRegularizer: this.biasRegularizer,
      activityRegularizer: this.projectionActivityRegularizer ?? undefined,
      kernelConstraint: this.kernelConstraint,
      biasConstraint: this.biasConstraint,
      dtype: this.dtypePolicy,
    };
  }

  private projection(rank: number, heads: number[], name: string, activation?: string): EinsumDense {
    const { equation, biasAxes, outputRank } = projectionEquation(rank - 1, 1, 2);
    return new EinsumDense(equation, partialShape(outputRank - 1, heads), {
      ...this.commonSublayerOptions(),
      biasAxes: this.useBias ? biasAxes : null,
      activation: activation as never,
      name,
    });
  }

  override build(inputShape: InputShape): void {
    const where = `MultiHeadAttention '${this.name}'`;
    const shapes = inputShape as Shape[];
    if (!Array.isArray(shapes) || shapes.length < 2 || !Array.isArray(shapes[0])) {
      throw new Error(`${where}: expected the shapes of [query, value, key?]. Received: ${JSON.stringify(inputShape)}`);
    }
    const queryShape = shapes[0];
    const valueShape = shapes[1];
    const keyShape = shapes[2] ?? valueShape;
    if (JSON.stringify(valueShape.slice(1, -1)) !== JSON.stringify(keyShape.slice(1, -1))) {
      throw new Error(`${where}: all dimensions of value and key, except the last one, must be equal. Received: value shape ${JSON.stringify(valueShape)} and key shape ${JSON.stringify(keyShape)}`);
    }
    const qRank = queryShape.length;
    if (qRank < 3) throw new Error(`${where}: query must have rank >= 3 (batch, sequence..., features). Received shape ${JSON.stringify(queryShape)}`);
    this.query_dense = this.projection(qRank, [this.numHeads, this.keyDim], 'query');
    this.query_dense.buildFromShape(queryShape);
    this.key_dense = this.projection(keyShape.length, [this.numHeads, this.keyDim], 'key');
    this.key_dense.buildFromShape(keyShape);
    if (this.useGate) {
      this._gate_dense = this.projection(qRank, [this.numHeads, this.valueDim], 'gate', 'sigmoid');
      this._gate_dense.buildFromShape(queryShape);
    }
    this.value_dense = this.projection(valueShape.length, [this.numHeads, this.valueDim], 'value');
    this.value_dense.buildFromShape(valueShape);

    // Attention over the projected tensors [batch, ..., heads, channels].
    const rank = qRank + 1;
    const axes = (this.attentionAxes ?? Array.from({ length: rank - 3 }, (_, i) => i + 1)).map((a) => (a >= 0 ? a : rank - 1 + a));
    if (axes.some((a) => a < 1 || a >= rank - 2)) {
      throw new Error(`${where}: attentionAxes ${JSON.stringify(this.attentionAxes)} are out of range for a query of rank ${qRank} (they index the query's axes between the batch and the features).`);
    }
    this.attentionAxes = axes;
    this.#plan = attentionPlan(rank, axes);
    this.#projRank = rank;

    const outDims = this.outputShape ?? [queryShape[qRank - 1] as number];
    if (outDims.some((d) => d === null)) throw new Error(`${where}: the query's last dim must be known (or give outputShape). Received query shape ${JSON.stringify(queryShape)}`);
    const out = projectionEquation(qRank - 1, 2, outDims.length);
    this.output_dense = new EinsumDense(out.equation, partialShape(out.outputRank - 1, outDims), {
      ...this.commonSublayerOptions(),
      biasAxes: this.useBias ? out.biasAxes : null,
      name: 'attention_output',
    });
    const projected = this.query_dense.computeOutputShape(queryShape);
    this.output_dense.buildFromShape([...projected.slice(0, -1), this.valueDim]);
  }

  override kerasBuildConfig(): Config | null {
    const shapes = this.buildInputShape as Shape[] | null;
    if (!shapes) return null;
    const dict: Config = { query_shape: shapes[0], value_shape: shapes[1] };
    if (shapes.length >= 3 && JSON.stringify(shapes[2]) !== JSON.stringify(shapes[1])) dict.key_shape = shapes[2];
    return { shapes_dict: dict };
  }

  // -------------------------------------------------------------------------
  // The computation

  override call(inputs: Tensor | Tensor[], { training, mask }: CallOptions): Tensor | Tensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const [query, value] = list;
    const key = list[2] ?? value;
    const masks = Array.isArray(mask) ? mask : [mask ?? null];
    const queryMask = masks[0] ?? null;
    const valueMask = masks[1] ?? null;
    const keyMask = list.length >= 3 ? (masks[2] ?? null) : null;
    const { return_attention_scores: returnScores = false, use_causal_mask: causal = false } = this.#extras;

    const attentionMask = this.computeAttentionMask(query, value, queryMask, valueMask, keyMask, list[3] ?? null, causal);
    const gate = this._gate_dense ? this._gate_dense.apply(query) : null;
    const q = this.query_dense!.apply(query);
    const k = this.key_dense!.apply(key);
    const v = this.value_dense!.apply(value);
    // Keras (TensorFlow) uses its fused attention unless it needs the scores or dropout, or the inputs are not rank 3.
    const fused = !(this.dropout > 0 || returnScores || this.#projRank !== 4);
    const scale = 1 / Math.sqrt(this.keyDim);
    let scores = fused ? ops.multiply(this.dotProduct(q, k), scale) : this.dotProduct(ops.multiply(q, scale), k);
    scores = this.maskedSoftmax(scores, attentionMask, !fused);
    const dropped = this.dropout > 0 ? this._dropout_layer.apply(scores, { training }) : scores;
    let output = this.combine(dropped, v);
    if (gate) output = ops.multiply(output, gate);
    output = this.output_dense!.apply(output);
    return returnScores ? [output, scores] : output;
  }

  override computeMask(inputs: unknown, mask: Tensor | null | (Tensor | null)[] | undefined): Tensor | null | (Tensor | null)[] {
    void inputs;
    const queryMask = (Array.isArray(mask) ? mask[0] : mask) ?? null;
    return this.#extras.return_attention_scores ? [queryMask, null] : queryMask;
  }

  /** Keras's compute_output_shape: the query's shape, with `outputShape` replacing its last dim. */
  override computeOutputShape(inputShape: InputShape): Shape {
    const shapes = inputShape as Shape[];
    const queryShape = shapes[0];
    return this.outputShape ? [...queryShape.slice(0, -1), ...this.outputShape] : [...queryShape];
  }

  private computeAttentionMask(query: Tensor, value: Tensor, queryMask: Tensor | null, valueMask: Tensor | null, keyMask: Tensor | null, explicit: Tensor | null, causal: boolean): Tensor | null {
    let auto: Tensor | null = null;
    const and = (m: Tensor) => (auto = auto ? ops.logicalAnd(auto, m) : m);
    if (queryMask) and(ops.expandDims(ops.cast(queryMask, 'bool'), -1));
    if (valueMask) and(ops.expandDims(ops.cast(valueMask, 'bool'), -2));
    if (keyMask) and(ops.expandDims(ops.cast(keyMask, 'bool'), -2));
    if (causal) and(causalMask(query, value));
    if (this.slidingWindow !== null) and(slidingWindowMask(query, value, this.slidingWindow));
    let out: Tensor | null = explicit ? ops.cast(explicit, 'bool') : null;
    if (auto) out = out ? ops.logicalAnd(out, auto) : auto;
    return out;
  }

  /** Scores from the projected key and query: [batch dims and heads, query attention dims, key attention dims]. */
  private dotProduct(q: Tensor, k: Tensor): Tensor {
    const plan = this.#plan!;
    const axes = this.attentionAxes!;
    if (axes.length !== 1) return ops.einsum(plan.dotEquation, k, q);
    // One attention axis: a batched matmul (works with several unknown dims, unlike a general einsum).
    const last = q.rank - 1;
    const qt = ops.transpose(q, [...plan.batchAxes, axes[0], last]);
    const kt = ops.transpose(k, [...plan.batchAxes, last, axes[0]]);
    return ops.matmul(qt, kt);
  }

  /** The attention-weighted values, in the projected query's layout. */
  private combine(scores: Tensor, v: Tensor): Tensor {
    const plan = this.#plan!;
    const axes = this.attentionAxes!;
    if (axes.length !== 1) return ops.einsum(plan.combineEquation, scores, v);
    const last = v.rank - 1;
    const order = [...plan.batchAxes, axes[0], last];
    const vt = ops.transpose(v, order);
    const out = ops.matmul(scores, vt);
    // Back from [batch dims..., attention axis, channels] to the natural axis order.
    const inverse = order.map((_, i) => order.indexOf(i));
    return ops.transpose(out, inverse);
  }

  /**
   * Softmax over the key attention axes with masked positions set to -1e9
   * first; with `zeroMasked` (Keras's Softmax layer) masked positions are
   * then set to 0, so a query with no visible key gets all-zero weights.
   */
  private maskedSoftmax(scores: Tensor, mask: Tensor | null, zeroMasked: boolean): Tensor {
    const plan = this.#plan!;
    if (!mask) return ops.softmax(scores, plan.normAxes);
    let m = mask;
    // Masks are [batch..., T..., S...]: heads (and other batch dims) are inserted before the attention dims.
    const expandAt = -this.attentionAxes!.length * 2 - 1;
    while (m.rank < scores.rank) m = ops.expandDims(m, expandAt);
    const probs = ops.softmax(ops.where(m, scores, -1e9), plan.normAxes);
    return zeroMasked ? ops.where(m, probs, 0) : probs;
  }

  // -------------------------------------------------------------------------
  // Config

  override getConfig(): Config {
    const config: Config = {
      ...super.getConfig(),
      num_heads: this.numHeads,
      key_dim: this.keyDim,
      value_dim: this.valueDim,
      dropout: this.dropout,
      use_bias: this.useBias,
      output_shape: this.outputShape ? [...this.outputShape] : null,
      attention_axes: this.attentionAxes ? [...this.attentionAxes] : null,
      kernel_initializer: initializers.serialize(this.kernelInitializer),
      bias_initializer: initializers.serialize(this.biasInitializer),
      kernel_regularizer: regularizers.serialize(this.kernelRegularizer),
      bias_regularizer: regularizers.serialize(this.biasRegularizer),
      activity_regularizer: regularizers.serialize(this.projectionActivityRegularizer),
      kernel_constraint: constraints.serialize(this.kernelConstraint),
      bias_constraint: constraints.serialize(this.biasConstraint),
      seed: this.seed,
    };
    // Keras 3.15 added use_gate and sliding_window; they are written only when set, so files load in earlier Keras 3 releases.
    if (this.useGate) config.use_gate = true;
    if (this.slidingWindow !== null) config.sliding_window = this.slidingWindow;
    return config;
  }

  static override fromConfig(config: Config): MultiHeadAttention {
    const name = String(config.name ?? 'multi_head_attention');
    if (config.flash_attention) throw new Error(`MultiHeadAttention '${name}': flash_attention is not supported.`);
    return new MultiHeadAttention({
      ...baseOptionsFromConfig(config),
      numHeads: config.num_heads as number,
      keyDim: config.key_dim as number,
      valueDim: (config.value_dim as number | null | undefined) ?? null,
      dropout: (config.dropout as number | undefined) ?? 0,
      useBias: (config.use_bias as boolean | undefined) ?? true,
      useGate: (config.use_gate as boolean | undefined) ?? false,
      outputShape: (config.output_shape as number | number[] | null | undefined) ?? null,
      attentionAxes: (config.attention_axes as number | number[] | null | undefined) ?? null,
      slidingWindow: (config.sliding_window as number | null | undefined) ?? null,
      kernelInitializer: config.kernel_initializer as initializers.InitializerIdentifier,
      biasInitializer: config.bias_initializer as initializers.InitializerIdentifier,
      kernelRegularizer: config.kernel_regularizer as regularizers.RegularizerIdentifier,
      biasRegularizer: config.bias_regularizer as regularizers.RegularizerIdentifier,
      activityRegularizer: (config.activity_regularizer ?? undefined) as regularizers.RegularizerIdentifier,
      kernelConstraint: config.kernel_constraint as constraints.ConstraintIdentifier,
      biasConstraint: config.bias_constraint as constraints.ConstraintIdentifier,
      seed: (config.seed as number | null | undefined) ?? null,
    });
  }
}
registerBuiltin('keras.layers', MultiHeadAttention);
