/**
 * The legacy Keras HDF5 format (`model.save('x.h5')` in Keras 2 and Keras
 * 3, `save_weights('x.h5')` in Keras 2):
 *
 * - root attributes `keras_version`, `backend`, `model_config` (JSON
 *   `{class_name, config}`) and, for compiled models, `training_config`
 *   (compile arguments plus `optimizer_config`);
 * - group `model_weights` (the root itself in weights-only files) with the
 *   attribute `layer_names` and one group per layer, named by the layer,
 *   whose attribute `weight_names` lists datasets stored under those names
 *   (`dense/kernel:0` in Keras 2, the variable path `seq/dense/kernel` in
 *   Keras 3; a `/` makes nested groups), in Keras's legacy weight order
 *   (trainable, then non-trainable);
 * - group `optimizer_weights` with `weight_names` and one dataset per
 *   optimizer variable.
 *
 * Weights load by order, as Keras does: the model's layers that have weights
 * are paired with the file's layers whose `weight_names` is not empty
 * (`byName` pairs them by layer name instead). Long name lists are split
 * into `name0`, `name1`, ... attributes; both are read.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Config } from '../serialization/registry.ts';
import { warn } from '../engine/warnings.ts';
import type { Variable } from '../engine/variable.ts';
import { writeFileAtomic } from '../graph/function.ts';
import type { Layer } from '../layers/layer.ts';
import { Model } from '../models/model.ts';
import * as optimizers from '../optimizers/index.ts';
import { type H5AttrValue, type H5Dataset, type H5Group, type H5WriteDataset, type H5WriteDType, type H5WriteGroup, chunkAttr, getH5Dataset, readChunkedAttr, readH5, writeH5 } from './io/h5.ts';
import { KERAS_FORMAT_VERSION, STRATA_VERSION, type LoadModelOptions, parseLenientJson, restoreModel } from './keras-file.ts';
import { compileConfig, compileOptionsFromConfig, serializeLayer } from './model-config.ts';
import { compileConfigFromTraining, hardSigmoidWarning, layersUsingActivation, normalizeLegacyConfig, toKeras2Config, toLegacyKeras3Config } from './keras2-config.ts';
import { PendingAssignments, type StoredArray, legacyWeights, optimizerVariablesInOrder, restoreOptimizerState } from './legacy-weights.ts';
import { collectSaveables } from './walk.ts';
import { kerasLayerOrder, kerasTrainableWeights } from './keras-order.ts';

/** The Keras 2 version whose conventions the `keras2` config form follows. */
export const KERAS2_FORMAT_VERSION = '2.15.0';

export interface LegacyH5SaveOptions {
  /** Save the optimizer's variables (`optimizer_weights`) of a compiled model. Default true. */
  includeOptimizer?: boolean;
  /**
   * `keras3` (default): what Keras 3's `model.save('x.h5')` writes (Keras 3
   * layer configs, variable paths as weight names). `keras2`: Keras 2 / tf.keras
   * configs (string dtypes, `batch_input_shape`, list-form nodes) and
   * `layer/weight:0` names, for tools that read only tf.keras files.
   */
  configFormat?: 'keras3' | 'keras2';
}

export interface LegacyWeightsOptions {
  /**
   * true: pair layers by name (Keras's `by_name=True`; layers missing from the
   * file are left alone). false: by order, as Keras does by default. Default:
   * by name when the file and the model have the same layers with weights
   * (same names, same counts), else by order.
   */
  byName?: boolean;
  /** Skip layers whose weights do not match (with a warning) instead of failing. */
  skipMismatch?: boolean;
}

// ---------------------------------------------------------------------------
// Writing

function writeDType(variable: Variable): H5WriteDType {
  return variable.dtype as H5WriteDType; // float32, float64, int32 and bool are all writable
}

/** Adds datasets to `group` under `name`, where a `/` in a name makes nested groups (as h5py does). */
function putDataset(group: Map<string, H5WriteGroup>, datasets: Map<string, H5WriteDataset>, name: string, dataset: H5WriteDataset, where: string): void {
  const parts = name.split('/').filter((p) => p !== '');
  if (parts.length === 0) throw new Error(`save: weight ${JSON.stringify(name)} of ${where} has an empty name.`);
  let groups = group;
  let sets = datasets;
  for (const part of parts.slice(0, -1)) {
    let next = groups.get(part);
    if (!next) {
      next = { groups: new Map(), datasets: new Map() };
      groups.set(part, next);
    }
    groups = next.groups as Map<string, H5WriteGroup>;
    sets = next.datasets as Map<string, H5WriteDataset>;
  }
  const last = parts[parts.length - 1];
  if (sets.has(last) || groups.has(last)) throw new Error(`save: two weights of ${where} are both named '${name}'; give the layers or weights distinct names.`);
  sets.set(last, dataset);
}

function datasetOf(v: Variable): H5WriteDataset {
  const t = v.value;
  return { shape: [...(t.shape as number[])], dtype: writeDType(v), values: t.dataSync() };
}

/** A group holding `weight_names` and the weights under those names. */
function weightsGroup(weights: readonly Variable[], names: readonly string[], where: string): H5WriteGroup {
  const groups = new Map<string, H5WriteGroup>();
  const datasets = new Map<string, H5WriteDataset>();
  weights.forEach((w, i) => putDataset(groups, datasets, names[i], datasetOf(w), where));
  return { attrs: { ...chunkAttr('weight_names', [...names]) }, groups, datasets };
}

/** Which layer owns each variable (for Keras 2 names `layer/weight:0`). */
export function variableOwners(model: Layer): Map<Variable, string> {
  const owners = new Map<Variable, string>();
  for (const node of collectSaveables(model, { includeOptimizer: false })) for (const v of node.variables) if (!owners.has(v)) owners.set(v, node.name);
  return owners;
}

/**
 * Loss and metric short names spelled out: Keras 3's legacy loader cannot
 * deserialize 'mse', 'mae', ... from a training_config (it fails with "Could
 * not deserialize 'keras.metrics.mse'"), but reads the full names.
 */
const ALIASES: Record<string, string> = {
  mse: 'mean_squared_error',
  MSE: 'mean_squared_error',
  mae: 'mean_absolute_error',
  MAE: 'mean_absolute_error',
  mape: 'mean_absolute_percentage_error',
  MAPE: 'mean_absolute_percentage_error',
  msle: 'mean_squared_logarithmic_error',
  MSLE: 'mean_squared_logarithmic_error',
};
function expandAliases(x: unknown): unknown {
  if (typeof x === 'string') return ALIASES[x] ?? x;
  if (Array.isArray(x)) return x.map(expandAliases);
  if (x && typeof x === 'object' && !('class_name' in x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, expandAliases(v)]));
  return x ?? null;
}

/** The HDF5 tree of a legacy `.h5` model file. */
export function legacyH5Tree(model: Layer, options: LegacyH5SaveOptions = {}): H5WriteGroup {
  const format = options.configFormat ?? 'keras3';
  const keras2 = format === 'keras2';
  const serialized = serializeLayer(model);
  const modelConfig = keras2 ? toKeras2Config(serialized, 'keras2') : toLegacyKeras3Config(serialized);
  const version = keras2 ? KERAS2_FORMAT_VERSION : KERAS_FORMAT_VERSION;
  const attrs: Record<string, string> = { keras_version: version, backend: 'tensorflow', model_config: JSON.stringify(modelConfig), strata_version: STRATA_VERSION };
  const owners = variableOwners(model);
  const weightName = (v: Variable): string => (keras2 ? `${owners.get(v) ?? v.path.split('/').slice(-2, -1)[0] ?? 'weights'}/${v.name}:0` : v.path);

  // layer_names in Keras's order of the layers, so Keras's loader (which pairs by order) pairs them right.
  const layers = kerasLayerOrder(model);
  const layerGroups = new Map<string, H5WriteGroup>();
  for (const layer of [...layers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (layerGroups.has(layer.name)) throw new Error(`save: model '${model.name}' has two layers named '${layer.name}'; the .h5 format needs distinct layer names.`);
    const weights = legacyWeights(layer);
    layerGroups.set(layer.name, weightsGroup(weights, weights.map(weightName), `layer '${layer.name}'`));
  }
  const topLevel = model.ownVariables;
  if (layerGroups.has('top_level_model_weights')) throw new Error(`save: a layer is named 'top_level_model_weights', which the .h5 format reserves.`);
  layerGroups.set('top_level_model_weights', weightsGroup(topLevel, topLevel.map(weightName), 'the model'));
  const tree: H5WriteGroup = {
    attrs,
    groups: new Map<string, H5WriteGroup>([['model_weights', { attrs: { ...chunkAttr('layer_names', layers.map((l) => l.name)), backend: 'tensorflow', keras_version: version }, groups: layerGroups }]]),
  };

  if (model instanceof Model && model.compileOptions && model.optimizer) {
    const compile = compileConfig(model);
    const optimizer = compile.optimizer as Config & { class_name: string; registered_name?: string | null; config: Config };
    const className = typeof optimizer.registered_name === 'string' && optimizer.registered_name.includes('>') ? optimizer.registered_name : optimizer.class_name;
    const training: Config = { ...compile, loss: expandAliases(compile.loss) as never, metrics: expandAliases(compile.metrics) as never, weighted_metrics: expandAliases(compile.weighted_metrics) as never };
    delete training.optimizer;
    training.optimizer_config = { class_name: className, config: optimizer.config };
    attrs.training_config = JSON.stringify(training);
    // Keras's loader sets them by position, in its order of the model's trainable variables.
    const variables = optimizerVariablesInOrder(model.optimizer, kerasTrainableWeights(model));
    if ((options.includeOptimizer ?? true) && variables.length > 0) {
      const names = variables.map((v) => (keras2 ? `${v.path}:0` : v.path));
      (tree.groups as Map<string, H5WriteGroup>).set('optimizer_weights', weightsGroup(variables, names, `optimizer '${model.optimizer.name}'`));
    }
  }
  return tree;
}

export async function legacyH5Bytes(model: Layer, options: LegacyH5SaveOptions = {}): Promise<Uint8Array> {
  return writeH5(legacyH5Tree(model, options));
}

export async function saveLegacyH5(model: Layer, path: string, options: LegacyH5SaveOptions = {}): Promise<void> {
  await writeFileAtomic(path, await legacyH5Bytes(model, options));
}

// ---------------------------------------------------------------------------
// Reading

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A string attribute (vlen or fixed-length; bytes decoded as UTF-8). */
function stringAttr(value: H5AttrValue | undefined, what: string, file: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) {
    try {
      return utf8.decode(value);
    } catch {
      throw new Error(`${file}: the ${what} attribute is not valid UTF-8.`);
    }
  }
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0];
  throw new Error(`${file}: the ${what} attribute should be a string, but it holds ${Array.isArray(value) ? `an array of ${value.length} ${typeof value[0]}s` : typeof value}.`);
}

/** A list-of-strings attribute, possibly chunked; an empty numeric array (h5py's empty list) is []. */
function stringListAttr(attrs: Record<string, H5AttrValue>, name: string, where: string): string[] | undefined {
  const value = readChunkedAttr(attrs, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) {
    if (value.length === 0) return [];
    if (value.every((v) => typeof v === 'string')) return value as string[];
  }
  throw new Error(`${where}: the attribute '${name}' should list names (strings), but it holds ${value instanceof Uint8Array ? 'raw bytes' : JSON.stringify(value).slice(0, 60)}.`);
}

function storedArray(ds: H5Dataset, name: string): StoredArray {
  return {
    name,
    shape: ds.shape,
    read: () => {
      const values = ds.read();
      if (Array.isArray(values)) throw new Error(`dataset ${ds.path} holds strings, not numbers`);
      return values;
    },
  };
}

/** The stored arrays a group's `weight_names` lists, in that order. */
function namedArrays(group: H5Group, file: string): StoredArray[] {
  const names = stringListAttr(group.attrs, 'weight_names', `${file}: group ${group.path}`) ?? [];
  return names.map((name) => {
    const ds = getH5Dataset(group, name);
    if (!ds) throw new Error(`${file}: group ${group.path} lists the weight '${name}', but has no such dataset.`);
    return storedArray(ds, name);
  });
}

/** Whether an HDF5 tree is a legacy weights group (Keras 2 `save_weights`, or a full legacy model file). */
export function isLegacyWeightsTree(root: H5Group): boolean {
  return root.groups.has('model_weights') || readChunkedAttr(root.attrs, 'layer_names') !== undefined;
}

/**
 * Loads a legacy weights group (`model_weights`, or the root of a weights-only
 * file) into `model`: by layer order (Keras's default) or by layer name.
 * Checks every layer first; assigns nothing unless everything fits.
 */
export function loadLegacyWeightsGroup(model: Layer, group: H5Group, file: string, options: LegacyWeightsOptions & { suggestSkip?: boolean } = {}): void {
  const layerNames = stringListAttr(group.attrs, 'layer_names', `${file}: group ${group.path}`);
  if (layerNames === undefined) throw new Error(`${file}: not a Keras weights file (group ${group.path} has no 'layer_names' attribute).`);
  const fileLayers: { name: string; arrays: StoredArray[] }[] = [];
  for (const name of layerNames) {
    const g = group.groups.get(name);
    if (!g) throw new Error(`${file}: 'layer_names' lists the layer '${name}', but the file has no group for it.`);
    fileLayers.push({ name, arrays: namedArrays(g, file) });
  }
  const pending = new PendingAssignments(file, options.skipMismatch ?? false, options.suggestSkip ?? true);
  // Keras pairs the model's layers (in its own order) with the file's, by order.
  const modelLayers = kerasLayerOrder(model).filter((l) => legacyWeights(l).length > 0);
  const withWeights = fileLayers.filter((l) => l.arrays.length > 0);
  const sameLayers =
    withWeights.length === modelLayers.length &&
    modelLayers.every((layer) => withWeights.some((l) => l.name === layer.name && l.arrays.length === legacyWeights(layer).length));
  if (options.byName ?? sameLayers) {
    const byName = new Map(fileLayers.map((l) => [l.name, l]));
    for (const layer of modelLayers) {
      const stored = byName.get(layer.name);
      if (stored) pending.add(`layer '${layer.name}'`, legacyWeights(layer), stored.arrays);
    }
  } else {
    if (withWeights.length !== modelLayers.length) {
      throw new Error(
        `${file}: layer count mismatch: the model has ${modelLayers.length} layers with weights (${modelLayers.map((l) => l.name).join(', ') || 'none'}), ` +
          `the file has ${withWeights.length} (${withWeights.map((l) => l.name).join(', ') || 'none'}). Nothing was loaded.` +
          (modelLayers.length > 0 && withWeights.length > 0 ? ' Pass {byName: true} to match layers by name.' : ''),
      );
    }
    modelLayers.forEach((layer, k) => {
      const stored = withWeights[k];
      const label = layer.name === stored.name ? `layer '${layer.name}'` : `layer #${k} ('${layer.name}' in the model, '${stored.name}' in the file)`;
      pending.add(label, legacyWeights(layer), stored.arrays);
    });
  }
  const top = group.groups.get('top_level_model_weights');
  if (top && !layerNames.includes('top_level_model_weights')) {
    const arrays = namedArrays(top, file);
    if (arrays.length > 0 || model.ownVariables.length > 0) pending.add('the model\'s own weights', model.ownVariables, arrays);
  }
  pending.commit();
}

/** Rebuilds a model from the bytes of a legacy `.h5` file. */
export async function loadLegacyH5Bytes(bytes: Uint8Array, file: string, options: LoadModelOptions = {}): Promise<Layer> {
  const root = await readH5(bytes, file);
  const configText = stringAttr(root.attrs.model_config, 'model_config', file);
  if (configText === undefined) {
    if (isLegacyWeightsTree(root)) {
      throw new Error(`${file}: this file holds only weights (Keras save_weights), not a model. Build the model in code, then call model.loadWeights('${file}').`);
    }
    if (root.groups.has('layers') || root.groups.has('vars')) {
      throw new Error(`${file}: this is a Keras 3 weights file (.weights.h5 layout), not a model. Build the model in code, then call model.loadWeights('${file}').`);
    }
    throw new Error(`${file}: not a Keras model file (no 'model_config' attribute).`);
  }
  const parsed = parseLenientJson(configText, `${file} (model_config)`);
  let config;
  try {
    config = normalizeLegacyConfig(parsed);
  } catch (e) {
    throw new Error(`${file}: invalid model_config: ${(e as Error).message}`);
  }
  const version = typeof root.attrs.keras_version === 'string' ? root.attrs.keras_version : '';
  if (!version.startsWith('3')) {
    const hard = hardSigmoidWarning(layersUsingActivation(config, 'hard_sigmoid'), file, 'read');
    if (hard) warn(hard);
  }
  const weights = root.groups.get('model_weights');
  if (!weights) throw new Error(`${file}: the file has a model config but no 'model_weights' group.`);
  let model: Layer;
  try {
    model = await restoreModel(config, null, file, { ...options, compile: false });
  } catch (e) {
    const message = (e as Error).message;
    throw message.startsWith(file) ? e : new Error(`${file}: cannot rebuild the model from its config: ${message}`);
  }
  loadLegacyWeightsGroup(model, weights, file, { suggestSkip: false });

  const trainingText = stringAttr(root.attrs.training_config, 'training_config', file);
  if ((options.compile ?? true) && trainingText !== undefined && model instanceof Model) {
    compileFromTrainingConfig(model, parseLenientJson(trainingText, `${file} (training_config)`), file);
    const optimizerGroup = root.groups.get('optimizer_weights');
    if (model.optimizer && optimizerGroup) {
      let arrays: StoredArray[];
      try {
        arrays = namedArrays(optimizerGroup, file);
      } catch (e) {
        warn(`${file}: the optimizer state was not restored (${(e as Error).message}).`);
        arrays = [];
      }
      if (arrays.length > 0) restoreOptimizerState(model.optimizer, kerasTrainableWeights(model), arrays, file);
    }
  }
  return model;
}

/** Compiles `model` from a legacy training config; warns (and leaves it uncompiled) if that fails. */
export function compileFromTrainingConfig(model: Model, training: unknown, file: string): boolean {
  const compile = compileConfigFromTraining(training);
  if (!compile) return false;
  try {
    model.compile(compileOptionsFromConfig({ ...compile, optimizer: optimizers.get(compile.optimizer as optimizers.OptimizerIdentifier) as never }));
    model.optimizer!.build(model.trainableWeights);
    return true;
  } catch (e) {
    warn(`${file}: the model was loaded uncompiled: its training config could not be restored (${(e as Error).message.split('\n')[0]}). Call model.compile(...) before training.`);
    return false;
  }
}

export async function loadLegacyH5File(path: string, options: LoadModelOptions = {}): Promise<Layer> {
  const bytes = await readFile(path);
  return loadLegacyH5Bytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), basename(path), options);
}

