/**
 * tf.train.Example: the protobuf that TFRecord files usually hold, through
 * protobufjs with the message definitions of TensorFlow's
 * core/example/feature.proto and example.proto (same field numbers).
 *
 * - `serializeExample({name: {floatList: [...]}, ...})` / `deserializeExample(bytes)`;
 * - `parseSingleExample(record, spec)`: one record to {name: tensor};
 * - `parseExample(records, spec)`: a batch of records (after `batch`) to
 *   {name: tensor with a batch dimension}; variable-length features become
 *   SparseTensors, as in tf.io.parse_example;
 * - `FixedLenFeature(shape, dtype, defaultValue?)`, `VarLenFeature(dtype)`.
 *
 * int64 features become int32 tensors (Strata has no int64); a value outside
 * the int32 range is an error naming the feature.
 */
import protobuf from 'protobufjs';
import { Tensor } from '../../tensor/tensor.ts';
import { type DType, type TypedArray, allocate } from '../../tensor/dtype.ts';
import { describe, formatShape } from '../../tensor/shape.ts';
import { SparseTensor, StringTensor } from '../structure.ts';

const schema = {
  nested: {
    tensorflow: {
      nested: {
        BytesList: { fields: { value: { rule: 'repeated', type: 'bytes', id: 1 } } },
        FloatList: { fields: { value: { rule: 'repeated', type: 'float', id: 1, options: { packed: true } } } },
        Int64List: { fields: { value: { rule: 'repeated', type: 'int64', id: 1, options: { packed: true } } } },
        Feature: {
          oneofs: { kind: { oneof: ['bytesList', 'floatList', 'int64List'] } },
          fields: {
            bytesList: { type: 'BytesList', id: 1 },
            floatList: { type: 'FloatList', id: 2 },
            int64List: { type: 'Int64List', id: 3 },
          },
        },
        Features: { fields: { feature: { keyType: 'string', type: 'Feature', id: 1 } } },
        FeatureList: { fields: { feature: { rule: 'repeated', type: 'Feature', id: 1 } } },
        FeatureLists: { fields: { featureList: { keyType: 'string', type: 'FeatureList', id: 1 } } },
        Example: { fields: { features: { type: 'Features', id: 1 } } },
        SequenceExample: {
          fields: {
            context: { type: 'Features', id: 1 },
            featureLists: { type: 'FeatureLists', id: 2 },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(schema);
export const ExampleProto = root.lookupType('tensorflow.Example');
export const SequenceExampleProto = root.lookupType('tensorflow.SequenceExample');

type LongLike = { low: number; high: number; unsigned?: boolean };

/** A feature value for serializeExample. */
export type FeatureValue =
  | { int64List: ArrayLike<number | bigint> | readonly (number | bigint)[] }
  | { floatList: ArrayLike<number> }
  | { bytesList: readonly (Uint8Array | string)[] };

/** A decoded feature: int64 values as numbers (exact up to 2^53), floats as a Float32Array, bytes as Uint8Arrays. */
export type DecodedFeature = { kind: 'int64List'; values: number[] } | { kind: 'floatList'; values: Float32Array } | { kind: 'bytesList'; values: Uint8Array[] };

export function int64Feature(values: number | bigint | ArrayLike<number | bigint>): FeatureValue {
  return { int64List: typeof values === 'number' || typeof values === 'bigint' ? [values] : values };
}

export function floatFeature(values: number | ArrayLike<number>): FeatureValue {
  return { floatList: typeof values === 'number' ? [values] : values };
}

export function bytesFeature(values: Uint8Array | string | readonly (Uint8Array | string)[]): FeatureValue {
  return { bytesList: typeof values === 'string' || values instanceof Uint8Array ? [values] : values };
}

const text = new TextEncoder();
const untext = new TextDecoder();

function toLong(v: number | bigint, where: string): unknown {
  const Long = protobuf.util.Long as unknown as { fromString(s: string): unknown; fromNumber(n: number): unknown } | undefined;
  if (typeof v === 'bigint') return Long ? Long.fromString(v.toString()) : Number(v);
  if (!Number.isSafeInteger(v)) throw new TypeError(`${where}: int64 values must be integers; got ${v}.`);
  return Long ? Long.fromNumber(v) : v;
}

/** Encodes a tf.train.Example from {name: {int64List | floatList | bytesList}}. */
export function serializeExample(features: Record<string, FeatureValue>): Uint8Array {
  const feature: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(features)) {
    const where = `serializeExample: feature '${name}'`;
    if (f && 'int64List' in f) feature[name] = { int64List: { value: Array.from(f.int64List as ArrayLike<number | bigint>, (v) => toLong(v, where)) } };
    else if (f && 'floatList' in f) feature[name] = { floatList: { value: Array.from(f.floatList) } };
    else if (f && 'bytesList' in f) feature[name] = { bytesList: { value: f.bytesList.map((b) => (typeof b === 'string' ? text.encode(b) : b)) } };
    else throw new TypeError(`${where}: expected {int64List}, {floatList} or {bytesList}; got ${describe(f)}.`);
  }
  return ExampleProto.encode(ExampleProto.create({ features: { feature } })).finish();
}

function longToNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  const l = v as LongLike;
  return l.high * 4294967296 + (l.low >>> 0);
}

interface RawFeature {
  bytesList?: { value: Uint8Array[] };
  floatList?: { value: number[] };
  int64List?: { value: unknown[] };
}

function decodeMessage(bytes: Uint8Array, where: string): Record<string, RawFeature> {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${where}: expected a serialized Example (a Uint8Array, such as a TFRecordDataset element); got ${describe(bytes)}.`);
  let msg: { features?: { feature?: Record<string, RawFeature> } };
  try {
    msg = ExampleProto.decode(bytes) as never;
  } catch (e) {
    throw new Error(`${where}: the record is not a valid tf.train.Example protobuf (${(e as Error).message}).`, { cause: e });
  }
  return msg.features?.feature ?? {};
}

/** Decodes a serialized tf.train.Example into {name: {kind, values}}. */
export function deserializeExample(bytes: Uint8Array): Record<string, DecodedFeature> {
  const raw = decodeMessage(bytes, 'deserializeExample');
  const out: Record<string, DecodedFeature> = {};
  for (const [name, f] of Object.entries(raw)) {
    if (f.int64List) out[name] = { kind: 'int64List', values: f.int64List.value.map(longToNumber) };
    else if (f.floatList) out[name] = { kind: 'floatList', values: Float32Array.from(f.floatList.value) };
    else out[name] = { kind: 'bytesList', values: f.bytesList?.value ?? [] };
  }
  return out;
}

// ---------------------------------------------------------------------------
// Parsing with a feature spec

export type FeatureDType = 'int64' | 'int32' | 'float32' | 'float64' | 'string' | 'bytes';

const KIND_OF: Record<FeatureDType, 'int64List' | 'floatList' | 'bytesList'> = {
  int64: 'int64List',
  int32: 'int64List',
  float32: 'floatList',
  float64: 'floatList',
  string: 'bytesList',
  bytes: 'bytesList',
};

function checkFeatureDType(d: unknown, where: string): FeatureDType {
  if (typeof d === 'string' && d in KIND_OF) return d as FeatureDType;
  throw new TypeError(`${where}: Received: dtype=${describe(d)}; expected one of ${Object.keys(KIND_OF).join(', ')} ('string' decodes bytes as UTF-8, 'bytes' keeps Uint8Arrays).`);
}

/** A feature with a fixed number of values (tf.io.FixedLenFeature). */
export class FixedLenFeature {
  readonly kind = 'fixed' as const;
  readonly shape: readonly number[];
  readonly dtype: FeatureDType;
  constructor(
    shape: readonly number[],
    dtype: FeatureDType,
    /** Used when a record lacks the feature (a scalar, or a list of the full size). Without it the feature is required. */
    readonly defaultValue?: number | string | Uint8Array | ArrayLike<number> | readonly (string | Uint8Array)[],
  ) {
    this.dtype = checkFeatureDType(dtype, 'FixedLenFeature');
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) throw new TypeError(`FixedLenFeature: Received: shape=${describe(shape)}; expected a list of non-negative integers ([] for a scalar).`);
    this.shape = Object.freeze([...shape]);
  }
}

/** A feature with any number of values (tf.io.VarLenFeature). */
export class VarLenFeature {
  readonly kind = 'var' as const;
  readonly dtype: FeatureDType;
  constructor(dtype: FeatureDType) {
    this.dtype = checkFeatureDType(dtype, 'VarLenFeature');
  }
}

export type FeatureSpec = FixedLenFeature | VarLenFeature;

function tensorDType(d: FeatureDType): DType {
  return d === 'int64' || d === 'int32' ? 'int32' : d === 'float64' ? 'float64' : 'float32';
}

type Values = { numeric: ArrayLike<number> } | { strings: (string | Uint8Array)[] };

/** The values of one feature of one record, checked against the spec's dtype. */
function featureValues(raw: RawFeature | undefined, name: string, spec: FeatureSpec, where: string): Values | null {
  if (!raw || (!raw.bytesList && !raw.floatList && !raw.int64List)) return raw ? emptyValues(spec) : null;
  const want = KIND_OF[spec.dtype];
  const have = raw.int64List ? 'int64List' : raw.floatList ? 'floatList' : 'bytesList';
  if (have !== want) throw new TypeError(`${where}: feature '${name}' holds a ${snake(have)} but the spec asks for ${spec.dtype} (a ${snake(want)}).`);
  if (raw.int64List) {
    const vals = raw.int64List.value;
    const out = new Int32Array(vals.length);
    for (let i = 0; i < vals.length; i++) {
      const n = longToNumber(vals[i]);
      if (n > 2147483647 || n < -2147483648) throw new RangeError(`${where}: feature '${name}' has the int64 value ${n}, outside the int32 range of Strata tensors.`);
      out[i] = n;
    }
    return { numeric: out };
  }
  if (raw.floatList) return { numeric: raw.floatList.value };
  const b = raw.bytesList!.value;
  return { strings: spec.dtype === 'string' ? b.map((x) => untext.decode(x)) : b.map((x) => (x instanceof Uint8Array && x.constructor !== Uint8Array ? new Uint8Array(x) : x)) };
}

function emptyValues(spec: FeatureSpec): Values {
  return KIND_OF[spec.dtype] === 'bytesList' ? { strings: [] } : { numeric: [] };
}

function snake(kind: string): string {
  return kind.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function countOf(v: Values): number {
  return 'numeric' in v ? v.numeric.length : v.strings.length;
}

/** The values of a fixed-length feature (defaulted when missing), checked against the shape's size. */
function fixedValues(raw: RawFeature | undefined, name: string, spec: FixedLenFeature, where: string): Values {
  const size = spec.shape.reduce((p, d) => p * d, 1);
  let v = featureValues(raw, name, spec, where);
  if (v === null) {
    const d = spec.defaultValue;
    if (d === undefined) throw new Error(`${where}: the record has no feature '${name}', which the spec requires (FixedLenFeature without a defaultValue).`);
    const strings = KIND_OF[spec.dtype] === 'bytesList';
    if (strings) {
      const list = (typeof d === 'string' || d instanceof Uint8Array ? Array(size).fill(d) : [...(d as readonly (string | Uint8Array)[])]) as (string | Uint8Array)[];
      v = { strings: list.map((x) => (spec.dtype === 'string' ? (typeof x === 'string' ? x : untext.decode(x)) : typeof x === 'string' ? text.encode(x) : x)) };
    } else {
      v = { numeric: typeof d === 'number' ? new Array<number>(size).fill(d) : Array.from(d as ArrayLike<number>) };
    }
  }
  const n = countOf(v);
  if (n !== size) throw new Error(`${where}: feature '${name}' has ${n} value${n === 1 ? '' : 's'} but the spec's shape ${formatShape(spec.shape)} needs ${size}.`);
  return v;
}

function checkSpecs(features: Record<string, FeatureSpec>, where: string): void {
  if (!features || typeof features !== 'object') throw new TypeError(`${where}: expected a feature spec {name: FixedLenFeature | VarLenFeature}; got ${describe(features)}.`);
  for (const [k, s] of Object.entries(features)) {
    if (!(s instanceof FixedLenFeature || s instanceof VarLenFeature)) throw new TypeError(`${where}: the spec of feature '${k}' must be a FixedLenFeature or a VarLenFeature; got ${describe(s)}.`);
  }
}

export type ParsedFeature = Tensor | StringTensor | string | Uint8Array;

/**
 * Parses one serialized Example (tf.io.parse_single_example): fixed-length
 * features become tensors of their shape (scalars for shape []);
 * variable-length ones 1-D tensors of their values (tf.data gives a
 * SparseTensor; batch them with paddedBatch).
 */
export function parseSingleExample(serialized: Uint8Array, features: Record<string, FeatureSpec>): Record<string, ParsedFeature> {
  const where = 'parseSingleExample';
  checkSpecs(features, where);
  const raw = decodeMessage(serialized, where);
  const out: Record<string, ParsedFeature> = {};
  for (const [name, spec] of Object.entries(features)) {
    if (spec instanceof FixedLenFeature) {
      const v = fixedValues(raw[name], name, spec, where);
      if ('numeric' in v) out[name] = numericTensor(v.numeric, spec.shape, tensorDType(spec.dtype));
      else out[name] = spec.shape.length === 0 ? v.strings[0] : new StringTensor(v.strings, spec.shape, spec.dtype === 'bytes' ? 'bytes' : 'string');
    } else {
      const v = featureValues(raw[name], name, spec, where) ?? emptyValues(spec);
      if ('numeric' in v) out[name] = numericTensor(v.numeric, [v.numeric.length], tensorDType(spec.dtype));
      else out[name] = new StringTensor(v.strings, [v.strings.length], spec.dtype === 'bytes' ? 'bytes' : 'string');
    }
  }
  return out;
}

function numericTensor(values: ArrayLike<number>, shape: readonly number[], dtype: DType): Tensor {
  const arr = allocate(dtype, values.length);
  arr.set(values as ArrayLike<number> & TypedArray);
  return new Tensor(shape, dtype, arr);
}

function recordsOf(serialized: unknown, where: string): Uint8Array[] {
  if (serialized instanceof Uint8Array) return [serialized];
  if (serialized instanceof StringTensor) {
    if (serialized.shape.length !== 1) throw new Error(`${where}: expected a 1-D batch of serialized Examples; got shape ${formatShape(serialized.shape)}.`);
    return serialized.values.map((v) => (typeof v === 'string' ? text.encode(v) : v));
  }
  if (Array.isArray(serialized)) return serialized.map((v, i) => {
    if (!(v instanceof Uint8Array)) throw new TypeError(`${where}: record ${i} is ${describe(v)}, not a serialized Example (Uint8Array).`);
    return v;
  });
  throw new TypeError(`${where}: expected a batch of serialized Examples (a StringTensor from batching a TFRecordDataset, or an array of Uint8Array); got ${describe(serialized)}.`);
}

/**
 * Parses a batch of serialized Examples (tf.io.parse_example): fixed-length
 * features become tensors [batch, ...shape]; variable-length ones
 * SparseTensors with dense shape [batch, longest].
 */
export function parseExample(serialized: StringTensor | readonly Uint8Array[] | Uint8Array, features: Record<string, FeatureSpec>): Record<string, Tensor | StringTensor | SparseTensor> {
  const where = 'parseExample';
  checkSpecs(features, where);
  const records = recordsOf(serialized, where);
  const raws = records.map((r, i) => decodeMessage(r, `${where}: record ${i} of the batch`));
  const out: Record<string, Tensor | StringTensor | SparseTensor> = {};
  const n = records.length;
  for (const [name, spec] of Object.entries(features)) {
    if (spec instanceof FixedLenFeature) {
      const size = spec.shape.reduce((p, d) => p * d, 1);
      const strings = KIND_OF[spec.dtype] === 'bytesList';
      const dtype = tensorDType(spec.dtype);
      const numeric = strings ? null : allocate(dtype, n * size);
      const strs: (string | Uint8Array)[] = [];
      raws.forEach((raw, i) => {
        const v = fixedValues(raw[name], name, spec, `${where}: record ${i} of the batch`);
        if ('numeric' in v) numeric!.set(v.numeric as ArrayLike<number> & TypedArray, i * size);
        else strs.push(...v.strings);
      });
      out[name] = numeric ? new Tensor([n, ...spec.shape], dtype, numeric) : new StringTensor(strs, [n, ...spec.shape], spec.dtype === 'bytes' ? 'bytes' : 'string');
    } else {
      const per = raws.map((raw, i) => featureValues(raw[name], name, spec, `${where}: record ${i} of the batch`) ?? emptyValues(spec));
      const total = per.reduce((s, v) => s + countOf(v), 0);
      const longest = per.reduce((m, v) => Math.max(m, countOf(v)), 0);
      const indices = new Int32Array(total * 2);
      let k = 0;
      per.forEach((v, i) => {
        for (let j = 0; j < countOf(v); j++, k++) {
          indices[2 * k] = i;
          indices[2 * k + 1] = j;
        }
      });
      let values: Tensor | StringTensor;
      if (KIND_OF[spec.dtype] === 'bytesList') values = new StringTensor(per.flatMap((v) => (v as { strings: (string | Uint8Array)[] }).strings), [total], spec.dtype === 'bytes' ? 'bytes' : 'string');
      else {
        const dtype = tensorDType(spec.dtype);
        const arr = allocate(dtype, total);
        let o = 0;
        for (const v of per) {
          arr.set((v as { numeric: ArrayLike<number> }).numeric as ArrayLike<number> & TypedArray, o);
          o += countOf(v);
        }
        values = new Tensor([total], dtype, arr);
      }
      out[name] = new SparseTensor(new Tensor([total, 2], 'int32', indices), values, [n, longest]);
    }
  }
  return out;
}

/**
 * Reinterprets bytes as numbers (tf.io.decode_raw): a Uint8Array gives a 1-D
 * tensor; a StringTensor of equal-length byte strings gives [...shape, n].
 */
export function decodeRaw(bytes: Uint8Array | StringTensor, dtype: DType, options: { littleEndian?: boolean } = {}): Tensor {
  const where = 'decodeRaw';
  const little = options.littleEndian ?? true;
  const per = dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4;
  const items = bytes instanceof Uint8Array ? [bytes] : bytes instanceof StringTensor ? bytes.values.map((v) => (typeof v === 'string' ? text.encode(v) : v)) : null;
  if (!items) throw new TypeError(`${where}: expected a Uint8Array or a StringTensor of bytes; got ${describe(bytes)}.`);
  const len = items.length ? items[0].length : 0;
  items.forEach((b, i) => {
    if (b.length !== len) throw new Error(`${where}: all byte strings must have the same length; item 0 has ${len} bytes and item ${i} has ${b.length}.`);
  });
  if (len % per !== 0) throw new Error(`${where}: ${len} bytes are not a whole number of ${dtype} values (${per} bytes each).`);
  const n = len / per;
  const out = allocate(dtype, n * items.length);
  items.forEach((b, i) => {
    if (little && dtype !== 'bool') {
      // Copy into an aligned buffer, then view it.
      const copy = new Uint8Array(len);
      copy.set(b);
      const view = dtype === 'float32' ? new Float32Array(copy.buffer) : dtype === 'float64' ? new Float64Array(copy.buffer) : new Int32Array(copy.buffer);
      out.set(view, i * n);
    } else {
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let j = 0; j < n; j++) {
        out[i * n + j] = dtype === 'float32' ? dv.getFloat32(j * per, little) : dtype === 'float64' ? dv.getFloat64(j * per, little) : dtype === 'int32' ? dv.getInt32(j * per, little) : dv.getUint8(j);
      }
    }
  });
  return new Tensor(bytes instanceof Uint8Array ? [n] : [...bytes.shape, n], dtype, out);
}
