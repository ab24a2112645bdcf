/**
 * GradientTape: records the ops run inside `record()` and computes gradients
 * with the ops' gradient rules. Every op in the scope is recorded (tensors
 * need no `watch()`), so when a gradient is null the tape can also say why:
 * not connected, cut by stopGradient, or cut by a non-differentiable op —
 * naming the op and the layer it ran in.
 */
import { isFloat } from '../tensor/dtype.ts';
import { Tensor } from '../tensor/tensor.ts';
import { type OpRecord, type TapeRecorder, popTape, pushTape, withoutTape } from '../engine/recording.ts';
import { Variable } from '../engine/variable.ts';
import { backward } from './backward.ts';
import { explainNullGradient, type NullGradientReason } from './reasons.ts';
import { add } from '../ops/api/math.ts';

export interface GradientTapeOptions {
  /** Keep the records after `gradient()` so it can be called again. */
  persistent?: boolean;
  /** Treat every trainable variable read in the scope as a source (default true). */
  watchAccessedVariables?: boolean;
}

export type Source = Tensor | Variable;
type Sources = Source | readonly Source[] | { readonly [name: string]: Source };
type Gradients<S> = S extends Source
  ? Tensor | null
  : S extends readonly Source[]
    ? (Tensor | null)[]
    : { [K in keyof S]: Tensor | null };

export class GradientTape implements TapeRecorder {
  readonly persistent: boolean;
  readonly watchAccessedVariables: boolean;
  private records: OpRecord[] = [];
  private variableReads = new Map<Variable, Tensor[]>();
  private watched = new Set<Variable>();
  private used = false;
  private reasons = new Map<Source, NullGradientReason>();

  constructor(options: GradientTapeOptions = {}) {
    this.persistent = options.persistent ?? false;
    this.watchAccessedVariables = options.watchAccessedVariables ?? true;
  }

  /**
   * Runs `fn`, recording every op it runs, and returns its result. May be
   * called several times; records accumulate. `fn` must be synchronous (ops
   * are), so the tape knows exactly which ops belong to it.
   */
  record<T>(fn: () => T): T {
    pushTape(this);
    try {
      const result = fn();
      if (result instanceof Promise) {
        throw new Error('GradientTape.record: the function returned a Promise. Ops run synchronously; record a synchronous function.');
      }
      return result;
    } finally {
      popTape(this);
    }
  }

  /**
   * Marks variables as sources when `watchAccessedVariables` is false.
   * Tensors need no watching: every op inside `record()` is on the tape.
   */
  watch(x: Source | readonly Source[]): void {
    for (const s of Array.isArray(x) ? x : [x]) if (s instanceof Variable) this.watched.add(s);
  }

  /** Variables read inside `record()` that gradients can be taken for. */
  watchedVariables(): Variable[] {
    return [...this.variableReads.keys()].filter((v) => this.isWatched(v));
  }

  /** @internal */
  recordOp(record: OpRecord): void {
    this.records.push(record);
  }

  /** @internal */
  recordVariableRead(variable: Variable, value: Tensor): void {
    let reads = this.variableReads.get(variable);
    if (!reads) this.variableReads.set(variable, (reads = []));
    reads.push(value);
  }

  /**
   * Gradients of `target` (summed if it has several elements, or weighted by
   * `outputGradients`) with respect to `sources`: one entry per source in the
   * same structure, null where the target does not depend on the source.
   * `whyNull(source)` explains a null.
   */
  gradient<S extends Sources>(target: Tensor | readonly Tensor[], sources: S, outputGradients?: Tensor | readonly Tensor[]): Gradients<S> {
    if (this.used && !this.persistent) {
      throw new Error('GradientTape.gradient can only be called once on a non-persistent tape. Create it with {persistent: true} to call it several times.');
    }
    this.used = true;
    const targets = Array.isArray(target) ? (target as Tensor[]) : [target as Tensor];
    const seeds = outputGradients === undefined ? undefined : Array.isArray(outputGradients) ? (outputGradients as Tensor[]) : [outputGradients as Tensor];
    for (const t of targets) {
      if (!(t instanceof Tensor)) throw new TypeError('GradientTape.gradient: the target must be a tensor (or a list of tensors).');
      if (!isFloat(t.dtype)) {
        throw new TypeError(`GradientTape.gradient: the target has dtype ${t.dtype}; only floating-point targets have gradients.`);
      }
    }
    const list: Source[] = isSourceList(sources) ? [...sources] : sources instanceof Tensor || sources instanceof Variable ? [sources] : Object.values(sources);
    for (const s of list) {
      if (!(s instanceof Tensor) && !(s instanceof Variable)) {
        throw new TypeError(`GradientTape.gradient: sources must be tensors or Variables. Received: ${String(s)}`);
      }
    }

    // Each source stands for one or more tensors: a variable for every read of it.
    const sourceTensors = list.map((s) => (s instanceof Variable ? (this.isWatched(s) ? (this.variableReads.get(s) ?? []) : []) : [s]));
    const grads = withoutTape(this, () => backward(this.records, targets, seeds, sourceTensors.flat()));

    this.reasons.clear();
    const results = list.map((s, i) => {
      const parts = sourceTensors[i].map((t) => grads.get(t.id)).filter((g): g is Tensor => g !== undefined);
      if (parts.length === 0) {
        this.reasons.set(s, explainNullGradient(s, sourceTensors[i], targets, this.records, this.variableReads.has(s as Variable), this.isWatchedSource(s)));
        return null;
      }
      return parts.reduce((acc, g) => withoutTape(this, () => add(acc, g)));
    });
    if (!this.persistent) {
      this.records = [];
      this.variableReads.clear();
    }
    if (isSourceList(sources)) return results as Gradients<S>;
    if (sources instanceof Tensor || sources instanceof Variable) return results[0] as Gradients<S>;
    const keys = Object.keys(sources);
    return Object.fromEntries(keys.map((k, i) => [k, results[i]])) as Gradients<S>;
  }

  /** Why the last `gradient()` call returned null for `source` (undefined if it did not). */
  whyNull(source: Source): NullGradientReason | undefined {
    return this.reasons.get(source);
  }

  private isWatched(v: Variable): boolean {
    return this.watched.has(v) || (this.watchAccessedVariables && v.trainable);
  }

  private isWatchedSource(s: Source): boolean {
    return s instanceof Tensor || this.isWatched(s);
  }
}

function isSourceList(s: Sources): s is readonly Source[] {
  return Array.isArray(s);
}
