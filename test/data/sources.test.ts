import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import * as strata from '../../src/index.ts';
import { data } from '../../src/index.ts';
import { collect, numbers, range, rejects, tempDir } from './helpers.ts';

const { TensorSpec } = strata;
const { Dataset } = data;

describe('data sources', () => {
  it('fromTensorSlices: a tensor, nested arrays, typed arrays and strings, sliced along the first axis', async () => {
    assert.deepEqual(await collect(Dataset.fromTensorSlices(strata.tensor([[1, 2], [3, 4], [5, 6]]))), [[1, 2], [3, 4], [5, 6]]);
    assert.deepEqual(await collect(Dataset.fromTensorSlices([[1, 2], [3, 4]])), [[1, 2], [3, 4]]);
    const typed = Dataset.fromTensorSlices(new Int32Array([7, 8, 9]));
    assert.deepEqual(await collect(typed), [7, 8, 9]);
    assert.equal((typed.elementSpec as strata.TensorSpec).dtype, 'int32');
    assert.deepEqual(await collect(Dataset.fromTensorSlices(['a', 'b'])), ['a', 'b']);
    const pixels = Dataset.fromTensorSlices(new Uint8Array([0, 128, 255, 7]).subarray(0, 3));
    assert.deepEqual(await collect(pixels), [0, 128, 255], 'Uint8Array data are numbers here (image bytes)');
    assert.deepEqual(await collect(Dataset.fromTensorSlices([['a', 'b'], ['c', 'd']])), [['a', 'b'], ['c', 'd']]);
  });

  it('fromTensorSlices: nested structures (tuples and named components) keep their structure', async () => {
    const x = strata.tensor([[1, 2], [3, 4], [5, 6]]);
    const y = new Int32Array([0, 1, 0]);
    const ds = Dataset.fromTensorSlices({ features: { x, name: ['p', 'q', 'r'] }, label: y });
    assert.deepEqual(await collect(ds), [
      { features: { x: [1, 2], name: 'p' }, label: 0 },
      { features: { x: [3, 4], name: 'q' }, label: 1 },
      { features: { x: [5, 6], name: 'r' }, label: 0 },
    ]);
    assert.equal(ds.cardinality(), 3);
    const spec = ds.elementSpec as { features: { x: strata.TensorSpec; name: data.StringSpec }; label: strata.TensorSpec };
    assert.deepEqual(spec.features.x.shape, [2]);
    assert.equal(spec.features.x.dtype, 'float32');
    assert.ok(spec.features.name instanceof data.StringSpec);
    assert.deepEqual(spec.label.shape, []);
    const tuple = Dataset.fromTensorSlices([x, y]);
    assert.deepEqual(await collect(tuple), [[[1, 2], 0], [[3, 4], 1], [[5, 6], 0]]);
  });

  it('fromTensorSlices: mismatched first dimensions and scalars are errors naming the component', async () => {
    assert.throws(() => Dataset.fromTensorSlices({ a: strata.zeros([3, 2]), b: strata.zeros([4]) }), /\.a has 3 and \.b has 4/);
    assert.throws(() => Dataset.fromTensorSlices({ a: strata.scalar(1) }), /scalar \(component \.a\) cannot be sliced/);
  });

  it('fromTensors: one element', async () => {
    const ds = Dataset.fromTensors([strata.tensor([1, 2]), 'label']);
    assert.equal(ds.cardinality(), 1);
    assert.deepEqual(await collect(ds), [[[1, 2], 'label']]);
  });

  it('fromGenerator: sync and async generators, called anew for each pass', async () => {
    let calls = 0;
    const sync = Dataset.fromGenerator(function* () {
      calls++;
      for (let i = 0; i < 3; i++) yield [i, [i, i * 2]];
    });
    assert.deepEqual(await collect(sync), [[0, [0, 0]], [1, [1, 2]], [2, [2, 4]]]);
    assert.deepEqual(await collect(sync), [[0, [0, 0]], [1, [1, 2]], [2, [2, 4]]]);
    assert.equal(calls, 2);
    assert.equal(sync.cardinality(), data.UNKNOWN_CARDINALITY);
    const asyncGen = Dataset.fromGenerator(async function* (n: number) {
      for (let i = 0; i < n; i++) {
        await new Promise((r) => setTimeout(r, 1));
        yield { v: i };
      }
    }, { args: [4] });
    assert.deepEqual(await collect(asyncGen), range(4).map((v) => ({ v })));
  });

  it('fromGenerator: outputSignature converts dtypes and checks shapes, naming the element', async () => {
    const ds = Dataset.fromGenerator(
      function* () {
        yield [[1, 2, 3], 0];
        yield [[4, 5], 1];
      },
      { outputSignature: [new TensorSpec([null], 'int32'), { shape: [], dtype: 'float32' }] },
    );
    const els = await ds.toArray();
    assert.equal((els[0] as strata.Tensor[])[0].dtype, 'int32');
    assert.equal((els[0] as strata.Tensor[])[1].dtype, 'float32');
    assert.deepEqual((ds.elementSpec as strata.TensorSpec[])[0].shape, [null]);
    const bad = Dataset.fromGenerator(
      function* () {
        yield [1, 2];
        yield [1, 2, 3];
      },
      { outputSignature: new TensorSpec([2], 'float32') },
    );
    await rejects(bad.toArray(), /element 1: a tensor of shape \(3,\) does not match the signature.s TensorSpec\(shape=\(2,\)/);
    const throwing = Dataset.fromGenerator(function* () {
      yield 1;
      throw new Error('generator broke');
    });
    await rejects(throwing.toArray(), /generator threw while producing element 1: generator broke/);
  });

  it('range: like tf.data.Dataset.range', async () => {
    assert.deepEqual(await numbers(Dataset.range(5)), [0, 1, 2, 3, 4]);
    assert.deepEqual(await numbers(Dataset.range(2, 10, 3)), [2, 5, 8]);
    assert.deepEqual(await numbers(Dataset.range(5, 0, -2)), [5, 3, 1]);
    assert.equal(Dataset.range(2, 10, 3).cardinality(), 3);
    assert.equal((await Dataset.range(3).toArray())[0].dtype, 'int32');
    assert.equal((await Dataset.range(3, undefined, 1, { dtype: 'float32' }).toArray())[0].dtype, 'float32');
    assert.deepEqual(await numbers(Dataset.range(0, 1, 0.25)), [0, 0.25, 0.5, 0.75]);
  });

  it('zip: arrays and objects of datasets, ending with the shortest', async () => {
    const a = Dataset.range(5);
    const b = Dataset.fromTensorSlices(['x', 'y', 'z']);
    assert.deepEqual(await collect(Dataset.zip([a, b])), [[0, 'x'], [1, 'y'], [2, 'z']]);
    assert.deepEqual(await collect(Dataset.zip({ n: a, s: b })), [{ n: 0, s: 'x' }, { n: 1, s: 'y' }, { n: 2, s: 'z' }]);
    assert.equal(Dataset.zip([a, b]).cardinality(), 3);
    assert.equal(Dataset.zip([a, a.repeat()]).cardinality(), 5);
    assert.equal(Dataset.zip([a.repeat(), a.filter(() => true)]).cardinality(), data.UNKNOWN_CARDINALITY);
    assert.throws(() => Dataset.zip([a, 3 as never]), /argument 1 is not a Dataset/);
  });

  it('concatenate: one after the other; incompatible elements are an error', async () => {
    assert.deepEqual(await numbers(Dataset.range(3).concatenate(Dataset.range(10, 12))), [0, 1, 2, 10, 11]);
    assert.equal(Dataset.range(3).concatenate(Dataset.range(2)).cardinality(), 5);
    assert.equal(Dataset.range(3).concatenate(Dataset.range(2).repeat()).cardinality(), data.INFINITE_CARDINALITY);
    assert.throws(() => Dataset.range(3).concatenate(Dataset.fromTensorSlices(['a']) as never), /incompatible elements/);
  });

  it('listFiles: glob patterns, sorted or shuffled with a seed; no match is an error', async () => {
    const t = tempDir();
    try {
      mkdirSync(t.path('sub/deeper'), { recursive: true });
      for (const f of ['a1.txt', 'a2.txt', 'b.csv', 'sub/c3.txt', 'sub/deeper/d4.txt']) writeFileSync(t.path(f), 'x');
      const sorted = await collect(Dataset.listFiles(t.path('*.txt'), { shuffle: false }));
      assert.deepEqual(sorted, [t.path('a1.txt'), t.path('a2.txt')]);
      assert.deepEqual(await collect(Dataset.listFiles(t.path('a[2-9].txt'), { shuffle: false })), [t.path('a2.txt')]);
      assert.deepEqual(await collect(Dataset.listFiles(t.path('**/*.txt'), { shuffle: false })), [t.path('a1.txt'), t.path('a2.txt'), t.path('sub/c3.txt'), t.path('sub/deeper/d4.txt')]);
      assert.deepEqual(await collect(Dataset.listFiles([t.path('*.csv'), t.path('sub/*.txt')], { shuffle: false })), [t.path('b.csv'), t.path('sub/c3.txt')]);
      const all = t.path('**/*');
      const s1 = await collect(Dataset.listFiles(all, { seed: 7 }));
      const s2 = await collect(Dataset.listFiles(all, { seed: 7 }));
      assert.deepEqual(s1, s2);
      assert.deepEqual([...s1].sort(), await collect(Dataset.listFiles(all, { shuffle: false })));
      assert.equal(Dataset.listFiles(all).cardinality(), 5);
      assert.throws(() => Dataset.listFiles(t.path('*.nothing')), /no files match '.*\*\.nothing'/);
    } finally {
      t.remove();
    }
  });

  it('is lazy, async-iterable and re-iterable: each for-await is a new pass', async () => {
    let produced = 0;
    const ds = Dataset.fromGenerator<strata.Tensor>(function* () {
      for (let i = 0; i < 3; i++) {
        produced++;
        yield i;
      }
    }).map((x) => strata.ops.add(x, 1));
    assert.equal(produced, 0, 'nothing runs before iterating');
    for (let epoch = 0; epoch < 3; epoch++) {
      const seen: number[] = [];
      for await (const x of ds) seen.push(x.item());
      assert.deepEqual(seen, [1, 2, 3]);
    }
    assert.equal(produced, 9);
  });
});
