/**
 * `strata.losses` (keras.losses): the Loss base class, the loss classes,
 * the loss functions, `get`, `serialize` and `deserialize`.
 *
 * Names accepted by `get`/`deserialize`, as in Keras 3: each class name
 * ('MeanSquaredError'), each function name ('mean_squared_error',
 * 'sparse_categorical_crossentropy', ...) and the aliases 'mse', 'mae',
 * 'mape', 'msle', 'bce', 'kld' (and their upper-case forms), plus the legacy
 * 'logcosh' and 'kullback_leibler_divergence'. A class name builds the class
 * with its defaults; a function name gives a LossFunctionWrapper around the
 * function, named by the identifier (as Keras's compile does).
 *
 * The loss functions live in this module's own name table, not in the
 * global object registry: the registry's class-name fallback would make
 * them resolvable from `initializers.get` or `activations.get` ('hinge').
 * The classes are registered under 'keras.losses'.
 */
import { describe } from '../tensor/shape.ts';
import type { Shape } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { type SerializableClass, registerBuiltin, resolve, withCustomObjects } from '../serialization/registry.ts';
import { type KerasObject, UnknownObjectError, deserializeObject, isKerasObject, serializeObject } from '../serialization/keras-object.ts';
import { type AnyFunction, type SerializedFunction, resolveFunction, validNames } from '../initializers/lookup.ts';
import { Loss } from './loss.ts';
import { LOSS_FUNCTIONS, LOSS_FUNCTION_ALIASES, type LossFunction, binaryCrossentropy, categoricalCrossentropy, lossFunctionName, sparseCategoricalCrossentropy } from './functions.ts';
import {
  LOSS_CLASSES,
  BinaryCrossentropy,
  BinaryFocalCrossentropy,
  CategoricalCrossentropy,
  LossFunctionWrapper,
  SparseCategoricalCrossentropy,
  deserializeLossFunction,
  serializeLossFunction,
} from './losses.ts';

export {
  Loss,
  EPSILON,
  REDUCTIONS,
  applyMask,
  divideNoNan,
  reduceValues,
  reduceWeightedValues,
  squeezeOrExpandToSameRank,
  standardizeReduction,
} from './loss.ts';
export type { LossOptions, Reduction } from './loss.ts';
export {
  meanSquaredError,
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredLogarithmicError,
  cosineSimilarity,
  huber,
  logCosh,
  klDivergence,
  poisson,
  binaryCrossentropy,
  binaryFocalCrossentropy,
  categoricalCrossentropy,
  sparseCategoricalCrossentropy,
  hinge,
  squaredHinge,
  categoricalHinge,
  convertBinaryLabelsToHinge,
  l2Normalize,
  lossFunctionName,
} from './functions.ts';
export type { LossFunction, CrossentropyOptions, SparseCrossentropyOptions, BinaryFocalCrossentropyOptions } from './functions.ts';
export {
  LossFunctionWrapper,
  MeanSquaredError,
  MeanAbsoluteError,
  MeanAbsolutePercentageError,
  MeanSquaredLogarithmicError,
  CosineSimilarity,
  Huber,
  LogCosh,
  KLDivergence,
  Poisson,
  BinaryCrossentropy,
  BinaryFocalCrossentropy,
  CategoricalCrossentropy,
  SparseCategoricalCrossentropy,
  Hinge,
  SquaredHinge,
  CategoricalHinge,
  serializeLossFunction,
  deserializeLossFunction,
  lossFunctionReference,
} from './losses.ts';
export type {
  LossFunctionWrapperOptions,
  CosineSimilarityOptions,
  HuberOptions,
  CrossentropyLossOptions,
  BinaryFocalCrossentropyLossOptions,
  SparseCrossentropyLossOptions,
} from './losses.ts';

// Legacy Keras function names (keras._legacy.losses).
export { meanSquaredError as mse, meanAbsoluteError as mae, meanAbsolutePercentageError as mape, meanSquaredLogarithmicError as msle } from './functions.ts';

const MODULE = 'keras.losses';

registerBuiltin(MODULE, Loss as unknown as SerializableClass);
for (const cls of LOSS_CLASSES) registerBuiltin(MODULE, cls as unknown as SerializableClass);

const CLASS_BY_NAME = new Map<string, SerializableClass<Loss>>(LOSS_CLASSES.filter((c) => c !== LossFunctionWrapper).map((c) => [c.className, c as unknown as SerializableClass<Loss>]));

/** Every name `get` accepts. */
export const names: readonly string[] = [...CLASS_BY_NAME.keys(), ...LOSS_FUNCTIONS.keys(), ...Object.keys(LOSS_FUNCTION_ALIASES)];

/** A plain loss function `(yTrue, yPred) => per-sample values`, accepted wherever a loss is. */
export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** Anything `get` accepts. */
export type LossIdentifier = string | Loss | LossFn | LossFunction | KerasObject | SerializedFunction | (new () => Loss) | null | undefined;

function isLossClass(x: unknown): x is new () => Loss {
  if (typeof x !== 'function') return false;
  const proto = (x as { prototype?: unknown }).prototype;
  return typeof proto === 'object' && proto !== null && proto instanceof Loss;
}

/** The built-in function a name or alias denotes, if any. */
function builtinFunction(name: string): LossFunction | undefined {
  return LOSS_FUNCTIONS.get(LOSS_FUNCTION_ALIASES[name] ?? name);
}

function fromName(name: string, where: string): Loss {
  const cls = CLASS_BY_NAME.get(name);
  if (cls) return cls.fromConfig({});
  const fn = builtinFunction(name);
  if (fn) return new LossFunctionWrapper(fn, { name });
  // User classes and functions: custom-object scopes and registerSerializable.
  const custom = resolveFunction(name, name, null);
  if (custom) return new LossFunctionWrapper(custom as unknown as LossFunction, { name: custom.name || name });
  const hit = deserializeCustomClass(name);
  if (hit) return hit;
  const lower = name.toLowerCase().replace(/_/g, '');
  const similar = names.filter((n) => n !== name && n.toLowerCase().replace(/_/g, '') === lower);
  const hint = similar.find((n) => n === n.toLowerCase()) ?? similar[0];
  throw new Error(
    `${where}: unknown loss '${name}'.${hint ? ` Did you mean '${hint}'?` : ''} Valid names: ${validNames(names.filter((n) => /^[a-z]/.test(n)))}, ` +
      "or a class name ('MeanSquaredError', ...); or a class or function registered with registerSerializable.",
  );
}

/** A user Loss subclass registered (or in a custom-object scope) under `name`, built with its defaults. */
function deserializeCustomClass(name: string): Loss | undefined {
  const entry = resolve(name, null, name);
  if (isLossClass(entry) && typeof (entry as unknown as SerializableClass).fromConfig === 'function') {
    return (entry as unknown as SerializableClass<Loss>).fromConfig({});
  }
  return undefined;
}

function fromObject(value: KerasObject | SerializedFunction, where: string): Loss {
  if (value.class_name === 'function') {
    const fn = deserializeLossFunction(value, where);
    return new LossFunctionWrapper(fn, { name: lossFunctionName(fn) ?? (typeof value.config === 'string' ? value.config : undefined) });
  }
  let obj: unknown;
  try {
    obj = deserializeObject<unknown>(value as KerasObject, MODULE, where);
  } catch (e) {
    // Keras also accepts function names and aliases as class names ({"class_name": "mse"}).
    const fn = e instanceof UnknownObjectError ? builtinFunction(value.class_name) : undefined;
    if (!fn) {
      if (e instanceof UnknownObjectError) {
        throw new Error(
          `${where}: unknown loss class '${value.class_name}'. Built-in losses: ${validNames(CLASS_BY_NAME.keys())}. ` +
            'For a custom class, register it with registerSerializable or pass it in customObjects.',
        );
      }
      throw e;
    }
    obj = new LossFunctionWrapper(fn, { name: value.class_name });
  }
  if (!(obj instanceof Loss)) throw new TypeError(`${where}: '${value.class_name}' is not a loss (it built ${describe(obj)}).`);
  return obj;
}

/**
 * A Loss from a name ('mse', 'sparse_categorical_crossentropy',
 * 'CategoricalCrossentropy'), a serialized loss (Keras 3 or Keras 2 form, or
 * a function form), a Loss instance (returned as is), a Loss subclass (built
 * with its defaults) or a function `(yTrue, yPred) => Tensor` (wrapped in a
 * LossFunctionWrapper named after it). null/undefined give null.
 */
export function get(identifier: null | undefined): null;
export function get(identifier: NonNullable<LossIdentifier>): Loss;
export function get(identifier: LossIdentifier): Loss | null;
export function get(identifier: LossIdentifier): Loss | null {
  const where = 'losses.get';
  if (identifier === null || identifier === undefined) return null;
  if (identifier instanceof Loss) return identifier;
  if (typeof identifier === 'string') return fromName(identifier, where);
  if (isKerasObject(identifier)) return fromObject(identifier, where);
  if (typeof identifier === 'function') {
    if (isLossClass(identifier)) return new identifier();
    const fn = identifier as LossFunction;
    return new LossFunctionWrapper(fn, { name: lossFunctionName(fn) ?? (fn.name || 'loss') });
  }
  throw new TypeError(
    `${where}: could not interpret loss identifier ${describe(identifier)}. ` +
      `Pass a name (${validNames([...names].filter((n) => /^[a-z]/.test(n)))}), a serialized config, a Loss or a function (yTrue, yPred) => Tensor.`,
  );
}

/**
 * Keras's serialized form: `{module, class_name, config, registered_name}`
 * for a Loss; the name for a built-in function (and a name string is kept
 * as is); Keras's function form for a function registered with
 * `registerSerializable`. null gives null.
 */
export function serialize(loss: Loss | LossFunction | LossFn | string): KerasObject | SerializedFunction | string;
export function serialize(loss: Loss | LossFunction | LossFn | string | null | undefined): KerasObject | SerializedFunction | string | null;
export function serialize(loss: Loss | LossFunction | LossFn | string | null | undefined): KerasObject | SerializedFunction | string | null {
  const where = 'losses.serialize';
  if (loss === null || loss === undefined) return null;
  if (typeof loss === 'string') {
    fromName(loss, where); // checks the name
    return loss;
  }
  if (loss instanceof Loss) return serializeObject(loss as Loss & { constructor: unknown });
  if (typeof loss === 'function') return serializeLossFunction(loss as AnyFunction, where);
  throw new TypeError(`${where}: expected a Loss, a loss function or a name. Received: ${describe(loss)}`);
}

/** Rebuilds a Loss from a name or a serialized form; `customObjects` resolves user classes and functions by name. */
export function deserialize(config: string | KerasObject | SerializedFunction | { class_name: string; config?: unknown }, customObjects?: Record<string, unknown>): Loss {
  const where = 'losses.deserialize';
  return withCustomObjects(customObjects as Record<string, AnyFunction> | undefined, () => {
    if (typeof config === 'string') return fromName(config, where);
    if (isKerasObject(config)) return fromObject(config as KerasObject, where);
    throw new TypeError(`${where}: expected a name or a serialized loss ({class_name, config, ...}). Received: ${describe(config)}`);
  });
}

// ---------------------------------------------------------------------------
// Helpers for the training loop

/** What kind of labels a loss expects, when it says (used to pick 'accuracy'). */
export type LossKind = 'binary' | 'categorical' | 'sparse_categorical' | null;

/** Whether `identifier` names a binary, categorical or sparse categorical crossentropy loss (else null). */
export function lossKind(identifier: unknown): LossKind {
  let loss: Loss | null;
  try {
    loss = identifier instanceof Loss ? identifier : get(identifier as LossIdentifier);
  } catch {
    return null;
  }
  if (loss instanceof BinaryCrossentropy || loss instanceof BinaryFocalCrossentropy) return 'binary';
  if (loss instanceof CategoricalCrossentropy) return 'categorical';
  if (loss instanceof SparseCategoricalCrossentropy) return 'sparse_categorical';
  const name = loss instanceof LossFunctionWrapper ? lossFunctionName(loss.fn) : undefined;
  if (name === 'binary_crossentropy' || name === 'binary_focal_crossentropy') return 'binary';
  if (name === 'categorical_crossentropy') return 'categorical';
  if (name === 'sparse_categorical_crossentropy') return 'sparse_categorical';
  return null;
}

/**
 * Keras's `is_binary_or_sparse_categorical` (compile_utils) from static
 * shapes: binary when y_pred's last axis is 1; sparse categorical when
 * y_true has a lower rank, or a last axis of 1 while y_pred's is larger.
 */
export function isBinaryOrSparseCategorical(yTrueShape: Shape, yPredShape: Shape): { isBinary: boolean; isSparseCategorical: boolean } {
  const tLast = yTrueShape.length > 0 ? yTrueShape[yTrueShape.length - 1] : null;
  const pLast = yPredShape.length > 0 ? yPredShape[yPredShape.length - 1] : null;
  const isBinary = pLast === 1;
  const isSparseCategorical = yTrueShape.length < yPredShape.length || (tLast === 1 && pLast !== null && pLast > 1);
  return { isBinary, isSparseCategorical };
}

/**
 * Keras's `get_loss` (compile_utils): like `get`, but 'crossentropy' and
 * 'ce' pick binary, sparse categorical or categorical crossentropy from the
 * shapes of y_true and y_pred.
 */
export function resolveLoss(identifier: LossIdentifier, yTrueShape: Shape, yPredShape: Shape): Loss | null {
  if (typeof identifier === 'string' && ['crossentropy', 'ce'].includes(identifier.toLowerCase())) {
    const { isBinary, isSparseCategorical } = isBinaryOrSparseCategorical(yTrueShape, yPredShape);
    const fn = isBinary ? binaryCrossentropy : isSparseCategorical ? sparseCategoricalCrossentropy : categoricalCrossentropy;
    return new LossFunctionWrapper(fn as LossFunction, { name: identifier });
  }
  return get(identifier);
}
