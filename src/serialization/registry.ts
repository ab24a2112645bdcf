/**
 * The object registry: how a serialized `{module, class_name, config,
 * registered_name}` object finds its class again. Built-in classes register
 * under their Keras module and class name (`keras.initializers` /
 * `GlorotUniform`), so files move between Strata and Python Keras; user
 * classes register as `package>Name` (`registerSerializable`) or are passed
 * as custom objects when loading.
 *
 * This sits below initializers, layers and models so they can register
 * themselves; the file formats (saving/) use it to rebuild objects.
 */

/** Plain JSON-compatible config, with Keras's snake_case keys. */
export type Config = { [key: string]: unknown };

/** A class that can be rebuilt from its config. */
export interface SerializableClass<T = unknown> {
  new (...args: never[]): T;
  /** Keras's class name (`Dense`, `GlorotUniform`). */
  readonly className: string;
  fromConfig(config: Config): T;
}

export interface Serializable {
  getConfig(): Config;
}

/** A function that can be serialized by name (activations, losses, metrics). */
export type RegisteredFunction = ((...args: never[]) => unknown) & { readonly registeredName?: string };

type Entry = SerializableClass | RegisteredFunction;

const builtins = new Map<string, Entry>(); // `${module}|${className}`
const builtinByName = new Map<string, Entry[]>(); // className → entries (for module-less lookups)
const custom = new Map<string, Entry>(); // registered name (`package>Name`)
const scopes: Map<string, Entry>[] = [];

/** Registers a built-in Strata class under its Keras module (`keras.layers`). */
export function registerBuiltin(module: string, entry: Entry, className = (entry as SerializableClass).className ?? entry.name): void {
  builtins.set(`${module}|${className}`, entry);
  const list = builtinByName.get(className) ?? [];
  list.push(entry);
  builtinByName.set(className, list);
  builtinModules.set(entry, { module, className });
}

const builtinModules = new Map<Entry, { module: string; className: string }>();

/** The Keras module and class name of a built-in class or function, if it is one. */
export function builtinIdentity(entry: Entry): { module: string; className: string } | undefined {
  return builtinModules.get(entry);
}

export interface RegisterOptions {
  /** Default 'Custom', as in Keras. */
  package?: string;
  /** Default: the class's `className` or its JavaScript name. */
  name?: string;
}

const registeredNames = new Map<Entry, string>();

/**
 * Registers a custom class or function so files that mention it can be
 * loaded: its registered name is `package>Name` (Keras's
 * `register_keras_serializable`). Returns the class, so it can wrap a
 * class expression.
 */
export function registerSerializable<T extends Entry>(entry: T, options: RegisterOptions = {}): T {
  const name = options.name ?? (entry as unknown as SerializableClass).className ?? entry.name;
  if (!name) throw new Error('registerSerializable: the class or function needs a name (pass {name}).');
  const registered = `${options.package ?? 'Custom'}>${name}`;
  const existing = custom.get(registered);
  if (existing && existing !== entry) {
    throw new Error(`registerSerializable: '${registered}' is already registered to another class. Use a different package or name.`);
  }
  custom.set(registered, entry);
  registeredNames.set(entry, registered);
  return entry;
}

/** The `package>Name` a custom class was registered under. */
export function registeredNameOf(entry: Entry): string | undefined {
  return registeredNames.get(entry);
}

/** Runs `fn` with extra classes/functions resolvable by name (Keras's custom_object_scope). */
export async function customObjectScope<T>(objects: Record<string, Entry>, fn: () => T | Promise<T>): Promise<T> {
  scopes.push(new Map(Object.entries(objects)));
  try {
    return await fn();
  } finally {
    scopes.pop();
  }
}

/** Synchronous variant of customObjectScope. */
export function withCustomObjects<T>(objects: Record<string, Entry> | undefined, fn: () => T): T {
  if (!objects) return fn();
  scopes.push(new Map(Object.entries(objects)));
  try {
    return fn();
  } finally {
    scopes.pop();
  }
}

/**
 * Finds the class or function a serialized object names. Order, as in
 * Keras: custom objects in scope (by registered name, then class name),
 * registered classes, then built-ins by module and class name.
 */
export function resolve(className: string, module: string | null | undefined, registeredName: string | null | undefined, category?: string): Entry | undefined {
  for (let i = scopes.length - 1; i >= 0; i--) {
    const scope = scopes[i];
    const hit = (registeredName && scope.get(registeredName)) || scope.get(className);
    if (hit) return hit;
  }
  if (registeredName && custom.has(registeredName)) return custom.get(registeredName);
  if (module) {
    const exact = builtins.get(`${module}|${className}`);
    if (exact) return exact;
  }
  // Names are ambiguous across modules (MeanSquaredError is a loss and a metric): try the expected one first.
  if (category) {
    const inCategory = builtins.get(`${category}|${className}`);
    if (inCategory) return inCategory;
  }
  // `keras.src.models.functional` and friends: fall back to the class name within keras modules.
  if (!module || module.startsWith('keras')) {
    const byName = builtinByName.get(className);
    if (byName && byName.length > 0) return byName[0];
  }
  // A registered custom class stored without module information.
  for (const [name, entry] of custom) if (name.endsWith(`>${className}`)) return entry;
  return undefined;
}
