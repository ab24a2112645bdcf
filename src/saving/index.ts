/**
 * `strata.saving`: the object registry, Keras-format (de)serialization, and
 * model files: `.keras` (Keras 3), legacy `.h5` / `.hdf5` (Keras 2 and 3),
 * the TensorFlow.js layers format (`model.json` + weight files), weights
 * files (`.weights.h5`, legacy `.h5`), ONNX export, and `validateExport`.
 */
import { setSavingImplementation } from '../models/model.ts';
import type { Layer } from '../layers/layer.ts';
import { type LoadModelOptions, saveWeightsFile } from './keras-file.ts';
import { type SaveModelOptions, loadModelFile, loadWeightsFromFile, saveModelFile } from './formats.ts';
import { deserializeLayer, serializeLayer } from './model-config.ts';
import { exportOnnx, type OnnxExportOptions } from './onnx-export.ts';
import type { KerasObject } from '../serialization/keras-object.ts';

export { registerSerializable, customObjectScope, registeredNameOf } from '../serialization/registry.ts';
export type { RegisterOptions, Config } from '../serialization/registry.ts';
export { serializeObject, deserializeObject, UnknownObjectError } from '../serialization/keras-object.ts';
export type { KerasObject } from '../serialization/keras-object.ts';
export { serializeLayer, deserializeLayer } from './model-config.ts';
export type { DeserializeOptions } from './model-config.ts';
export type { LoadModelOptions } from './keras-file.ts';
export type { ModelFormat, SaveModelOptions } from './formats.ts';
export { formatOfPath } from './formats.ts';
export type { LegacyH5SaveOptions, LegacyWeightsOptions } from './legacy-h5.ts';
export { validateExport } from './validate-export.ts';
export type { ValidateExportOptions, ValidationReport, ValidationRow } from './validate-export.ts';

/**
 * Loads a model saved by Strata, Python Keras or TensorFlow.js. The format
 * follows the path: `.keras` (Keras 3), `.h5` / `.hdf5` (legacy Keras HDF5,
 * from Keras 2 or 3), a `.json` file or a folder holding `model.json`
 * (TensorFlow.js layers format).
 */
export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<Layer> {
  return loadModelFile(path, options);
}

/** Keras's `saving.serialize_keras_object` for layers and models. */
export function serialize(obj: Layer): KerasObject {
  return serializeLayer(obj);
}

export function deserialize(config: KerasObject, options: LoadModelOptions = {}): Layer {
  return deserializeLayer(config, options);
}

setSavingImplementation({
  save: (model, path, options) => saveModelFile(model, path, options as SaveModelOptions),
  saveWeights: (model, path) => saveWeightsFile(model, path),
  loadWeights: (model, path, options) => loadWeightsFromFile(model, path, options),
  exportModel: (model, path, options) => exportOnnx(model, path, options as OnnxExportOptions),
});
