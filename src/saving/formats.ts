/**
 * Which file format a path means, and loading/saving by format:
 *
 * | path                                  | format |
 * | ------------------------------------- | ------ |
 * | `*.keras`                             | Keras 3 native (zip) |
 * | `*.h5`, `*.hdf5`                      | legacy Keras HDF5 (`*.weights.h5` is a weights file, not a model) |
 * | `*.json`, or a folder (with `model.json`) | TensorFlow.js layers format |
 * | `*.onnx`                              | ONNX (export only) |
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import type { Layer } from '../layers/layer.ts';
import { type LoadModelOptions, loadKerasFile, saveKerasFile } from './keras-file.ts';
import { type LegacyH5SaveOptions, type LegacyWeightsOptions, isLegacyWeightsTree, loadLegacyH5File, loadLegacyWeightsGroup, saveLegacyH5 } from './legacy-h5.ts';
import { loadTfjsModel, saveTfjs } from './tfjs.ts';
import { exportOnnx } from './onnx-export.ts';
import { readH5 } from './io/h5.ts';
import { loadWeightsTree, type LoadWeightsOptions } from './weights.ts';

export type ModelFormat = 'keras' | 'h5' | 'tfjs' | 'onnx';
export const MODEL_FORMATS: readonly ModelFormat[] = ['keras', 'h5', 'tfjs', 'onnx'];

const FORMAT_HELP = "Use .keras (Keras 3), .h5 / .hdf5 (legacy Keras HDF5), or a .json path or folder (TensorFlow.js layers format)";

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The format a path names by its extension: `.keras`, `.h5`/`.hdf5`, `.json`,
 * `.onnx`; a folder (existing, ending in `/`, or without an extension) is
 * TF.js. Null for anything else.
 */
export async function formatOfPath(path: string): Promise<ModelFormat | null> {
  const lower = path.toLowerCase();
  const ext = extname(lower);
  if (ext === '.keras') return 'keras';
  if (ext === '.h5' || ext === '.hdf5') return 'h5';
  if (ext === '.json') return 'tfjs';
  if (ext === '.onnx') return 'onnx';
  if (/[\\/]$/.test(path) || (await isDirectory(path)) || ext === '') return 'tfjs';
  return null;
}

async function requireExists(path: string): Promise<void> {
  try {
    await stat(path);
  } catch {
    throw new Error(`${path}: no such file or folder.`);
  }
}

/** Loads a model saved by Strata, Python Keras (3 or 2) or TensorFlow.js; the format follows the path. */
export async function loadModelFile(path: string, options: LoadModelOptions = {}): Promise<Layer> {
  await requireExists(path);
  const ext = extname(path).toLowerCase();
  if (ext === '.keras') return loadKerasFile(path, options);
  if (ext === '.h5' || ext === '.hdf5') return loadLegacyH5File(path, options);
  if (ext === '.json' || (await isDirectory(path))) return loadTfjsModel(path, options);
  if (ext === '.onnx') throw new Error(`loadModel: '${path}' is an ONNX model; Strata exports ONNX but does not load it. ${FORMAT_HELP}.`);
  throw new Error(`loadModel: unsupported file type '${ext || basename(path)}'. ${FORMAT_HELP}.`);
}

export interface SaveModelOptions extends LegacyH5SaveOptions {
  /** Force a format instead of following the extension. */
  format?: ModelFormat;
}

/** Saves a model in the format its path names (see the table above). */
export async function saveModelFile(model: Layer, path: string, options: SaveModelOptions = {}): Promise<void> {
  const lower = path.toLowerCase();
  const format = options.format ?? (await formatOfPath(path));
  // TF.js output may be a folder, created as needed; files need an existing folder.
  const folder = format === 'tfjs' && !lower.endsWith('.json') ? null : dirname(path);
  if (folder !== null && !(await isDirectory(folder))) throw new Error(`save: cannot write '${path}': the folder '${folder}' does not exist.`);
  if (format === 'keras') return saveKerasFile(model, path);
  if (format === 'h5') {
    if (lower.endsWith('.weights.h5')) throw new Error(`save: '${path}' names a weights file; use model.saveWeights('${path}') for weights, or a name ending in .h5 (not .weights.h5) for the whole model.`);
    return saveLegacyH5(model, path, options);
  }
  if (format === 'tfjs') return saveTfjs(model, path, options);
  if (format === 'onnx') return exportOnnx(model, path);
  throw new Error(`save: unsupported file type '${extname(path) || basename(path)}'. ${FORMAT_HELP}.`);
}

/**
 * Loads weights into `model` from a Keras 3 `.weights.h5` file, a legacy
 * Keras `.h5` weights file (Keras 2 `save_weights`), or a full legacy `.h5`
 * model file; the layout is read from the file itself.
 */
export async function loadWeightsFromFile(model: Layer, path: string, options: LoadWeightsOptions & LegacyWeightsOptions = {}): Promise<void> {
  await requireExists(path);
  const file = basename(path);
  const bytes = await readFile(path);
  const root = await readH5(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
  if (isLegacyWeightsTree(root)) {
    loadLegacyWeightsGroup(model, root.groups.get('model_weights') ?? root, file, options);
    return;
  }
  loadWeightsTree(model, root, file, options);
}
