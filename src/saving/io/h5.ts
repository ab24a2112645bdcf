/**
 * HDF5 files for Keras weights (`model.weights.h5`, `*.weights.h5`) and legacy
 * `.h5` models, through h5wasm (the HDF5 C library compiled to WebAssembly).
 *
 * `readH5` parses a whole file into a plain tree, `writeH5` builds a file from
 * one. The library runs in a worker thread (h5-worker.mjs), a fresh
 * WebAssembly instance per call, so a corrupt or malicious file can make a
 * call fail but cannot crash, poison or hang the process: every failure is an
 * Error whose message starts with the file's label, and a call that runs past
 * its time limit stops the worker.
 *
 * Before the library sees a file, its signature, superblock and global heaps
 * are checked here (cheap; it gives the common errors plain messages and
 * catches a damage that makes HDF5 loop forever); while it reads, every
 * dataset's declared size is checked against the file's size before anything
 * is allocated, and the WebAssembly heap may not grow past what the file can
 * justify.
 */
import { Worker } from 'node:worker_threads';
import { DEFAULT_H5_LIMITS, defaultH5TimeoutMs, resolveLimits, type H5Limits } from './limits.ts';

export type { H5Limits } from './limits.ts';
export { DEFAULT_H5_LIMITS } from './limits.ts';

// ---------------------------------------------------------------------------
// The tree

/**
 * An attribute's value: numbers (every numeric type; int64 as the nearest
 * number), strings (variable-length UTF-8 and fixed-length byte strings,
 * trailing NULs removed; bytes holding JSON stay strings), arrays of either
 * (row-major, flattened), raw bytes for opaque values, and null for an empty
 * attribute (HDF5 null dataspace) or a type this reader does not decode
 * (compound, reference, ...).
 */
export type H5AttrValue = number | string | number[] | string[] | Uint8Array | null;

export type H5DType =
  | 'float32'
  | 'float64'
  | 'int32'
  | 'int64'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'uint32'
  | 'bool'
  | 'bfloat16'
  | 'float16'
  | 'string'
  | 'opaque';

/** What `H5Dataset.read()` returns. */
export type H5Data = Float32Array | Float64Array | Int32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Uint32Array | string[];

export interface H5Dataset {
  /** The last component of `path`. */
  readonly name: string;
  /** Absolute path in the file, e.g. `/layers/dense/vars/0`. */
  readonly path: string;
  /** Dimensions; `[]` for a scalar. A null dataspace reads as `[0]`. */
  readonly shape: number[];
  readonly dtype: H5DType;
  readonly attrs: Record<string, H5AttrValue>;
  /** Compression and other filters applied to the stored data (names). */
  readonly filters: string[];
  /**
   * The values, row-major, as a new array on every call:
   * float32/float64/int8/uint8/int16/uint16/int32/uint32 as their typed arrays;
   * float16 and bfloat16 widened to Float32Array; int64 narrowed to Int32Array
   * (an Error if a value does not fit); bool as Uint8Array of 0/1; strings as
   * string[]; opaque values as their raw bytes. Throws for datatypes this
   * reader cannot decode (compound, uint64, ...), naming the file and dataset.
   */
  read(): H5Data;
}

export interface H5Group {
  /** The last component of `path` ('' for the root). */
  readonly name: string;
  /** Absolute path, `/` for the root. */
  readonly path: string;
  readonly attrs: Record<string, H5AttrValue>;
  /** Subgroups in HDF5's order (creation order where tracked, else by name). */
  readonly groups: Map<string, H5Group>;
  /** Datasets in HDF5's order (creation order where tracked, else by name). */
  readonly datasets: Map<string, H5Dataset>;
  /** Members that are neither groups nor datasets (soft/external links, named datatypes), with what they are. */
  readonly skipped: Map<string, string>;
}

// ---------------------------------------------------------------------------
// Helpers on the tree

/**
 * Sorts names with decimal-integer names ("0", "1", "10") first in numeric
 * order, then the others in code-unit order. HDF5 lists Keras's `vars/0,
 * 1, 10, 11, 2, ...` by name; their meaning is positional.
 */
export function sortNumericNames(names: Iterable<string>): string[] {
  const isIndex = (s: string) => /^(0|[1-9][0-9]*)$/.test(s);
  return [...names].sort((a, b) => {
    const ia = isIndex(a);
    const ib = isIndex(b);
    if (ia && ib) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
    if (ia !== ib) return ia ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/** A group's datasets with numeric names in numeric order (Keras `vars/0, 1, 2 ...`), then any others. */
export function numberedDatasets(group: H5Group): H5Dataset[] {
  return sortNumericNames(group.datasets.keys()).map((name) => group.datasets.get(name)!);
}

/**
 * The group or dataset at `path` (absolute or relative to `root`, `/`
 * separated; `model_weights/dense/dense/kernel:0` works), or undefined.
 */
export function getH5Object(root: H5Group, path: string): H5Group | H5Dataset | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  let group: H5Group = root;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const sub = group.groups.get(part);
    if (sub !== undefined) {
      group = sub;
      continue;
    }
    if (i === parts.length - 1) return group.datasets.get(part);
    return undefined;
  }
  return group;
}

export function getH5Group(root: H5Group, path: string): H5Group | undefined {
  const found = getH5Object(root, path);
  return found !== undefined && 'groups' in found ? found : undefined;
}

export function getH5Dataset(root: H5Group, path: string): H5Dataset | undefined {
  const found = getH5Object(root, path);
  return found !== undefined && 'read' in found ? found : undefined;
}

/**
 * An attribute that Keras may have split into chunks (`name0`, `name1`, ...)
 * because it exceeded HDF5's 64512-byte object-header limit: the attribute
 * itself when present, else the chunks concatenated, else undefined.
 */
export function readChunkedAttr(attrs: Record<string, H5AttrValue>, name: string): H5AttrValue | undefined {
  if (Object.prototype.hasOwnProperty.call(attrs, name)) return attrs[name];
  if (!Object.prototype.hasOwnProperty.call(attrs, `${name}0`)) return undefined;
  const out: (string | number)[] = [];
  for (let i = 0; Object.prototype.hasOwnProperty.call(attrs, `${name}${i}`); i++) {
    const chunk = attrs[`${name}${i}`];
    if (Array.isArray(chunk)) out.push(...chunk);
    else if (typeof chunk === 'string' || typeof chunk === 'number') out.push(chunk);
    // empty or undecodable chunks add nothing
  }
  return out as string[] | number[];
}

/** HDF5's object-header limit, which Keras keeps attributes under (`HDF5_OBJECT_HEADER_LIMIT`). */
export const HDF5_OBJECT_HEADER_LIMIT = 64512;

/**
 * Splits a string-array attribute as Keras's `save_attributes_to_hdf5_group`
 * does: when the array, measured as NumPy fixed-length bytes (count times the
 * longest UTF-8 length), exceeds 64512 bytes, it becomes `name0`, `name1`, ...
 * (NumPy `array_split` chunks, the fewest that fit). Returns the attributes to
 * write.
 */
export function chunkAttr(name: string, values: string[]): Record<string, string[]> {
  const encoder = new TextEncoder();
  const itemSize = Math.max(1, ...values.map((v) => encoder.encode(v).length));
  for (const v of values) {
    if (encoder.encode(v).length > HDF5_OBJECT_HEADER_LIMIT) {
      throw new Error(`chunkAttr(${name}): an item is longer than ${HDF5_OBJECT_HEADER_LIMIT} bytes and cannot be saved: ${JSON.stringify(v.slice(0, 40))}...`);
    }
  }
  let chunks = 1;
  const largestChunk = (k: number) => Math.ceil(values.length / k) * itemSize;
  while (largestChunk(chunks) > HDF5_OBJECT_HEADER_LIMIT) chunks++;
  if (chunks === 1) return { [name]: values };
  const out: Record<string, string[]> = {};
  const base = Math.floor(values.length / chunks);
  const extra = values.length % chunks;
  let start = 0;
  for (let i = 0; i < chunks; i++) {
    const len = base + (i < extra ? 1 : 0);
    out[`${name}${i}`] = values.slice(start, start + len);
    start += len;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The worker

type Category = 'corrupt' | 'limit' | 'unsupported' | 'usage';

interface Job {
  message: Record<string, unknown>;
  transfer: ArrayBuffer[];
  timeoutMs: number;
  resolve: (reply: any) => void;
  reject: (error: { category: Category | 'timeout' | 'crash'; message: string }) => void;
}

/**
 * Sends one request at a time to the worker, so that stopping the worker
 * after a timeout costs only the request that timed out. The worker is
 * started on first use and does not keep the process alive while idle.
 */
class H5WorkerClient {
  private worker: Worker | null = null;
  private readonly queue: Job[] = [];
  private current: { job: Job; worker: Worker; timer: NodeJS.Timeout } | null = null;
  private nextId = 0;

  request(message: Record<string, unknown>, transfer: ArrayBuffer[], timeoutMs: number): Promise<any> {
    return new Promise((resolve, reject) => {
      this.queue.push({ message, transfer, timeoutMs, resolve, reject });
      this.pump();
    });
  }

  private start(): Worker {
    // Plain JavaScript needs none of the parent's flags (which may be --eval,
    // --input-type or --test, which a worker refuses or misreads).
    const worker = new Worker(new URL('./h5-worker.mjs', import.meta.url), { execArgv: [] });
    worker.on('message', (m: { id: number; ok: boolean; category?: Category; message?: string }) => {
      const cur = this.current;
      if (cur === null || cur.worker !== worker || cur.job.message.id !== m.id) return;
      this.finish();
      if (m.ok) cur.job.resolve(m);
      else cur.job.reject({ category: m.category ?? 'corrupt', message: m.message ?? 'unknown error' });
    });
    const lost = (why: string) => {
      if (this.worker === worker) this.worker = null;
      const cur = this.current;
      if (cur !== null && cur.worker === worker) {
        this.finish();
        cur.job.reject({ category: 'crash', message: why });
      }
    };
    worker.on('error', (e) => lost(`the HDF5 worker failed: ${e.message}`));
    worker.on('exit', (code) => lost(`the HDF5 worker stopped (exit code ${code})`));
    worker.unref();
    return worker;
  }

  private finish(): void {
    const cur = this.current;
    if (cur === null) return;
    clearTimeout(cur.timer);
    this.current = null;
    if (this.queue.length === 0) cur.worker.unref();
    queueMicrotask(() => this.pump());
  }

  private pump(): void {
    if (this.current !== null || this.queue.length === 0) return;
    const job = this.queue.shift()!;
    const worker = (this.worker ??= this.start());
    job.message.id = this.nextId++;
    const timer = setTimeout(() => {
      if (this.current?.job !== job) return;
      this.finish();
      if (this.worker === worker) this.worker = null;
      void worker.terminate();
      job.reject({ category: 'timeout', message: `took longer than ${job.timeoutMs} ms and was stopped` });
    }, job.timeoutMs);
    this.current = { job, worker, timer };
    worker.ref();
    try {
      worker.postMessage(job.message, job.transfer);
    } catch (e) {
      this.finish();
      job.reject({ category: 'usage', message: (e as Error).message });
    }
  }
}

let client: H5WorkerClient | null = null;
const getClient = () => (client ??= new H5WorkerClient());

// ---------------------------------------------------------------------------
// Cheap checks before the library sees a file

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function hasSignatureAt(bytes: Uint8Array, at: number): boolean {
  if (at + 8 > bytes.length) return false;
  for (let i = 0; i < 8; i++) if (bytes[at + i] !== SIGNATURE[i]) return false;
  return true;
}

/**
 * Finds the superblock (at 0, 512, 1024, 2048 ...: HDF5 allows a user block)
 * and checks the fields that can be checked cheaply. Returns a problem in
 * words, or null.
 */
function checkSuperblock(bytes: Uint8Array): string | null {
  let at = -1;
  for (let p = 0; p + 8 <= bytes.length; p = p === 0 ? 512 : p * 2) {
    if (hasSignatureAt(bytes, p)) {
      at = p;
      break;
    }
  }
  if (at < 0) return 'NOT_HDF5';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (n: number) => at + n <= bytes.length;
  if (!need(9)) return 'is truncated or corrupt (it ends inside the superblock)';
  const version = bytes[at + 8];
  if (version > 3) return `is not supported or corrupt (superblock version ${version})`;
  // Where the sizes of offsets/lengths and the end-of-file address sit.
  let offsetsAt: number;
  let eofAt: (sizeOfOffsets: number) => number;
  let end: (sizeOfOffsets: number) => number;
  if (version <= 1) {
    offsetsAt = at + 13;
    const base = at + 24 + (version === 1 ? 4 : 0);
    eofAt = (o) => base + 2 * o;
    end = (o) => base + 4 * o + 4 * o + 24; // four addresses, then the root symbol-table entry
  } else {
    offsetsAt = at + 9;
    eofAt = (o) => at + 12 + 2 * o;
    end = (o) => at + 12 + 4 * o + 4; // four addresses and a checksum
  }
  if (!need(offsetsAt - at + 2)) return 'is truncated or corrupt (it ends inside the superblock)';
  const sizeOfOffsets = bytes[offsetsAt];
  const sizeOfLengths = bytes[offsetsAt + 1];
  if (![2, 4, 8].includes(sizeOfOffsets) || ![2, 4, 8].includes(sizeOfLengths)) {
    return `is truncated or corrupt (superblock declares ${sizeOfOffsets}-byte addresses and ${sizeOfLengths}-byte lengths)`;
  }
  if (!need(end(sizeOfOffsets) - at)) return 'is truncated or corrupt (it ends inside the superblock)';
  const readAddress = (p: number): number | null => {
    let v = 0;
    let allOnes = true;
    for (let i = sizeOfOffsets - 1; i >= 0; i--) {
      const b = view.getUint8(p + i);
      if (b !== 0xff) allOnes = false;
      v = v * 256 + b;
    }
    return allOnes ? null : v;
  };
  const baseAddress = readAddress(eofAt(sizeOfOffsets) - 2 * sizeOfOffsets) ?? 0;
  const eof = readAddress(eofAt(sizeOfOffsets));
  if (eof !== null && baseAddress + eof > bytes.length) {
    return `is truncated or corrupt (the superblock says the file is ${baseAddress + eof} bytes, but it has ${bytes.length})`;
  }
  return checkGlobalHeaps(bytes, sizeOfLengths);
}

/**
 * HDF5 (also the native library h5py uses) loops forever on a global heap
 * collection whose object walk does not advance: an object with index 0 and
 * size 0, as in a file whose end was zero-filled, or a size that wraps the
 * 32-bit WebAssembly address space. Global heaps hold variable-length strings,
 * such as Keras's `name` attributes, so this is met in practice. The
 * collections are found by their signature ("GCOL", version 1, three zero
 * bytes, a size of at least 4096 bytes that fits in the file) and walked as
 * HDF5 walks them.
 */
function checkGlobalHeaps(bytes: Uint8Array, sizeOfLengths: number): string | null {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const readLength = (p: number) => {
    let v = 0;
    for (let i = sizeOfLengths - 1; i >= 0; i--) v = v * 256 + bytes[p + i];
    return v;
  };
  const header = 8 + sizeOfLengths;
  const objectHeader = 8 + sizeOfLengths;
  // Collections do not overlap: after one, the search resumes past its end,
  // so the walks together cover the file at most once.
  let next = 0;
  for (let at = buf.indexOf('GCOL'); at >= 0; at = buf.indexOf('GCOL', next)) {
    next = at + 4;
    if (at + header > bytes.length || bytes[at + 4] !== 1 || bytes[at + 5] !== 0 || bytes[at + 6] !== 0 || bytes[at + 7] !== 0) continue;
    const size = readLength(at + 8);
    if (size < 4096 || at + size > bytes.length) continue;
    const end = at + size;
    next = end;
    for (let p = at + header; p + objectHeader <= end; ) {
      const index = view.getUint16(p, true);
      // size_t is 32 bits in WebAssembly: HDF5 keeps the low 32 bits.
      const objectSize = readLength(p + 8) % 2 ** 32;
      const need = (index > 0 ? objectHeader + Math.ceil(objectSize / 8) * 8 : objectSize) % 2 ** 32;
      if (need === 0 || need >= 2 ** 31) {
        return `is truncated or corrupt (the global heap at byte ${at} has a damaged object at byte ${p})`;
      }
      p += need;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------
// Reading

interface WireMeta {
  type: number;
  size: number;
  signed: boolean;
  vlen: boolean;
  littleEndian: boolean;
  shape: number[] | null;
  total: number;
  cset?: number;
  strpad?: number;
  enumMembers?: Record<string, number>;
}

interface WireValue {
  meta: WireMeta;
  bytes?: Uint8Array;
  strings?: string[];
  empty?: boolean;
  unsupported?: string;
}

interface WireDataset extends WireValue {
  path: string;
  filters: string[];
  attrs: [string, WireValue][];
}

interface WireGroup {
  path: string;
  attrs: [string, WireValue][];
  groups: [string, WireGroup][];
  datasets: [string, WireDataset][];
  skipped: [string, string][];
}

const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_STRING = 3;
const H5T_OPAQUE = 5;
const H5T_ENUM = 8;
const STR_SPACEPAD = 2;

const utf8 = new TextDecoder('utf-8');

function decodeFixedStrings(bytes: Uint8Array, size: number, count: number, strpad: number | undefined): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let end = (i + 1) * size;
    const start = i * size;
    // NumPy `|S` semantics: trailing NULs are padding. HDF5's null-terminated
    // strings end at the first NUL.
    const firstNul = bytes.subarray(start, end).indexOf(0);
    if (firstNul >= 0 && strpad === 0) end = start + firstNul;
    while (end > start && bytes[end - 1] === 0) end--;
    if (strpad === STR_SPACEPAD) while (end > start && bytes[end - 1] === 0x20) end--;
    out.push(utf8.decode(bytes.subarray(start, end)));
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function isBoolEnum(m: WireMeta): boolean {
  const members = m.enumMembers;
  if (members === undefined || m.size !== 1) return false;
  const keys = Object.keys(members);
  return keys.length === 2 && members.FALSE === 0 && members.TRUE === 1;
}

/** Plain numbers from integer, enum and float bytes. */
function decodeNumbers(m: WireMeta, bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Math.floor(bytes.length / m.size);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const p = i * m.size;
    if (m.type === H5T_FLOAT) {
      out[i] = m.size === 2 ? halfToFloat(view.getUint16(p, true)) : m.size === 4 ? view.getFloat32(p, true) : view.getFloat64(p, true);
    } else if (m.size === 1) out[i] = m.signed ? view.getInt8(p) : view.getUint8(p);
    else if (m.size === 2) out[i] = m.signed ? view.getInt16(p, true) : view.getUint16(p, true);
    else if (m.size === 4) out[i] = m.signed ? view.getInt32(p, true) : view.getUint32(p, true);
    else out[i] = Number(m.signed ? view.getBigInt64(p, true) : view.getBigUint64(p, true));
  }
  return out;
}

function decodeAttr(v: WireValue): H5AttrValue {
  const m = v.meta;
  if (v.empty || v.unsupported !== undefined) return null;
  const scalar = m.shape !== null && m.shape.length === 0;
  if (v.strings !== undefined) return scalar ? (v.strings[0] ?? '') : v.strings;
  const bytes = v.bytes ?? new Uint8Array(0);
  if (m.type === H5T_STRING) {
    const strings = decodeFixedStrings(bytes, m.size, m.total, m.strpad);
    return scalar ? (strings[0] ?? '') : strings;
  }
  if (m.type === H5T_OPAQUE) return bytes;
  if (m.type === H5T_INTEGER || m.type === H5T_FLOAT || m.type === H5T_ENUM) {
    const numbers = decodeNumbers(m, bytes);
    return scalar ? numbers[0] : numbers;
  }
  return null;
}

function decodeAttrs(list: [string, WireValue][]): Record<string, H5AttrValue> {
  const out: Record<string, H5AttrValue> = Object.create(null);
  for (const [name, value] of list) out[name] = decodeAttr(value);
  return out;
}

/** The dataset's dtype, or an explanation of why it has none we decode. */
function datasetDType(m: WireMeta, attrs: Record<string, H5AttrValue>): H5DType | { unsupported: string } {
  switch (m.type) {
    case H5T_FLOAT:
      return m.size === 2 ? 'float16' : m.size === 4 ? 'float32' : 'float64';
    case H5T_INTEGER: {
      if (m.size === 1 && !m.signed && attrs.dtype === 'bool') return 'bool';
      const table: Record<number, [H5DType, H5DType | null]> = { 1: ['int8', 'uint8'], 2: ['int16', 'uint16'], 4: ['int32', 'uint32'], 8: ['int64', null] };
      const [signed, unsigned] = table[m.size];
      const dtype = m.signed ? signed : unsigned;
      return dtype ?? { unsupported: 'uint64 values' };
    }
    case H5T_ENUM: {
      if (isBoolEnum(m)) return 'bool';
      return datasetDType({ ...m, type: H5T_INTEGER }, {});
    }
    case H5T_STRING:
      return 'string';
    case H5T_OPAQUE:
      return m.size === 2 && attrs.dtype === 'bfloat16' ? 'bfloat16' : 'opaque';
    default:
      return { unsupported: 'values of this HDF5 datatype' };
  }
}

class Dataset implements H5Dataset {
  readonly name: string;
  readonly path: string;
  readonly shape: number[];
  readonly dtype: H5DType;
  readonly attrs: Record<string, H5AttrValue>;
  readonly filters: string[];
  readonly #wire: WireDataset;
  readonly #unsupported: string | null;
  readonly #fileLabel: string;

  constructor(wire: WireDataset, fileLabel: string) {
    this.path = wire.path;
    this.name = wire.path.slice(wire.path.lastIndexOf('/') + 1);
    this.shape = wire.meta.shape === null ? [0] : [...wire.meta.shape];
    this.attrs = decodeAttrs(wire.attrs);
    this.filters = wire.filters;
    const dtype = wire.unsupported !== undefined ? { unsupported: wire.unsupported } : datasetDType(wire.meta, this.attrs);
    this.dtype = typeof dtype === 'string' ? dtype : 'opaque';
    this.#unsupported = typeof dtype === 'string' ? null : dtype.unsupported;
    this.#wire = wire;
    this.#fileLabel = fileLabel;
  }

  read(): H5Data {
    const where = `${this.#fileLabel}: dataset "${this.path}"`;
    if (this.#unsupported !== null) throw new Error(`${where} holds ${this.#unsupported}, which cannot be read.`);
    const w = this.#wire;
    const n = w.meta.shape === null ? 0 : w.meta.total;
    if (this.dtype === 'string') {
      if (w.strings !== undefined) return [...w.strings];
      return decodeFixedStrings(w.bytes ?? new Uint8Array(0), w.meta.size, n, w.meta.strpad);
    }
    const bytes = w.bytes ?? new Uint8Array(0);
    const copy = () => bytes.slice().buffer;
    switch (this.dtype) {
      case 'float32':
        return new Float32Array(copy(), 0, n);
      case 'float64':
        return new Float64Array(copy(), 0, n);
      case 'int32':
        return new Int32Array(copy(), 0, n);
      case 'uint32':
        return new Uint32Array(copy(), 0, n);
      case 'int16':
        return new Int16Array(copy(), 0, n);
      case 'uint16':
        return new Uint16Array(copy(), 0, n);
      case 'int8':
        return new Int8Array(copy(), 0, n);
      case 'uint8':
      case 'opaque':
        return bytes.slice();
      case 'bool': {
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i++) out[i] = bytes[i] !== 0 ? 1 : 0;
        return out;
      }
      case 'int64': {
        const src = new BigInt64Array(bytes.buffer, bytes.byteOffset, n);
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          const v = src[i];
          if (v > 2147483647n || v < -2147483648n) {
            throw new Error(`${where} (int64) holds ${v} at index ${i}, which does not fit in int32.`);
          }
          out[i] = Number(v);
        }
        return out;
      }
      case 'float16': {
        const src = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = halfToFloat(src.getUint16(2 * i, true));
        return out;
      }
      case 'bfloat16': {
        const src = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const bits = new Uint32Array(n);
        for (let i = 0; i < n; i++) bits[i] = src.getUint16(2 * i, true) << 16;
        return new Float32Array(bits.buffer);
      }
    }
    throw new Error(`${where}: unexpected dtype ${this.dtype}.`);
  }
}

function buildGroup(wire: WireGroup, fileLabel: string): H5Group {
  const groups = new Map<string, H5Group>();
  const datasets = new Map<string, H5Dataset>();
  for (const [name, g] of wire.groups) groups.set(name, buildGroup(g, fileLabel));
  for (const [name, d] of wire.datasets) datasets.set(name, new Dataset(d, fileLabel));
  return {
    name: wire.path === '/' ? '' : wire.path.slice(wire.path.lastIndexOf('/') + 1),
    path: wire.path,
    attrs: decodeAttrs(wire.attrs),
    groups,
    datasets,
    skipped: new Map(wire.skipped),
  };
}

/**
 * Reads a whole HDF5 file (all attributes and dataset values) into a tree.
 * `fileLabel` names the file in errors. Throws `Error("<fileLabel>: ...")`
 * for a file that is not HDF5 ("is not an HDF5 file"), is truncated or corrupt
 * ("is truncated or corrupt (...)"), declares more data than it can hold, or
 * takes longer than `limits.timeoutMs`.
 */
export async function readH5(bytes: Uint8Array, fileLabel: string, limits?: Partial<H5Limits>): Promise<H5Group> {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fileLabel}: readH5 expects a Uint8Array.`);
  const lim = resolveLimits(DEFAULT_H5_LIMITS, limits, `readH5(${fileLabel})`);
  const problem = checkSuperblock(bytes);
  if (problem === 'NOT_HDF5') {
    throw new Error(`${fileLabel}: is not an HDF5 file (${bytes.length === 0 ? 'it is empty' : 'no HDF5 signature'}).`);
  }
  if (problem !== null) throw new Error(`${fileLabel}: ${problem}.`);
  const copy = bytes.slice();
  const timeoutMs = lim.timeoutMs ?? defaultH5TimeoutMs(bytes.length);
  let reply: { root: WireGroup };
  try {
    reply = await getClient().request({ kind: 'read', bytes: copy, limits: { ...lim, timeoutMs: undefined } }, [copy.buffer], timeoutMs);
  } catch (e) {
    throw new Error(`${fileLabel}: ${describeFailure(e, 'read')}`);
  }
  return buildGroup(reply.root, fileLabel);
}

function describeFailure(e: unknown, doing: 'read' | 'write'): string {
  if (e instanceof Error) return e.message;
  const { category, message } = e as { category: string; message: string };
  switch (category) {
    case 'corrupt':
      return doing === 'read' ? `is truncated or corrupt (${message}).` : `could not be written (${message}).`;
    case 'limit':
      return `${message}; the file is corrupt or not a model file.`;
    case 'timeout':
      return `${doing === 'read' ? 'reading' : 'writing'} ${message} (a corrupt file?).`;
    case 'crash':
      return `${message} while it was being ${doing === 'read' ? 'read' : 'written'}.`;
    default:
      return `${message}.`;
  }
}

// ---------------------------------------------------------------------------
// Writing

export type H5WriteAttr = string | number | string[] | number[];
export type H5WriteDType = 'float32' | 'float64' | 'int32' | 'int64' | 'bool' | 'uint8';
type NumericArray = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array;

export interface H5WriteDataset {
  shape: number[];
  dtype: H5WriteDType;
  values: NumericArray | number[];
  attrs?: Record<string, H5WriteAttr>;
}

export interface H5WriteGroup {
  attrs?: Record<string, H5WriteAttr>;
  groups?: Record<string, H5WriteGroup> | Map<string, H5WriteGroup>;
  datasets?: Record<string, H5WriteDataset> | Map<string, H5WriteDataset>;
}

interface WriteOp {
  op: 'group' | 'dataset' | 'attr';
  path: string;
  name?: string;
  meta?: { type: number; size: number; signed?: boolean; vlen?: boolean; cset?: number };
  shape?: number[];
  data?: Uint8Array;
  strings?: string[];
}

const WRITE_TYPES: Record<H5WriteDType, { type: number; size: number; signed: boolean }> = {
  float32: { type: H5T_FLOAT, size: 4, signed: true },
  float64: { type: H5T_FLOAT, size: 8, signed: true },
  int32: { type: H5T_INTEGER, size: 4, signed: true },
  int64: { type: H5T_INTEGER, size: 8, signed: true },
  bool: { type: H5T_INTEGER, size: 1, signed: false },
  uint8: { type: H5T_INTEGER, size: 1, signed: false },
};

function entriesOf<T>(x: Record<string, T> | Map<string, T> | undefined): [string, T][] {
  if (x === undefined) return [];
  return x instanceof Map ? [...x.entries()] : Object.entries(x);
}

function checkName(name: string, where: string): void {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new Error(`writeH5: invalid name ${JSON.stringify(name)} in ${where} (names must be non-empty, without "/" or NUL).`);
  }
}

function join(path: string, name: string): string {
  return path === '/' ? `/${name}` : `${path}/${name}`;
}

function tightBytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}

function datasetBytes(d: H5WriteDataset, where: string): Uint8Array {
  const { dtype, values } = d;
  const n = values.length;
  const fail = (why: string) => new Error(`writeH5: ${where}: ${why}.`);
  if (!ArrayBuffer.isView(values)) {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'number' && !(dtype === 'bool' && typeof v === 'boolean')) throw fail(`value at index ${i} is not a number: ${String(v)}`);
    }
  }
  const ints = (lo: number, hi: number) => {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (!Number.isInteger(v) || v < lo || v > hi) throw fail(`value ${v} at index ${i} is not a ${dtype}`);
    }
  };
  switch (dtype) {
    case 'float32':
      return values instanceof Float32Array ? tightBytes(values) : new Uint8Array(Float32Array.from(values).buffer);
    case 'float64':
      return values instanceof Float64Array ? tightBytes(values) : new Uint8Array(Float64Array.from(values).buffer);
    case 'int32':
      if (values instanceof Int32Array) return tightBytes(values);
      ints(-2147483648, 2147483647);
      return new Uint8Array(Int32Array.from(values).buffer);
    case 'int64': {
      ints(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(values[i]);
      return new Uint8Array(out.buffer);
    }
    case 'uint8':
      if (values instanceof Uint8Array) return values.slice();
      ints(0, 255);
      return Uint8Array.from(values);
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = values[i] ? 1 : 0;
      return out;
    }
  }
  throw fail(`unknown dtype ${JSON.stringify(dtype)}; expected one of ${Object.keys(WRITE_TYPES).join(', ')}`);
}

function attrOps(path: string, attrs: Record<string, H5WriteAttr> | undefined, ops: WriteOp[]): void {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof name !== 'string' || name === '' || name.includes('\0')) throw new Error(`writeH5: invalid attribute name ${JSON.stringify(name)} on "${path}".`);
    const where = `attribute "${name}" of "${path}"`;
    const numeric = (numbers: number[], shape: number[]): WriteOp => {
      for (const v of numbers) if (typeof v !== 'number') throw new Error(`writeH5: ${where}: mixed or non-numeric array.`);
      const integral = numbers.length > 0 && numbers.every((v) => Number.isSafeInteger(v));
      if (integral) {
        const data = new BigInt64Array(numbers.map((v) => BigInt(v)));
        return { op: 'attr', path, name, meta: WRITE_TYPES.int64, shape, data: new Uint8Array(data.buffer) };
      }
      return { op: 'attr', path, name, meta: WRITE_TYPES.float64, shape, data: new Uint8Array(Float64Array.from(numbers).buffer) };
    };
    if (typeof value === 'string') {
      ops.push({ op: 'attr', path, name, meta: { type: H5T_STRING, size: 4, vlen: true, cset: 1 }, shape: [], strings: [value] });
    } else if (typeof value === 'number') {
      ops.push(numeric([value], []));
    } else if (Array.isArray(value)) {
      if (value.length === 0) {
        // What h5py writes for an empty list: an empty float64 array.
        ops.push({ op: 'attr', path, name, meta: WRITE_TYPES.float64, shape: [0], data: new Uint8Array(0) });
      } else if (value.every((v) => typeof v === 'string')) {
        ops.push({ op: 'attr', path, name, meta: { type: H5T_STRING, size: 4, vlen: true, cset: 1 }, shape: [value.length], strings: [...(value as string[])] });
      } else {
        ops.push(numeric(value as number[], [value.length]));
      }
    } else {
      throw new Error(`writeH5: ${where}: unsupported value ${typeof value}; expected a string, number or array of either.`);
    }
  }
}

function groupOps(path: string, group: H5WriteGroup, ops: WriteOp[]): void {
  if (group === null || typeof group !== 'object') throw new Error(`writeH5: group "${path}" must be an object.`);
  attrOps(path, group.attrs, ops);
  for (const [name, d] of entriesOf(group.datasets)) {
    checkName(name, `group "${path}"`);
    const dpath = join(path, name);
    const where = `dataset "${dpath}"`;
    if (d === null || typeof d !== 'object' || !Array.isArray(d.shape)) throw new Error(`writeH5: ${where} must be {shape, dtype, values}.`);
    if (!Object.prototype.hasOwnProperty.call(WRITE_TYPES, d.dtype)) {
      throw new Error(`writeH5: ${where}: unknown dtype ${JSON.stringify(d.dtype)}; expected one of ${Object.keys(WRITE_TYPES).join(', ')}.`);
    }
    let size = 1;
    for (const dim of d.shape) {
      if (!Number.isSafeInteger(dim) || dim < 0) throw new Error(`writeH5: ${where}: invalid shape [${d.shape.join(', ')}].`);
      size *= dim;
    }
    if (d.values === null || typeof d.values !== 'object' || d.values.length !== size) {
      throw new Error(`writeH5: ${where}: shape [${d.shape.join(', ')}] needs ${size} values, got ${d.values?.length}.`);
    }
    ops.push({ op: 'dataset', path: dpath, meta: WRITE_TYPES[d.dtype], shape: [...d.shape], data: datasetBytes(d, where) });
    const attrs = { ...(d.attrs ?? {}) };
    // h5py writes bool as an enum, which h5wasm cannot write: mark the uint8 data instead.
    if (d.dtype === 'bool' && attrs.dtype === undefined) attrs.dtype = 'bool';
    attrOps(dpath, attrs, ops);
  }
  for (const [name, g] of entriesOf(group.groups)) {
    checkName(name, `group "${path}"`);
    const gpath = join(path, name);
    ops.push({ op: 'group', path: gpath });
    groupOps(gpath, g, ops);
  }
}

/**
 * Builds an HDF5 file from a plain tree. Groups, datasets and attributes keep
 * their insertion order (creation order is tracked in the file). String
 * attributes are variable-length UTF-8 strings, as h5py writes them; string
 * arrays are arrays of those; integral numbers are int64 and others float64,
 * as h5py writes Python numbers; an empty array is an empty float64 array.
 * Datasets are contiguous and uncompressed; `bool` datasets are stored as
 * uint8 with the attribute dtype="bool" (h5py's enum type cannot be written).
 */
export async function writeH5(root: H5WriteGroup): Promise<Uint8Array> {
  const ops: WriteOp[] = [];
  groupOps('/', root, ops);
  const transfer = ops.flatMap((op) => (op.data ? [op.data.buffer as ArrayBuffer] : []));
  const total = ops.reduce((n, op) => n + (op.data?.byteLength ?? 0), 0);
  try {
    const reply = await getClient().request({ kind: 'write', ops }, transfer, defaultH5TimeoutMs(total));
    return reply.bytes as Uint8Array;
  } catch (e) {
    throw new Error(`writeH5: the file ${describeFailure(e, 'write')}`);
  }
}
