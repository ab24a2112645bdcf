import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as strata from '../../src/index.ts';

const { layers, summary, callbacks } = strata;

function model(name: string, runEagerly = false) {
  strata.random.setRandomSeed(11);
  const m = new strata.Sequential([strata.Input({ shape: [3] }), new layers.Dense(4, { activation: 'tanh', name: 'hidden' }), new layers.Dense(1, { name: 'out' })], { name });
  m.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'], runEagerly });
  return m;
}

function data() {
  return { x: strata.random.normal([24, 3], { seed: 1 }), y: strata.random.normal([24, 1], { seed: 2 }) };
}

type Events = Awaited<ReturnType<typeof summary.readEvents>>;

function tagsAt(events: Events): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const e of events) for (const v of e.summary?.value ?? []) out.set(v.tag, [...(out.get(v.tag) ?? []), e.step]);
  return out;
}

describe('callbacks.TensorBoard', () => {
  it('writes train/validation event files with the epoch scalars, weight histograms and the graph Keras writes', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'strata-tb-'));
    const m = model('tb_model');
    const { x, y } = data();
    const history = await m.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, validationData: [x, y], callbacks: [new callbacks.TensorBoard({ logDir, histogramFreq: 1 })] });
    assert.deepEqual(readdirSync(logDir).sort(), ['train', 'validation']);

    const train = await summary.readEvents(join(logDir, 'train'));
    assert.equal(train[0].fileVersion, 'brain.Event:2');
    const trainTags = tagsAt(train);
    assert.deepEqual(trainTags.get('epoch_loss'), [0, 1]);
    assert.deepEqual(trainTags.get('epoch_mae'), [0, 1]);
    assert.deepEqual(trainTags.get('epoch_learning_rate'), [0, 1]);
    for (const w of m.weights) assert.deepEqual(trainTags.get(`${w.path}/histogram`), [0, 1], w.path);
    assert.ok(![...trainTags.keys()].some((t) => t.startsWith('batch_')), 'no batch summaries with updateFreq epoch');
    const scalars = summary.scalarsByTag(train);
    assert.deepEqual(scalars.epoch_loss.map((s) => Math.fround(s.value)), history.history.loss.map(Math.fround));
    const kernel = train.find((e) => e.summary?.value[0].tag === `${m.weights[0].path}/histogram`)!.summary!.value[0].histo!;
    assert.equal(kernel.num, 12);
    assert.equal(kernel.bucket.reduce((a, b) => a + b, 0), 12);
    // The graph of the compiled training step, once.
    const graphs = train.filter((e) => e.graph);
    assert.equal(graphs.length, 1);
    const names = graphs[0].graph!.node.map((n) => n.name);
    assert.ok(names.some((n) => n.startsWith('tb_model/hidden/')), names.slice(0, 10).join(', '));

    const validation = await summary.readEvents(join(logDir, 'validation'));
    const valTags = tagsAt(validation);
    assert.deepEqual(valTags.get('epoch_loss'), [0, 1]);
    assert.deepEqual(valTags.get('epoch_mae'), [0, 1]);
    assert.deepEqual(valTags.get('evaluation_loss_vs_iterations'), [3, 6]);
    assert.deepEqual(summary.scalarsByTag(validation).epoch_loss.map((s) => Math.fround(s.value)), history.history.val_loss.map(Math.fround));
  });

  it("writes evaluation_<metric>_vs_iterations at the optimizer's iterations, which go on across fit calls (as Keras)", async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'strata-tb-'));
    const m = model('tb_refit');
    const { x, y } = data();
    const tb = new callbacks.TensorBoard({ logDir, writeGraph: false });
    await m.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, validationData: [x, y], callbacks: [tb] });
    await m.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0, validationData: [x, y], callbacks: [tb] });
    const valTags = tagsAt(await summary.readEvents(join(logDir, 'validation')));
    assert.deepEqual(valTags.get('evaluation_loss_vs_iterations'), [3, 6, 9]);
    assert.deepEqual(valTags.get('epoch_loss'), [0, 1, 0], 'epoch summaries count epochs of each fit, as Keras');
  });

  it("updateFreq 'batch' or N adds batch_<metric> scalars at the global batch count; run eagerly, the forward pass is the graph", async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'strata-tb-'));
    const { x, y } = data();
    await model('tb_eager', true).fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, callbacks: [new callbacks.TensorBoard({ logDir, updateFreq: 2 })] });
    assert.deepEqual(readdirSync(logDir), ['train'], 'no validation folder without validation data');
    const train = await summary.readEvents(join(logDir, 'train'));
    const tags = tagsAt(train);
    assert.deepEqual(tags.get('batch_loss'), [2, 4, 6]);
    assert.deepEqual(tags.get('epoch_loss'), [0, 1]);
    assert.ok(![...tags.keys()].some((t) => t.endsWith('/histogram')), 'histogramFreq 0 writes no histograms');
    const graph = train.find((e) => e.graph)!.graph!;
    assert.ok(graph.node.some((n) => n.name === 'tb_eager/out/matmul'));

    assert.throws(() => new callbacks.TensorBoard({ updateFreq: 0 }), /updateFreq/);
  });
});
