/**
 * What `initializers`, `regularizers`, `constraints` (and, for functions,
 * `activations`) share: turning an identifier (a Keras name, a serialized
 * object, an instance, a class or a function) into an object, Keras's
 * serialized forms for objects and for registered functions, and the
 * checks every config reader needs.
 *
 * Name lookups follow Keras: a module's own names first (its class names,
 * their snake_case forms and its aliases), then user classes in a
 * custom-object scope or registered with `registerSerializable`.
 */
import { type Config, type SerializableClass, registeredNameOf, resolve, withCustomObjects } from '../serialization/registry.ts';
import { type KerasObject, UnknownObjectError, deserializeObject, isKerasObject, serializeObject, toSnakeCase } from '../serialization/keras-object.ts';
import { describe } from '../tensor/shape.ts';

/** How a name found in a file or passed as a string builds an object. */
export interface NamedEntry<T> {
  cls: SerializableClass<T>;
  /** Overrides `cls.fromConfig({})` for the bare string (Keras's `'l1_l2'` uses factors 0.01). */
  fromString?: () => T;
}

/** Describes one family of objects (initializers, regularizers, constraints). */
export interface ObjectFamily<T> {
  /** 'initializer' (in messages). */
  noun: string;
  /** 'initializers' (the namespace, in messages: `initializers.get`). */
  namespace: string;
  /** The Keras module its built-ins serialize under ('keras.initializers'). */
  module: string;
  /** Whether `x` is already a usable object of this family. */
  isInstance(x: unknown): x is T;
  /** Every accepted name: class names, snake_case names and aliases. */
  names: ReadonlyMap<string, NamedEntry<T>>;
  /** Wraps a plain function (`(shape, dtype) => Tensor`, `(x) => Tensor`) as an object of the family. */
  wrapFunction(fn: (...args: never[]) => unknown): T;
  /** The function a wrapper made by `wrapFunction` holds, if `obj` is one. */
  unwrapFunction(obj: T): ((...args: never[]) => unknown) | undefined;
}

/** Every function or class: what `typeof x === 'function'` narrows to. */
type AnyFunction = (...args: never[]) => unknown;

/** The valid names of a family, sorted, for error messages. */
export function validNames(names: Iterable<string>): string {
  return [...names].sort().map((n) => `'${n}'`).join(', ');
}

function suggestion(name: string, names: ReadonlySet<string> | ReadonlyMap<string, unknown>): string {
  const snake = toSnakeCase(name);
  return snake !== name && names.has(snake) ? ` Did you mean '${snake}'?` : '';
}

function isClassOf<T>(x: AnyFunction, family: ObjectFamily<T>): boolean {
  const proto = (x as { prototype?: unknown }).prototype;
  return typeof proto === 'object' && proto !== null && family.isInstance(Object.create(proto));
}

/** A name (`'glorot_uniform'`, `'GlorotUniform'`, a registered `'pkg>Name'`) to an object. */
function fromName<T>(family: ObjectFamily<T>, name: string, where: string): T {
  const entry = family.names.get(name);
  if (entry) return entry.fromString ? entry.fromString() : entry.cls.fromConfig({});
  // User classes: custom-object scopes and registerSerializable, as Keras's get(str) does.
  const custom = resolve(name, null, name);
  if (typeof custom === 'function') {
    if (isClassOf(custom as unknown as AnyFunction, family) && typeof (custom as SerializableClass<T>).fromConfig === 'function') {
      return (custom as SerializableClass<T>).fromConfig({});
    }
    // A registered plain function (`registerSerializable(myInit, {package: 'p'})`, then 'p>myInit').
    if (typeof (custom as Partial<SerializableClass>).fromConfig !== 'function' && !('className' in custom)) return family.wrapFunction(custom as unknown as AnyFunction);
  }
  throw new Error(
    `${where}: unknown ${family.noun} '${name}'.${suggestion(name, family.names)} Valid names: ${validNames(family.names.keys())}; ` +
      `or a class registered with registerSerializable.`,
  );
}

/**
 * `get(identifier)` for a family: a name, a serialized object (Keras 3's
 * `{module, class_name, config, registered_name}` or Keras 2's `{class_name,
 * config}`), an instance (returned as is), a class (instantiated with its
 * defaults) or a plain function (wrapped). `null`/`undefined` give null.
 */
export function getObject<T>(family: ObjectFamily<T>, identifier: unknown): T | null {
  const where = `${family.namespace}.get`;
  if (identifier === null || identifier === undefined) return null;
  if (family.isInstance(identifier)) return identifier;
  if (typeof identifier === 'string') return fromName(family, identifier, where);
  if (isKerasObject(identifier)) return deserializeFamily(family, identifier, undefined, where);
  if (typeof identifier === 'function') {
    const fn = identifier as AnyFunction;
    if (isClassOf(fn, family)) return new (fn as unknown as new () => T)();
    return family.wrapFunction(fn);
  }
  throw new TypeError(
    `${where}: could not interpret ${family.noun} identifier ${describe(identifier)}. ` +
      `Pass a name (${validNames([...family.names.keys()].filter((n) => /^[a-z]/.test(n)))}), a serialized config, an instance or a function.`,
  );
}

/** Finds a registered or in-scope function from Keras's function form or a bare name. */
export function resolveFunction(name: string, registeredName: string | null | undefined, module: string | null | undefined): AnyFunction | undefined {
  const candidates = [registeredName, name].filter((n): n is string => typeof n === 'string' && n.length > 0);
  for (const n of candidates) {
    const hit = resolve(n, module && !module.startsWith('keras') ? null : module, n);
    if (typeof hit === 'function' && typeof (hit as Partial<SerializableClass>).fromConfig !== 'function') return hit as AnyFunction;
  }
  return undefined;
}

/** Keras's serialized form of a function: its config is the function's name. */
export interface SerializedFunction {
  module: string | null;
  class_name: 'function';
  config: string;
  registered_name: string | null;
}

/** What `serialize` returns: an object's form, or a registered function's. */
export type Serialized = KerasObject | SerializedFunction;

/** What `get` and `deserialize` read: also Keras 2's `{class_name, config}` form, without module or registered_name. */
export type SerializedLike = Serialized | { class_name: string; config?: unknown; module?: string | null; registered_name?: string | null };

/**
 * Keras's serialized form of a registered custom function:
 * `{module: null, class_name: 'function', config: '<name>', registered_name: 'pkg>name'}`.
 */
export function serializeFunction(fn: AnyFunction, where: string): SerializedFunction {
  const registered = registeredNameOf(fn);
  if (!registered) {
    const name = fn.name || '<anonymous>';
    throw new Error(
      `${where}: cannot serialize the function '${name}': it is not registered. ` +
        `Register it first with registerSerializable(${fn.name || 'fn'}, {package: 'my_package'}) so a file can name it.`,
    );
  }
  const name = registered.includes('>') ? registered.slice(registered.indexOf('>') + 1) : registered;
  return { module: null, class_name: 'function', config: name, registered_name: registered };
}

/** `deserialize(config, customObjects)` for a family (the object forms only; names go through `fromName`). */
function deserializeFamily<T>(family: ObjectFamily<T>, value: KerasObject, customObjects: Record<string, unknown> | undefined, where: string): T {
  return withCustomObjects(customObjects as Record<string, AnyFunction> | undefined, () => {
    if (value.class_name === 'function') {
      const name = typeof value.config === 'string' ? value.config : '';
      const fn = resolveFunction(name, value.registered_name, value.module);
      if (!fn) throw new UnknownObjectError(name || 'function', value.registered_name ?? null, where);
      return family.wrapFunction(fn);
    }
    let obj: unknown;
    try {
      obj = deserializeObject<unknown>(value, family.module, where);
    } catch (e) {
      // Keras also accepts its snake_case names and aliases as class names (`{"class_name": "glorot_uniform"}`).
      const entry = family.names.get(value.class_name);
      if (!(e instanceof UnknownObjectError) || !entry) {
        if (e instanceof UnknownObjectError) {
          throw new Error(
            `${where}: unknown ${family.noun} class '${value.class_name}'.${suggestion(value.class_name, family.names)} ` +
              `Built-in ${family.noun}s: ${validNames([...family.names.keys()].filter((n) => /^[A-Z]/.test(n)))}. ` +
              `For a custom class, register it with registerSerializable or pass it in customObjects.`,
          );
        }
        throw e;
      }
      obj = entry.cls.fromConfig(checkConfigObject(value.config, `${where} (${value.class_name})`));
    }
    if (!family.isInstance(obj)) {
      throw new TypeError(`${where}: '${value.class_name}' is not ${/^[aeiou]/.test(family.noun) ? 'an' : 'a'} ${family.noun} (it built ${describe(obj)}).`);
    }
    return obj;
  });
}

/** `deserialize(config, customObjects?)`: a name or a serialized object to an object of the family. */
export function deserializeIdentifier<T>(family: ObjectFamily<T>, config: unknown, customObjects?: Record<string, unknown>): T {
  const where = `${family.namespace}.deserialize`;
  if (typeof config === 'string') return withCustomObjects(customObjects as Record<string, AnyFunction> | undefined, () => fromName(family, config, where));
  if (isKerasObject(config)) return deserializeFamily(family, config, customObjects, where);
  throw new TypeError(`${where}: expected a name or a serialized ${family.noun} ({class_name, config, ...}). Received: ${describe(config)}`);
}

/** `serialize(obj)`: Keras's serialized-object form (a registered function's form for wrapped functions). */
export function serializeIdentifier<T>(family: ObjectFamily<T>, obj: T | null | undefined): Serialized | null {
  const where = `${family.namespace}.serialize`;
  if (obj === null || obj === undefined) return null;
  if (!family.isInstance(obj)) throw new TypeError(`${where}: expected ${/^[aeiou]/.test(family.noun) ? 'an' : 'a'} ${family.noun}. Received: ${describe(obj)}`);
  const fn = family.unwrapFunction(obj);
  if (fn) return serializeFunction(fn, where);
  const target = obj as unknown as { getConfig?: unknown; constructor: unknown };
  if (typeof target.getConfig !== 'function') throw new TypeError(`${where}: ${describe(obj)} has no getConfig(), so it cannot be serialized.`);
  return serializeObject(target as { getConfig(): Config; constructor: unknown });
}

// ---------------------------------------------------------------------------
// Config readers: one per class maps Keras's snake_case keys to options.

/** Checks that a config is a plain object. */
export function checkConfigObject(config: unknown, where: string): Config {
  if (config === null || config === undefined) return {};
  if (typeof config !== 'object' || Array.isArray(config)) throw new TypeError(`${where}: the config must be an object. Received: ${describe(config)}`);
  return config as Config;
}

/**
 * Checks a config's keys against the ones the class knows; an unknown key
 * is an error naming it. `ignored` keys are accepted and dropped.
 */
export function readConfig(className: string, config: unknown, keys: readonly string[], ignored: readonly string[] = []): Config {
  const where = `${className}.fromConfig`;
  const c = { ...checkConfigObject(config, where) };
  for (const key of Object.keys(c)) {
    if (ignored.includes(key)) {
      delete c[key];
      continue;
    }
    if (!keys.includes(key)) {
      throw new TypeError(`${where}: unknown config key '${key}'. ${keys.length ? `Expected keys: ${keys.map((k) => `'${k}'`).join(', ')}.` : `${className} takes no config keys.`}`);
    }
  }
  return c;
}

/** Treats null (Keras's None) as undefined, so the option's default applies. */
export function opt<T>(v: unknown): T | undefined {
  return v === null ? undefined : (v as T);
}

export interface NumberCheck {
  /** Smallest allowed value. */
  min?: number;
  /** Values must be strictly greater than `min`. */
  exclusive?: boolean;
  integer?: boolean;
}

/** A finite number (with optional bounds), or an error naming the argument and the value received. */
export function checkNumber(where: string, name: string, value: unknown, check: NumberCheck = {}): number {
  const bad = (expected: string): never => {
    throw new RangeError(`${where}: Received: ${name}=${describe(value)}; expected ${expected}.`);
  };
  if (typeof value !== 'number' || !Number.isFinite(value)) bad(`a finite number`);
  const v = value as number;
  if (check.integer && !Number.isInteger(v)) bad('an integer');
  if (check.min !== undefined) {
    if (check.exclusive ? !(v > check.min) : !(v >= check.min)) bad(`a number ${check.exclusive ? '>' : '>='} ${check.min}`);
  }
  return v;
}

/** An axis argument: an integer or a non-empty list of integers. */
export function checkAxis(where: string, value: unknown): number | number[] {
  const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v);
  if (isInt(value)) return value as number;
  if (Array.isArray(value) && value.length > 0 && value.every(isInt)) return [...(value as number[])];
  throw new TypeError(`${where}: Received: axis=${describe(value)}; expected an integer or a non-empty list of integers.`);
}

/** One of the allowed strings, or an error listing them. */
export function checkChoice<T extends string>(where: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new RangeError(`${where}: Received: ${name}=${describe(value)}; expected one of ${allowed.map((a) => `'${a}'`).join(', ')}.`);
}

/** The name table of a family: each class under its class name and its snake_case name, plus aliases. */
export function nameTable<T>(classes: readonly SerializableClass<T>[], aliases: Record<string, NamedEntry<T>> = {}): Map<string, NamedEntry<T>> {
  const table = new Map<string, NamedEntry<T>>();
  for (const cls of classes) {
    table.set(cls.className, { cls });
    table.set(toSnakeCase(cls.className), { cls });
  }
  for (const [name, entry] of Object.entries(aliases)) table.set(name, entry);
  return table;
}

export type { AnyFunction };
