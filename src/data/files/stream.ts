/**
 * Streaming file input shared by the file datasets: chunks from a file
 * (optionally GZIP / ZLIB compressed), an exact-length reader over them, and
 * the list of file names a file dataset reads.
 */
import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pipeline } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import { describe } from '../../tensor/shape.ts';
import { AUTOTUNE, type DatasetNode, makeDataset } from '../core.ts';
import { ListNode } from '../sources.ts';
import { InterleaveNode } from '../transforms.ts';
import { type Element, StringTensor, isDatasetLike } from '../structure.ts';

export type CompressionType = '' | 'GZIP' | 'ZLIB' | null | undefined;

export function checkCompression(c: unknown, where: string): '' | 'GZIP' | 'ZLIB' {
  if (c === undefined || c === null || c === '') return '';
  if (c === 'GZIP' || c === 'ZLIB') return c;
  throw new TypeError(`${where}: Received: compressionType=${JSON.stringify(c)}; expected '', 'GZIP' or 'ZLIB'.`);
}

export const DEFAULT_BUFFER_SIZE = 256 * 1024;

/**
 * The `bufferSize` option of the file datasets: bytes read at a time; 0 or
 * omitted means the default (as TextLineDataset's buffer_size=0 in tf.data).
 * Checked here because a read stream with a highWaterMark of 0 never yields
 * a chunk nor ends (the pass would hang), and other bad values fail with a
 * message about `options.highWaterMark` that names neither option nor file.
 */
export function checkBufferSize(b: unknown, where: string): number {
  if (b === undefined || b === null || b === 0) return DEFAULT_BUFFER_SIZE;
  if (typeof b !== 'number' || !Number.isInteger(b) || b < 0) throw new RangeError(`${where}: Received: bufferSize=${String(b)}; expected a positive integer (bytes read at a time; 0 or omitted: ${DEFAULT_BUFFER_SIZE}).`);
  return b;
}

/** The (decompressed) bytes of a file, chunk by chunk. Never reads the whole file at once. */
export async function* readChunks(path: string, options: { compressionType?: CompressionType; bufferSize?: number; where: string }): AsyncGenerator<Uint8Array> {
  const compression = checkCompression(options.compressionType, options.where);
  const file = createReadStream(path, { highWaterMark: checkBufferSize(options.bufferSize, options.where) });
  const stream = compression === '' ? file : pipeline(file, compression === 'GZIP' ? createGunzip() : createInflate(), () => undefined);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new Error(`${options.where}: cannot open '${path}': no such file.`, { cause: e });
    if (err.code === 'EISDIR') throw new Error(`${options.where}: cannot read '${path}': it is a directory.`, { cause: e });
    if (err.code?.startsWith('Z_') || /header|invalid|unexpected end/i.test(err.message)) {
      throw new Error(`${options.where}: cannot decompress '${path}' as ${compression}: ${err.message}. Is compressionType right?`, { cause: e });
    }
    throw new Error(`${options.where}: reading '${path}' failed: ${err.message}`, { cause: e });
  } finally {
    file.destroy();
    if (stream !== file) (stream as { destroy(): void }).destroy();
  }
}

/** Reads exact byte counts from a stream of chunks; `offset` is the position of the next byte. */
export class ChunkReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private ended = false;
  offset = 0;

  constructor(private readonly chunks: AsyncIterator<Uint8Array>) {}

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    for (;;) {
      const r = await this.chunks.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      if (r.value.length > 0) {
        this.chunk = r.value;
        this.pos = 0;
        return true;
      }
    }
  }

  /**
   * The next `n` bytes: null at the end of the stream, fewer than `n` when
   * the stream ends partway. With `copy` false the bytes may be a view of a
   * chunk (valid until the data is dropped, never overwritten).
   */
  async read(n: number, copy = true): Promise<Uint8Array | null> {
    const left = this.chunk.length - this.pos;
    if (left >= n) {
      const out = copy ? this.chunk.slice(this.pos, this.pos + n) : this.chunk.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.offset += n;
      return out;
    }
    if (left === 0 && !(await this.pull())) return null;
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const take = Math.min(n - filled, this.chunk.length - this.pos);
      out.set(this.chunk.subarray(this.pos, this.pos + take), filled);
      filled += take;
      this.pos += take;
      if (filled < n && !(await this.pull())) break;
    }
    this.offset += filled;
    return filled < n ? out.subarray(0, filled) : out;
  }

  async close(): Promise<void> {
    await this.chunks.return?.();
  }
}

export type FileNames = string | readonly string[] | AsyncIterable<unknown>;

/** The node of file names for a file dataset: a name, a list, or a Dataset of names. */
export function fileNamesNode(filenames: FileNames, where: string): DatasetNode {
  if (typeof filenames === 'string') return new ListNode([filenames]);
  if (Array.isArray(filenames)) {
    if (filenames.length === 0) throw new Error(`${where}: no file names given.`);
    filenames.forEach((f, i) => {
      if (typeof f !== 'string') throw new TypeError(`${where}: file name ${i} is ${describe(f)}, not a string.`);
    });
    return new ListNode(filenames as string[]);
  }
  if (isDatasetLike(filenames)) return (filenames as unknown as { _node: DatasetNode })._node;
  throw new TypeError(`${where}: expected a file name, a list of file names or a Dataset of file names; got ${describe(filenames)}.`);
}

export function fileNameOf(el: Element, where: string): string {
  if (typeof el === 'string') return el;
  if (el instanceof Uint8Array) return new TextDecoder().decode(el);
  if (el instanceof StringTensor && el.shape.length === 0) return String(el.values[0]);
  throw new TypeError(`${where}: the dataset of file names must yield strings; it yielded ${describe(el)}.`);
}

/**
 * The records of every file, one file after another, or `numParallelReads`
 * files interleaved record by record (read ahead in the background).
 */
export function filesNode(names: DatasetNode, perFile: (path: string) => DatasetNode, numParallelReads: number | undefined, where: string): DatasetNode {
  const n = numParallelReads === AUTOTUNE ? availableParallelism() : (numParallelReads ?? 1);
  const open = (name: Element) => makeDataset(perFile(fileNameOf(name, where)));
  return new InterleaveNode(names, open as never, n > 1 ? { cycleLength: n, blockLength: 1, numParallelCalls: n } : { cycleLength: 1, blockLength: 1 }, where);
}
