/**
 * Attention (keras.layers.Attention, Luong-style dot-product attention) and
 * AdditiveAttention (Bahdanau-style). Both are called on a list
 * `[query, value]` or `[query, value, key]` (key defaults to value):
 *
 *   scores  = query · keyᵀ (score_mode 'dot', times `scale` with useScale)
 *           | concat_score_weight · Σ tanh(scale · (query + key)) ('concat')
 *           | Σ scale · tanh(query + key)                          (additive)
 *   weights = softmax(scores) over the keys, after masked keys (value mask,
 *             causal mask) get 1e9 subtracted
 *   output  = weights · value, zero where the query is masked
 *
 * Masks come from the inputs' Keras masks (or `mask: [queryMask,
 * valueMask]`); the output carries the query's mask. With
 * `returnAttentionScores` the layer returns `[output, weights]` (weights
 * before dropout, as Keras returns them).
 */
import type { Tensor } from '../../tensor/tensor.ts';
import type { Shape } from '../../tensor/shape.ts';
import { describe } from '../../tensor/shape.ts';
import type { Variable } from '../../engine/variable.ts';
import type { TensorLike } from '../../ops/convert.ts';
import * as ops from '../../ops/index.ts';
import * as random from '../../ops/api/random.ts';
import { sliceAxis } from '../../ops/defs/indexing.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import type { KerasTensor } from '../keras-tensor.ts';
import { type CallOptions, type InputShape, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { type AttentionCallOptions, type AttentionExtras, baseOptions, readExtras } from './masks.ts';

export type ScoreMode = 'dot' | 'concat';

export interface AttentionOptions extends LayerOptions {
  /** Learn a scalar that scales the scores (default false). */
  useScale?: boolean;
  /** 'dot' (default) or 'concat' (tanh of query + key, summed). */
  scoreMode?: ScoreMode;
  /** Dropout rate on the attention weights in training (default 0). */
  dropout?: number;
  seed?: number | null;
}

/** Shared by Attention and AdditiveAttention: input checks, masks, the extra call options. */
abstract class BaseAttention extends Layer {
  readonly useScale: boolean;
  readonly dropout: number;
  readonly seed: number | null;
  readonly seedGenerator: random.SeedGenerator | null;
  #extras: AttentionExtras = {};

  constructor(options: AttentionOptions, defaultUseScale: boolean) {
    super(options);
    const dropout = options.dropout ?? 0;
    if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new Error(`${this.constructor.name} '${this.name}': dropout must be a number in [0, 1). Received: dropout=${describe(dropout)}`);
    this.useScale = options.useScale ?? defaultUseScale;
    this.dropout = dropout;
    this.seed = options.seed ?? null;
    this.seedGenerator = dropout > 0 ? new random.SeedGenerator(this.seed) : null;
    this.supportsMasking = true;
  }

  override apply(inputs: KerasTensor[], options: AttentionCallOptions & { returnAttentionScores: true }): [KerasTensor, KerasTensor];
  override apply(inputs: TensorLike[], options: AttentionCallOptions & { returnAttentionScores: true }): [Tensor, Tensor];
  override apply(inputs: KerasTensor | KerasTensor[] | Record<string, KerasTensor>, options?: AttentionCallOptions): KerasTensor;
  override apply(inputs: TensorLike | TensorLike[] | Record<string, TensorLike>, options?: AttentionCallOptions): Tensor;
  override apply(inputs: unknown, options?: AttentionCallOptions): unknown;
  override apply(inputs: unknown, options: AttentionCallOptions = {}): unknown {
    const where = `${this.constructor.name} '${this.name}'`;
    if (!Array.isArray(inputs) || inputs.length < 2 || inputs.length > 3) {
      throw new Error(`${where} must be called on a list of inputs, namely [query, value] or [query, value, key]. Received: ${Array.isArray(inputs) ? `a list of length ${inputs.length}` : describe(inputs)}.`);
    }
    const { mask } = options;
    if (mask !== undefined && mask !== null && (!Array.isArray(mask) || mask.length < 2 || mask.length > 3)) {
      throw new Error(`${where}: the mask must be a list [queryMask, valueMask]. Received: ${describe(mask)}.`);
    }
    const extras = readExtras(options as Record<string, unknown>);
    const previous = this.#extras;
    this.#extras = extras;
    try {
      return super.apply(inputs, baseOptions(options as Record<string, unknown>, extras));
    } finally {
      this.#extras = previous;
    }
  }

  /** Keras's node: the list as one argument; `use_causal_mask` and `return_attention_scores` as kwargs. */
  override fromKerasNode(args: unknown[], kwargs: Record<string, unknown>): { inputs: unknown; options: CallOptions } {
    const options: Record<string, unknown> = { ...readExtras(kwargs) };
    if (typeof kwargs.training === 'boolean') options.training = kwargs.training;
    if (kwargs.mask !== undefined && kwargs.mask !== null) options.mask = kwargs.mask;
    return { inputs: args.length === 1 ? args[0] : args, options: options as CallOptions };
  }

  protected abstract scores(query: Tensor, key: Tensor): Tensor;

  override call(inputs: Tensor[], { training, mask }: CallOptions): Tensor | Tensor[] {
    const [query, value] = inputs;
    const key = inputs[2] ?? value;
    const masks = Array.isArray(mask) ? mask : [null, null];
    const queryMask = masks[0] ?? null;
    const valueMask = masks[1] ?? null;
    const { return_attention_scores: returnScores = false, use_causal_mask: causal = false } = this.#extras;
    let scores = this.scores(query, key);
    // Masked keys: value mask [batch, 1, Tv], and the causal mask [1, Tq, Tv].
    let keep: Tensor | null = valueMask ? ops.expandDims(ops.cast(valueMask, 'bool'), -2) : null;
    if (causal) {
      let s = scores;
      for (let a = 0; a < s.rank - 2; a++) s = sliceAxis(s, a, 0, 1);
      const ones = ops.onesLike(s, 'int32');
      const causalMask = ops.greaterEqual(ops.cumsum(ones, -2), ops.cumsum(ones, -1));
      keep = keep ? ops.logicalAnd(keep, causalMask) : causalMask;
    }
    if (keep) scores = ops.where(keep, scores, ops.subtract(scores, 1e9));
    const weights = ops.softmax(scores, -1);
    const dropped = training && this.dropout > 0 ? random.dropout(weights, this.dropout, { seed: this.seedGenerator! }) : weights;
    let output = ops.matmul(dropped, value);
    if (queryMask) output = ops.where(ops.expandDims(ops.cast(queryMask, 'bool'), -1), output, 0);
    return returnScores ? [output, weights] : output;
  }

  override computeMask(inputs: unknown, mask: Tensor | null | (Tensor | null)[] | undefined): Tensor | null | (Tensor | null)[] {
    void inputs;
    const queryMask = Array.isArray(mask) ? (mask[0] ?? null) : null;
    return this.#extras.return_attention_scores ? [queryMask, null] : queryMask;
  }

  /** Keras's compute_output_shape: the query's shape with the value's last dim. */
  override computeOutputShape(inputShape: InputShape): Shape {
    const shapes = inputShape as Shape[];
    return [...shapes[0].slice(0, -1), shapes[1][shapes[1].length - 1]];
  }

  protected checkShapes(inputShape: InputShape): Shape[] {
    const shapes = inputShape as Shape[];
    if (!Array.isArray(shapes) || shapes.length < 2 || shapes.length > 3 || !shapes.every(Array.isArray)) {
      throw new Error(`${this.constructor.name} '${this.name}' must be built from the shapes of [query, value] or [query, value, key]. Received: ${JSON.stringify(inputShape)}`);
    }
    return shapes;
  }

  override getConfig(): Config {
    return { ...super.getConfig(), use_scale: this.useScale, dropout: this.dropout, seed: this.seed };
  }
}

export class Attention extends BaseAttention {
  static override readonly className = 'Attention';
  readonly scoreMode: ScoreMode;
  scale: Variable | null = null;
  concat_score_weight: Variable | null = null;

  constructor(options: AttentionOptions = {}) {
    super(options, false);
    const mode = options.scoreMode ?? 'dot';
    if (mode !== 'dot' && mode !== 'concat') throw new Error(`Attention '${this.name}': invalid scoreMode. Expected one of 'dot', 'concat'. Received: scoreMode=${describe(mode)}`);
    this.scoreMode = mode;
  }

  override build(inputShape: InputShape): void {
    this.checkShapes(inputShape);
    if (this.useScale) this.scale = this.addWeight({ name: 'scale', shape: [], initializer: 'ones' });
    if (this.scoreMode === 'concat') this.concat_score_weight = this.addWeight({ name: 'concat_score_weight', shape: [], initializer: 'ones' });
  }

  protected scores(query: Tensor, key: Tensor): Tensor {
    if (this.scoreMode === 'dot') {
      const perm = Array.from({ length: key.rank }, (_, i) => i);
      [perm[key.rank - 2], perm[key.rank - 1]] = [perm[key.rank - 1], perm[key.rank - 2]];
      const s = ops.matmul(query, ops.transpose(key, perm));
      return this.scale ? ops.multiply(s, this.scale) : s;
    }
    let sum = ops.add(ops.expandDims(query, -2), ops.expandDims(key, -3));
    if (this.scale) sum = ops.multiply(this.scale, sum);
    return ops.multiply(this.concat_score_weight!, ops.sum(ops.tanh(sum), -1));
  }

  override getConfig(): Config {
    const { use_scale, dropout, seed, ...base } = super.getConfig();
    return { ...base, use_scale, score_mode: this.scoreMode, dropout, seed };
  }

  static override fromConfig(config: Config): Attention {
    return new Attention({
      ...baseOptionsFromConfig(config),
      useScale: (config.use_scale as boolean | undefined) ?? false,
      scoreMode: (config.score_mode as ScoreMode | undefined) ?? 'dot',
      dropout: (config.dropout as number | undefined) ?? 0,
      seed: (config.seed as number | null | undefined) ?? null,
    });
  }
}
registerBuiltin('keras.layers', Attention);

export type AdditiveAttentionOptions = Omit<AttentionOptions, 'scoreMode'>;

export class AdditiveAttention extends BaseAttention {
  static override readonly className = 'AdditiveAttention';
  scale: Variable | null = null;

  /** useScale defaults to true here (a learned per-feature scale, as in Keras). */
  constructor(options: AdditiveAttentionOptions = {}) {
    super(options, true);
  }

  override build(inputShape: InputShape): void {
    const shapes = this.checkShapes(inputShape);
    const dim = shapes[0][shapes[0].length - 1];
    if (this.useScale) {
      if (dim === null) throw new Error(`AdditiveAttention '${this.name}': the query's last dim must be known. Received: ${JSON.stringify(shapes[0])}`);
      this.scale = this.addWeight({ name: 'scale', shape: [dim], initializer: 'glorot_uniform' });
    }
  }

  protected scores(query: Tensor, key: Tensor): Tensor {
    const t = ops.tanh(ops.add(ops.expandDims(query, -2), ops.expandDims(key, -3)));
    return ops.sum(this.scale ? ops.multiply(this.scale, t) : t, -1);
  }

  static override fromConfig(config: Config): AdditiveAttention {
    return new AdditiveAttention({
      ...baseOptionsFromConfig(config),
      useScale: (config.use_scale as boolean | undefined) ?? true,
      dropout: (config.dropout as number | undefined) ?? 0,
      seed: (config.seed as number | null | undefined) ?? null,
    });
  }
}
registerBuiltin('keras.layers', AdditiveAttention);
