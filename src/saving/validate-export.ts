/**
 * `saving.validateExport(model, sample)`: saves a model in every format
 * (`.keras`, legacy `.h5`, TF.js, ONNX), loads each file back (ONNX in a
 * fresh ONNX Runtime session), predicts on `sample` and compares with the
 * original model's prediction. Returns a table of the results.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DType } from '../tensor/dtype.ts';
import { formatShape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { tensor } from '../tensor/create.ts';
import { Layer, leaves } from '../layers/layer.ts';
import { Functional } from '../models/functional.ts';
import { Sequential } from '../models/sequential.ts';
import { createSession, fromOrtTensor, loadOrt, toOrtTensor } from '../graph/executors/ort.ts';
import { MODEL_FORMATS, type ModelFormat, loadModelFile, saveModelFile } from './formats.ts';

export interface ValidateExportOptions {
  /** Formats to check; default all: keras, h5, tfjs, onnx. */
  formats?: ModelFormat[];
  /** Folder for the files (kept); default a temporary folder, removed afterwards. */
  dir?: string;
  /** Relative tolerance; default 1e-4. */
  rtol?: number;
  /** Absolute tolerance; default 1e-5. */
  atol?: number;
}

export interface ValidationRow {
  format: ModelFormat;
  file: string;
  ok: boolean;
  /** Largest |reloaded - original| over all outputs; null when there was no prediction to compare. */
  maxAbsDiff: number | null;
  error: string | null;
}

export interface ValidationReport {
  rows: ValidationRow[];
  /** Whether every format passed. */
  ok: boolean;
  /** The table, one row per format. */
  toString(): string;
}

export type Sample = Tensor | Tensor[] | Record<string, Tensor>;

const isTensor = (x: unknown): x is Tensor => x instanceof Tensor;

function toSample(sample: unknown): Sample {
  if (sample instanceof Tensor) return sample;
  if (Array.isArray(sample)) return sample.every(isTensor) ? (sample as Tensor[]) : tensor(sample as never);
  if (sample && typeof sample === 'object') return Object.fromEntries(Object.entries(sample).map(([k, v]) => [k, v instanceof Tensor ? v : tensor(v as never)]));
  throw new TypeError('validateExport: the sample must be a tensor, a list of tensors (one per input) or an object keyed by input name.');
}

/** The model's prediction (inference mode), flattened to a list of tensors. */
export function predictFlat(model: Layer, sample: Sample): Tensor[] {
  const out = model.apply(sample as never, { training: false });
  return leaves(out, isTensor);
}

/** Compares two lists of outputs: the largest absolute difference, or a reason they cannot be compared. */
export function compareOutputs(actual: Tensor[], expected: Tensor[], rtol: number, atol: number): { ok: boolean; maxAbsDiff: number | null; error: string | null } {
  if (actual.length !== expected.length) return { ok: false, maxAbsDiff: null, error: `${actual.length} outputs, expected ${expected.length}` };
  let max = 0;
  let ok = true;
  for (let k = 0; k < expected.length; k++) {
    const a = actual[k];
    const e = expected[k];
    if (a.shape.length !== e.shape.length || a.shape.some((d, i) => d !== e.shape[i])) {
      return { ok: false, maxAbsDiff: null, error: `output ${k} has shape ${formatShape(a.shape)}, expected ${formatShape(e.shape)}` };
    }
    const av = a.dataSync() as ArrayLike<number>;
    const ev = e.dataSync() as ArrayLike<number>;
    for (let i = 0; i < ev.length; i++) {
      const x = Number(av[i]);
      const y = Number(ev[i]);
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      const d = Math.abs(x - y);
      if (!(d <= atol + rtol * Math.abs(y))) ok = false;
      if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
    }
  }
  return { ok, maxAbsDiff: max, error: ok ? null : `outputs differ (max |diff| ${max.toExponential(2)} > atol ${atol} + rtol ${rtol} * |expected|)` };
}

/** Runs an ONNX file in a fresh ONNX Runtime session on `sample`; outputs in the model's output order. */
export async function runOnnxFile(path: string, sample: Sample): Promise<Tensor[]> {
  const ort = await loadOrt();
  const session = await createSession(new Uint8Array(await readFile(path)));
  try {
    const feeds: Record<string, ReturnType<typeof toOrtTensor>> = {};
    const feed = (name: string, t: Tensor) => {
      feeds[name] = toOrtTensor(ort, t.dataSync(), t.shape as number[], t.dtype as DType);
    };
    if (!(sample instanceof Tensor) && !Array.isArray(sample)) {
      const sanitize = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');
      for (const [k, v] of Object.entries(sample)) feed(sanitize(k), v);
    } else {
      const inputs = leaves(sample, isTensor);
      if (inputs.length !== session.inputNames.length) throw new Error(`the ONNX model takes ${session.inputNames.length} inputs, the sample has ${inputs.length}`);
      inputs.forEach((t, i) => feed(session.inputNames[i], t));
    }
    const results = await session.run(feeds);
    return session.outputNames.map((n) => fromOrtTensor(results[n]));
  } finally {
    await session.release();
  }
}

/**
 * Checks one saved file against the original model's prediction: loads it
 * (ONNX: runs it) and compares on `sample`.
 */
export async function checkSavedFile(format: ModelFormat, file: string, sample: Sample, expected: Tensor[], tol: { rtol?: number; atol?: number } = {}): Promise<ValidationRow> {
  const rtol = tol.rtol ?? 1e-4;
  const atol = tol.atol ?? 1e-5;
  let actual: Tensor[];
  try {
    if (format === 'onnx') actual = await runOnnxFile(file, sample);
    else actual = predictFlat(await loadModelFile(file), sample);
  } catch (e) {
    return { format, file, ok: false, maxAbsDiff: null, error: `load/predict: ${firstLine(e)}` };
  }
  const result = compareOutputs(actual, expected, rtol, atol);
  return { format, file, ...result };
}

function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0];
}

const EXTENSIONS: Record<ModelFormat, string> = { keras: '.keras', h5: '.h5', tfjs: '_tfjs', onnx: '.onnx' };

/** A report (with its printable table) from rows. */
export function makeReport(rows: ValidationRow[]): ValidationReport {
  return {
    rows,
    ok: rows.every((r) => r.ok),
    toString() {
      const header = ['format', 'file', 'result', 'max |diff|', 'error'];
      const body = rows.map((r) => [r.format, r.file, r.ok ? 'ok' : 'FAILED', r.maxAbsDiff === null ? '-' : r.maxAbsDiff === 0 ? '0' : r.maxAbsDiff.toExponential(2), r.error ?? '']);
      const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
      const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
      return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
    },
  };
}

/**
 * Saves `model` in each format, reloads it, predicts on `sample` and
 * compares with the model's own prediction. Never throws for a failing
 * format: the row says what went wrong.
 */
export async function validateExport(model: Layer, sample: unknown, options: ValidateExportOptions = {}): Promise<ValidationReport> {
  if (!(model instanceof Layer)) throw new TypeError('validateExport: the first argument must be a model.');
  const formats = options.formats ?? [...MODEL_FORMATS];
  for (const f of formats) if (!MODEL_FORMATS.includes(f)) throw new TypeError(`validateExport: unknown format '${String(f)}'; expected ${MODEL_FORMATS.join(', ')}.`);
  const input = toSample(sample);
  const expected = predictFlat(model, input);
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'strata-validate-')));
  if (!ownDir) await mkdir(dir, { recursive: true });
  const base = model.name.replace(/[^A-Za-z0-9_.-]/g, '_') || 'model';
  const rows: ValidationRow[] = [];
  try {
    for (const format of formats) {
      const file = join(dir, `${base}${EXTENSIONS[format]}`);
      try {
        await saveModelFile(model, file, { format });
      } catch (e) {
        rows.push({ format, file, ok: false, maxAbsDiff: null, error: `save: ${firstLine(e)}` });
        continue;
      }
      rows.push(await checkSavedFile(format, file, input, expected, options));
    }
  } finally {
    if (ownDir) await rm(dir, { recursive: true, force: true });
  }
  return makeReport(rows);
}

/** Input shapes and dtypes of a model with known inputs (functional, or Sequential with an input). */
export function modelInputSpecs(model: Layer): { name: string; shape: (number | null)[]; dtype: DType }[] | null {
  if (model instanceof Functional) return model.inputTensors.map((k) => ({ name: k.history!.layer.name, shape: [...k.shape], dtype: k.dtype }));
  if (model instanceof Sequential && model.inputLayer) return [{ name: model.inputLayer.name, shape: [...model.inputLayer.batchShape], dtype: model.inputLayer.inputDtype }];
  return null;
}

/**
 * A small deterministic sample for a model with known inputs: batch 2,
 * unknown dims 3; floats in [-1, 1), integers 0 or 1 (valid token ids).
 */
export function sampleFor(model: Layer): Sample {
  const specs = modelInputSpecs(model);
  if (!specs) throw new Error(`model '${model.name}' has no known input shape, so no sample can be made for it.`);
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const tensors = specs.map((s) => {
    const shape = s.shape.map((d, i) => d ?? (i === 0 ? 2 : 3));
    const size = shape.reduce((p, d) => p * d, 1);
    const values = Array.from({ length: size }, () => (s.dtype === 'int32' || s.dtype === 'bool' ? (next() < 0.5 ? 0 : 1) : next() * 2 - 1));
    const data = s.dtype === 'int32' ? Int32Array.from(values) : s.dtype === 'bool' ? Uint8Array.from(values) : s.dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
    return new Tensor(shape, s.dtype, data);
  });
  return tensors.length === 1 ? tensors[0] : tensors;
}
