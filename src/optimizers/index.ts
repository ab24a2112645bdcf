/**
 * `strata.optimizers` (keras.optimizers): the optimizer classes, `get`,
 * `serialize`, `deserialize`, and the `schedules` namespace.
 *
 * Names accepted by `get` and `deserialize`, as in Keras 3: the class names,
 * case-insensitively ('adam', 'Adam', 'sgd', 'rmsprop', 'adamw', ...).
 */
import { describe } from '../tensor/shape.ts';
import { type Config, registerBuiltin, withCustomObjects } from '../serialization/registry.ts';
import { type KerasObject, UnknownObjectError, deserializeObject, isKerasObject, serializeObject } from '../serialization/keras-object.ts';
import { checkConfigObject } from '../initializers/lookup.ts';
import { Optimizer } from './optimizer.ts';
import { SGD } from './sgd.ts';
import { Adam, AdamW } from './adam.ts';
import { RMSprop } from './rmsprop.ts';
import { Adagrad } from './adagrad.ts';
import { Adadelta } from './adadelta.ts';
import { Adamax } from './adamax.ts';
import { Nadam } from './nadam.ts';
import { Lion } from './lion.ts';

export { Optimizer, globalNorm, clipByGlobalNorm } from './optimizer.ts';
export type { OptimizerOptions, ExcludeFromWeightDecayOptions } from './optimizer.ts';
export { SGD } from './sgd.ts';
export type { SGDOptions } from './sgd.ts';
export { Adam, AdamW } from './adam.ts';
export type { AdamOptions, AdamWOptions } from './adam.ts';
export { RMSprop } from './rmsprop.ts';
export type { RMSpropOptions } from './rmsprop.ts';
export { Adagrad } from './adagrad.ts';
export type { AdagradOptions } from './adagrad.ts';
export { Adadelta } from './adadelta.ts';
export type { AdadeltaOptions } from './adadelta.ts';
export { Adamax } from './adamax.ts';
export type { AdamaxOptions } from './adamax.ts';
export { Nadam } from './nadam.ts';
export type { NadamOptions } from './nadam.ts';
export { Lion } from './lion.ts';
export type { LionOptions } from './lion.ts';
export { LearningRateSchedule } from './schedules.ts';
export * as schedules from './schedules.ts';

const MODULE = 'keras.optimizers';

type OptimizerClass = (new (options?: never) => Optimizer) & { readonly className: string; fromConfig(config: Config, customObjects?: Record<string, unknown>): Optimizer };

const CLASSES: OptimizerClass[] = [SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion];
for (const cls of CLASSES) registerBuiltin(MODULE, cls);

/** Lowercased class name → class (Keras's ALL_OBJECTS_DICT). */
const BY_NAME = new Map<string, OptimizerClass>(CLASSES.map((c) => [c.className.toLowerCase(), c]));

function validNames(): string {
  return [...BY_NAME.keys()].sort().map((n) => `'${n}'`).join(', ');
}

/** Anything `get` accepts. */
export type OptimizerIdentifier = string | KerasObject | { class_name: string; config?: unknown; module?: string | null; registered_name?: string | null } | Optimizer | null | undefined;

/**
 * An optimizer from a name ('adam', 'SGD', 'rmsprop'; built with its
 * defaults), a serialized object (Keras 3 form, or Keras 2's `{class_name,
 * config}`), or an instance (returned as is). `null`/`undefined` give null.
 */
export function get(identifier: null | undefined): null;
export function get(identifier: NonNullable<OptimizerIdentifier>): Optimizer;
export function get(identifier: OptimizerIdentifier): Optimizer | null;
export function get(identifier: OptimizerIdentifier): Optimizer | null {
  if (identifier === null || identifier === undefined) return null;
  if (identifier instanceof Optimizer) return identifier;
  if (typeof identifier === 'string') return fromName(identifier, 'optimizers.get');
  if (isKerasObject(identifier)) return deserialize(identifier);
  throw new TypeError(`optimizers.get: Could not interpret optimizer identifier: ${describe(identifier)}. Pass a name (${validNames()}), a serialized config or an Optimizer.`);
}

function fromName(name: string, where: string): Optimizer {
  const cls = BY_NAME.get(name.toLowerCase());
  if (cls) return cls.fromConfig({});
  throw new Error(`${where}: unknown optimizer '${name}'. Valid names: ${validNames()}; or a class registered with registerSerializable.`);
}

/** Keras's serialized form `{module: 'keras.optimizers', class_name, config, registered_name}`. */
export function serialize(optimizer: Optimizer): KerasObject {
  if (!(optimizer instanceof Optimizer)) throw new TypeError(`optimizers.serialize: expected an Optimizer. Received: ${describe(optimizer)}`);
  return serializeObject(optimizer);
}

/**
 * Rebuilds an optimizer from its serialized form (built-in class names are
 * matched case-insensitively, as Keras) or a name; `customObjects` resolves
 * user classes by name.
 */
export function deserialize(config: unknown, customObjects?: Record<string, unknown>): Optimizer {
  const where = 'optimizers.deserialize';
  return withCustomObjects(customObjects as never, () => {
    if (typeof config === 'string') return fromName(config, where);
    if (!isKerasObject(config)) throw new TypeError(`${where}: expected a serialized optimizer ({class_name, config, ...}) or a name. Received: ${describe(config)}`);
    const builtin = BY_NAME.get(config.class_name.toLowerCase());
    const inScope = customObjects && (customObjects[config.class_name] || (config.registered_name && customObjects[config.registered_name]));
    let obj: unknown;
    if (builtin && !inScope && (config.module === undefined || config.module === null || config.module.startsWith('keras'))) {
      obj = builtin.fromConfig(checkConfigObject(config.config, `${where} (${config.class_name})`), customObjects);
    } else {
      try {
        obj = deserializeObject<unknown>(config, MODULE, where);
      } catch (e) {
        if (e instanceof UnknownObjectError) {
          throw new Error(`${where}: unknown optimizer class '${config.class_name}'. Built-in optimizers: ${validNames()}. For a custom class, register it with registerSerializable or pass it in customObjects.`);
        }
        throw e;
      }
    }
    if (!(obj instanceof Optimizer)) throw new TypeError(`${where}: '${config.class_name}' is not an Optimizer (it built ${describe(obj)}).`);
    return obj;
  });
}
