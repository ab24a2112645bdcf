/**
 * The training half of the TF.js layers format: `trainingConfig` in
 * model.json (loss, metrics, optimizer) and the optimizer's state as weights
 * of the group 'optimizer', as tfjs-layers' `model.save(handler,
 * {includeOptimizer: true})` writes them, so `tf.loadLayersModel` returns a
 * compiled model that continues training where Strata stopped.
 *
 * tfjs-layers knows fewer losses and optimizers than Keras, and its
 * optimizers keep some state differently; what it cannot represent is left
 * out with a warning that says why (the model itself still loads).
 *
 *   Keras / Strata                 tfjs-core            state (tfjs names, in tfjs's order)
 *   SGD (momentum 0)               SGD                  iter
 *   SGD (momentum, nesterov)       Momentum             iter, w/momentum = -(Keras momentum) / lr
 *   Adam (amsgrad false)           Adam                 iter, w/m..., w/v...
 *   RMSprop                        RMSProp              iter, w/rms..., w/momentum..., w/mg... (centered)
 *   Adagrad (epsilon 1e-7)         Adagrad              iter, w/accumulator...
 */
import type { Config } from '../serialization/registry.ts';
import type { Variable } from '../engine/variable.ts';
import type { Model } from '../models/model.ts';
import { Loss } from '../losses/loss.ts';
import { toSnakeCase } from '../serialization/keras-object.ts';

/** One optimizer weight for the manifest. */
export interface TfjsOptimizerWeight {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  values: Float32Array | Int32Array;
}

/** Keras loss names (and aliases) → the name tfjs-layers resolves (it camel-cases it). */
const TFJS_LOSSES: Record<string, string> = {
  mean_squared_error: 'mean_squared_error',
  mse: 'mean_squared_error',
  mean_absolute_error: 'mean_absolute_error',
  mae: 'mean_absolute_error',
  mean_absolute_percentage_error: 'mean_absolute_percentage_error',
  mape: 'mean_absolute_percentage_error',
  mean_squared_logarithmic_error: 'mean_squared_logarithmic_error',
  msle: 'mean_squared_logarithmic_error',
  squared_hinge: 'squared_hinge',
  hinge: 'hinge',
  categorical_hinge: 'categorical_hinge',
  log_cosh: 'logcosh',
  logcosh: 'logcosh',
  categorical_crossentropy: 'categorical_crossentropy',
  sparse_categorical_crossentropy: 'sparse_categorical_crossentropy',
  binary_crossentropy: 'binary_crossentropy',
  kl_divergence: 'kullback_leibler_divergence',
  kld: 'kullback_leibler_divergence',
  kullback_leibler_divergence: 'kullback_leibler_divergence',
  poisson: 'poisson',
};

/** Loss options that tfjs-layers' loss functions have fixed (anything else changes the loss). */
const DEFAULT_LOSS_OPTIONS: Record<string, unknown> = { reduction: 'sum_over_batch_size', from_logits: false, label_smoothing: 0, axis: -1, ignore_class: null };

/**
 * Keras metric names → the names tfjs-layers 4.22 compiles after camel-casing
 * them: 'accuracy'/'acc' (resolved by the loss, as in Keras) and the keys of its
 * metricsMap. It has no sparseCategoricalAccuracy, binaryCrossentropy, recall or
 * long-form meanSquaredError metrics: an unknown name makes loadLayersModel throw.
 */
const TFJS_METRICS: Record<string, string> = {
  accuracy: 'accuracy',
  acc: 'acc',
  binary_accuracy: 'binary_accuracy',
  categorical_accuracy: 'categorical_accuracy',
  categorical_crossentropy: 'categorical_crossentropy',
  sparse_categorical_crossentropy: 'sparse_categorical_crossentropy',
  mse: 'mse',
  mean_squared_error: 'mse',
  mae: 'mae',
  mean_absolute_error: 'mae',
  mape: 'mape',
  mean_absolute_percentage_error: 'mape',
  precision: 'precision',
};

function tfjsLoss(loss: unknown): string {
  if (typeof loss === 'string') {
    const name = TFJS_LOSSES[loss];
    if (!name) throw new Error(`the loss '${loss}' has no TF.js equivalent`);
    return name;
  }
  if (loss instanceof Loss) {
    const className = (loss.constructor as { className?: string }).className ?? loss.constructor.name;
    const name = TFJS_LOSSES[toSnakeCase(className)];
    if (!name) throw new Error(`the loss ${className} has no TF.js equivalent`);
    const config = loss.getConfig() as Config;
    for (const [key, value] of Object.entries(DEFAULT_LOSS_OPTIONS)) {
      if (key in config && config[key] !== value && !(key === 'label_smoothing' && config[key] === 0)) {
        throw new Error(`${className} with ${key}=${JSON.stringify(config[key])} has no TF.js equivalent (tfjs-layers' ${name} is fixed at ${key}=${JSON.stringify(value)})`);
      }
    }
    return name;
  }
  throw new Error('a custom loss function has no TF.js name');
}

function tfjsLosses(loss: unknown): unknown {
  if (Array.isArray(loss)) return loss.map(tfjsLoss);
  if (loss && typeof loss === 'object' && !(loss instanceof Loss)) return Object.fromEntries(Object.entries(loss).map(([k, v]) => [k, tfjsLoss(v)]));
  return tfjsLoss(loss);
}

/** The metrics tfjs-layers can compile (names only); the rest are dropped with a note. */
function tfjsMetrics(metrics: unknown, dropped: string[]): string[] | undefined {
  if (metrics === undefined || metrics === null) return undefined;
  if (!Array.isArray(metrics)) {
    dropped.push('per-output metrics');
    return undefined;
  }
  const kept: string[] = [];
  for (const m of metrics) {
    if (typeof m === 'string' && Object.hasOwn(TFJS_METRICS, m)) {
      if (!kept.includes(TFJS_METRICS[m])) kept.push(TFJS_METRICS[m]);
    } else dropped.push(typeof m === 'string' ? `'${m}'` : `${(m as { name?: string })?.name ?? 'a metric object'}`);
  }
  return kept;
}

interface OptimizerMapping {
  className: string;
  config: Config;
  /** The slot kinds (Strata's names), in tfjs's order, with their tfjs suffix and value transform. */
  slots: { kind: string; suffix: string; transform?: (v: number) => number; fill?: number }[];
}

function tfjsOptimizer(optimizerClass: string, c: Config): OptimizerMapping {
  const unsupported = (['weight_decay', 'clipnorm', 'clipvalue', 'global_clipnorm', 'gradient_accumulation_steps', 'loss_scale_factor'] as const).filter((k) => c[k] !== null && c[k] !== undefined && c[k] !== 0);
  if (unsupported.length > 0) throw new Error(`TF.js optimizers have no ${unsupported.join(', ')}`);
  if (c.use_ema === true) throw new Error('TF.js optimizers have no use_ema');
  const lr = c.learning_rate;
  if (typeof lr !== 'number') throw new Error('TF.js optimizers take a constant learning rate, not a schedule');
  switch (optimizerClass) {
    case 'SGD':
      if (!c.momentum) return { className: 'SGD', config: { learningRate: lr }, slots: [] };
      return {
        className: 'Momentum',
        config: { learningRate: lr, momentum: c.momentum, useNesterov: c.nesterov === true },
        // Keras keeps momentum * m - lr * g; tfjs keeps momentum * a + g and steps by -lr * a.
        slots: [{ kind: 'momentum', suffix: 'momentum', transform: (v) => -v / lr }],
      };
    case 'Adam':
      if (c.amsgrad) throw new Error('TF.js Adam has no amsgrad');
      return {
        className: 'Adam',
        config: { learningRate: lr, beta1: c.beta_1, beta2: c.beta_2, epsilon: c.epsilon },
        slots: [
          { kind: 'momentum', suffix: 'm' },
          { kind: 'velocity', suffix: 'v' },
        ],
      };
    case 'RMSprop':
      return {
        className: 'RMSProp',
        config: { learningRate: lr, decay: c.rho, momentum: c.momentum, epsilon: c.epsilon, centered: c.centered === true },
        // tfjs keeps the momentum accumulators even at momentum 0 (zeros then).
        slots: [
          { kind: 'velocity', suffix: 'rms' },
          { kind: 'momentum', suffix: 'momentum', fill: 0 },
          ...(c.centered ? [{ kind: 'average_gradient', suffix: 'mg' }] : []),
        ],
      };
    case 'Adagrad':
      // tfjs's Adagrad adds the backend epsilon (1e-7) and has no setting for it.
      if (typeof c.epsilon === 'number' && Math.abs(c.epsilon - 1e-7) > 1e-12) throw new Error('TF.js Adagrad has a fixed epsilon of 1e-7');
      return { className: 'Adagrad', config: { learningRate: lr, initialAccumulatorValue: c.initial_accumulator_value }, slots: [{ kind: 'accumulator', suffix: 'accumulator' }] };
    default:
      throw new Error(`TF.js has no ${optimizerClass} optimizer (it has SGD, Momentum, Adam, RMSProp, Adagrad, Adadelta, Adamax)`);
  }
}

/**
 * The `trainingConfig` and optimizer weights of a compiled model, or the
 * reason they cannot be written for TF.js. `nameOf` gives a trainable
 * variable's tfjs weight name; `trainable` lists them in tfjs's order.
 */
export function tfjsTraining(
  model: Model,
  trainable: readonly Variable[],
  nameOf: (v: Variable) => string,
): { trainingConfig: Config; weights: TfjsOptimizerWeight[]; droppedMetrics: string[] } | { skipped: string } {
  const options = model.compileOptions;
  const optimizer = model.optimizer;
  if (!options || !optimizer) return { skipped: 'the model is not compiled' };
  if (options.lossWeights !== undefined && options.lossWeights !== null) return { skipped: 'tfjs-layers cannot load loss_weights' };
  let loss: unknown;
  let mapping: OptimizerMapping;
  try {
    loss = tfjsLosses(options.loss);
    const className = (optimizer.constructor as { className?: string }).className ?? optimizer.constructor.name;
    mapping = tfjsOptimizer(className, optimizer.getConfig() as Config);
  } catch (e) {
    return { skipped: (e as Error).message };
  }
  const droppedMetrics: string[] = [];
  const metrics = tfjsMetrics(options.metrics, droppedMetrics);
  const trainingConfig: Config = { loss: loss as never, ...(metrics ? { metrics } : {}), optimizer_config: { class_name: mapping.className, config: mapping.config } };

  // The state, only once the optimizer has built its variables (a fresh one starts from zeros in tfjs too).
  const weights: TfjsOptimizerWeight[] = [];
  const slotOf = new Map<string, Variable>();
  for (const v of optimizer.variables) slotOf.set(v.name, v);
  if (optimizer.variables.length > 0) {
    weights.push({ name: 'iter', shape: [], dtype: 'int32', values: Int32Array.of(Number(optimizer.iterations.value.dataSync()[0])) });
    for (const slot of mapping.slots) {
      for (const t of trainable) {
        const state = slotOf.get(`${t.path.replace(/\//g, '_')}_${slot.kind}`);
        const size = (t.shape as number[]).reduce((p, d) => p * d, 1);
        let values: Float32Array;
        if (state) values = Float32Array.from(state.value.dataSync() as ArrayLike<number>, slot.transform ?? ((x) => x));
        else if (slot.fill !== undefined) values = new Float32Array(size).fill(slot.fill);
        else return { skipped: `the optimizer has no '${slot.kind}' state for '${t.path}'` };
        weights.push({ name: `${nameOf(t)}/${slot.suffix}`, shape: [...(t.shape as number[])], dtype: 'float32', values });
      }
    }
  }
  return { trainingConfig, weights, droppedMetrics };
}

/**
 * Reading: whether a tfjs optimizer weight has a Keras counterpart. tfjs's
 * RMSProp keeps momentum accumulators even at momentum 0, where Keras's
 * RMSprop has none (they stay zero).
 */
export function tfjsSlotHasKerasCounterpart(tfjsOptimizerClass: string, config: Record<string, unknown>, slotName: string): boolean {
  return !(tfjsOptimizerClass === 'RMSProp' && !config.momentum && /\/momentum$/.test(slotName));
}

/**
 * Reading: tfjs's Momentum optimizer keeps `momentum * a + g` where Keras's
 * SGD keeps `momentum * m - lr * g`; m = -lr * a. The other tfjs slots hold
 * what Keras's do.
 */
export function kerasSlotFromTfjs(tfjsOptimizerClass: string, learningRate: number, slotName: string): ((v: number) => number) | null {
  if (tfjsOptimizerClass === 'Momentum' && /(^|\/)momentum$/.test(slotName)) return (v) => -learningRate * v;
  return null;
}
