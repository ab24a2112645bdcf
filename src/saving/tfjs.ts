/**
 * The TensorFlow.js layers format: `model.json` (`modelTopology`,
 * `weightsManifest`) plus binary weight files.
 *
 * Writing: the topology in the Keras 2 form tfjs-layers 4.22 loads
 * (`batch_input_shape`, string dtypes, list-form nodes, `Model` for
 * functional models) and one weight file, `group1-shard1of1.bin` (for
 * `model.json`; `<stem>.group1-shard1of1.bin` for another `<stem>.json`),
 * holding every weight little-endian, back to back, in the manifest's order
 * (the model's trainable weights, then the non-trainable ones). Weights are
 * named as tfjs-layers names them, `<layer>/<weight>` by the layer that owns
 * the variable. float64 weights are written as float32 (tfjs has no float64).
 *
 * Reading: `model.json` as tfjs-layers writes it, or as the Python converter
 * does (`modelTopology.model_config`), camelCase configs included; weights
 * from all manifest groups concatenated per group, decoded per entry (float32,
 * int32, bool; quantized uint8/uint16 as `q * scale + min`, float16), and
 * matched to the model by name (tfjs-layers' names, Keras 2 names with
 * `:0`, Keras 3 converter names `layers/dense/vars/0`), or by order when the
 * names are unknown but every shape agrees. Everything is checked against
 * the files' sizes before anything large is allocated.
 */
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { Config } from '../serialization/registry.ts';
import { isKerasObject } from '../serialization/keras-object.ts';
import { formatShape } from '../tensor/shape.ts';
import { warn } from '../engine/warnings.ts';
import type { Variable } from '../engine/variable.ts';
import { writeFileAtomic } from '../graph/function.ts';
import { type Layer, classNameOf } from '../layers/layer.ts';
import { Model } from '../models/model.ts';
import { Bidirectional } from '../layers/rnn/bidirectional.ts';
import { STRATA_VERSION, type LoadModelOptions, parseLenientJson, restoreModel } from './keras-file.ts';
import { serializeLayer } from './model-config.ts';
import { hardSigmoidWarning, layersUsingActivation, normalizeLegacyConfig, toKeras2Config } from './keras2-config.ts';
import { compileFromTrainingConfig, variableOwners } from './legacy-h5.ts';
import { PendingAssignments, type StoredArray, legacyWeights, restoreOptimizerState, sameShape } from './legacy-weights.ts';
import { collectSaveables } from './walk.ts';
import { kerasTrainableWeights } from './keras-order.ts';
import { kerasSlotFromTfjs, tfjsSlotHasKerasCounterpart, tfjsTraining } from './tfjs-training.ts';

/** Layer classes tfjs-layers 4.22 registers (checked by running it); others cannot be loaded there. */
const TFJS_LAYER_CLASSES = new Set([
  'Activation', 'Add', 'AlphaDropout', 'Average', 'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D', 'BatchNormalization', 'Bidirectional',
  'CategoryEncoding', 'CenterCrop', 'Concatenate', 'Conv1D', 'Conv2D', 'Conv2DTranspose', 'Conv3D', 'Conv3DTranspose', 'ConvLSTM2D', 'Cropping2D', 'Dense',
  'DepthwiseConv2D', 'Dot', 'Dropout', 'ELU', 'Embedding', 'Flatten', 'Functional', 'GRU', 'GaussianDropout', 'GaussianNoise', 'GlobalAveragePooling1D',
  'GlobalAveragePooling2D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D', 'InputLayer', 'LSTM', 'LayerNormalization', 'LeakyReLU', 'Masking', 'MaxPooling1D',
  'MaxPooling2D', 'MaxPooling3D', 'Maximum', 'Minimum', 'Model', 'Multiply', 'PReLU', 'Permute', 'RNN', 'RandomWidth', 'ReLU', 'RepeatVector', 'Rescaling',
  'Reshape', 'Resizing', 'SeparableConv2D', 'Sequential', 'SimpleRNN', 'Softmax', 'SpatialDropout1D', 'ThresholdedReLU', 'TimeDistributed', 'UpSampling2D',
  'ZeroPadding2D',
]);

/** Most bytes a model.json may have (its topology is parsed in memory). */
const MAX_MODEL_JSON_BYTES = 256 * 1024 * 1024;
/** Most bytes all weight files of one model may hold together. */
const MAX_WEIGHT_BYTES = 8 * 1024 ** 3;

type ManifestDType = 'float32' | 'int32' | 'bool';
interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  group?: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}
interface ManifestGroup {
  paths: string[];
  weights: ManifestEntry[];
}

export interface TfjsModelJson {
  modelTopology: Config;
  weightsManifest: ManifestGroup[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: Config;
  [key: string]: unknown;
}

// ---------------------------------------------------------------------------
// Writing

/** Where `save` puts the files: a `.json` path, or a folder that gets `model.json`. */
export function tfjsPaths(path: string): { dir: string; json: string; weights: string } {
  if (path.toLowerCase().endsWith('.json')) {
    const name = basename(path);
    const stem = name.slice(0, -5);
    return { dir: dirname(path), json: name, weights: name === 'model.json' ? 'group1-shard1of1.bin' : `${stem}.group1-shard1of1.bin` };
  }
  return { dir: path, json: 'model.json', weights: 'group1-shard1of1.bin' };
}

/** Weights that Keras 3 (and Strata) name differently from Keras 2 and tfjs, by layer class. */
const KERAS2_WEIGHT_NAMES: Record<string, Record<string, string>> = {
  DepthwiseConv1D: { kernel: 'depthwise_kernel' },
  DepthwiseConv2D: { kernel: 'depthwise_kernel' },
};

/** Whose name (and whose Keras 2 weight names) a variable takes in tfjs-layers. */
interface TfjsOwner {
  name: string;
  layer: Layer;
}

/**
 * The layer tfjs-layers names each variable after: the outermost layer that
 * holds it below the (possibly nested) models, since tfjs builds sublayers
 * such as an RNN's cell in their parent's name scope (`lstm/kernel`). A
 * Bidirectional builds its two copies in nested scopes, so theirs are
 * `bidirectional/forward_lstm/kernel` and `bidirectional/backward_lstm/kernel`.
 */
function ownerLayers(model: Layer): Map<Variable, TfjsOwner> {
  const owners = new Map<Variable, TfjsOwner>();
  const own = (v: Variable, owner: TfjsOwner) => {
    if (!owners.has(v)) owners.set(v, owner);
  };
  const visit = (layer: Layer, depth: number): void => {
    if (depth > 1000) return;
    for (const v of layer.ownVariables) own(v, { name: layer.name, layer });
    for (const sub of layer.layers) {
      if (sub instanceof Model) visit(sub, depth + 1);
      else if (sub instanceof Bidirectional) {
        for (const direction of [sub.forwardLayer, sub.backwardLayer]) for (const v of direction.weights) own(v, { name: `${sub.name}/${direction.name}`, layer: direction });
      } else for (const v of sub.weights) own(v, { name: sub.name, layer: sub });
    }
  };
  visit(model, 0);
  return owners;
}

/** The name tfjs-layers (and Keras 2) give a variable: `<owning layer>/<weight>`. */
function keras2WeightName(v: Variable, owner: TfjsOwner | undefined, fallback: string): string {
  const cls = owner ? classNameOf(owner.layer.constructor as typeof Layer) : '';
  return `${owner?.name ?? fallback}/${KERAS2_WEIGHT_NAMES[cls]?.[v.name] ?? v.name}`;
}

/** tfjs-layers' name for each weight: `<owning layer>/<weight>`. */
function tfjsWeightNames(model: Layer, weights: readonly Variable[]): string[] {
  const owners = ownerLayers(model);
  const names = weights.map((v) => keras2WeightName(v, owners.get(v), model.name));
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    const first = seen.get(n);
    if (first !== undefined) {
      throw new Error(`save: two weights would both be named '${n}' in TF.js (tfjs-layers identifies weights by layer name; '${weights[first].path}' and '${weights[i].path}'). Give the layers distinct names.`);
    }
    seen.set(n, i);
  });
  return names;
}

function layerClassNames(config: unknown, out = new Set<string>()): Set<string> {
  if (!isKerasObject(config)) return out;
  out.add(config.class_name);
  const layers = (config.config as Config | undefined)?.layers;
  if (Array.isArray(layers)) for (const l of layers) layerClassNames(l, out);
  layerClassNames((config.config as Config | undefined)?.layer, out); // a wrapper's layer
  return out;
}

/** Names of the GRU layers (wrapped ones too) with `reset_after: true`, which tfjs-layers' GRUCell refuses. */
function resetAfterGrus(config: unknown, out: string[] = []): string[] {
  if (!isKerasObject(config)) return out;
  const c = (config.config ?? {}) as Config;
  if (config.class_name === 'GRU' && c.reset_after === true) out.push(String(c.name));
  if (Array.isArray(c.layers)) for (const l of c.layers) resetAfterGrus(l, out);
  resetAfterGrus(c.layer, out);
  return out;
}

/** The `model.json` object and weight bytes of `model` in the TF.js layers format. */
export interface TfjsSaveOptions {
  /**
   * For a compiled model, also write its training config and optimizer state
   * (tfjs-layers' includeOptimizer), so tf.loadLayersModel gives a compiled model
   * that continues training. Default true; a warning says what TF.js cannot represent.
   */
  includeOptimizer?: boolean;
}

export function tfjsArtifacts(model: Layer, weightsPath = 'group1-shard1of1.bin', options: TfjsSaveOptions = {}): { modelJson: TfjsModelJson; weightData: Uint8Array } {
  if (!model.built) throw new Error(`save: model '${model.name}' is not built; call it on data (or give it an input shape) before saving to TF.js.`);
  const topology = toKeras2Config(serializeLayer(model), 'tfjs');
  const unsupported = [...layerClassNames(topology)].filter((c) => !TFJS_LAYER_CLASSES.has(c));
  if (unsupported.length > 0) warn(`save: TensorFlow.js (tfjs-layers 4.22) has no layer class ${unsupported.map((c) => `'${c}'`).join(', ')}; tf.loadLayersModel will not load this model there (Strata still can).`);
  const grus = resetAfterGrus(topology);
  if (grus.length > 0) {
    warn(`save: tfjs-layers 4.22 cannot load GRU layers with resetAfter: true (Keras's default): ${grus.map((n) => `'${n}'`).join(', ')}. tf.loadLayersModel will refuse this model (Strata still loads it); for TF.js, build the GRU with resetAfter: false and train it again.`);
  }
  const hard = hardSigmoidWarning(layersUsingActivation(topology, 'hard_sigmoid'), 'save', 'write');
  if (hard) warn(hard);
  const weights = legacyWeights(model);
  const names = tfjsWeightNames(model, weights);
  const entries: ManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  weights.forEach((v, i) => {
    const values = v.value.dataSync();
    let bytes: Uint8Array;
    let dtype: ManifestDType;
    if (v.dtype === 'int32') {
      dtype = 'int32';
      bytes = littleEndian(Int32Array.from(values as ArrayLike<number>));
    } else if (v.dtype === 'bool') {
      dtype = 'bool';
      bytes = Uint8Array.from(values as ArrayLike<number>, (x) => (x ? 1 : 0));
    } else {
      dtype = 'float32';
      bytes = littleEndian(Float32Array.from(values as ArrayLike<number>));
    }
    entries.push({ name: names[i], shape: [...(v.shape as number[])], dtype });
    chunks.push(bytes);
  });
  let trainingConfig: Config | undefined;
  if ((options.includeOptimizer ?? true) && model instanceof Model && model.compileOptions) {
    const nameOf = new Map(weights.map((v, i) => [v, names[i]]));
    const training = tfjsTraining(model, kerasTrainableWeights(model), (v) => nameOf.get(v) ?? v.path);
    if ('skipped' in training) {
      warn(`save: the TF.js model.json has no training config (tf.loadLayersModel gives an uncompiled model): ${training.skipped}.`);
    } else {
      trainingConfig = training.trainingConfig;
      if (training.droppedMetrics.length > 0) warn(`save: tfjs-layers cannot compile the metric${training.droppedMetrics.length > 1 ? 's' : ''} ${training.droppedMetrics.join(', ')}; the TF.js training config leaves ${training.droppedMetrics.length > 1 ? 'them' : 'it'} out.`);
      for (const w of training.weights) {
        entries.push({ name: w.name, shape: w.shape, dtype: w.dtype, group: 'optimizer' });
        chunks.push(littleEndian(w.values));
      }
    }
  }
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const weightData = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    weightData.set(c, at);
    at += c.byteLength;
  }
  const modelJson: TfjsModelJson = {
    format: 'layers-model',
    generatedBy: `Strata v${STRATA_VERSION}`,
    convertedBy: null,
    modelTopology: { ...topology, keras_version: `strata ${STRATA_VERSION}`, backend: 'tensor_flow.js' },
    weightsManifest: [{ paths: [weightsPath], weights: entries }],
    ...(trainingConfig ? { trainingConfig } : {}),
  };
  return { modelJson, weightData };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndian(a: Float32Array | Int32Array): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) for (let k = 0; k < 4; k++) out[i + k] = bytes[i + 3 - k];
  return out;
}

/** Saves `model` as `model.json` + weights (a `.json` path, or a folder). Weights are written first, then the JSON. */
export async function saveTfjs(model: Layer, path: string, options: TfjsSaveOptions = {}): Promise<void> {
  const { dir, json, weights } = tfjsPaths(path);
  await mkdir(dir, { recursive: true });
  const { modelJson, weightData } = tfjsArtifacts(model, weights, options);
  await writeFileAtomic(join(dir, weights), weightData);
  await writeFileAtomic(join(dir, json), new TextEncoder().encode(JSON.stringify(modelJson)));
}

// ---------------------------------------------------------------------------
// Reading

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

const ELEMENT_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Checks a manifest's structure; returns its groups with sizes in bytes per entry. */
export function checkManifest(manifest: unknown, file: string): { group: ManifestGroup; sizes: number[]; bytes: number }[] {
  if (!Array.isArray(manifest)) throw new Error(`${file}: 'weightsManifest' must be a list of groups, but it is ${manifest === undefined ? 'missing' : typeof manifest}.`);
  const names = new Set<string>();
  return manifest.map((g, gi) => {
    const where = `${file}: weightsManifest[${gi}]`;
    if (!isObject(g)) throw new Error(`${where} must be an object with 'paths' and 'weights'.`);
    if (!Array.isArray(g.paths) || g.paths.some((p) => typeof p !== 'string' || p === '')) throw new Error(`${where}.paths must be a list of file names.`);
    if (!Array.isArray(g.weights)) throw new Error(`${where}.weights must be a list.`);
    if (g.weights.length > 0 && g.paths.length === 0) throw new Error(`${where} lists weights but no files.`);
    let bytes = 0;
    const sizes = (g.weights as unknown[]).map((w, wi) => {
      const at = `${where}.weights[${wi}]`;
      if (!isObject(w) || typeof w.name !== 'string') throw new Error(`${at} must be an object with a string 'name'.`);
      const label = `${file}: weight '${w.name}'`;
      if (names.has(w.name)) throw new Error(`${label} is listed twice in the manifest.`);
      names.add(w.name);
      if (!Array.isArray(w.shape) || w.shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
        throw new Error(`${label}: the shape must be a list of non-negative integers, got ${JSON.stringify(w.shape)?.slice(0, 80)}.`);
      }
      if (w.shape.length > 32) throw new Error(`${label}: the shape has ${w.shape.length} dimensions.`);
      let count = 1;
      for (const d of w.shape as number[]) count *= d;
      const q = w.quantization;
      let storage: string;
      if (q !== undefined && q !== null) {
        if (!isObject(q) || typeof q.dtype !== 'string' || !['uint8', 'uint16', 'float16'].includes(q.dtype)) {
          throw new Error(`${label}: unsupported quantization ${JSON.stringify(q)?.slice(0, 80)} (expected dtype uint8, uint16 or float16).`);
        }
        if (q.dtype !== 'float16' && (typeof q.scale !== 'number' || typeof q.min !== 'number' || !Number.isFinite(q.scale) || !Number.isFinite(q.min))) {
          throw new Error(`${label}: ${q.dtype} quantization needs numeric 'scale' and 'min'.`);
        }
        storage = q.dtype;
      } else {
        storage = String(w.dtype);
      }
      if (!['float32', 'int32', 'bool'].includes(String(w.dtype))) {
        throw new Error(`${label}: dtype ${JSON.stringify(w.dtype)} is not supported (Strata reads float32, int32 and bool weights).`);
      }
      const size = count * ELEMENT_BYTES[storage];
      if (!Number.isSafeInteger(size) || size > MAX_WEIGHT_BYTES) {
        throw new Error(`${label}: shape ${formatShape(w.shape as number[])} claims ${count.toExponential(3)} elements, more than any weight file can hold; the manifest is corrupt.`);
      }
      bytes += size;
      return size;
    });
    return { group: g as unknown as ManifestGroup, sizes, bytes };
  });
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Decodes one entry's bytes (already size-checked) to numbers. */
function decodeEntry(entry: ManifestEntry, bytes: Uint8Array): Float32Array | Int32Array | Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = entry.quantization;
  if (q) {
    const n = bytes.byteLength / ELEMENT_BYTES[q.dtype];
    const out = new Float32Array(n);
    if (q.dtype === 'float16') for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
    else if (q.dtype === 'uint8') for (let i = 0; i < n; i++) out[i] = bytes[i] * q.scale! + q.min!;
    else for (let i = 0; i < n; i++) out[i] = view.getUint16(2 * i, true) * q.scale! + q.min!;
    if (entry.dtype === 'int32') return Int32Array.from(out, (v) => Math.round(v));
    return out;
  }
  if (entry.dtype === 'bool') return bytes.slice();
  const n = bytes.byteLength / 4;
  if (entry.dtype === 'int32') {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
    return out;
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/** Reads a weight file given by a manifest path, refusing paths that leave the model's folder. */
export type ShardReader = (path: string) => Promise<{ size: number; read: () => Promise<Uint8Array> }>;

function fileShardReader(dir: string, file: string): ShardReader {
  return async (path: string) => {
    let clean = path.replace(/^\.\//, '');
    try {
      clean = decodeURIComponent(clean);
    } catch {
      // not URL-encoded: use it as written
    }
    const resolved = resolve(dir, clean);
    if (isAbsolute(clean) || clean.split(/[\\/]/).includes('..') || !resolved.startsWith(dir.endsWith(sep) ? dir : dir + sep)) {
      throw new Error(`${file}: the weights manifest names '${path}', which is outside the model's folder; refusing to read it.`);
    }
    let size: number;
    try {
      const s = await stat(resolved);
      if (!s.isFile()) throw new Error('not a file');
      size = s.size;
    } catch {
      throw new Error(`${file}: the weight file '${path}' listed in the manifest is missing (looked for ${resolved}).`);
    }
    return {
      size,
      read: async () => {
        const handle = await open(resolved, 'r');
        try {
          const out = new Uint8Array(size);
          let at = 0;
          while (at < size) {
            const { bytesRead } = await handle.read(out, at, size - at, at);
            if (bytesRead === 0) break;
            at += bytesRead;
          }
          if (at !== size) throw new Error(`${file}: the weight file '${path}' changed while it was being read.`);
          return out;
        } finally {
          await handle.close();
        }
      },
    };
  };
}

/** Reads every manifest entry's values (sizes checked against the files first). */
export async function readManifestWeights(manifest: unknown, readShard: ShardReader, file: string): Promise<{ entry: ManifestEntry; stored: StoredArray }[]> {
  const groups = checkManifest(manifest, file);
  const out: { entry: ManifestEntry; stored: StoredArray }[] = [];
  let totalBytes = 0;
  for (const { group, sizes, bytes } of groups) {
    const shards = [];
    for (const p of group.paths) shards.push({ path: p, ...(await readShard(p)) });
    const available = shards.reduce((n, s) => n + s.size, 0);
    const names = shards.map((s) => `'${s.path}'`).join(' + ');
    if (available < bytes) {
      throw new Error(`${file}: the weight files ${names} hold ${available} bytes, but the manifest's ${group.weights.length} weights need ${bytes}; a file is truncated or the manifest does not match it.`);
    }
    if (available > bytes) {
      throw new Error(`${file}: the weight files ${names} hold ${available} bytes, but the manifest's weights account for only ${bytes}; the manifest does not match the files.`);
    }
    totalBytes += available;
    if (totalBytes > MAX_WEIGHT_BYTES) throw new Error(`${file}: the weight files hold more than ${MAX_WEIGHT_BYTES} bytes; refusing to load them.`);
    const data = new Uint8Array(available);
    let at = 0;
    for (const s of shards) {
      data.set(await s.read(), at);
      at += s.size;
    }
    let offset = 0;
    group.weights.forEach((entry, i) => {
      const slice = data.subarray(offset, offset + sizes[i]);
      offset += sizes[i];
      out.push({ entry, stored: { name: entry.name, shape: entry.shape, read: () => decodeEntry(entry, slice) } });
    });
  }
  return out;
}

/** The model's weights, with every name tfjs-layers, the converter or Keras 2 may have given each. */
function weightCandidates(model: Layer): { variable: Variable; names: string[] }[] {
  const owners = variableOwners(model);
  const layers = ownerLayers(model);
  const keras3Paths = new Map<Variable, string>();
  for (const node of collectSaveables(model, { includeOptimizer: false })) {
    node.variables.forEach((v, i) => {
      if (!keras3Paths.has(v)) keras3Paths.set(v, `${node.path ? `${node.path}/` : ''}vars/${i}`);
    });
  }
  return legacyWeights(model).map((v) => ({
    variable: v,
    names: [keras2WeightName(v, layers.get(v), model.name), `${owners.get(v) ?? model.name}/${v.name}`, v.path, keras3Paths.get(v) ?? ''].filter(Boolean),
  }));
}

/** Matches stored weights to the model by name (or by order if no name is known and the shapes agree). */
export function assignManifestWeights(model: Layer, stored: StoredArray[], file: string, options: { skipMismatch?: boolean } = {}): void {
  const candidates = weightCandidates(model);
  const byName = new Map<string, Variable>();
  for (const c of candidates) for (const n of c.names) if (!byName.has(n)) byName.set(n, c.variable);
  const lookup = (name: string): Variable | undefined => {
    const plain = name.replace(/:\d+$/, '');
    if (byName.has(plain)) return byName.get(plain);
    // TF >= 2.2 put the RNN cell's name in weight names (layer/cell/weight); tfjs drops it.
    const parts = plain.split('/');
    if (parts.length >= 3) return byName.get([...parts.slice(0, -2), parts[parts.length - 1]].join('/'));
    return undefined;
  };
  const pending = new PendingAssignments(file, options.skipMismatch ?? false, false);
  const matched = stored.map((s) => lookup(s.name));
  const unmatched = stored.filter((_, i) => !matched[i]);
  if (unmatched.length === 0 && new Set(matched).size === matched.length) {
    stored.forEach((s, i) => pending.add(`weight '${s.name}'`, [matched[i]!], [s]));
    const missing = candidates.filter((c) => !matched.includes(c.variable));
    if (missing.length > 0) pending.report(`the file has no value for ${missing.map((c) => `'${c.names[0]}' ${formatShape(c.variable.shape)}`).join(', ')}.`);
    pending.commit();
    return;
  }
  // Names the model does not know: Keras loads by order when the counts and shapes agree.
  const variables = candidates.map((c) => c.variable);
  if (stored.length === variables.length && variables.every((v, i) => sameShape(v.shape, stored[i].shape))) {
    warn(`${file}: weight names such as '${unmatched[0].name}' do not match the model's layers; the weights were loaded by order (every shape agrees).`);
    pending.add('the model', variables, stored);
    pending.commit();
    return;
  }
  throw new Error(
    `${file}: the weights do not match the model (nothing was loaded): the file's ${unmatched.map((s) => `'${s.name}'`).slice(0, 5).join(', ')}${unmatched.length > 5 ? ', ...' : ''} ` +
      `match no weight of the model, whose weights are ${candidates.slice(0, 8).map((c) => `'${c.names[0]}'`).join(', ')}${candidates.length > 8 ? ', ...' : ''}.`,
  );
}

/** Parses and checks a model.json object. */
function checkModelJson(parsed: unknown, file: string): TfjsModelJson {
  if (!isObject(parsed)) throw new Error(`${file}: not a TensorFlow.js model (the JSON is not an object).`);
  if (parsed.format !== undefined && parsed.format !== 'layers-model') {
    throw new Error(`${file}: this is a TensorFlow.js ${String(parsed.format)} model (tf.loadGraphModel), not a layers model; Strata reads the layers format only.`);
  }
  if (!isObject(parsed.modelTopology)) {
    throw new Error(`${file}: not a TensorFlow.js layers model ('modelTopology' is ${parsed.modelTopology === undefined ? 'missing' : 'not an object'}).`);
  }
  if (parsed.weightsManifest === undefined) throw new Error(`${file}: the model has no 'weightsManifest'.`);
  return parsed as TfjsModelJson;
}

/** Builds a model from a model.json object, reading weights through `readShard`. */
export async function loadTfjsArtifacts(parsed: unknown, readShard: ShardReader, file: string, options: LoadModelOptions = {}): Promise<Layer> {
  const json = checkModelJson(parsed, file);
  let topology = json.modelTopology as Record<string, unknown>;
  let trainingConfig: unknown = json.trainingConfig;
  // The converter's form: the h5 root attributes, the model under model_config.
  if (isObject(topology.model_config)) {
    trainingConfig ??= topology.training_config;
    topology = topology.model_config;
  }
  // tfjs-layers' in-memory (camelCase) form names the class `className`.
  const className = topology.class_name ?? topology.className;
  if (typeof className !== 'string') throw new Error(`${file}: the model topology has no 'class_name'.`);
  let config;
  try {
    config = normalizeLegacyConfig({ class_name: className, config: topology.config });
  } catch (e) {
    throw new Error(`${file}: invalid model topology: ${(e as Error).message}`);
  }
  // Strata writes Keras 3's hard_sigmoid; files from tfjs and Keras 2 mean the older one.
  const fromStrata = typeof json.generatedBy === 'string' && json.generatedBy.startsWith('Strata');
  const hard = fromStrata ? null : hardSigmoidWarning(layersUsingActivation(config, 'hard_sigmoid'), file, 'read');
  if (hard) warn(hard);
  // Weights are read (and checked against the files) before the model is built.
  const weights = await readManifestWeights(json.weightsManifest, readShard, file);
  let model: Layer;
  try {
    model = await restoreModel(config, null, file, { ...options, compile: false });
  } catch (e) {
    const message = (e as Error).message;
    throw message.startsWith(file) ? e : new Error(`${file}: cannot rebuild the model from its topology: ${message}`);
  }
  const modelWeights = weights.filter((w) => w.entry.group !== 'optimizer').map((w) => w.stored);
  assignManifestWeights(model, modelWeights, file);
  if ((options.compile ?? true) && trainingConfig !== undefined && trainingConfig !== null && model instanceof Model) {
    if (compileFromTrainingConfig(model, trainingConfig, file) && model.optimizer) {
      const optimizerWeights = weights.filter((w) => w.entry.group === 'optimizer' && hasKerasCounterpart(w.stored, trainingConfig)).map((w) => fromTfjsState(w.stored, trainingConfig));
      if (optimizerWeights.length > 0) restoreOptimizerState(model.optimizer, kerasTrainableWeights(model), optimizerWeights, file);
    }
  }
  return model;
}

function tfjsOptimizerConfig(trainingConfig: unknown): { optimizer: Record<string, unknown> | null; config: Record<string, unknown> } {
  const optimizer = isObject(trainingConfig) && isObject(trainingConfig.optimizer_config) ? trainingConfig.optimizer_config : null;
  return { optimizer, config: optimizer && isObject(optimizer.config) ? optimizer.config : {} };
}

function hasKerasCounterpart(stored: StoredArray, trainingConfig: unknown): boolean {
  const { optimizer, config } = tfjsOptimizerConfig(trainingConfig);
  return typeof optimizer?.class_name !== 'string' || tfjsSlotHasKerasCounterpart(optimizer.class_name, config, stored.name);
}

/** An optimizer weight as Keras keeps it (tfjs's Momentum keeps its slots on another scale). */
function fromTfjsState(stored: StoredArray, trainingConfig: unknown): StoredArray {
  const { optimizer, config } = tfjsOptimizerConfig(trainingConfig);
  const rate = Number(config.learningRate ?? config.learning_rate);
  const transform = typeof optimizer?.class_name === 'string' && Number.isFinite(rate) ? kerasSlotFromTfjs(optimizer.class_name, rate, stored.name) : null;
  if (!transform) return stored;
  return { ...stored, read: () => Array.from(stored.read(), transform) };
}

/** Where a TF.js model's JSON is: a `.json` path, or `model.json` in a folder. */
export async function resolveTfjsJson(path: string): Promise<string> {
  let s;
  try {
    s = await stat(path);
  } catch {
    throw new Error(`${path}: no such file or folder.`);
  }
  if (!s.isDirectory()) return path;
  const json = join(path, 'model.json');
  try {
    await stat(json);
  } catch {
    throw new Error(`${path}: the folder has no model.json (a TensorFlow.js layers model is a model.json file plus weight files).`);
  }
  return json;
}

/** Loads a TF.js layers model from `model.json` (or a folder holding it). */
export async function loadTfjsModel(path: string, options: LoadModelOptions = {}): Promise<Layer> {
  const jsonPath = await resolveTfjsJson(path);
  const file = basename(jsonPath);
  const s = await stat(jsonPath);
  if (s.size > MAX_MODEL_JSON_BYTES) throw new Error(`${file}: ${s.size} bytes is too large for a model.json (at most ${MAX_MODEL_JSON_BYTES}).`);
  const bytes = await readFile(jsonPath);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${file}: not a JSON file (not valid UTF-8).`);
  }
  const parsed = parseLenientJson(text, file);
  return loadTfjsArtifacts(parsed, fileShardReader(resolve(dirname(jsonPath)), file), file, options);
}
