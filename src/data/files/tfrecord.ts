/**
 * TFRecord files: TensorFlow's record framing. Each record is
 *   uint64 length (little-endian) | uint32 masked CRC-32C of the length bytes
 *   | data | uint32 masked CRC-32C of the data.
 * `TFRecordDataset` streams records (chunks of `bufferSize` bytes, never the
 * whole file) and checks both CRCs; `TFRecordWriter` writes them. GZIP and
 * ZLIB compression as in tf.io.TFRecordOptions.
 */
import { closeSync, openSync, writeSync, renameSync, unlinkSync, createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip, createDeflate } from 'node:zlib';
import { describe } from '../../tensor/shape.ts';
import { type DatasetNode, UNKNOWN_CARDINALITY } from '../core.ts';
import { Dataset } from '../dataset.ts';
import { type ElementSpec, StringSpec } from '../structure.ts';
import { maskedCrc32c } from './crc32c.ts';
import { ChunkReader, type CompressionType, type FileNames, checkBufferSize, checkCompression, fileNamesNode, filesNode, readChunks } from './stream.ts';

export interface TFRecordOptions {
  /** '' (default), 'GZIP' or 'ZLIB'. */
  compressionType?: CompressionType;
  /** Bytes read from the file at a time (default 256 KiB). */
  bufferSize?: number;
  /** Files read at once, interleaved record by record (default 1: one file after another). */
  numParallelReads?: number;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** The records of one TFRecord file, as Uint8Array, with their CRCs checked. */
export async function* readTFRecords(path: string, options: { compressionType?: CompressionType; bufferSize?: number } = {}): AsyncGenerator<Uint8Array> {
  const where = 'TFRecordDataset';
  const reader = new ChunkReader(readChunks(path, { ...options, where }));
  const compressed = checkCompression(options.compressionType, where) !== '';
  const at = (offset: number) => `TFRecord file '${path}': record at ${compressed ? 'uncompressed ' : ''}byte offset ${offset}`;
  let index = 0;
  try {
    for (;;) {
      const offset = reader.offset;
      const header = await reader.read(12, false);
      if (header === null) return;
      if (header.length < 12) throw new Error(`${at(offset)} (record ${index}) is truncated: the file ends ${header.length} bytes into its 12-byte header.`);
      const dv = new DataView(header.buffer, header.byteOffset, 12);
      const stored = dv.getUint32(8, true);
      const computed = maskedCrc32c(header.subarray(0, 8));
      if (stored !== computed) throw new Error(`${at(offset)} (record ${index}) is corrupted: the CRC of its length field does not match (stored ${hex(stored)}, computed ${hex(computed)}).`);
      const lo = dv.getUint32(0, true);
      const hi = dv.getUint32(4, true);
      if (hi !== 0 || lo > 0x7fffffff) throw new Error(`${at(offset)} (record ${index}) declares a length of ${hi * 2 ** 32 + lo} bytes, more than Strata can read (2 GiB per record).`);
      const body = await reader.read(lo + 4, false);
      const got = body?.length ?? 0;
      if (got < lo + 4) throw new Error(`${at(offset)} (record ${index}) is truncated: it declares ${lo} bytes of data but the file ends after ${Math.max(0, Math.min(got, lo))}${got > lo ? ' and part of its CRC' : ''}.`);
      const data = body!.subarray(0, lo);
      const bdv = new DataView(body!.buffer, body!.byteOffset + lo, 4);
      const storedData = bdv.getUint32(0, true);
      const computedData = maskedCrc32c(data);
      if (storedData !== computedData) throw new Error(`${at(offset)} (record ${index}) is corrupted: the CRC of its ${lo} data bytes does not match (stored ${hex(storedData)}, computed ${hex(computedData)}).`);
      index++;
      // A copy, so a record never keeps a whole read buffer alive.
      yield data.slice();
    }
  } finally {
    await reader.close();
  }
}

class TFRecordFileNode implements DatasetNode<Uint8Array> {
  constructor(
    private readonly path: string,
    private readonly options: TFRecordOptions,
  ) {}
  iterate(): AsyncIterator<Uint8Array> {
    return readTFRecords(this.path, this.options);
  }
  cardinality(): number {
    return UNKNOWN_CARDINALITY;
  }
  spec(): ElementSpec {
    return new StringSpec([], 'bytes');
  }
}

/**
 * The records of one or more TFRecord files (tf.data.TFRecordDataset): each
 * element is a record's bytes (a Uint8Array), typically parsed with
 * `map((r) => parseSingleExample(r, features))` or, after `batch`, with
 * `parseExample`. `filenames` may be a path, a list, or a Dataset of paths.
 */
export class TFRecordDataset extends Dataset<Uint8Array> {
  constructor(filenames: FileNames, options: TFRecordOptions = {}) {
    const where = 'TFRecordDataset';
    checkCompression(options.compressionType, where);
    checkBufferSize(options.bufferSize, where);
    const names = fileNamesNode(filenames, where);
    const node = filesNode(names, (path) => new TFRecordFileNode(path, options), options.numParallelReads, where) as unknown as DatasetNode<Uint8Array>;
    super(wrapSpec(node, new StringSpec([], 'bytes')));
  }
}

/** A node with a known spec (the files' interleave cannot know it). */
export function wrapSpec<T>(node: DatasetNode<T>, spec: ElementSpec): DatasetNode<T> {
  return { iterate: () => node.iterate(), cardinality: () => node.cardinality(), spec: () => spec };
}

/**
 * Writes TFRecord files (tf.io.TFRecordWriter): `write(record)` for each
 * record (bytes, or a string written as UTF-8), then `await close()`.
 * Writes go to the file in blocks of 1 MiB, so memory stays bounded. With
 * GZIP / ZLIB, records are written to a temporary file that `close()`
 * compresses into place.
 */
export class TFRecordWriter {
  private fd: number | null;
  private readonly target: string;
  private readonly rawPath: string;
  private readonly compression: '' | 'GZIP' | 'ZLIB';
  private readonly buffer = new Uint8Array(1 << 20);
  private used = 0;
  private readonly text = new TextEncoder();
  private count = 0;

  constructor(path: string, options: { compressionType?: CompressionType } = {}) {
    const where = 'TFRecordWriter';
    if (typeof path !== 'string' || path === '') throw new TypeError(`${where}: Received: path=${describe(path)}; expected a file path.`);
    this.compression = checkCompression(options.compressionType, where);
    this.target = path;
    this.rawPath = this.compression === '' ? path : `${path}.uncompressed-${process.pid}`;
    try {
      this.fd = openSync(this.rawPath, 'w');
    } catch (e) {
      throw new Error(`${where}: cannot create '${this.rawPath}': ${(e as Error).message}`, { cause: e });
    }
  }

  /** Number of records written so far. */
  get recordCount(): number {
    return this.count;
  }

  write(record: Uint8Array | string): void {
    if (this.fd === null) throw new Error(`TFRecordWriter: '${this.target}' is closed.`);
    const data = typeof record === 'string' ? this.text.encode(record) : record;
    if (!(data instanceof Uint8Array)) throw new TypeError(`TFRecordWriter.write: expected a Uint8Array or a string, got ${describe(record)}.`);
    const header = new Uint8Array(12);
    const dv = new DataView(header.buffer);
    dv.setUint32(0, data.length >>> 0, true);
    dv.setUint32(4, Math.floor(data.length / 2 ** 32), true);
    dv.setUint32(8, maskedCrc32c(header.subarray(0, 8)), true);
    const footer = new Uint8Array(4);
    new DataView(footer.buffer).setUint32(0, maskedCrc32c(data), true);
    this.append(header);
    this.append(data);
    this.append(footer);
    this.count++;
  }

  private append(b: Uint8Array): void {
    if (b.length > this.buffer.length) {
      this.flush();
      writeAll(this.fd!, b);
      return;
    }
    if (this.used + b.length > this.buffer.length) this.flush();
    this.buffer.set(b, this.used);
    this.used += b.length;
  }

  /** Writes buffered records to the file (for uncompressed files; compressed ones are complete only after close). */
  flush(): void {
    if (this.fd === null || this.used === 0) return;
    writeAll(this.fd, this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  async close(): Promise<void> {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
    if (this.compression === '') return;
    const tmp = `${this.target}.tmp-${process.pid}`;
    try {
      await pipeline(createReadStream(this.rawPath), this.compression === 'GZIP' ? createGzip() : createDeflate(), createWriteStream(tmp));
      renameSync(tmp, this.target);
    } finally {
      try {
        unlinkSync(this.rawPath);
      } catch {
        // already gone
      }
    }
  }
}

function writeAll(fd: number, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off, b.length - off);
}

/** Writes every record of `records` (a Dataset of bytes / strings, or any iterable) to a TFRecord file. */
export async function writeTFRecords(path: string, records: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, options: { compressionType?: CompressionType } = {}): Promise<number> {
  const writer = new TFRecordWriter(path, options);
  try {
    for await (const r of records as AsyncIterable<Uint8Array | string>) writer.write(r);
  } finally {
    await writer.close();
  }
  return writer.recordCount;
}
