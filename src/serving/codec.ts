/**
 * TensorFlow Serving's JSON predict format, both ways.
 *
 * Requests: the row format `{"instances": [...]}` (one entry per example: the
 * value itself for a single-input model, or `{inputName: value}`) or the
 * columnar format `{"inputs": value | {inputName: value}}` (batched values).
 * Responses: `{"predictions": [...]}` (one entry per example; `{outputName:
 * value}` for several outputs) or `{"outputs": value | {outputName: value}}`.
 * Numbers only: `{"b64": ...}` strings have no tensor type in Strata. As in TF
 * Serving, `NaN`, `Infinity` and `-Infinity` are accepted in requests and
 * written in responses (`parseJson`, `stringifyJson`), where plain JSON would
 * reject them or turn them into `null`.
 */
import { formatShape, type Shape } from '../tensor/shape.ts';
import { Tensor, TensorSpec } from '../tensor/tensor.ts';
import type { DType } from '../tensor/dtype.ts';
import { tensor } from '../tensor/create.ts';

/** What a served function takes and gives: named inputs with specs (batch dim first), named outputs. */
export interface ServingSignature {
  specs: TensorSpec[];
  inputNames: string[];
  outputNames: string[];
}

export type RequestFormat = 'row' | 'columnar';

/** A decoded request: the batch of each input, in signature order. */
export interface DecodedRequest {
  inputs: Tensor[];
  rows: number;
  format: RequestFormat;
}

/** A request the client got wrong (HTTP 400); the message names the input and the example. */
export class BadRequestError extends Error {
  override name = 'BadRequestError';
}

type Json = unknown;

const NON_FINITE = '\u0000strata-non-finite:';
const NON_FINITE_VALUES: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

/**
 * JSON.parse, also accepting the tokens `NaN`, `Infinity` and `-Infinity` outside
 * strings (TF Serving's JSON conformance: request values may be non-finite).
 * Throws SyntaxError like JSON.parse.
 */
export function parseJson(text: string): Json {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (!/NaN|Infinity/.test(text)) throw e;
  }
  // Rewrite the bare tokens as marked strings, then turn those back into numbers.
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92 /* \ */) i++;
      continue;
    }
    if (c !== 78 /* N */ && c !== 73 /* I */ && c !== 45 /* - */) continue;
    const token = text.startsWith('NaN', i) ? 'NaN' : text.startsWith('Infinity', i) ? 'Infinity' : text.startsWith('-Infinity', i) ? '-Infinity' : null;
    if (token === null) continue;
    parts.push(text.slice(from, i), JSON.stringify(NON_FINITE + token));
    i += token.length - 1;
    from = i + 1;
  }
  parts.push(text.slice(from));
  return JSON.parse(parts.join(''), (_key, value: unknown) => (typeof value === 'string' && value.startsWith(NON_FINITE) ? NON_FINITE_VALUES[value.slice(NON_FINITE.length)] : value));
}

/** JSON.stringify for responses, writing non-finite numbers as `NaN`, `Infinity`, `-Infinity` (TF Serving does) instead of `null`. */
export function stringifyJson(value: Json): string {
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stringifyJson(v))).join(',')}]`;
  if (isPlainObject(value)) {
    const fields = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${stringifyJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Names made unique by suffixes (`out`, `out_1`, ...): two outputs of one layer must not share a key in a response. */
export function uniqueNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    let unique = name;
    for (let k = 1; taken.has(unique); k++) unique = `${name}_${k}`;
    taken.add(unique);
    return unique;
  });
}

function isPlainObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** The shape of a nested list (checked rectangular), appending its numbers to `flat`; integer and bool inputs take only their values. */
function flatten(value: Json, where: string, flat: number[], dtype: DType): number[] {
  if (typeof value === 'number') {
    if (dtype === 'int32' && !(Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX)) throw new BadRequestError(`${where}: ${value} is not an int32 (the input's dtype).`);
    if (dtype === 'bool' && value !== 0 && value !== 1) throw new BadRequestError(`${where}: ${value} is not a bool (the input's dtype); use true/false.`);
    flat.push(value);
    return [];
  }
  if (typeof value === 'boolean') {
    flat.push(value ? 1 : 0);
    return [];
  }
  if (isPlainObject(value) && 'b64' in value) throw new BadRequestError(`${where}: {"b64": ...} strings are not supported; Strata models take numbers.`);
  if (!Array.isArray(value)) throw new BadRequestError(`${where}: expected a number or a list of numbers, got ${JSON.stringify(value)?.slice(0, 60)}.`);
  if (value.length === 0) return [0];
  const first = flatten(value[0], `${where}[0]`, flat, dtype);
  for (let i = 1; i < value.length; i++) {
    const shape = flatten(value[i], `${where}[${i}]`, flat, dtype);
    if (shape.length !== first.length || shape.some((d, k) => d !== first[k])) {
      throw new BadRequestError(`${where}: a ragged list (entry 0 has shape ${formatShape(first)}, entry ${i} has ${formatShape(shape)}).`);
    }
  }
  return [value.length, ...first];
}

/** Checks `shape` (without the batch dim) against the spec's, `null` matching any size. */
function checkShape(shape: readonly number[], spec: TensorSpec, where: string): void {
  const want = spec.shape.slice(1);
  const ok = shape.length === want.length && want.every((d, i) => d === null || d === shape[i]);
  if (!ok) throw new BadRequestError(`${where}: expected an example of shape ${formatShape(want as Shape)}, got ${formatShape(shape)}.`);
}

function toTensor(flat: number[], shape: number[], spec: TensorSpec): Tensor {
  return tensor(flat, shape, spec.dtype);
}

function inputValues(entry: Json, sig: ServingSignature, where: string): Json[] {
  const single = sig.inputNames.length === 1;
  if (isPlainObject(entry) && !('b64' in entry)) {
    const missing = sig.inputNames.filter((n) => !(n in entry));
    const unknown = Object.keys(entry).filter((k) => !sig.inputNames.includes(k));
    if (missing.length > 0 || unknown.length > 0) {
      throw new BadRequestError(
        `${where}: the inputs are named ${sig.inputNames.map((n) => `'${n}'`).join(', ')}` +
          (missing.length ? `; missing ${missing.map((n) => `'${n}'`).join(', ')}` : '') +
          (unknown.length ? `; unknown ${unknown.map((n) => `'${n}'`).join(', ')}` : '') +
          '.',
      );
    }
    return sig.inputNames.map((n) => entry[n]);
  }
  if (!single) throw new BadRequestError(`${where}: the model has ${sig.inputNames.length} inputs; give an object {${sig.inputNames.map((n) => `"${n}": ...`).join(', ')}}.`);
  return [entry];
}

/** Parses a predict request body (already JSON-decoded). */
export function decodePredictRequest(body: Json, sig: ServingSignature): DecodedRequest {
  if (!isPlainObject(body)) throw new BadRequestError('the request body must be a JSON object with "instances" or "inputs".');
  const signatureName = body.signature_name;
  // An empty name means the default signature, as in TF Serving.
  if (signatureName !== undefined && signatureName !== '' && signatureName !== 'serving_default') {
    throw new BadRequestError(`unknown signature_name '${String(signatureName)}'; this model has 'serving_default'.`);
  }
  const hasInstances = 'instances' in body;
  const hasInputs = 'inputs' in body;
  if (hasInstances === hasInputs) throw new BadRequestError('the request must have exactly one of "instances" (row format) or "inputs" (columnar format).');

  if (hasInstances) {
    const instances = body.instances;
    if (!Array.isArray(instances) || instances.length === 0) throw new BadRequestError('"instances" must be a non-empty list, one entry per example.');
    const flats = sig.specs.map(() => [] as number[]);
    const shapes: (number[] | null)[] = sig.specs.map(() => null);
    instances.forEach((entry, row) => {
      const values = inputValues(entry, sig, `instances[${row}]`);
      values.forEach((v, i) => {
        const where = `instances[${row}]${sig.inputNames.length > 1 || isPlainObject(entry) ? `.${sig.inputNames[i]}` : ''}`;
        const shape = flatten(v, where, flats[i], sig.specs[i].dtype);
        checkShape(shape, sig.specs[i], where);
        const first = shapes[i];
        if (first === null) shapes[i] = shape;
        else if (first.some((d, k) => d !== shape[k])) {
          throw new BadRequestError(`${where}: every instance must have the same shape (instance 0 has ${formatShape(first)}, this one ${formatShape(shape)}).`);
        }
      });
    });
    return { inputs: sig.specs.map((spec, i) => toTensor(flats[i], [instances.length, ...shapes[i]!], spec)), rows: instances.length, format: 'row' };
  }

  const values = inputValues(body.inputs, sig, '"inputs"');
  let rows = -1;
  const inputs = values.map((v, i) => {
    const where = sig.inputNames.length > 1 || isPlainObject(body.inputs) ? `inputs.${sig.inputNames[i]}` : 'inputs';
    const flat: number[] = [];
    const shape = flatten(v, where, flat, sig.specs[i].dtype);
    if (shape.length === 0 || shape[0] === 0) throw new BadRequestError(`${where}: expected a batch (a non-empty list, one entry per example).`);
    checkShape(shape.slice(1), sig.specs[i], `${where}[0]`);
    if (rows >= 0 && shape[0] !== rows) throw new BadRequestError(`${where}: ${shape[0]} examples, but the other inputs have ${rows}.`);
    rows = shape[0];
    return toTensor(flat, shape, sig.specs[i]);
  });
  return { inputs, rows, format: 'columnar' };
}

/** Rows [start, end) of each output, as nested lists, keyed for the response format. */
export function encodePredictResponse(outputs: readonly Json[][], sig: ServingSignature, format: RequestFormat, start: number, end: number): Record<string, Json> {
  const names = sig.outputNames;
  const rows = outputs.map((o) => o.slice(start, end));
  if (format === 'columnar') {
    return { outputs: names.length === 1 ? rows[0] : Object.fromEntries(names.map((n, i) => [n, rows[i]])) };
  }
  const predictions = Array.from({ length: end - start }, (_, r) => (names.length === 1 ? rows[0][r] : Object.fromEntries(names.map((n, i) => [n, rows[i][r]]))));
  return { predictions };
}

/** The signature as TF Serving's metadata endpoint describes it. */
export function signatureMetadata(sig: ServingSignature, outputSpecs: TensorSpec[]): Record<string, Json> {
  const DT: Record<string, string> = { float32: 'DT_FLOAT', float64: 'DT_DOUBLE', int32: 'DT_INT32', bool: 'DT_BOOL' };
  const info = (spec: TensorSpec, name: string) => ({
    dtype: DT[spec.dtype] ?? spec.dtype,
    tensor_shape: { dim: spec.shape.map((d) => ({ size: String(d ?? -1), name: '' })), unknown_rank: false },
    name,
  });
  return {
    serving_default: {
      inputs: Object.fromEntries(sig.specs.map((s, i) => [sig.inputNames[i], info(s, sig.inputNames[i])])),
      outputs: Object.fromEntries(outputSpecs.map((s, i) => [sig.outputNames[i], info(s, sig.outputNames[i])])),
      method_name: 'tensorflow/serving/predict',
    },
  };
}
