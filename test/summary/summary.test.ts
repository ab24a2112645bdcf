import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as strata from '../../src/index.ts';
import { crc32c, maskedCrc32c } from '../../src/data/files/crc32c.ts';
import { crc32 } from '../../src/util/checksums.ts';
import { decodeRunMetadata } from '../../src/summary/proto.ts';
import { compiledCallObserverCount } from '../../src/engine/profiling.ts';

const { summary, layers, ops } = strata;
type Tensor = strata.Tensor;

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'strata-summary-'));
}

/** Records of a TFRecord file, checking the framing by hand: u64 length, masked CRC-32C of it, data, masked CRC-32C of the data. */
function rawRecords(path: string): Uint8Array[] {
  const bytes = new Uint8Array(readFileSync(path));
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < bytes.length) {
    const length = dv.getUint32(off, true);
    assert.equal(dv.getUint32(off + 4, true), 0, 'length high word');
    assert.equal(dv.getUint32(off + 8, true), maskedCrc32c(bytes.subarray(off, off + 8)), `length CRC of record ${out.length}`);
    const data = bytes.subarray(off + 12, off + 12 + length);
    assert.equal(dv.getUint32(off + 12 + length, true), maskedCrc32c(data), `data CRC of record ${out.length}`);
    out.push(data);
    off += 16 + length;
  }
  assert.equal(off, bytes.length);
  return out;
}

async function readOne(writer: strata.summary.SummaryWriter) {
  await writer.close();
  return summary.readEvents(writer.path);
}

describe('summary file writer', () => {
  it('names the event file as TensorFlow does and starts it with file_version brain.Event:2', async () => {
    const dir = tmp();
    const w = summary.createFileWriter(dir);
    assert.match(basename(w.path), /^events\.out\.tfevents\.\d{10}\.[^.]+/);
    assert.equal(w.logdir, dir);
    const events = await readOne(w);
    assert.equal(events.length, 1);
    assert.equal(events[0].fileVersion, 'brain.Event:2');
    assert.ok(Math.abs(events[0].wallTime - Date.now() / 1000) < 60);
  });

  it('writes scalars that read back by tag and step', async () => {
    const w = summary.createFileWriter(tmp());
    for (let step = 0; step < 4; step++) w.scalar('loss', 1 / (step + 1), step);
    w.scalar('accuracy', strata.tensor(0.75), 3);
    const events = await readOne(w);
    const scalars = summary.scalarsByTag(events);
    assert.deepEqual(scalars.loss.map((s) => s.step), [0, 1, 2, 3]);
    assert.deepEqual(scalars.loss.map((s) => Math.round(s.value * 1e6) / 1e6), [1, 0.5, 0.333333, 0.25]);
    assert.deepEqual(scalars.accuracy, [{ step: 3, value: 0.75 }]);
    assert.throws(() => summary.createFileWriter(tmp()).scalar('x', 1, -1), /step must be a non-negative integer/);
  });

  it('frames events as TFRecords with masked CRC-32C (checked by hand), and the reader rejects a corrupted file', async () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283); // the CRC-32C check value
    const w = summary.createFileWriter(tmp());
    w.scalar('a', 1, 0);
    w.text('t', 'x', 0);
    await w.close();
    const records = rawRecords(w.path);
    assert.equal(records.length, 3);
    const bytes = new Uint8Array(readFileSync(w.path));
    bytes[bytes.length - 6] ^= 0xff;
    const bad = join(tmp(), basename(w.path));
    writeFileSync(bad, bytes);
    await assert.rejects(summary.readEvents(bad), /CRC/);
  });

  it('writes histograms in equal-width buckets with TensorBoard HistogramProto fields', async () => {
    const w = summary.createFileWriter(tmp());
    const values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, Number.NaN];
    w.histogram('h', strata.tensor(values), 5, { buckets: 5 });
    w.histogram('constant', [2, 2, 2], 5);
    w.histogram('empty', [], 5);
    const v = new strata.Variable(strata.tensor([[-1, 1], [3, 3]]), { name: 'w' });
    w.histogram('variable', v, 6, { buckets: 2 });
    const events = await readOne(w);
    const by = Object.fromEntries(events.slice(1).map((e) => [e.summary!.value[0].tag, { step: e.step, h: e.summary!.value[0].histo! }]));
    const h = by.h.h;
    assert.equal(by.h.step, 5);
    assert.deepEqual([h.min, h.max, h.num, h.sum, h.sumSquares], [0, 9, 11, 54, 366]);
    assert.deepEqual(h.bucket, [2, 2, 2, 2, 3]);
    assert.deepEqual(h.bucketLimit.map((x) => Math.round(x * 1e9) / 1e9), [1.8, 3.6, 5.4, 7.2, 9]);
    assert.deepEqual(by.constant.h.bucket, [3]);
    assert.deepEqual(by.constant.h.bucketLimit, [2]);
    assert.equal(by.empty.h.num, 0);
    assert.deepEqual(by.empty.h.bucket, []);
    assert.deepEqual(by.variable.h.bucket, [1, 3]);
    assert.deepEqual(summary.histogramOf([1, 2, 3, 4], 2).bucket, [2, 2]);
  });

  it('writes text as a string tensor for the text plugin', async () => {
    const w = summary.createFileWriter(tmp());
    w.text('notes', 'hello **world**', 1);
    w.text('list', ['a', 'b'], 2);
    const events = await readOne(w);
    const [one, two] = events.slice(1).map((e) => e.summary!.value[0]);
    assert.equal(one.metadata?.pluginData?.pluginName, 'text');
    assert.equal(one.tensor?.dtype, 7);
    assert.deepEqual(one.tensor?.tensorShape?.dim ?? [], []);
    assert.equal(new TextDecoder().decode(one.tensor!.stringVal![0]), 'hello **world**');
    assert.deepEqual(two.tensor!.tensorShape!.dim!.map((d) => d.size), [2]);
    assert.deepEqual(two.tensor!.stringVal!.map((s) => new TextDecoder().decode(s)), ['a', 'b']);
  });

  it('writes images as PNGs of the right size and pixels', async () => {
    const w = summary.createFileWriter(tmp());
    // [h=2, w=3, c=3] floats in [0, 1]
    const rgb = strata.tensor([[[0, 0.5, 1], [1, 0, 0], [0, 1, 0]], [[0, 0, 1], [0.2, 0.2, 0.2], [1, 1, 1]]]);
    w.image('rgb', rgb, 0);
    // [n=4, h=2, w=2, c=1] int32 0..255 (uint8-like), at most 3 written
    w.image('batch', strata.tensor(Array.from({ length: 16 }, (_, i) => i * 17), [4, 2, 2, 1], 'int32'), 1);
    const events = await readOne(w);
    const rgbValue = events[1].summary!.value[0];
    assert.equal(rgbValue.tag, 'rgb');
    const img = rgbValue.image!;
    assert.deepEqual([img.height, img.width, img.colorspace], [2, 3, 3]);
    const png = summary.decodePng(img.encodedImageString);
    assert.deepEqual([png.width, png.height, png.channels], [3, 2, 3]);
    // As tf.image.convert_image_dtype(saturate=True), which tf.summary.image uses: 0.5 -> 127.
    assert.deepEqual(Array.from(png.pixels), [0, 127, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 51, 51, 51, 255, 255, 255]);
    const batch = events[2].summary!.value;
    assert.deepEqual(batch.map((v) => v.tag), ['batch/image/0', 'batch/image/1', 'batch/image/2']);
    const second = summary.decodePng(batch[1].image!.encodedImageString);
    assert.deepEqual([second.width, second.height, second.channels], [2, 2, 1]);
    assert.deepEqual(Array.from(second.pixels), [68, 85, 102, 119]);
    assert.throws(() => w.image('bad', strata.zeros([2, 2]), 0), /rank 3/);
  });

  it('float images are [0, 1] values even when a pixel is over 1 (clipped, as TensorFlow; not read as 0..255)', async () => {
    const w = summary.createFileWriter(tmp());
    w.image('hdr', strata.tensor([[[0.5], [1.2]], [[-0.3], [0.999]]]), 0);
    const events = await readOne(w);
    const png = summary.decodePng(events[1].summary!.value[0].image!.encodedImageString);
    // tf.image.convert_image_dtype([0.5, 1.2, -0.3, 0.999], tf.uint8, saturate=True) with TensorFlow 2.21.
    assert.deepEqual(Array.from(png.pixels), [127, 255, 0, 255]);
  });

  it('encodes PNG chunks with the standard CRC-32', () => {
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
    const png = summary.encodePng(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 2, 1, 4);
    const back = summary.decodePng(png);
    assert.deepEqual([back.width, back.height, back.channels, ...back.pixels], [2, 1, 4, 1, 2, 3, 4, 5, 6, 7, 8]);
    png[20] ^= 1;
    assert.throws(() => summary.decodePng(png), /CRC/);
  });
});

describe('summary graphs', () => {
  function mlp() {
    strata.random.setRandomSeed(5);
    return new strata.Sequential([strata.Input({ shape: [4] }), new layers.Dense(3, { activation: 'relu', name: 'hidden' }), new layers.Dense(2, { name: 'out' })], { name: 'net' });
  }

  function checkGraph(graph: strata.summary.GraphDefObject) {
    const names = new Set(graph.node.map((n) => n.name));
    assert.equal(names.size, graph.node.length, 'node names are unique');
    for (const n of graph.node) {
      for (const input of n.input) assert.ok(names.has(input.replace(/:\d+$/, '')), `input '${input}' of '${n.name}' names a node`);
      assert.match(n.name, /^[A-Za-z0-9.][A-Za-z0-9_./-]*$/);
    }
  }

  it("a model's forward pass: nodes named under their layer paths, with dtypes and output shapes", async () => {
    const w = summary.createFileWriter(tmp());
    w.graph(mlp());
    const events = await readOne(w);
    const graph = events[1].graph!;
    checkGraph(graph);
    const names = graph.node.map((n) => n.name);
    assert.ok(names.includes('net/hidden/matmul'), names.join(', '));
    assert.ok(names.includes('net/out/matmul'));
    assert.ok(names.some((n) => n.startsWith('net/hidden/') && n !== 'net/hidden/matmul'));
    const kernel = graph.node.find((n) => n.name === 'net/hidden/kernel')!;
    assert.equal(kernel.op, 'VarHandleOp');
    const matmul = graph.node.find((n) => n.name === 'net/hidden/matmul')!;
    assert.equal(matmul.op, 'matmul');
    assert.ok(matmul.input.includes('net/hidden/kernel'));
    assert.equal(matmul.attr.T.type, 1);
    assert.deepEqual(matmul.attr._output_shapes.list!.shape![0].dim!.map((d) => d.size), [-1, 3]);
    const placeholder = graph.node.find((n) => n.op === 'Placeholder')!;
    assert.deepEqual(placeholder.attr.shape.shape!.dim!.map((d) => d.size), [-1, 4]);
    assert.ok(graph.node.some((n) => n.op === 'Identity' && n.name === 'output_0'));
  });

  it('a traced strata.fn (its latest trace), with attributes, constants and variable updates', async () => {
    const v = new strata.Variable(strata.tensor([1, 2, 3]), { name: 'counter' });
    const f = strata.fn((x: Tensor) => {
      v.assign(ops.add(v.value, x));
      return ops.sum(ops.multiply(x, 2), -1, true);
    }, { name: 'step' });
    assert.throws(() => summary.createFileWriter(tmp()).graph(f), /has not been traced yet/);
    await f(strata.tensor([1, 1, 1]));
    const w = summary.createFileWriter(tmp());
    w.graph(f);
    const graph = (await readOne(w))[1].graph!;
    checkGraph(graph);
    const sum = graph.node.find((n) => n.op === 'sum')!;
    assert.ok(sum, graph.node.map((n) => n.op).join(','));
    assert.ok(Object.keys(sum.attr).some((k) => k !== 'T' && k !== '_output_shapes'), 'op attributes are kept');
    assert.ok(graph.node.some((n) => n.op === 'AssignVariableOp' && n.name === 'counter/Assign'));
    assert.ok(graph.node.some((n) => n.op === 'VarHandleOp' && n.name === 'counter'));
  });

  it('a model whose input shape is unknown needs an example input', async () => {
    class Sub extends strata.Model {
      d = new layers.Dense(2, { name: 'd' });
      override call(x: Tensor) {
        return this.d.apply(x);
      }
    }
    const m = new Sub({ name: 'sub' });
    const w = summary.createFileWriter(tmp());
    assert.throws(() => w.graph(m), /input shape of 'sub' is not known/);
    w.graph(m, { input: strata.ones([2, 5]) });
    const graph = (await readOne(w))[1].graph!;
    assert.ok(graph.node.some((n) => n.name === 'sub/d/matmul'));
  });

  it('traceOn / traceExport write the graphs of the compiled calls in between, and the profile', async () => {
    const dir = tmp();
    const w = summary.createFileWriter(dir);
    const model = mlp();
    const forward = strata.fn((x: Tensor) => model.apply(x, { training: false }), { name: 'forward' });
    summary.traceOn({ graph: true, profiler: true });
    await forward(strata.ones([2, 4]));
    const profile = await summary.traceExport('my_trace', 3, { writer: w });
    assert.equal(strata.profiler.isRunning(), false);
    const events = await readOne(w);
    const value = events.find((e) => e.summary?.value[0].tag === 'my_trace')!;
    assert.equal(value.step, 3);
    const v = value.summary!.value[0];
    assert.equal(v.metadata?.pluginData?.pluginName, 'graph_run_metadata_graph');
    assert.equal(new TextDecoder().decode(v.metadata!.pluginData!.content!), '1');
    const graphs = decodeRunMetadata(v.tensor!.stringVal![0]).functionGraphs;
    assert.equal(graphs.length, 1);
    assert.ok(graphs[0].preOptimizationGraph!.node.some((n) => n.name === 'net/out/matmul'));
    // The profile goes where TensorBoard's profile plugin looks.
    assert.ok(profile && profile.startsWith(join(dir, 'plugins', 'profile')));
    const trace = JSON.parse(readFileSync(profile, 'utf8'));
    assert.ok(trace.traceEvents.some((e: { cat?: string; name: string }) => e.cat === 'function' && e.name === 'forward'));
    const folder = readdirSync(join(profile, '..'));
    const gz = folder.find((f) => f.endsWith('.trace.json.gz'))!;
    assert.ok(JSON.parse(gunzipSync(readFileSync(join(profile, '..', gz))).toString()).traceEvents.length > 0);
    await assert.rejects(summary.traceExport('again', 0, { writer: w }), /tracing is off/);
  });

  it('traceOn leaves nothing observing compiled calls when it fails (the profiler is already running)', async () => {
    const before = compiledCallObserverCount();
    strata.profiler.start(tmp());
    try {
      assert.throws(() => summary.traceOn({ graph: true, profiler: true }), /already running/);
    } finally {
      await strata.profiler.stop();
    }
    assert.equal(compiledCallObserverCount(), before);
    await assert.rejects(summary.traceExport('none', 0), /tracing is off/);
  });

  it('the tf.summary-style functions write to the default writer, and return false without one', async () => {
    assert.equal(summary.scalar('x', 1, 0), false);
    const w = summary.createFileWriter(tmp()).setAsDefault();
    assert.equal(summary.getDefaultWriter(), w);
    assert.equal(summary.scalar('x', 2, 1), true);
    assert.equal(summary.text('t', 'hi', 1), true);
    const events = await readOne(w);
    assert.equal(summary.getDefaultWriter(), null, 'closing the default writer unsets it');
    assert.deepEqual(summary.scalarsByTag(events).x, [{ step: 1, value: 2 }]);
  });
});
