/**
 * Keras's serialized-object form: `{module, class_name, config,
 * registered_name}` (plus build_config / compile_config for layers and
 * models, added by them). `serializeObject` writes it for any registered
 * class; `deserializeObject` reads it back, accepting Keras 2's
 * `{class_name, config}` form and bare strings (`"glorot_uniform"`).
 */
import { type Config, type Serializable, type SerializableClass, builtinIdentity, registeredNameOf, resolve } from './registry.ts';

export interface KerasObject {
  module: string | null;
  class_name: string;
  config: Config;
  registered_name: string | null;
  [extra: string]: unknown;
}

export function isKerasObject(x: unknown): x is KerasObject {
  return typeof x === 'object' && x !== null && typeof (x as { class_name?: unknown }).class_name === 'string';
}

export function serializeObject(obj: Serializable & { constructor: unknown }): KerasObject {
  const cls = obj.constructor as SerializableClass;
  const builtin = builtinIdentity(cls);
  if (builtin) return { module: builtin.module, class_name: builtin.className, config: obj.getConfig(), registered_name: null };
  const registered = registeredNameOf(cls);
  return {
    module: null,
    class_name: cls.className ?? cls.name,
    config: obj.getConfig(),
    registered_name: registered ?? cls.className ?? cls.name,
  };
}

/** An unknown class name found while loading, with where it was found. */
export class UnknownObjectError extends Error {
  constructor(
    readonly className: string,
    readonly registeredName: string | null,
    readonly where: string,
  ) {
    const name = registeredName && registeredName !== className ? `${registeredName} (class ${className})` : className;
    super(
      `Unknown ${where ? `object at ${where}` : 'object'}: '${name}'. Register the class before loading with ` +
        `strata.saving.registerSerializable(${className}${registeredName?.includes('>') ? `, {package: '${registeredName.split('>')[0]}'}` : ''}), ` +
        `or pass it as customObjects: {${className}}.`,
    );
    this.name = 'UnknownObjectError';
  }
}

/**
 * Rebuilds an object from its serialized form. `category` is the Keras module
 * expected here (`keras.initializers`), used when the file omits `module`.
 */
export function deserializeObject<T>(value: KerasObject, category: string, where = ''): T {
  const entry = resolve(value.class_name, value.module, value.registered_name, category);
  if (!entry) throw new UnknownObjectError(value.class_name, value.registered_name ?? null, where);
  const cls = entry as SerializableClass<T>;
  if (typeof cls.fromConfig !== 'function') {
    throw new TypeError(`${where || value.class_name}: '${value.class_name}' resolved to something that cannot be built from a config (no static fromConfig).`);
  }
  return cls.fromConfig(value.config ?? {});
}

/** Keras's to_snake_case: `Conv2D` → `conv2d`, `MaxPooling2D` → `max_pooling2d`, `ReLU` → `re_lu`. */
export function toSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}
