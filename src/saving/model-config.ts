/**
 * Layers and models to and from Keras 3's serialized form (config.json of a
 * `.keras` file): `{module, class_name, config, registered_name,
 * build_config, compile_config}`. Sequential configs list their layers
 * (InputLayer first); functional configs list layers with Keras 3
 * `inbound_nodes` ({args, kwargs} with `__keras_tensor__` history) and
 * `input_layers`/`output_layers`. Keras 2 forms (list-form nodes,
 * `batch_input_shape`, string dtypes) are read too.
 */
import type { Shape } from '../tensor/shape.ts';
import { type Config, type SerializableClass, builtinIdentity, registeredNameOf, resolve, withCustomObjects } from '../serialization/registry.ts';
import { UnknownObjectError, type KerasObject, isKerasObject } from '../serialization/keras-object.ts';
import { KerasTensor } from '../layers/keras-tensor.ts';
import { Layer, classNameOf, leaves } from '../layers/layer.ts';
import type { LayerNode } from '../layers/node.ts';
import { InputLayer } from '../layers/core/input-layer.ts';
import { Model } from '../models/model.ts';
import { Functional } from '../models/functional.ts';
import { Sequential } from '../models/sequential.ts';
import * as optimizers from '../optimizers/index.ts';
import * as losses from '../losses/index.ts';
import * as metrics from '../metrics/index.ts';
import type { CompileOptions } from '../training/trainer.ts';

export interface DeserializeOptions {
  customObjects?: Record<string, unknown>;
  /** Refuse to run code stored in files (Lambda layers with JavaScript source); default true. */
  safeMode?: boolean;
}

const isKeras = (v: unknown): v is KerasTensor => v instanceof KerasTensor;

/** `{input_shape}` for a built layer, or undefined (Keras omits build_config for unbuilt layers). */
function buildConfig(layer: Layer): Config | undefined {
  // Layers Keras builds in their constructor have no build_config in Keras's files (Layer.builtAtInit).
  if (!layer.built || layer instanceof InputLayer || layer.isBuiltAtInit) return undefined;
  const shape = layer.buildInputShape;
  if (shape === null) return undefined;
  // Layers whose Keras build takes several named shapes write {shapes_dict} (Layer.kerasBuildConfig).
  const custom = layer.kerasBuildConfig();
  if (custom) return JSON.parse(JSON.stringify(custom)) as Config;
  return { input_shape: JSON.parse(JSON.stringify(shape)) };
}

function identity(layer: Layer): { module: string | null; class_name: string; registered_name: string | null } {
  const cls = layer.constructor as SerializableClass;
  const builtin = builtinIdentity(cls);
  if (builtin) {
    // Keras writes the functional class under its private module, with a registered name.
    if (builtin.className === 'Functional') return { module: builtin.module, class_name: 'Functional', registered_name: 'Functional' };
    return { module: builtin.module, class_name: builtin.className, registered_name: null };
  }
  const name = classNameOf(cls as unknown as typeof Layer);
  return { module: null, class_name: name, registered_name: registeredNameOf(cls) ?? name };
}

// ---------------------------------------------------------------------------
// Serialization

export function serializeLayer(layer: Layer): KerasObject {
  if (layer instanceof Sequential) return serializeSequential(layer);
  if (layer instanceof Functional) return serializeFunctional(layer);
  const id = identity(layer);
  const out: KerasObject = { ...id, config: layer.getConfig() };
  // Keras operation nodes (keras.src.ops.*) are not layers there: they have no build step.
  const build = id.module?.startsWith('keras.src.ops') ? undefined : buildConfig(layer);
  if (build) out.build_config = build;
  if (layer instanceof Model) out.compile_config = compileConfig(layer);
  return out;
}

function serializeSequential(model: Sequential): KerasObject {
  const layerEntries: KerasObject[] = [];
  const input = model.inputLayer;
  if (input) layerEntries.push({ module: 'keras.layers', class_name: 'InputLayer', config: input.getConfig(), registered_name: null });
  for (const l of model.layers) layerEntries.push(serializeLayer(l));
  const config: Config = { name: model.name, trainable: model.trainable, dtype: model.getConfig().dtype ?? { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null }, layers: layerEntries };
  const out: KerasObject = { module: 'keras', class_name: 'Sequential', config, registered_name: null };
  if (input) {
    config.build_input_shape = [...input.batchShape];
    out.build_config = { input_shape: [...input.batchShape] };
  }
  out.compile_config = compileConfig(model);
  return out;
}

/** Node index of `node` among the layer's nodes that belong to `model` (Keras counts only those). */
function nodeIndexIn(nodes: Set<LayerNode>, layer: Layer, node: LayerNode): number {
  let index = 0;
  for (const n of layer.inboundNodes) {
    if (n === node) return index;
    if (nodes.has(n)) index++;
  }
  throw new Error(`Internal error: node of layer '${layer.name}' not found.`);
}

function serializeFunctional(model: Functional): KerasObject {
  const inputNodes = model.inputTensors.map((k) => k.history!.layer.inboundNodes[k.history!.nodeIndex]);
  const nodes = new Set<LayerNode>([...inputNodes, ...model.nodes]);
  /** Keras numbers the calls of a nested functional model from 1 (node 0 is its own construction). */
  const historyOf = (k: KerasTensor): [string, number, number] => {
    const h = k.history!;
    const node = h.layer.inboundNodes[h.nodeIndex];
    const offset = h.layer instanceof Functional ? 1 : 0;
    return [h.layer.name, nodeIndexIn(nodes, h.layer, node) + offset, h.tensorIndex];
  };
  const serializeArg = (x: unknown): unknown => {
    if (x instanceof KerasTensor) return { class_name: '__keras_tensor__', config: { shape: [...x.shape], dtype: x.dtype, keras_history: historyOf(x) } };
    if (Array.isArray(x)) return x.map(serializeArg);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, serializeArg(v)]));
    return x ?? null;
  };
  const layerEntries = model.layers.map((layer) => {
    const entry = serializeLayer(layer);
    entry.name = layer.name;
    // Keras operation nodes take their inputs as positional arguments (NotEqual(x, 0)); layers take one structure.
    const positional = identity(layer).module?.startsWith('keras.src.ops') && Array.isArray(layer.inboundNodes[0]?.inputs);
    entry.inbound_nodes =
      layer instanceof InputLayer
        ? []
        : layer.inboundNodes
            .filter((n) => nodes.has(n))
            .map((n) => {
              // Layers whose Keras call takes several positional arguments or extra keyword arguments say how (Layer.toKerasNode).
              const custom = layer.toKerasNode(n.inputs, n.callOptions);
              if (custom) return { args: serializeArg(custom.args), kwargs: serializeArg(custom.kwargs) };
              return { args: positional ? serializeArg(n.inputs) : [serializeArg(n.inputs)], kwargs: serializeArg(n.callOptions) };
            });
    return entry;
  });
  const structure = (s: unknown): unknown => {
    if (s instanceof KerasTensor) return historyOf(s);
    if (Array.isArray(s)) return s.map(structure);
    if (s && typeof s === 'object') return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, structure(v)]));
    return s;
  };
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: { name: model.name, trainable: model.trainable, layers: layerEntries, input_layers: structure(model.inputs), output_layers: structure(model.outputs) },
    registered_name: 'Functional',
    build_config: { input_shape: null },
    compile_config: compileConfig(model),
  };
}

function serializeIdentifier(x: unknown, serialize: (v: never) => unknown): unknown {
  if (x === undefined || x === null) return null;
  if (typeof x === 'string') return x;
  if (Array.isArray(x)) return x.map((v) => serializeIdentifier(v, serialize));
  if (typeof x === 'object' && !isKerasObject(x) && Object.getPrototypeOf(x) === Object.prototype) {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, serializeIdentifier(v, serialize)]));
  }
  return serialize(x as never);
}

/** Keras's compile_config: what compile() was given (the optimizer as a full object), or {}. */
export function compileConfig(model: Model): Config {
  const options = model.compileOptions;
  if (!options) return {};
  return {
    optimizer: optimizers.serialize(model.optimizer!),
    loss: serializeIdentifier(options.loss, losses.serialize as never),
    loss_weights: options.lossWeights ?? null,
    metrics: serializeIdentifier(options.metrics, metrics.serialize as never),
    weighted_metrics: serializeIdentifier(options.weightedMetrics, metrics.serialize as never),
    run_eagerly: options.runEagerly ?? false,
    steps_per_execution: options.stepsPerExecution ?? 1,
    jit_compile: options.jitCompile ?? false,
  };
}

/** compile() options from a compile_config. */
export function compileOptionsFromConfig(config: Config): CompileOptions {
  return {
    optimizer: (config.optimizer as optimizers.OptimizerIdentifier) ?? undefined,
    loss: (config.loss ?? undefined) as CompileOptions['loss'],
    lossWeights: (config.loss_weights ?? undefined) as CompileOptions['lossWeights'],
    metrics: (config.metrics ?? undefined) as CompileOptions['metrics'],
    weightedMetrics: (config.weighted_metrics ?? undefined) as CompileOptions['weightedMetrics'],
    runEagerly: Boolean(config.run_eagerly),
    stepsPerExecution: (config.steps_per_execution as number | undefined) ?? 1,
  };
}

// ---------------------------------------------------------------------------
// Deserialization

/** Every class a config names that cannot be resolved, with where it appears. */
export function findUnknownClasses(obj: unknown, path: string, out: { name: string; where: string; registered: string | null }[] = []): typeof out {
  if (!isKerasObject(obj)) return out;
  const special = obj.class_name.startsWith('__') || obj.class_name === 'function';
  if (!special && !resolve(obj.class_name, obj.module, obj.registered_name, obj.module ?? undefined)) {
    out.push({ name: obj.class_name, where: path, registered: obj.registered_name ?? null });
  }
  const config = obj.config as Config | undefined;
  if (config && Array.isArray(config.layers)) {
    for (const entry of config.layers as KerasObject[]) {
      const name = (entry.name as string | undefined) ?? (entry.config as Config | undefined)?.name ?? entry.class_name;
      findUnknownClasses(entry, path ? `${path}/${name}` : String(name), out);
    }
  }
  return out;
}

export function deserializeLayer(obj: KerasObject, options: DeserializeOptions = {}, where = ''): Layer {
  return withCustomObjects(options.customObjects as never, () => deserializeInScope(obj, options, where));
}

function deserializeInScope(obj: KerasObject, options: DeserializeOptions, where: string): Layer {
  const className = obj.class_name;
  const config = (obj.config ?? {}) as Config;
  const label = where || String(config.name ?? className);
  if (className === 'Sequential') return deserializeSequential(config, options, label);
  if (className === 'Functional' || (className === 'Model' && Array.isArray(config.layers))) return deserializeFunctional(config, options, label);
  const cls = resolve(className, obj.module, obj.registered_name, 'keras.layers') as (SerializableClass<Layer> & { fromConfig(c: Config, o?: unknown): Layer }) | undefined;
  if (!cls) throw new UnknownObjectError(className, obj.registered_name ?? null, label);
  if (!(cls.prototype instanceof Layer)) throw new TypeError(`${label}: '${className}' is not a layer class.`);
  const layer = cls.fromConfig(config, { safeMode: options.safeMode ?? true });
  const build = obj.build_config as Config | undefined;
  if (build && build.input_shape !== undefined && build.input_shape !== null && !layer.built) {
    layer.buildFromShape(build.input_shape as Shape);
  } else if (build && build.shapes_dict && typeof build.shapes_dict === 'object' && !layer.built) {
    // Keras's build(**shapes_dict) for layers built from several named shapes (MultiHeadAttention): their shapes in order.
    layer.buildFromShape(Object.values(build.shapes_dict as Record<string, Shape>) as Shape[]);
  }
  return layer;
}

function deserializeSequential(config: Config, options: DeserializeOptions, where: string): Sequential {
  const entries = (config.layers ?? []) as KerasObject[];
  const layers: Layer[] = [];
  for (const entry of entries) {
    const name = String((entry.config as Config | undefined)?.name ?? entry.class_name);
    layers.push(deserializeInScope(entry, options, `${where}/${name}`));
  }
  const model = new Sequential(layers, { name: config.name as string | undefined, trainable: config.trainable as boolean | undefined });
  const buildShape = (config.build_input_shape ?? null) as Shape | null;
  if (!model.built && buildShape) model.buildFromShape(buildShape);
  return model;
}

type HistoryRef = [string, number, number];

function isHistoryRef(x: unknown): x is HistoryRef {
  return Array.isArray(x) && x.length >= 3 && typeof x[0] === 'string' && typeof x[1] === 'number' && typeof x[2] === 'number';
}

function deserializeFunctional(config: Config, options: DeserializeOptions, where: string): Functional {
  const entries = (config.layers ?? []) as (KerasObject & { name?: string; inbound_nodes?: unknown[] })[];
  const layers = new Map<string, Layer>();
  /** Outputs of each processed node: layer name → node index → output KerasTensors. */
  const produced = new Map<string, KerasTensor[][]>();
  for (const entry of entries) {
    const name = String(entry.name ?? (entry.config as Config | undefined)?.name);
    const layer = deserializeInScope(entry, options, `${where}/${name}`);
    layers.set(name, layer);
    if (layer instanceof InputLayer) produced.set(name, [[layer.output]]);
  }

  const tensorFor = (ref: HistoryRef): KerasTensor | undefined => {
    const [layerName, nodeIndex, tensorIndex] = ref;
    const layer = layers.get(layerName);
    // Keras counts a nested functional model's calls from 1.
    const index = layer instanceof Functional ? nodeIndex - 1 : nodeIndex;
    return produced.get(layerName)?.[index]?.[tensorIndex];
  };
  const resolveArgs = (x: unknown): { value: unknown; ready: boolean } => {
    let ready = true;
    const walk = (v: unknown): unknown => {
      if (v && typeof v === 'object' && (v as KerasObject).class_name === '__keras_tensor__') {
        const t = tensorFor(((v as KerasObject).config as { keras_history: HistoryRef }).keras_history);
        if (!t) ready = false;
        return t;
      }
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, walk(e)]));
      return v;
    };
    return { value: walk(x), ready };
  };
  /** A Keras 2 node: [[layer, nodeIndex, tensorIndex, kwargs], ...]. */
  const resolveLegacyNode = (node: unknown[]): { args: unknown; kwargs: Config; ready: boolean } => {
    const refs = node as [string, number, number, Config?][];
    const tensors = refs.map((r) => tensorFor([r[0], r[1], r[2]]));
    const kwargs = (refs[0]?.[3] ?? {}) as Config;
    return { args: tensors.length === 1 ? tensors[0] : tensors, kwargs, ready: tensors.every(Boolean) };
  };

  // Process nodes until every node has run; a node waits until its inputs exist (shared layers, out-of-order lists).
  const pending: { layer: Layer; name: string; node: unknown; index: number }[] = [];
  for (const entry of entries) {
    const name = String(entry.name ?? (entry.config as Config | undefined)?.name);
    const layer = layers.get(name)!;
    if (layer instanceof InputLayer) continue;
    (entry.inbound_nodes ?? []).forEach((node, index) => pending.push({ layer, name, node, index }));
  }
  let progress = true;
  while (pending.length > 0 && progress) {
    progress = false;
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i];
      const outputsSoFar = produced.get(p.name) ?? [];
      if (outputsSoFar.length !== p.index) continue; // calls of one layer run in order
      let args: unknown;
      let kwargs: Config;
      if (Array.isArray(p.node)) {
        const r = resolveLegacyNode(p.node);
        if (!r.ready) continue;
        args = r.args;
        kwargs = r.kwargs;
      } else {
        const n = p.node as { args?: unknown[]; kwargs?: Config };
        const a = resolveArgs(n.args ?? []);
        const k = resolveArgs(n.kwargs ?? {});
        if (!a.ready || !k.ready) continue;
        const list = a.value as unknown[];
        // Layers whose Keras call has several positional arguments or extra keyword arguments read them themselves (Layer.fromKerasNode).
        const custom = p.layer.fromKerasNode(list, k.value as Config);
        if (custom) {
          const out = p.layer.apply(custom.inputs as never, custom.options);
          produced.set(p.name, [...outputsSoFar, leaves(out, isKeras)]);
          pending.splice(i, 1);
          i--;
          progress = true;
          continue;
        }
        args = list.length === 1 ? list[0] : list;
        kwargs = k.value as Config;
      }
      const callOptions: { training?: boolean; mask?: never } = {};
      if (typeof kwargs.training === 'boolean') callOptions.training = kwargs.training;
      // Keras 3 records a computed mask (e.g. from Embedding(mask_zero)) as an explicit argument.
      if (kwargs.mask !== undefined && kwargs.mask !== null) callOptions.mask = kwargs.mask as never;
      const out = p.layer.apply(args as never, callOptions);
      produced.set(p.name, [...outputsSoFar, leaves(out, isKeras)]);
      pending.splice(i, 1);
      i--;
      progress = true;
    }
  }
  if (pending.length > 0) {
    throw new Error(`${where}: cannot rebuild the functional model: the inputs of layer '${pending[0].name}' (call ${pending[0].index}) are never produced. The config is inconsistent or truncated.`);
  }
  const structure = (s: unknown, what: string): unknown => {
    if (isHistoryRef(s)) {
      const t = tensorFor(s);
      if (!t) throw new Error(`${where}: ${what} refers to ${JSON.stringify(s)}, which no layer produces.`);
      return t;
    }
    if (Array.isArray(s)) return s.map((e) => structure(e, what));
    if (s && typeof s === 'object') return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, structure(v, what)]));
    throw new Error(`${where}: ${what} must be [layer, node, tensor] references. Received: ${JSON.stringify(s)}`);
  };
  const inputs = structure(config.input_layers, 'input_layers') as KerasTensor | KerasTensor[];
  const outputs = structure(config.output_layers, 'output_layers') as KerasTensor | KerasTensor[];
  return new Functional({ inputs, outputs, name: config.name as string | undefined, trainable: config.trainable as boolean | undefined });
}
