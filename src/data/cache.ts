/**
 * `Dataset.cache()`: in memory (opt-in: it holds every element), or in a file
 * that later passes and later runs read instead of recomputing the input.
 *
 * The first complete pass fills the cache. A pass that stops early (break,
 * take, an error) discards what it collected, so a later pass starts over.
 * A file cache is written to a temporary file next to the target and renamed
 * into place when the pass completes, so a file at `path` is always
 * complete. Delete it to invalidate the cache (Strata cannot tell whether the
 * pipeline that wrote it has changed).
 */
import { existsSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { Tensor } from '../tensor/tensor.ts';
import { type DType, allocate, bytesPerElement } from '../tensor/dtype.ts';
import { describe } from '../tensor/shape.ts';
import { type DatasetNode, closeIterator } from './core.ts';
import { type Element, type ElementSpec, SparseTensor, StringTensor, isDatasetLike } from './structure.ts';
import { ChunkReader, readChunks } from './files/stream.ts';

export class MemoryCacheNode implements DatasetNode {
  private cached: Element[] | null = null;
  private filling = false;

  constructor(private readonly input: DatasetNode) {}

  async *iterate(): AsyncGenerator<Element> {
    if (this.cached) {
      yield* this.cached;
      return;
    }
    // A second pass running while the first fills the cache reads the input directly.
    const fill = !this.filling;
    if (fill) this.filling = true;
    const collected: Element[] = [];
    const it = this.input.iterate();
    let complete = false;
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) {
          complete = true;
          break;
        }
        if (fill) collected.push(r.value);
        yield r.value;
      }
      if (fill) this.cached = collected;
    } finally {
      if (fill) this.filling = false;
      if (!complete) await closeIterator(it);
    }
  }

  cardinality(): number {
    return this.cached ? this.cached.length : this.input.cardinality();
  }

  spec(): ElementSpec | null {
    return this.input.spec();
  }
}

// ---------------------------------------------------------------------------
// Element encoding for the file cache

const MAGIC = new TextEncoder().encode('STRATA-CACHE-1\n');
const END = 0xffffffff;
const DTYPE_CODES: DType[] = ['float32', 'float64', 'int32', 'bool'];

class Encoder {
  buf = new Uint8Array(1 << 16);
  view = new DataView(this.buf.buffer);
  len = 0;
  private readonly text = new TextEncoder();

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.reserve(1);
    this.buf[this.len++] = v;
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.len, v, true);
    this.len += 4;
  }
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  str(s: string): void {
    this.bytes(this.text.encode(s));
  }
  dims(shape: readonly number[]): void {
    this.u8(shape.length);
    for (const d of shape) this.u32(d);
  }
  tensor(t: Tensor): void {
    const v = t.valuesOrThrow('cache');
    this.u8(DTYPE_CODES.indexOf(t.dtype));
    this.dims(t.shape as number[]);
    this.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  element(x: Element): void {
    if (x instanceof Tensor) {
      this.u8(1);
      this.tensor(x);
    } else if (typeof x === 'string') {
      this.u8(2);
      this.str(x);
    } else if (x instanceof Uint8Array) {
      this.u8(3);
      this.bytes(x);
    } else if (x instanceof StringTensor) {
      this.u8(4);
      this.u8(x.dtype === 'bytes' ? 1 : 0);
      this.dims(x.shape);
      for (const v of x.values) typeof v === 'string' ? this.str(v) : this.bytes(v);
    } else if (x instanceof SparseTensor) {
      this.u8(7);
      this.element(x.indices);
      this.element(x.values);
      this.dims(x.denseShape);
    } else if (isDatasetLike(x)) {
      throw new Error('Dataset.cache: elements that are datasets (from window) cannot be cached in a file; cache before window, or use cache() in memory.');
    } else if (Array.isArray(x)) {
      this.u8(5);
      this.u32(x.length);
      for (const e of x) this.element(e);
    } else {
      const entries = Object.entries(x as Record<string, Element>);
      this.u8(6);
      this.u32(entries.length);
      for (const [k, v] of entries) {
        this.str(k);
        this.element(v);
      }
    }
  }
}

class Decoder {
  private pos = 0;
  private readonly view: DataView;
  private readonly text = new TextDecoder();
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  u8(): number {
    return this.buf[this.pos++];
  }
  u32(): number {
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  bytes(): Uint8Array {
    const n = this.u32();
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  str(): string {
    const n = this.u32();
    const s = this.text.decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  dims(): number[] {
    const rank = this.u8();
    return Array.from({ length: rank }, () => this.u32());
  }
  tensor(): Tensor {
    const dtype = DTYPE_CODES[this.u8()];
    const shape = this.dims();
    const n = this.u32();
    const values = allocate(dtype, n / bytesPerElement(dtype));
    new Uint8Array(values.buffer).set(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return new Tensor(shape, dtype, values);
  }
  element(): Element {
    const tag = this.u8();
    switch (tag) {
      case 1: return this.tensor();
      case 2: return this.str();
      case 3: return this.bytes();
      case 4: {
        const bytes = this.u8() === 1;
        const shape = this.dims();
        const n = shape.reduce((p, d) => p * d, 1);
        const values = Array.from({ length: n }, () => (bytes ? this.bytes() : this.str()));
        return new StringTensor(values, shape, bytes ? 'bytes' : 'string');
      }
      case 5: return Array.from({ length: this.u32() }, () => this.element());
      case 6: {
        const n = this.u32();
        const out: Record<string, Element> = {};
        for (let i = 0; i < n; i++) {
          const k = this.str();
          out[k] = this.element();
        }
        return out;
      }
      case 7: {
        const indices = this.element() as Tensor;
        const values = this.element() as Tensor | StringTensor;
        return new SparseTensor(indices, values, this.dims());
      }
      default: throw new Error(`unknown element tag ${tag}`);
    }
  }
}

/** Encodes one element (the file cache's record format). */
export function encodeElement(x: Element): Uint8Array {
  const e = new Encoder();
  e.element(x);
  return e.buf.subarray(0, e.len);
}

export function decodeElement(b: Uint8Array): Element {
  return new Decoder(b).element();
}

let tempCounter = 0;

export class FileCacheNode implements DatasetNode {
  constructor(
    private readonly input: DatasetNode,
    readonly path: string,
  ) {
    if (typeof path !== 'string' || path === '') throw new TypeError(`Dataset.cache: Received: filename=${describe(path)}; expected a file path (or nothing, for a cache in memory).`);
  }

  iterate(): AsyncIterator<Element> {
    return existsSync(this.path) ? this.read() : this.write();
  }

  private async *read(): AsyncGenerator<Element> {
    const where = 'Dataset.cache';
    const reader = new ChunkReader(readChunks(this.path, { where }));
    const fail = (what: string): never => {
      throw new Error(`${where}: the cache file '${this.path}' is corrupt at byte ${reader.offset}: ${what}. Delete it to rebuild the cache.`);
    };
    try {
      const magic = await reader.read(MAGIC.length, false);
      if (!magic || magic.length !== MAGIC.length || magic.some((b, i) => b !== MAGIC[i])) fail('it is not a Strata dataset cache');
      let count = 0;
      for (;;) {
        const head = await reader.read(4, false);
        if (!head || head.length < 4) fail('the file ends before its end marker (it was not completely written)');
        const n = new DataView(head!.buffer, head!.byteOffset, 4).getUint32(0, true);
        if (n === END) {
          const tail = await reader.read(8, false);
          if (!tail || tail.length < 8) fail('the end marker is truncated');
          const expected = new DataView(tail!.buffer, tail!.byteOffset, 8).getFloat64(0, true);
          if (expected !== count) fail(`the end marker says ${expected} elements but ${count} were read`);
          return;
        }
        const body = await reader.read(n, false);
        if (!body || body.length < n) fail(`element ${count} is truncated`);
        let el: Element;
        try {
          el = decodeElement(body!);
        } catch (e) {
          fail(`element ${count} cannot be decoded (${(e as Error).message})`);
        }
        count++;
        yield el!;
      }
    } finally {
      await reader.close();
    }
  }

  private async *write(): AsyncGenerator<Element> {
    const where = 'Dataset.cache';
    const temp = `${this.path}.tmp-${process.pid}-${tempCounter++}`;
    let fh: FileHandle;
    try {
      fh = await open(temp, 'w');
    } catch (e) {
      throw new Error(`${where}: cannot create the cache file '${temp}': ${(e as Error).message}`, { cause: e });
    }
    const it = this.input.iterate();
    let complete = false;
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const all = new Uint8Array(pendingBytes);
      let o = 0;
      for (const p of pending) {
        all.set(p, o);
        o += p.length;
      }
      pending = [];
      pendingBytes = 0;
      await fh.write(all);
    };
    const push = (b: Uint8Array) => {
      pending.push(b);
      pendingBytes += b.length;
    };
    try {
      push(MAGIC);
      let count = 0;
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        const body = encodeElement(r.value).slice();
        const head = new Uint8Array(4);
        new DataView(head.buffer).setUint32(0, body.length, true);
        push(head);
        push(body);
        count++;
        if (pendingBytes > 1 << 20) await flush();
        yield r.value;
      }
      const tail = new Uint8Array(12);
      const dv = new DataView(tail.buffer);
      dv.setUint32(0, END, true);
      dv.setFloat64(4, count, true);
      push(tail);
      await flush();
      await fh.close();
      await rename(temp, this.path);
      complete = true;
    } finally {
      if (!complete) {
        await closeIterator(it);
        await fh.close().catch(() => undefined);
        await unlink(temp).catch(() => undefined);
      }
    }
  }

  cardinality(): number {
    return this.input.cardinality();
  }

  spec(): ElementSpec | null {
    return this.input.spec();
  }
}
