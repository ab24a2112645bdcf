/**
 * `TextLineDataset`: the lines of text files as strings (without their line
 * ending, `\n` or `\r\n`), streamed in chunks of `bufferSize` bytes.
 */
import { type DatasetNode, UNKNOWN_CARDINALITY } from '../core.ts';
import { Dataset } from '../dataset.ts';
import { type ElementSpec, StringSpec } from '../structure.ts';
import { type CompressionType, type FileNames, checkBufferSize, checkCompression, fileNamesNode, filesNode, readChunks } from './stream.ts';
import { wrapSpec } from './tfrecord.ts';

export interface TextLineOptions {
  /** '' (default), 'GZIP' or 'ZLIB'. */
  compressionType?: CompressionType;
  /** Bytes read at a time (default 256 KiB). */
  bufferSize?: number;
  /** Files read at once, interleaved line by line (default 1: one after another). */
  numParallelReads?: number;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The lines of one file with their 1-based line numbers. */
export async function* readLines(path: string, options: { compressionType?: CompressionType; bufferSize?: number; where: string }): AsyncGenerator<{ text: string; line: number }> {
  const decoder = new TextDecoder();
  let carry: Uint8Array[] = [];
  let line = 0;
  const decode = (bytes: Uint8Array) => {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 13) end--;
    let start = 0;
    if (line === 1 && end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3; // byte order mark
    return decoder.decode(bytes.subarray(start, end));
  };
  for await (const chunk of readChunks(path, options)) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      const bytes = carry.length ? concat([...carry, piece]) : piece;
      carry = [];
      line++;
      yield { text: decode(bytes), line };
      start = nl + 1;
    }
    if (start < chunk.length) carry.push(chunk.subarray(start));
  }
  if (carry.length) {
    line++;
    yield { text: decode(concat(carry)), line };
  }
}

class TextFileNode implements DatasetNode<string> {
  constructor(
    private readonly path: string,
    private readonly options: TextLineOptions,
  ) {}
  async *iterate(): AsyncGenerator<string> {
    for await (const l of readLines(this.path, { ...this.options, where: 'TextLineDataset' })) yield l.text;
  }
  cardinality(): number {
    return UNKNOWN_CARDINALITY;
  }
  spec(): ElementSpec {
    return new StringSpec([], 'string');
  }
}

/** The lines of one or more text files (tf.data.TextLineDataset). `filenames`: a path, a list, or a Dataset of paths. */
export class TextLineDataset extends Dataset<string> {
  constructor(filenames: FileNames, options: TextLineOptions = {}) {
    const where = 'TextLineDataset';
    checkCompression(options.compressionType, where);
    checkBufferSize(options.bufferSize, where);
    const node = filesNode(fileNamesNode(filenames, where), (path) => new TextFileNode(path, options), options.numParallelReads, where) as unknown as DatasetNode<string>;
    super(wrapSpec(node, new StringSpec([], 'string')));
  }
}

/** `new TextLineDataset(filenames, options)`. */
export function textLineDataset(filenames: FileNames, options: TextLineOptions = {}): TextLineDataset {
  return new TextLineDataset(filenames, options);
}
