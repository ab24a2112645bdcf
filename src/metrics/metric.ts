/**
 * The metric base class (keras.metrics.Metric). A metric keeps its state in
 * non-trainable Variables made with `addVariable`; `updateState`, `result`
 * and `resetState` are written with ops and `assign`/`assignAdd` only (they
 * never read values back), so they run eagerly and inside traced functions
 * (strata.fn) alike: there, variable reads become graph inputs and the
 * assignments graph outputs, written back after each run.
 *
 * Metric variables belong to no layer: a model's training loop collects
 * them through `metric.variables`.
 */
import { type DType, assertDType } from '../tensor/dtype.ts';
import { describe } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { zeros } from '../tensor/create.ts';
import { Variable } from '../engine/variable.ts';
import { withNameScope } from '../engine/scope.ts';
import type { Config } from '../serialization/registry.ts';
import { toSnakeCase } from '../serialization/keras-object.ts';
import type { TensorLike } from '../ops/convert.ts';
import * as initializers from '../initializers/index.ts';
import { readDType } from '../losses/loss.ts';

export interface MetricOptions {
  /** Name of the metric instance (default: the class's Keras name, e.g. 'accuracy'). */
  name?: string;
  /** dtype of the state variables and the result. Default float32 (Keras's floatx). */
  dtype?: DType;
}

/** Reads `name` and `dtype` from metric options (a Keras DTypePolicy object is accepted as dtype). */
export function metricOptions(config: Config, where: string): MetricOptions {
  const out: MetricOptions = {};
  if (config.name !== undefined && config.name !== null) out.name = config.name as string;
  const dtype = readDType(config.dtype, `${where}.fromConfig`);
  if (dtype) out.dtype = dtype;
  return out;
}

/**
 * Base class of all metrics. Subclasses create their state in the
 * constructor with `addVariable` (or on the first update, when its shape
 * depends on the data) and implement `updateState` and `result`.
 */
export abstract class Metric {
  static readonly className: string = 'Metric';

  /** The metric's name (the key of its value in training logs). */
  name: string;
  readonly dtype: DType;
  readonly #variables: Variable[] = [];
  readonly #metrics: Metric[] = [];

  constructor(options: MetricOptions = {}) {
    const cls = this.constructor as unknown as { className?: string; name: string };
    const where = cls.className ?? cls.name;
    if (options === null || typeof options !== 'object') throw new TypeError(`${where}: expected an options object. Received: ${describe(options)}`);
    const name = options.name ?? toSnakeCase(where);
    if (typeof name !== 'string') throw new TypeError(`${where}: Received: name=${describe(options.name)}; expected a string.`);
    this.name = name;
    this.dtype = options.dtype === undefined || options.dtype === null ? 'float32' : assertDType(options.dtype, where);
  }

  /** The Keras class name of this metric (used in error messages). */
  label(): string {
    const cls = this.constructor as unknown as { className?: string; name: string };
    return cls.className ?? cls.name;
  }

  /**
   * Creates a state variable (non-trainable, named `<metric name>/<name>`)
   * with the initializer's values (default zeros) and the metric's dtype.
   */
  addVariable(shape: readonly number[], initializer: initializers.InitializerIdentifier = 'zeros', dtype: DType = this.dtype, name = 'variable'): Variable {
    const init = initializers.get(initializer ?? 'zeros');
    const value = init.call([...shape], dtype);
    const variable = withNameScope(this.name.replace(/\//g, '>'), () => new Variable(value, { name, trainable: false, dtype }));
    this.#variables.push(variable);
    return variable;
  }

  /** Tracks a metric used inside this one: its variables become part of `variables`. */
  protected trackMetric<M extends Metric>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }

  /** The state variables (this metric's, then those of tracked inner metrics). */
  get variables(): Variable[] {
    const out = [...this.#variables];
    for (const m of this.#metrics) out.push(...m.variables);
    return out;
  }

  /** Accumulates statistics from a batch. */
  abstract updateState(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): void;

  /** The current value (a scalar, or a tensor for per-class / per-threshold metrics). */
  abstract result(): Tensor;

  /** Sets every state variable back to zero. */
  resetState(): void {
    for (const v of this.variables) v.assign(zeros(v.shape as number[], v.dtype));
  }

  /** Keras's `metric(...)`: updates the state with this batch, then returns `result()`. */
  apply(yTrue: TensorLike, yPred?: TensorLike | null, sampleWeight?: TensorLike | null): Tensor {
    this.updateState(yTrue, yPred, sampleWeight);
    return this.result();
  }

  /** The Keras config (snake_case keys). */
  getConfig(): Config {
    return { name: this.name, dtype: this.dtype };
  }

  /** Builds a metric from its config; the default passes name and dtype (and the rest, for user classes) to the constructor. */
  static fromConfig(this: new (options?: MetricOptions) => Metric, config: Config): Metric {
    const where = (this as unknown as { className: string }).className;
    return new this({ ...config, ...metricOptions(config, where) } as MetricOptions);
  }

  toString(): string {
    return `<${this.label()} name=${this.name}>`;
  }
}
