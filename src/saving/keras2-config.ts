/**
 * Model configs in the older shapes that legacy `.h5` files and TensorFlow.js
 * use, to and from Strata's Keras 3 form (model-config.ts):
 *
 * - Keras 3's legacy form (`use_legacy_config`, what `model.save('x.h5')`
 *   writes): layer entries are `{class_name, config}` (plus `name` and
 *   `inbound_nodes` in functional models) without `module`,
 *   `registered_name` or `build_config`; custom classes are named by their
 *   registered name (`pkg>Name`); nested objects keep their Keras 3 form.
 * - Keras 2 form (tf.keras, tfjs-layers): string dtypes, `batch_input_shape`,
 *   list-form inbound nodes `[[layer, node, tensor, kwargs], ...]`, plain
 *   `{class_name, config}` objects, functional models named `Functional`
 *   (`Model` in tfjs). A nested model's calls are numbered from 1 in Keras 2
 *   and tfjs for Sequential models too (Keras 3 does so only for functional
 *   ones).
 *
 * Reading goes through `normalizeLegacyConfig`, which rewrites what Strata's
 * deserializer does not read directly (registered class names, single-item
 * `axis` lists, `Policy` dtypes, tfjs camelCase, nested Sequential node
 * numbers); the rest (list-form nodes, `batch_input_shape`) model-config.ts
 * reads itself.
 */
import type { Config } from '../serialization/registry.ts';
import { type KerasObject, isKerasObject } from '../serialization/keras-object.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Entry = KerasObject & { name?: string; inbound_nodes?: unknown[] };

const isPlainObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function clone<T>(x: T): T {
  return x === undefined ? x : (JSON.parse(JSON.stringify(x)) as T);
}

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

/**
 * A Sequential entry whose input shape is known (an InputLayer first, or a
 * first layer with `batch_input_shape`). tf.keras 2 and tfjs give such a
 * model a node of its own before its first call, so calls are numbered from 1;
 * a Sequential without an input shape is numbered from 0.
 */
function isSequentialWithInput(entry: Entry): boolean {
  if (entry.class_name !== 'Sequential') return false;
  const first = layerEntries(entry.config)?.[0];
  if (!first) return false;
  const config = (first.config ?? {}) as Config;
  return first.class_name === 'InputLayer' || Array.isArray(config.batch_input_shape) || Array.isArray(config.batch_shape);
}

/** Layer entries of a model config (Sequential or functional), or null for a plain layer. */
function layerEntries(config: unknown): Entry[] | null {
  return isPlainObject(config) && Array.isArray(config.layers) ? (config.layers as Entry[]) : null;
}

// ---------------------------------------------------------------------------
// Writing: Keras 3 legacy form

/** The class name Keras's legacy serializer writes: the registered name for custom classes. */
function legacyClassName(obj: KerasObject): string {
  const registered = obj.registered_name;
  return typeof registered === 'string' && registered.includes('>') ? registered : obj.class_name;
}

/**
 * A serialized model (model-config.ts form) in the shape Keras 3's legacy
 * `.h5` writer gives it: `{class_name, config}` entries all the way down.
 */
export function toLegacyKeras3Config(obj: KerasObject): { class_name: string; config: Config } {
  const convertEntry = (entry: Entry): Entry => {
    const out: Entry = { class_name: legacyClassName(entry), config: convertConfig(entry.config as Config) } as Entry;
    if (entry.name !== undefined) out.name = entry.name;
    if (entry.inbound_nodes !== undefined) out.inbound_nodes = clone(entry.inbound_nodes);
    return out;
  };
  const convertConfig = (config: Config): Config => {
    const entries = layerEntries(config);
    const out = clone(config);
    if (entries) out.layers = entries.map(convertEntry);
    return out;
  };
  return { class_name: legacyClassName(obj), config: convertConfig((obj.config ?? {}) as Config) };
}

// ---------------------------------------------------------------------------
// Writing: Keras 2 / tfjs form

export type Keras2Target = 'keras2' | 'tfjs';

/** Keys of Keras 3 layer configs that Keras 2 layer constructors reject. */
const KERAS3_ONLY_KEYS = new Set(['quantization_config', 'lora_rank', 'lora_alpha', 'optional']);

/** A nested Keras object (initializer, regularizer, constraint, dtype policy) in Keras 2 form. */
function keras2Value(value: unknown, target: Keras2Target): Json {
  if (Array.isArray(value)) return value.map((v) => keras2Value(v, target));
  if (!isPlainObject(value)) return (value ?? null) as Json;
  if (isKerasObject(value)) {
    const className = legacyClassName(value);
    const config = isPlainObject(value.config) ? (value.config as Config) : {};
    if (className === 'DTypePolicy' || className === 'FloatDTypePolicy' || className === 'Policy') {
      const name = String(config.name ?? 'float32');
      // tfjs computes in float32 only (Strata computes half-precision policies in float32 too).
      return target === 'tfjs' && /float16|bfloat16/.test(name) ? 'float32' : name;
    }
    if (target === 'tfjs' && (className === 'L1' || className === 'L2')) {
      // tfjs-layers registers only L1L2.
      return { class_name: 'L1L2', config: { l1: Number(config.l1 ?? 0), l2: Number(config.l2 ?? 0) } };
    }
    const out: { [key: string]: Json } = { class_name: className, config: keras2Value(config, target) };
    return out;
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, keras2Value(v, target)]));
}

function keras2LayerConfig(className: string, config: Config, target: Keras2Target): Config {
  const out: Config = {};
  for (const [key, value] of Object.entries(config)) {
    if (KERAS3_ONLY_KEYS.has(key)) continue;
    if (key === 'rms_scaling' && value === false) continue;
    if (className === 'InputLayer' && key === 'batch_shape') {
      out.batch_input_shape = clone(value);
      continue;
    }
    // Keras 2 and tfjs call LeakyReLU's slope `alpha`.
    if (className === 'LeakyReLU' && key === 'negative_slope') {
      out.alpha = value as number;
      continue;
    }
    out[key] = keras2Value(value, target);
  }
  // Keras 3 saves a Bidirectional's forward copy (`forward_lstm`); Keras 2 and
  // tfjs save the wrapped layer itself (`lstm`) and add the prefix when
  // loading, so a kept prefix would become `forward_forward_lstm`.
  const wrapped = className === 'Bidirectional' ? (out.layer as { config?: Config } | undefined)?.config : undefined;
  if (wrapped && typeof wrapped.name === 'string' && wrapped.name.startsWith('forward_')) wrapped.name = wrapped.name.slice('forward_'.length);
  return out;
}

/** Every `__keras_tensor__` in a Keras 3 node's args, in order. */
function tensorRefs(x: unknown, out: [string, number, number][] = []): [string, number, number][] {
  if (Array.isArray(x)) {
    for (const v of x) tensorRefs(v, out);
  } else if (isPlainObject(x)) {
    if (x.class_name === '__keras_tensor__') {
      const history = (x.config as { keras_history?: unknown } | undefined)?.keras_history;
      if (Array.isArray(history) && history.length >= 3) out.push([String(history[0]), Number(history[1]), Number(history[2])]);
    } else {
      for (const v of Object.values(x)) tensorRefs(v, out);
    }
  }
  return out;
}

function isRef(x: unknown): x is [string, number, number] {
  return Array.isArray(x) && x.length >= 3 && typeof x[0] === 'string' && typeof x[1] === 'number' && typeof x[2] === 'number';
}

/** Flattens Keras 3 `input_layers`/`output_layers` (a triple, a list or a dict of them) to a list of triples. */
function refList(structure: unknown): [string, number, number][] {
  if (isRef(structure)) return [[structure[0], structure[1], structure[2]]];
  if (Array.isArray(structure)) return structure.flatMap(refList);
  if (isPlainObject(structure)) return Object.values(structure).flatMap(refList);
  return [];
}

/**
 * A serialized model (model-config.ts form) as Keras 2 / tfjs-layers write
 * it: `batch_input_shape`, string dtypes, list-form nodes, plain
 * `{class_name, config}` objects. tfjs-layers 4.22 loads this form.
 */
export function toKeras2Config(obj: KerasObject, target: Keras2Target): { class_name: string; config: Config } {
  const convert = (entry: Entry): Entry => {
    const className = legacyClassName(entry);
    const config = (entry.config ?? {}) as Config;
    const entries = layerEntries(config);
    let out: Entry;
    if (className === 'Sequential' && entries) {
      out = { class_name: 'Sequential', config: { name: config.name, layers: entries.map(convert) } } as unknown as Entry;
    } else if ((className === 'Functional' || className === 'Model') && entries) {
      // Keras 3 numbers a nested Sequential's calls from 0, Keras 2 and tfjs from 1.
      const sequential = new Set(entries.filter(isSequentialWithInput).map((e) => String(e.name)));
      const shift = (r: [string, number, number]): [string, number, number] => [r[0], r[1] + (sequential.has(r[0]) ? 1 : 0), r[2]];
      const layers = entries.map((e) => {
        const converted = convert(e);
        converted.name = String(e.name ?? (e.config as Config | undefined)?.name);
        converted.inbound_nodes = (e.inbound_nodes ?? []).map((node) => {
          if (Array.isArray(node)) return clone(node); // already Keras 2 form
          const n = node as { args?: unknown; kwargs?: Record<string, unknown> };
          const kwargs: Config = {};
          for (const [k, v] of Object.entries(n.kwargs ?? {})) if (k !== 'mask' && v !== null && v !== undefined && tensorRefs(v).length === 0) kwargs[k] = clone(v);
          return tensorRefs(n.args).map((r) => [...shift(r), kwargs]);
        });
        return converted;
      });
      out = {
        class_name: target === 'tfjs' ? 'Model' : 'Functional',
        config: { name: config.name, layers, input_layers: refList(config.input_layers).map(shift), output_layers: refList(config.output_layers).map(shift) },
      } as unknown as Entry;
    } else {
      out = { class_name: className, config: keras2LayerConfig(className, config, target) } as Entry;
    }
    return out;
  };
  const top = convert(obj as Entry);
  return { class_name: top.class_name, config: top.config as Config };
}

// ---------------------------------------------------------------------------
// Reading

/** tfjs's inverse of its camelCase conversion: `batchInputShape` -> `batch_input_shape`. */
function snakeCase(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

const hasCamelKey = (x: unknown): boolean => {
  if (Array.isArray(x)) return x.some(hasCamelKey);
  if (!isPlainObject(x)) return false;
  return Object.entries(x).some(([k, v]) => /[a-z][A-Z]/.test(k) || hasCamelKey(v));
};

/**
 * Converts a camelCase config (tfjs-layers' in-memory form, as some tools
 * store it) to Keras's snake_case: keys, and string values other than names
 * and the layer names in node references (as tfjs does the other way).
 */
function snakeConfig(x: unknown, key = ''): unknown {
  if (Array.isArray(x)) {
    if (key === 'inbound_nodes' || key === 'input_layers' || key === 'output_layers') return x.map((v) => snakeRefs(v));
    return x.map((v) => snakeConfig(v, key));
  }
  if (isPlainObject(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [snakeCase(k) === 'class_name' ? 'class_name' : snakeCase(k), snakeConfig(v, snakeCase(k))]));
  if (typeof x === 'string' && key !== 'name' && key !== 'class_name' && /^[a-z]+[A-Z]/.test(x)) return snakeCase(x);
  return x;
}

function snakeRefs(x: unknown): unknown {
  if (isRef(x)) return [x[0], x[1], x[2], ...(x.length > 3 ? [snakeConfig((x as unknown[])[3])] : [])];
  if (Array.isArray(x)) return x.map(snakeRefs);
  return snakeConfig(x);
}

export interface NormalizeOptions {
  /** Convert camelCase keys (tfjs in-memory configs). Default: when any camelCase key is present. */
  camelCase?: boolean;
}

/**
 * A legacy model config (`{class_name, config}` from a legacy `.h5` file,
 * a tfjs `modelTopology`, Keras 2 JSON) rewritten so Strata's deserializer
 * reads it. Does not modify its argument.
 */
export function normalizeLegacyConfig(obj: unknown, options: NormalizeOptions = {}): KerasObject {
  let top = clone(obj);
  if (options.camelCase ?? hasCamelKey(top)) top = snakeConfig(top);
  if (!isKerasObject(top)) throw new TypeError('the model config has no class_name.');
  const fixObject = (o: unknown): unknown => {
    if (Array.isArray(o)) return o.map(fixObject);
    if (!isPlainObject(o)) return o;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = fixObject(v);
    if (typeof out.class_name === 'string' && out.class_name.includes('>') && out.registered_name == null) {
      out.registered_name = out.class_name;
      out.class_name = out.class_name.slice(out.class_name.lastIndexOf('>') + 1);
      out.module ??= null;
    }
    return out;
  };
  const fixLayerConfig = (className: string, config: Config): void => {
    // As Keras 3's legacy loader: a one-item axis list becomes an int (tf.keras BatchNormalization wrote [3]).
    if (Array.isArray(config.axis) && config.axis.length === 1 && typeof config.axis[0] === 'number') config.axis = config.axis[0];
    const dtype = config.dtype;
    if (isPlainObject(dtype) && (dtype.class_name === 'Policy' || dtype.class_name === 'PolicyV1')) {
      config.dtype = String((dtype.config as Config | undefined)?.name ?? 'float32');
    }
    // tfjs-layers writes mask_zero: null.
    if (className === 'Embedding' && config.mask_zero === null) delete config.mask_zero;
  };
  const visit = (entry: Entry, where: string): void => {
    if (entry.config !== undefined && !isPlainObject(entry.config)) throw new TypeError(`${where}: 'config' must be an object, got ${JSON.stringify(entry.config)?.slice(0, 60)}.`);
    const config = (entry.config ?? (entry.config = {})) as Config;
    const isModel = MODEL_CLASSES.has(entry.class_name);
    if (isModel && config.layers !== undefined && !Array.isArray(config.layers)) throw new TypeError(`${where}: 'layers' must be a list of layer configs, got ${typeof config.layers}.`);
    const entries = layerEntries(config);
    if (!entries) {
      fixLayerConfig(entry.class_name, config);
      return;
    }
    entries.forEach((e, i) => {
      const name = isPlainObject(e) ? (e.name ?? (isPlainObject(e.config) ? e.config.name : undefined)) : undefined;
      const label = `${where}/${typeof name === 'string' ? name : `layers[${i}]`}`;
      if (!isKerasObject(e)) throw new TypeError(`${label}: a layer entry must be an object with a string 'class_name'.`);
      visit(e, label);
    });
    if (entry.class_name === 'Sequential') return;
    for (const e of entries) checkNodes(e, `${where}/${String(e.name ?? (e.config as Config | undefined)?.name)}`);
    if (entry.class_name === 'Functional' || entry.class_name === 'Model') {
      if (config.input_layers === undefined || config.output_layers === undefined) throw new TypeError(`${where}: a functional model config needs 'input_layers' and 'output_layers'.`);
    }
    // A functional model in Keras 2 form numbers a nested Sequential's calls from 1 (when it has an input shape);
    // Strata (as Keras 3) from 0.
    const keras2Nodes = entries.some((e) => Array.isArray(e.inbound_nodes) && e.inbound_nodes.some((n) => Array.isArray(n)));
    if (!keras2Nodes) return;
    // Keras 2 always lists inputs and outputs; a model with one of them takes or gives a single tensor (as Keras 3 reads it).
    for (const key of ['input_layers', 'output_layers'] as const) {
      const list = config[key];
      if (Array.isArray(list) && list.length === 1 && isRef(list[0])) config[key] = list[0] as never;
    }
    const sequential = new Set(entries.filter(isSequentialWithInput).map((e) => String(e.name ?? (e.config as Config | undefined)?.name)));
    if (sequential.size === 0) return;
    const unshift = (r: unknown): void => {
      if (isRef(r) && sequential.has(r[0]) && r[1] > 0) r[1] -= 1;
    };
    for (const e of entries) for (const node of e.inbound_nodes ?? []) if (Array.isArray(node)) node.forEach(unshift);
    const refs = (s: unknown): void => {
      if (isRef(s)) unshift(s);
      else if (Array.isArray(s)) s.forEach(refs);
      else if (isPlainObject(s)) Object.values(s).forEach(refs);
    };
    refs(config.input_layers);
    refs(config.output_layers);
  };
  const fixed = fixObject(top) as Entry;
  visit(fixed, String((isPlainObject(fixed.config) && fixed.config.name) || fixed.class_name));
  return fixed;
}

/** Checks the shape of a functional layer entry's `inbound_nodes` (Keras 2 lists or Keras 3 {args, kwargs}). */
function checkNodes(entry: Entry, where: string): void {
  const nodes = entry.inbound_nodes;
  if (nodes === undefined) return;
  if (!Array.isArray(nodes)) throw new TypeError(`${where}: 'inbound_nodes' must be a list, got ${typeof nodes}.`);
  nodes.forEach((node, i) => {
    if (Array.isArray(node)) {
      for (const ref of node) {
        if (!Array.isArray(ref) || ref.length < 3 || typeof ref[0] !== 'string' || !Number.isInteger(ref[1]) || !Number.isInteger(ref[2]) || (ref.length > 3 && ref[3] !== null && !isPlainObject(ref[3]))) {
          throw new TypeError(`${where}: inbound node ${i} must list [layer_name, node_index, tensor_index, kwargs] entries, got ${JSON.stringify(ref)?.slice(0, 80)}.`);
        }
      }
    } else if (!isPlainObject(node)) {
      throw new TypeError(`${where}: inbound node ${i} must be a list or an {args, kwargs} object, got ${JSON.stringify(node)?.slice(0, 80)}.`);
    }
  });
}

// ---------------------------------------------------------------------------
// Training configs

/** tfjs optimizer class names that differ from Keras's. */
const TFJS_OPTIMIZERS: Record<string, string> = { RMSProp: 'RMSprop', AdaGrad: 'Adagrad', AdaDelta: 'Adadelta', AdaMax: 'Adamax' };
const TFJS_OPTIMIZER_KEYS: Record<string, string> = { learningRate: 'learning_rate', beta1: 'beta_1', beta2: 'beta_2', initialAccumulatorValue: 'initial_accumulator_value', useNesterov: 'nesterov', centered: 'centered' };
/** Keras 2 optimizer keys that Keras 3 optimizers do not take. */
const KERAS2_OPTIMIZER_KEYS = new Set(['decay', 'jit_compile', 'is_legacy_optimizer', 'use_locking']);

/**
 * A legacy `training_config` (h5 root attribute, tfjs `trainingConfig` or
 * `modelTopology.training_config`) as a Keras 3 `compile_config`, or null
 * when it names no optimizer.
 */
export function compileConfigFromTraining(training: unknown): Config | null {
  if (!isPlainObject(training)) return null;
  const optimizerConfig = training.optimizer_config;
  if (!isPlainObject(optimizerConfig) || typeof optimizerConfig.class_name !== 'string') return null;
  let className = optimizerConfig.class_name;
  // tf.keras 2.11+ wrote its new optimizers as Custom>Adam.
  if (className.includes('>')) className = className.slice(className.lastIndexOf('>') + 1);
  className = TFJS_OPTIMIZERS[className] ?? className;
  const config: Config = {};
  let momentumOptimizer = false;
  if (className === 'Momentum') {
    // tfjs's MomentumOptimizer is Keras's SGD with momentum.
    className = 'SGD';
    momentumOptimizer = true;
  }
  for (const [k, v] of Object.entries(isPlainObject(optimizerConfig.config) ? optimizerConfig.config : {})) {
    const key = TFJS_OPTIMIZER_KEYS[k] ?? (k === 'lr' ? 'learning_rate' : snakeCase(k));
    if (KERAS2_OPTIMIZER_KEYS.has(key)) continue;
    config[key] = v as never;
  }
  if (momentumOptimizer && config.momentum === undefined) config.momentum = 0.9;
  if (typeof config.name === 'string' && /^[A-Z]/.test(config.name)) config.name = snakeCase(config.name);
  const loss = training.loss;
  const snakeLoss = (l: unknown): unknown => (typeof l === 'string' && /[a-z][A-Z]/.test(l) ? snakeCase(l) : Array.isArray(l) ? l.map(snakeLoss) : l);
  return {
    optimizer: { class_name: className, config, module: null, registered_name: null },
    loss: (snakeLoss(loss) ?? null) as never,
    loss_weights: (training.loss_weights ?? null) as never,
    metrics: (training.metrics ?? null) as never,
    weighted_metrics: (training.weighted_metrics ?? null) as never,
  };
}

/**
 * Names of the layers in a config that use `activation` (as a layer
 * activation or an Activation layer). Keras 2 and tfjs define
 * `hard_sigmoid` as clip(0.2x + 0.5, 0, 1); Keras 3 (and Strata) as
 * clip(x / 6 + 0.5, 0, 1).
 */
export function layersUsingActivation(obj: unknown, activation: string, out: string[] = []): string[] {
  if (!isKerasObject(obj)) return out;
  const config = (isPlainObject(obj.config) ? obj.config : {}) as Config;
  const entries = layerEntries(config);
  if (entries) {
    for (const e of entries) layersUsingActivation(e, activation, out);
    return out;
  }
  // Recurrent layers have a second activation (tfjs's LSTM and GRU default to hard_sigmoid gates).
  const uses = (value: unknown) => value === activation || (typeof value === 'string' && snakeCase(value) === activation);
  if (uses(config.activation) || uses(config.recurrent_activation)) out.push(String(config.name ?? obj.class_name));
  layersUsingActivation(config.layer, activation, out); // a wrapper's layer (Bidirectional, TimeDistributed)
  return out;
}

export function hardSigmoidWarning(names: string[], file: string, direction: 'read' | 'write'): string | null {
  if (names.length === 0) return null;
  const list = names.map((n) => `'${n}'`).join(', ');
  const uses = names.length > 1 ? 'use' : 'uses';
  return direction === 'read'
    ? `${file}: layer${names.length > 1 ? 's' : ''} ${list} ${uses} hard_sigmoid, which Keras 2 and TF.js define as clip(0.2x + 0.5) but Keras 3 and Strata as clip(x/6 + 0.5); predictions will differ from the original.`
    : `${file}: layer${names.length > 1 ? 's' : ''} ${list} ${uses} hard_sigmoid, which TF.js computes as clip(0.2x + 0.5) instead of Keras 3's clip(x/6 + 0.5); TF.js predictions will differ.`;
}
