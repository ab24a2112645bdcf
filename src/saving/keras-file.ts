/**
 * The Keras 3 `.keras` file: a zip (stored, not compressed) holding
 * `metadata.json`, `config.json` and `model.weights.h5`, in that order; and
 * weights-only `*.weights.h5` files in the same HDF5 layout. Files are written
 * to a temporary name in the same folder and renamed.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Config } from '../serialization/registry.ts';
import { type KerasObject, isKerasObject } from '../serialization/keras-object.ts';
import { writeFileAtomic } from '../graph/function.ts';
import type { Layer } from '../layers/layer.ts';
import { Model } from '../models/model.ts';
import { readH5, writeH5 } from './io/h5.ts';
import { readZip, writeZip } from './io/zip.ts';
import { compileOptionsFromConfig, deserializeLayer, findUnknownClasses, serializeLayer, type DeserializeOptions } from './model-config.ts';
import { type LoadWeightsOptions, loadWeightsTree, weightsTree } from './weights.ts';

/** The Keras version whose format Strata writes (Keras itself does not read this field). */
export const KERAS_FORMAT_VERSION = '3.15.1';
export const STRATA_VERSION = '0.1.0';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Python's json.dumps may write NaN / Infinity / -Infinity tokens: read them. */
export function parseLenientJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Replace the bare tokens outside strings, then parse with a reviver that restores them.
    const marked = text.replace(/("(?:[^"\\]|\\.)*")|-?\bInfinity\b|\bNaN\b/g, (m, str: string | undefined) =>
      str !== undefined ? str : `"__strata_number__${m}"`,
    );
    try {
      return JSON.parse(marked, (_k, v) => (typeof v === 'string' && v.startsWith('__strata_number__') ? Number(v.slice(17)) : v));
    } catch (e) {
      throw new Error(`${file}: invalid JSON (${(e as Error).message}).`);
    }
  }
}

/**
 * Config values Keras keeps as Python floats. JSON has one number type, and
 * `JSON.stringify(0)` gives `0`, which Python reads as an int — some Keras
 * constructors check for float (SGD's momentum does). These keys are written
 * with a decimal point, as Python's json.dumps writes floats.
 */
const FLOAT_KEYS = new Set([
  'learning_rate', 'initial_learning_rate', 'end_learning_rate', 'decay_rate', 'power', 'warmup_target', 'alpha', 't_mul', 'm_mul',
  'momentum', 'rho', 'epsilon', 'beta_1', 'beta_2', 'weight_decay', 'clipnorm', 'clipvalue', 'global_clipnorm', 'ema_momentum',
  'initial_accumulator_value', 'loss_scale_factor', 'rate', 'stddev', 'mean', 'minval', 'maxval', 'scale', 'gain', 'l1', 'l2',
  'factor', 'max_value', 'min_value', 'negative_slope', 'threshold', 'offset', 'label_smoothing', 'delta', 'renorm_momentum',
]);

/** JSON for Python Keras: float-valued keys keep a decimal point. */
export function stringifyKerasJson(value: unknown): string {
  const text = JSON.stringify(value, (key, v) => (FLOAT_KEYS.has(key) && typeof v === 'number' && Number.isInteger(v) ? `__strata_float__${v}` : v));
  return text.replace(/"__strata_float__(-?\d+)"/g, '$1.0');
}

function dateSaved(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}@${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The bytes of a `.keras` file for `model`. */
export async function kerasFileBytes(model: Layer): Promise<Uint8Array> {
  const config = serializeLayer(model);
  const metadata = { keras_version: KERAS_FORMAT_VERSION, date_saved: dateSaved(), strata_version: STRATA_VERSION };
  const weights = await writeH5(weightsTree(model));
  return writeZip([
    { name: 'metadata.json', data: encoder.encode(JSON.stringify(metadata)) },
    { name: 'config.json', data: encoder.encode(stringifyKerasJson(config)) },
    { name: 'model.weights.h5', data: weights },
  ]);
}

export async function saveKerasFile(model: Layer, path: string): Promise<void> {
  if (!path.endsWith('.keras')) throw new Error(`save: a Keras 3 model file must end in .keras. Received: ${path}`);
  await writeFileAtomic(path, await kerasFileBytes(model));
}

export interface LoadModelOptions extends DeserializeOptions {
  /** Compile the model with the saved compile config (and restore the optimizer state). Default true. */
  compile?: boolean;
}

/** Rebuilds a model from `.keras` bytes. */
export async function loadKerasBytes(bytes: Uint8Array, file: string, options: LoadModelOptions = {}): Promise<Layer> {
  const entries = readZip(bytes, file);
  const configBytes = entries.get('config.json');
  if (!configBytes) {
    throw new Error(`${file}: not a Keras 3 model file (no config.json in the archive; it has ${[...entries.keys()].join(', ') || 'no entries'}).`);
  }
  let text: string;
  try {
    text = decoder.decode(configBytes);
  } catch {
    throw new Error(`${file}: config.json is not valid UTF-8.`);
  }
  const config = parseLenientJson(text, `${file} (config.json)`);
  return restoreModel(config, entries.get('model.weights.h5') ?? null, file, options);
}

/** Builds the model from its config (listing every unknown class at once), compiles it, then loads its weights. */
export async function restoreModel(config: unknown, weightsBytes: Uint8Array | null, file: string, options: LoadModelOptions): Promise<Layer> {
  if (!isKerasObject(config)) throw new Error(`${file}: config.json does not describe a Keras object (no class_name).`);
  const unknown = findUnknownClasses(config, '').filter((u) => !options.customObjects || !(u.name in options.customObjects) && !(u.registered && u.registered in options.customObjects));
  if (unknown.length > 0) {
    const lines = unknown.map((u) => `  - '${u.registered && u.registered !== u.name ? u.registered : u.name}' at ${u.where ? `layer '${u.where}'` : 'the top level'}: register it with strata.saving.registerSerializable(${u.name}${u.registered?.includes('>') ? `, {package: '${u.registered.split('>')[0]}'}` : ''}) or pass customObjects: {${u.name}}`);
    throw new Error(`${file}: the model uses classes Strata does not know:\n${lines.join('\n')}`);
  }
  const model = deserializeLayer(config as KerasObject, options, '');
  const compile = (config as KerasObject).compile_config as Config | undefined;
  if ((options.compile ?? true) && model instanceof Model && compile && Object.keys(compile).length > 0) {
    model.compile(compileOptionsFromConfig(compile));
    model.optimizer!.build(model.trainableWeights);
  }
  if (weightsBytes) {
    const root = await readH5(weightsBytes, `${file} (model.weights.h5)`);
    loadWeightsTree(model, root, file, { includeOptimizer: options.compile ?? true });
  }
  return model;
}

export async function loadKerasFile(path: string, options: LoadModelOptions = {}): Promise<Layer> {
  const bytes = await readFile(path);
  return loadKerasBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), basename(path), options);
}

export async function saveWeightsFile(model: Layer, path: string): Promise<void> {
  if (!path.endsWith('.weights.h5')) throw new Error(`saveWeights: the file name must end in .weights.h5 (Keras 3). Received: ${path}`);
  await writeFileAtomic(path, await writeH5(weightsTree(model)));
}

export async function loadWeightsFile(model: Layer, path: string, options: LoadWeightsOptions = {}): Promise<void> {
  const bytes = await readFile(path);
  const root = await readH5(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), basename(path));
  loadWeightsTree(model, root, basename(path), options);
}
