/**
 * strata.summary.createFileWriter: TensorBoard event files.
 *
 * An event file (`events.out.tfevents.<seconds>.<host>.<pid>.<n>`) is a
 * TFRecord file (src/data/files/tfrecord.ts writes the framing and CRCs)
 * of serialized `Event` protobufs, starting with one whose file_version is
 * "brain.Event:2". Values are written in the forms TensorBoard reads
 * directly and that its legacy EventAccumulator also understands:
 *   - scalar: Summary.Value.simple_value;
 *   - histogram: Summary.Value.histo (HistogramProto, equal-width buckets);
 *   - image: Summary.Value.image (PNG);
 *   - text: a string tensor with the `text` plugin's metadata;
 *   - graph: Event.graph_def (a serialized GraphDef, see graph-def.ts).
 *
 *   const w = strata.summary.createFileWriter('logs/run1');
 *   w.scalar('loss', 0.25, step);
 *   await w.close();
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { TFRecordWriter } from '../data/files/tfrecord.ts';
import type { DType } from '../tensor/dtype.ts';
import type { Shape } from '../tensor/shape.ts';
import { Tensor, TensorSpec } from '../tensor/tensor.ts';
import { zeros } from '../tensor/create.ts';
import { Variable } from '../engine/variable.ts';
import { fn, ConcreteFunction } from '../graph/function.ts';
import { Graph } from '../graph/ir.ts';
import type { Layer } from '../layers/layer.ts';
import { graphToGraphDef } from './graph-def.ts';
import { histogramOf } from './histogram.ts';
import { encodePng } from './png.ts';
import { DT, type EventObject, type SummaryMetadataObject, type SummaryValueObject, encodeEvent, encodeGraphDef } from './proto.ts';

export interface FileWriterOptions {
  /** Events buffered before they are written to the file (default 10). */
  maxQueue?: number;
  /** Longest time an event stays buffered, in ms (default 120000, as in TensorFlow). */
  flushMillis?: number;
  /** Appended to the event file's name. */
  filenameSuffix?: string;
}

export interface HistogramOptions {
  /** Number of equal-width buckets (default 30). */
  buckets?: number;
  description?: string;
}

export interface ImageOptions {
  /** At most this many images of a batch are written (default 3). */
  maxOutputs?: number;
  description?: string;
}

/** What `graph()` accepts: a compiled function (its latest trace), one trace, a graph, or a model / layer (its forward pass is traced). */
export type GraphSource = { concreteFunctions(): readonly ConcreteFunction[]; functionName: string } | ConcreteFunction | Graph | Layer;

let fileCounter = 0;
const openWriters = new Set<SummaryWriter>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Writes are synchronous, so what is buffered can still be written when the process exits.
  process.once('exit', () => {
    for (const w of openWriters) w.flush();
  });
}

const utf8 = new TextEncoder();

function checkStep(step: unknown, where: string): number {
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) throw new TypeError(`summary.${where}: step must be a non-negative integer. Received: ${String(step)}`);
  return step;
}

function checkName(name: unknown, where: string): string {
  if (typeof name !== 'string' || name === '') throw new TypeError(`summary.${where}: name must be a non-empty string. Received: ${String(name)}`);
  return name;
}

function valuesOf(data: Tensor | Variable | ArrayLike<number>, where: string): ArrayLike<number> {
  if (data instanceof Variable) return data._value.valuesOrThrow(where);
  if (data instanceof Tensor) return data.valuesOrThrow(where);
  if (Array.isArray(data) || ArrayBuffer.isView(data)) return data as ArrayLike<number>;
  throw new TypeError(`summary.${where}: expected a tensor, a variable or an array of numbers. Received: ${Object.prototype.toString.call(data)}`);
}

export class SummaryWriter {
  /** The folder of the event file. */
  readonly logdir: string;
  /** The event file's path. */
  readonly path: string;
  private records: TFRecordWriter | null;
  private queued = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly maxQueue: number;
  private readonly flushMillis: number;

  constructor(logdir: string, options: FileWriterOptions = {}) {
    if (typeof logdir !== 'string' || logdir === '') throw new TypeError(`summary.createFileWriter: expected a folder path. Received: ${String(logdir)}`);
    this.logdir = resolve(logdir);
    mkdirSync(this.logdir, { recursive: true });
    const name = `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${hostname()}.${process.pid}.${fileCounter++}${options.filenameSuffix ?? ''}`;
    this.path = join(this.logdir, name);
    this.records = new TFRecordWriter(this.path);
    this.maxQueue = options.maxQueue ?? 10;
    this.flushMillis = options.flushMillis ?? 120_000;
    this.writeEvent({ wallTime: Date.now() / 1000, step: 0, fileVersion: 'brain.Event:2' });
    this.flush();
    openWriters.add(this);
    installExitHook();
  }

  get closed(): boolean {
    return this.records === null;
  }

  /** Writes one Event (wall time and step included); most code uses scalar / histogram / ... instead. */
  writeEvent(event: EventObject): void {
    if (!this.records) throw new Error(`SummaryWriter: the writer of '${this.path}' is closed.`);
    this.records.write(encodeEvent(event));
    if (++this.queued >= this.maxQueue) this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.flushMillis);
      this.timer.unref();
    }
  }

  private summary(step: number, value: SummaryValueObject): void {
    this.writeEvent({ wallTime: Date.now() / 1000, step, summary: { value: [value] } });
  }

  /** A scalar (a number, or a one-element tensor) under `name` at `step`. */
  scalar(name: string, value: number | Tensor, step: number, options: { description?: string } = {}): void {
    checkName(name, 'scalar');
    checkStep(step, 'scalar');
    const v = value instanceof Tensor ? value.item() : value;
    if (typeof v !== 'number') throw new TypeError(`summary.scalar('${name}'): expected a number or a one-element tensor. Received: ${String(value)}`);
    this.summary(step, { tag: name, simpleValue: v, ...(options.description ? { metadata: { summaryDescription: options.description } } : {}) });
  }

  /** A histogram of the values (a tensor, a variable or numbers) in equal-width buckets (default 30). */
  histogram(name: string, values: Tensor | Variable | ArrayLike<number>, step: number, options: HistogramOptions = {}): void {
    checkName(name, 'histogram');
    checkStep(step, 'histogram');
    const histo = histogramOf(valuesOf(values, 'histogram'), options.buckets ?? 30);
    this.summary(step, { tag: name, histo, ...(options.description ? { metadata: { summaryDescription: options.description } } : {}) });
  }

  /** Text (Markdown in TensorBoard's text dashboard): one string, or a list of strings. */
  text(name: string, value: string | readonly string[], step: number, options: { description?: string } = {}): void {
    checkName(name, 'text');
    checkStep(step, 'text');
    const list = typeof value === 'string' ? [value] : [...value];
    if (!list.every((s) => typeof s === 'string')) throw new TypeError(`summary.text('${name}'): expected a string or an array of strings.`);
    const metadata: SummaryMetadataObject = { pluginData: { pluginName: 'text', content: new Uint8Array(0) }, ...(options.description ? { summaryDescription: options.description } : {}) };
    const tensorShape = typeof value === 'string' ? { dim: [] } : { dim: [{ size: list.length }] };
    this.summary(step, { tag: name, metadata, tensor: { dtype: DT.STRING, tensorShape, stringVal: list.map((s) => utf8.encode(s)) } });
  }

  /**
   * Images: a tensor [height, width, channels] or [n, height, width,
   * channels] with 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA) channels.
   * float tensors hold values in [0, 1] (as tf.summary.image: scaled by 255.5,
   * truncated and saturated, like tf.image.convert_image_dtype); int32 tensors
   * hold 0..255 (clipped).
   * One image is written under `name`; several under `name/image/<i>`.
   */
  image(name: string, data: Tensor, step: number, options: ImageOptions = {}): void {
    checkName(name, 'image');
    checkStep(step, 'image');
    if (!(data instanceof Tensor)) throw new TypeError(`summary.image('${name}'): expected a tensor [h, w, c] or [n, h, w, c].`);
    if (data.rank !== 3 && data.rank !== 4) throw new Error(`summary.image('${name}'): expected a tensor of rank 3 [h, w, c] or 4 [n, h, w, c]. Received shape [${data.shape.join(', ')}].`);
    const shape = (data.rank === 3 ? [1, ...data.shape] : data.shape) as number[];
    const [n, h, w, c] = shape;
    if (![1, 2, 3, 4].includes(c)) throw new Error(`summary.image('${name}'): images need 1, 2, 3 or 4 channels (the last dimension). Received shape [${data.shape.join(', ')}].`);
    const values = data.valuesOrThrow('summary.image');
    // Not guessed from the values: a float image whose brightest pixel is just over 1 must not turn black.
    const float = data.dtype === 'float32' || data.dtype === 'float64';
    const count = Math.min(n, options.maxOutputs ?? 3);
    const size = h * w * c;
    const values_: SummaryValueObject[] = [];
    for (let k = 0; k < count; k++) {
      const pixels = new Uint8Array(size);
      for (let i = 0; i < size; i++) {
        const v = float ? Math.trunc(values[k * size + i] * 255.5) : values[k * size + i];
        pixels[i] = v !== v ? 0 : Math.max(0, Math.min(255, v));
      }
      const tag = n === 1 ? name : `${name}/image/${k}`;
      values_.push({
        tag,
        image: { height: h, width: w, colorspace: c, encodedImageString: encodePng(pixels, w, h, c) },
        ...(options.description ? { metadata: { summaryDescription: options.description } } : {}),
      });
    }
    this.writeEvent({ wallTime: Date.now() / 1000, step, summary: { value: values_ } });
  }

  /**
   * The graph TensorBoard's Graphs dashboard shows for this run: a compiled
   * function (its latest trace), a ConcreteFunction, a Graph, or a model /
   * layer, whose forward pass is traced (on `options.input`, or on its
   * known input shape).
   */
  graph(source: GraphSource, options: { input?: Tensor | Tensor[] } = {}): void {
    const graph = resolveGraph(source, options.input);
    this.writeEvent({ wallTime: Date.now() / 1000, step: 0, graphDef: encodeGraphDef(graphToGraphDef(graph)) });
  }

  /** Writes buffered events to the file. */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.queued = 0;
    this.records?.flush();
  }

  /** Flushes and closes the file; later writes fail. */
  async close(): Promise<void> {
    if (!this.records) return;
    this.flush();
    const records = this.records;
    this.records = null;
    openWriters.delete(this);
    if (defaultWriter === this) defaultWriter = null;
    await records.close();
  }

  /** Makes this the writer that strata.summary.scalar / histogram / ... and traceExport write to. */
  setAsDefault(): this {
    defaultWriter = this;
    return this;
  }
}

let defaultWriter: SummaryWriter | null = null;

/** Creates a writer of a new event file in `logdir` (created if needed). */
export function createFileWriter(logdir: string, options: FileWriterOptions = {}): SummaryWriter {
  return new SummaryWriter(logdir, options);
}

/** The default writer (set with writer.setAsDefault()), or null. */
export function getDefaultWriter(): SummaryWriter | null {
  return defaultWriter;
}

export function setDefaultWriter(writer: SummaryWriter | null): void {
  defaultWriter = writer;
}

// tf.summary-style functions writing to the default writer; like TensorFlow's, they return false when there is none.

export function scalar(name: string, value: number | Tensor, step: number): boolean {
  defaultWriter?.scalar(name, value, step);
  return defaultWriter !== null;
}

export function histogram(name: string, values: Tensor | Variable | ArrayLike<number>, step: number, options: HistogramOptions = {}): boolean {
  defaultWriter?.histogram(name, values, step, options);
  return defaultWriter !== null;
}

export function text(name: string, value: string | readonly string[], step: number): boolean {
  defaultWriter?.text(name, value, step);
  return defaultWriter !== null;
}

export function image(name: string, data: Tensor, step: number, options: ImageOptions = {}): boolean {
  defaultWriter?.image(name, data, step, options);
  return defaultWriter !== null;
}

export function graph(source: GraphSource, options: { input?: Tensor | Tensor[] } = {}): boolean {
  defaultWriter?.graph(source, options);
  return defaultWriter !== null;
}

// ---------------------------------------------------------------------------
// Graphs from the things users have at hand

function isLayer(x: unknown): x is Layer {
  return typeof x === 'object' && x !== null && typeof (x as Layer).apply === 'function' && 'weights' in (x as object);
}

export function resolveGraph(source: GraphSource, input?: Tensor | Tensor[]): Graph {
  if (source instanceof Graph) return source;
  if (source instanceof ConcreteFunction) return source.graph;
  if (typeof source === 'function' && typeof (source as { concreteFunctions?: unknown }).concreteFunctions === 'function') {
    const traced = (source as { concreteFunctions(): readonly ConcreteFunction[]; functionName: string }).concreteFunctions();
    if (traced.length === 0) {
      throw new Error(`summary.graph: strata.fn '${(source as { functionName: string }).functionName}' has not been traced yet. Call it once (or use getConcreteFunction(...args)) first.`);
    }
    return traced[traced.length - 1].graph;
  }
  if (isLayer(source)) return traceLayer(source, input);
  throw new TypeError('summary.graph: expected a strata.fn, a ConcreteFunction, a Graph, or a model / layer.');
}

/** The input specs of a model: Functional inputs, a Sequential's input layer, or the shape a built layer was built for. */
function inputSpecs(layer: Layer): { shape: Shape; dtype: DType }[] | null {
  const functional = (layer as unknown as { inputTensors?: { shape: Shape; dtype: DType }[] }).inputTensors;
  if (Array.isArray(functional) && functional.length > 0) return functional.map((k) => ({ shape: k.shape, dtype: k.dtype }));
  const inputLayer = (layer as unknown as { inputLayer?: { batchShape: Shape; inputDtype?: DType } | null }).inputLayer;
  if (inputLayer) return [{ shape: inputLayer.batchShape, dtype: inputLayer.inputDtype ?? 'float32' }];
  const built = layer.built ? layer.buildInputShape : null;
  if (Array.isArray(built) && built.every((d) => d === null || typeof d === 'number')) return [{ shape: built as Shape, dtype: 'float32' }];
  return null;
}

function traceLayer(layer: Layer, input?: Tensor | Tensor[]): Graph {
  const given = input === undefined ? null : Array.isArray(input) ? input : [input];
  const specs = given ? given.map((t) => ({ shape: [null, ...t.shape.slice(1)] as Shape, dtype: t.dtype })) : inputSpecs(layer);
  if (!specs) throw new Error(`summary.graph: the input shape of '${layer.name}' is not known; pass {input: tensor} (an example batch).`);
  const forward = fn((...xs: Tensor[]) => layer.apply((xs.length === 1 ? xs[0] : xs) as never, { training: false }), {
    name: layer.name,
    inputSignature: specs.map((s) => new TensorSpec(s.shape, s.dtype)),
  });
  const args = given ?? specs.map((s) => zeros(s.shape.map((d) => d ?? 1), s.dtype));
  return forward.getConcreteFunction(...args).graph;
}
