import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as strata from '../../src/index.ts';
import { data } from '../../src/index.ts';
import { chunks, collect, numbers, range, rejects, sleep, tempDir } from './helpers.ts';

const { ops } = strata;
const { Dataset } = data;

/** Outputs of tf.data itself (test/fixtures/data/make_fixtures.py). */
const TF = JSON.parse(readFileSync(new URL('../fixtures/data/tf_data_reference.json', import.meta.url), 'utf8'));

const isPermutation = (a: number[], n: number) => a.length === n && [...a].sort((x, y) => x - y).every((v, i) => v === i);

describe('map', () => {
  it('applies the function in order; async functions and plain numbers are fine', async () => {
    assert.deepEqual(await numbers(Dataset.range(6).map((x) => ops.multiply(x, 3))), range(6).map((v) => v * 3));
    const asyncMap = Dataset.range(5).map(async (x) => {
      await sleep(1);
      return x.item() + 0.5;
    });
    assert.deepEqual(await numbers(asyncMap), range(5).map((v) => v + 0.5));
    const structured = Dataset.fromTensorSlices({ a: [1, 2], b: [3, 4] }).map(({ a, b }) => [ops.add(a, b), 'tag']);
    assert.deepEqual(await collect(structured), [[4, 'tag'], [6, 'tag']]);
  });

  it('numParallelCalls keeps the input order, even when calls finish out of order', async () => {
    const n = 40;
    const delays = range(n).map((i) => (i * 7919) % 13);
    const ds = Dataset.range(n).map(
      async (x) => {
        await sleep(delays[x.item()]);
        return x;
      },
      { numParallelCalls: 8 },
    );
    assert.deepEqual(await numbers(ds), range(n));
    assert.deepEqual(await numbers(Dataset.range(n).map((x) => x, { numParallelCalls: data.AUTOTUNE })), range(n));
  });

  it('numParallelCalls really overlaps async calls (and never runs more than asked)', async () => {
    // Counted, not timed: how many calls are in flight at once.
    const maxInFlight = async (p: number) => {
      let inFlight = 0;
      let most = 0;
      const ds = Dataset.range(16).map(async (x) => {
        most = Math.max(most, ++inFlight);
        await sleep(5);
        inFlight--;
        return x;
      }, { numParallelCalls: p });
      assert.deepEqual(await numbers(ds), range(16));
      return most;
    };
    assert.equal(await maxInFlight(1), 1);
    assert.equal(await maxInFlight(8), 8);
  });

  it('deterministic: false gives results as they finish (a permutation)', async () => {
    const n = 30;
    const ds = Dataset.range(n).map(
      async (x) => {
        await sleep(x.item() % 3 === 0 ? 15 : 1);
        return x;
      },
      { numParallelCalls: 6, deterministic: false },
    );
    const out = await numbers(ds);
    assert.ok(isPermutation(out, n));
    assert.notDeepEqual(out, range(n), 'slow elements come later');
  });

  it('outputSignature converts and checks what the function returns', async () => {
    const ds = Dataset.range(3).map((x) => [x.item(), x.item() * 2], { outputSignature: new strata.TensorSpec([2], 'int32') });
    const els = await ds.toArray();
    assert.equal(els[0].dtype, 'int32');
    assert.deepEqual(await collect(ds), [[0, 0], [1, 2], [2, 4]]);
    assert.deepEqual((ds.elementSpec as strata.TensorSpec).shape, [2]);
  });

  it('a function returning something that is not an element is named as such', async () => {
    await rejects(Dataset.range(3).map((x) => (x.item() === 1 ? undefined : x)).toArray(), /the map function returned an unusable value for element 1 .*: cannot use undefined/);
    await rejects(Dataset.range(3).map(() => [1, 2, 3], { outputSignature: new strata.TensorSpec([2], 'float32') }).toArray(), /returned an unusable value for element 0 .*shape \(3,\) does not match/);
  });

  for (const [label, options] of [
    ['sequential', {}],
    ['parallel', { numParallelCalls: 4 }],
  ] as const) {
    it(`an error in the function surfaces with the element index, and the pipeline can be iterated again (${label})`, async () => {
      let failNext = true;
      const ds = Dataset.range(10)
        .map((x) => {
          if (x.item() === 6 && failNext) {
            failNext = false;
            throw new Error('bad pixel');
          }
          return x;
        }, options)
        .batch(4)
        .prefetch(2);
      const seen: number[][] = [];
      const err = await rejects(
        (async () => {
          for await (const b of ds) seen.push(b.arraySync() as number[]);
        })(),
        /Dataset\.map: the map function threw on element 6 \(counting from 0 in this pass\): bad pixel/,
      );
      assert.equal((err.cause as Error).message, 'bad pixel');
      assert.deepEqual(seen, [[0, 1, 2, 3]], 'elements before the failing batch arrive first');
      assert.deepEqual(await collect(ds), chunks(range(10), 4));
    });
  }
});

describe('filter, batch, paddedBatch, unbatch, rebatch', () => {
  it('filter keeps matching elements (booleans or bool tensors, async allowed)', async () => {
    assert.deepEqual(await numbers(Dataset.range(10).filter((x) => x.item() % 3 === 0)), [0, 3, 6, 9]);
    assert.deepEqual(await numbers(Dataset.range(10).filter((x) => ops.greater(x, 6))), [7, 8, 9]);
    assert.deepEqual(await numbers(Dataset.range(5).filter(async (x) => x.item() !== 2)), [0, 1, 3, 4]);
    await rejects(Dataset.range(3).filter(() => 'yes').toArray(), /predicate must return a boolean/);
  });

  it('batch matches chunks of a plain array at every boundary, with and without dropRemainder', async () => {
    for (const n of [0, 1, 7, 8, 9]) {
      for (const size of [1, 3, 4, 8]) {
        for (const drop of [false, true]) {
          const ds = Dataset.range(n).batch(size, { dropRemainder: drop });
          assert.deepEqual(await collect(ds), chunks(range(n), size, drop), `n=${n} size=${size} drop=${drop}`);
          assert.equal(ds.cardinality(), drop ? Math.floor(n / size) : Math.ceil(n / size));
        }
      }
    }
    assert.deepEqual((Dataset.range(5).batch(2).elementSpec as strata.TensorSpec).shape, [null]);
    assert.deepEqual((Dataset.range(5).batch(2, { dropRemainder: true }).elementSpec as strata.TensorSpec).shape, [2]);
  });

  it('batch stacks structures (tensors become [batch, ...], strings StringTensors)', async () => {
    const ds = Dataset.fromTensorSlices({ x: [[1, 2], [3, 4], [5, 6]], name: ['a', 'b', 'c'] }).batch(2);
    const [first] = await ds.toArray();
    assert.deepEqual(first.x.shape, [2, 2]);
    assert.ok(first.name instanceof data.StringTensor);
    assert.deepEqual(await collect(ds), [{ x: [[1, 2], [3, 4]], name: ['a', 'b'] }, { x: [[5, 6]], name: ['c'] }]);
  });

  it('batch of elements with different shapes is an error naming the element and component', async () => {
    const ds = Dataset.fromGenerator(function* () {
      yield { v: [1, 2] };
      yield { v: [1, 2] };
      yield { v: [1, 2, 3] };
    }).batch(3);
    await rejects(ds.toArray(), /Dataset\.batch: cannot batch element 2 \(component \.v\): its shape \(3,\) differs from the shape \(2,\) of element 0\. Use paddedBatch/);
  });

  it('paddedBatch pads to the longest in the batch, or to paddedShapes, with paddingValues (as tf.data)', async () => {
    const ragged = () =>
      Dataset.fromGenerator(
        function* () {
          yield [1];
          yield [2, 3];
          yield [4, 5, 6];
          yield [7];
        },
        { outputSignature: new strata.TensorSpec([null], 'int32') },
      );
    assert.deepEqual(await collect(ragged().paddedBatch(3, { paddingValues: -1 })), TF.padded_batch);
    assert.deepEqual(await collect(ragged().paddedBatch(3, { paddingValues: -1, dropRemainder: true })), TF.padded_batch.slice(0, 1));
    const twoD = Dataset.fromGenerator(
      function* () {
        yield [[1, 2]];
        yield [[3, 4], [5, 6]];
      },
      { outputSignature: new strata.TensorSpec([null, 2], 'int32') },
    );
    assert.deepEqual(await collect(twoD.paddedBatch(2, { paddedShapes: [3, null] })), TF.padded_batch_shapes);
    const strings = Dataset.fromGenerator(function* () {
      yield { w: ['a'] };
      yield { w: ['b', 'c'] };
    }).paddedBatch(2, { paddingValues: { w: '<pad>' } });
    assert.deepEqual(await collect(strings), [{ w: [['a', '<pad>'], ['b', 'c']] }]);
    await rejects(ragged().paddedBatch(4, { paddedShapes: [2] }).toArray(), /element 2 has shape \(3,\), larger than the padded shape \(2,\)/);
  });

  it('paddedBatch elementSpec has the padded dims of paddedShapes (as tf.data), not the input dims', async () => {
    const shapeOf = (s: unknown) => [...(s as strata.TensorSpec).shape];
    const twoD = Dataset.fromGenerator(function* () {
      yield [[1, 2]];
    }, { outputSignature: new strata.TensorSpec([null, 2], 'int32') });
    assert.deepEqual(shapeOf(twoD.paddedBatch(2, { paddedShapes: [3, null] }).elementSpec), TF.padded_batch_spec.shapes_3_none);
    const fixed = twoD.paddedBatch(2, { paddedShapes: [4, 2], dropRemainder: true });
    assert.deepEqual(shapeOf(fixed.elementSpec), TF.padded_batch_spec.shapes_4_2_drop);
    // Elements of a known shape [2] padded to [4]: the spec says 4, as the batches are.
    const padded = Dataset.fromTensorSlices({ v: [[1, 2], [3, 4]], s: [['a'], ['b']] }).paddedBatch(2, { paddedShapes: { v: [4], s: [3] } });
    const spec = padded.elementSpec as Record<string, { shape: readonly (number | null)[] }>;
    const [batch] = (await padded.toArray()) as unknown as Record<string, { shape: readonly number[] }>[];
    assert.deepEqual([...spec.v.shape], [null, 4]);
    assert.deepEqual([...batch.v.shape], [2, 4]);
    assert.deepEqual([...spec.s.shape], [null, 3]);
    assert.deepEqual([...batch.s.shape], [2, 3]);
  });

  it('unbatch undoes batch; rebatch re-cuts batches (as tf.data)', async () => {
    const x = strata.tensor(range(24), [12, 2]);
    const rows = await collect(Dataset.fromTensorSlices(x));
    assert.deepEqual(await collect(Dataset.fromTensorSlices(x).batch(5).unbatch()), rows);
    assert.deepEqual(await collect(Dataset.fromTensorSlices({ a: x, s: range(12).map(String) }).batch(5).unbatch()), rows.map((r, i) => ({ a: r, s: String(i) })));
    assert.deepEqual(await collect(Dataset.range(11).batch(4).rebatch([3, 2])), TF.rebatch);
    assert.deepEqual(await collect(Dataset.range(10).batch(4).rebatch(3)), chunks(range(10), 3));
    assert.deepEqual(await collect(Dataset.range(10).batch(4).rebatch(3, { dropRemainder: true })), chunks(range(10), 3, true));
    await rejects(Dataset.range(3).unbatch().toArray(), /element 0 is a scalar; unbatch needs arrays/);
  });
});

describe('shuffle', () => {
  it('is a permutation; the same seed gives the same order; each pass reshuffles unless told not to', async () => {
    const n = 100;
    const a = await numbers(Dataset.range(n).shuffle(n, { seed: 42 }));
    assert.ok(isPermutation(a, n));
    assert.notDeepEqual(a, range(n));
    assert.deepEqual(await numbers(Dataset.range(n).shuffle(n, { seed: 42 })), a, 'same seed, same order (a new dataset object, as in a new run)');
    assert.notDeepEqual(await numbers(Dataset.range(n).shuffle(n, { seed: 43 })), a);
    const ds = Dataset.range(n).shuffle(n, { seed: 42 });
    const epochs = [await numbers(ds), await numbers(ds), await numbers(ds)];
    assert.deepEqual(epochs[0], a);
    assert.notDeepEqual(epochs[1], epochs[0]);
    epochs.forEach((e) => assert.ok(isPermutation(e, n)));
    const again = Dataset.range(n).shuffle(n, { seed: 42 });
    assert.deepEqual([await numbers(again), await numbers(again), await numbers(again)], epochs, 'the sequence of epochs repeats too');
    const fixed = Dataset.range(n).shuffle(n, { seed: 42, reshuffleEachIteration: false });
    assert.deepEqual(await numbers(fixed), await numbers(fixed));
    // Over repeat, each repetition is a new pass.
    const rep = await numbers(Dataset.range(10).shuffle(10, { seed: 1 }).repeat(3));
    assert.ok(isPermutation(rep.slice(0, 10), 10) && isPermutation(rep.slice(10, 20), 10) && isPermutation(rep.slice(20), 10));
  });

  it('a small buffer only moves elements locally; buffer 1 keeps the order', async () => {
    assert.deepEqual(await numbers(Dataset.range(20).shuffle(1, { seed: 3 })), range(20));
    const out = await numbers(Dataset.range(200).shuffle(10, { seed: 3 }));
    assert.ok(isPermutation(out, 200));
    // Element i cannot come out before position i - (bufferSize - 1).
    out.forEach((v, pos) => assert.ok(pos >= v - 9, `element ${v} at position ${pos}`));
  });

  it('the order for a seed is fixed across runs and machines (counter-based hash)', async () => {
    const here = await numbers(Dataset.range(12).shuffle(12, { seed: 2024 }));
    assert.deepEqual(here, [6, 0, 1, 8, 10, 5, 11, 9, 3, 2, 7, 4]);
    const script = `import * as s from ${JSON.stringify(fileURLToPath(new URL('../../src/index.ts', import.meta.url)))};
      const out = []; for await (const x of s.data.Dataset.range(12).shuffle(12, {seed: 2024})) out.push(x.item());
      console.log(JSON.stringify(out));`;
    const t = tempDir();
    try {
      writeFileSync(t.path('run.mts'), script);
      const r = spawnSync(process.execPath, ['--import', 'tsx', t.path('run.mts')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout.trim()), here, 'another process gives the same order');
    } finally {
      t.remove();
    }
  });
});

describe('repeat, take, skip, shard, enumerate, apply, cardinality', () => {
  it('repeat, take and skip match plain arrays at the boundaries', async () => {
    assert.deepEqual(await numbers(Dataset.range(3).repeat(3)), [0, 1, 2, 0, 1, 2, 0, 1, 2]);
    assert.deepEqual(await numbers(Dataset.range(3).repeat().take(7)), [0, 1, 2, 0, 1, 2, 0]);
    assert.deepEqual(await numbers(Dataset.range(3).repeat(0)), []);
    assert.deepEqual(await numbers(Dataset.range(0).repeat()), [], 'an empty dataset repeated forever is empty');
    for (const k of [-1, 0, 1, 5, 6, 9]) {
      assert.deepEqual(await numbers(Dataset.range(6).take(k)), k === -1 ? range(6) : range(6).slice(0, k), `take(${k})`);
      assert.deepEqual(await numbers(Dataset.range(6).skip(k)), k === -1 ? [] : range(6).slice(k), `skip(${k})`);
      assert.equal(Dataset.range(6).take(k).cardinality(), k === -1 ? 6 : Math.min(6, k));
      assert.equal(Dataset.range(6).skip(k).cardinality(), k === -1 ? 0 : Math.max(0, 6 - k));
    }
  });

  it('take closes an infinite upstream', async () => {
    let closed = false;
    const ds = Dataset.fromGenerator(function* () {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    });
    assert.deepEqual(await numbers(ds.take(3)), [0, 1, 2]);
    assert.ok(closed);
  });

  it('shard, enumerate, apply (as tf.data)', async () => {
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await numbers(Dataset.range(10).shard(3, i)), TF.shard[i]);
      assert.equal(Dataset.range(10).shard(3, i).cardinality(), TF.shard[i].length);
    }
    assert.throws(() => Dataset.range(3).shard(2, 2), /index=2; it must be less than numShards=2/);
    assert.deepEqual(await collect(Dataset.fromTensorSlices(['a', 'b']).enumerate(5)), [[5, 'a'], [6, 'b']]);
    const double = (ds: data.Dataset<strata.Tensor>) => ds.map((x) => ops.multiply(x, 2));
    assert.deepEqual(await numbers(Dataset.range(3).apply(double)), [0, 2, 4]);
  });

  it('cardinality: known, infinite or unknown, as tf.data computes it', () => {
    const r = Dataset.range(10);
    const unknown = r.filter(() => true);
    const c = TF.cardinality;
    assert.equal(unknown.cardinality(), c.filter);
    assert.equal(unknown.repeat().cardinality(), c.repeat_unknown);
    assert.equal(unknown.repeat(2).cardinality(), c.repeat2_unknown);
    assert.equal(r.repeat().take(3).cardinality(), c.take_infinite);
    assert.equal(r.skip(12).cardinality(), c.skip_past_end);
    assert.equal(r.repeat().skip(-1).cardinality(), c.skip_all_infinite);
    assert.equal(unknown.skip(-1).cardinality(), c.skip_all_unknown);
    assert.equal(r.batch(3).cardinality(), c.batch3);
    assert.equal(r.batch(3, { dropRemainder: true }).cardinality(), c.batch3_drop);
    assert.equal(r.repeat().batch(3).cardinality(), c.batch_infinite);
    assert.equal(r.batch(3).unbatch().cardinality(), c.unbatch);
    assert.equal(r.shard(3, 1).cardinality(), c.shard_3_1);
    assert.equal(r.take(0).repeat().cardinality(), c.repeat_empty);
    assert.equal(r.repeat().concatenate(unknown).cardinality(), c.concat_infinite_unknown);
    assert.equal(r.map((x) => x).prefetch(2).shuffle(4).cardinality(), 10);
    assert.equal(data.INFINITE_CARDINALITY, -1);
    assert.equal(data.UNKNOWN_CARDINALITY, -2);
  });
});

describe('scan', () => {
  it('carries a state through the elements (structured states too) and restarts each pass, as tf.data', async () => {
    const ds = Dataset.range(6).scan(0, (state, x) => [state + x.item(), state * 10 + x.item()] as const);
    const values = async () => (await ds.toArray()).map((t) => (t as strata.Tensor).item());
    assert.deepEqual(await values(), TF.scan);
    assert.deepEqual(await values(), TF.scan, 'a second pass starts from the initial state');
    assert.equal(ds.cardinality(), 6);
    const structured = Dataset.range(4).scan({ a: 1, b: 0 }, async (s, x) => [{ a: s.a * 2, b: s.b + x.item() }, s.a + s.b] as const);
    assert.deepEqual((await structured.toArray()).map((t) => (t as strata.Tensor).item()), TF.scan_structured_state);
    await assert.rejects(Dataset.range(2).scan(0, () => 5 as never).toArray(), /Dataset\.scan.*element 0.*must return \[newState, output\]/s);
  });
});

describe('groupByWindow, bucketBySequenceLength', () => {
  const values = async (ds: strata.data.Dataset<unknown>) => (await ds.toArray()).map((t) => (t as strata.Tensor).arraySync());
  const sequences = (lists: number[][]) =>
    Dataset.fromGenerator(
      function* () {
        for (const l of lists) yield strata.tensor(l, undefined, 'int32');
      },
      { outputSignature: new strata.TensorSpec([null], 'int32') },
    ) as unknown as strata.data.Dataset<strata.Tensor>;
  const seqs = [1, 5, 2, 7, 3, 8, 4, 5, 1, 2].map((n, i) => Array.from({ length: n }, (_, j) => 10 * i + j + 1));
  const length = (x: strata.Tensor) => x.shape[0] as number;

  it('groupByWindow reduces full windows at once and the rest in ascending key order (as tf.data)', async () => {
    const ds = Dataset.range(10).groupByWindow((x) => 2 - (x.item() % 3), (_key, w) => w.batch(4), 4);
    assert.deepEqual(await values(ds), TF.group_by_window);
    const bySize = Dataset.range(12).groupByWindow((x) => strata.tensor(x.item() % 2, undefined, 'int32'), (_key, w) => w.batch(5), (key) => key + 2);
    assert.deepEqual(await values(bySize), TF.group_by_window_size_func);
    assert.equal(ds.cardinality(), data.UNKNOWN_CARDINALITY);
    assert.equal(Dataset.range(3).repeat().groupByWindow((x) => x.item() % 3, (_k, w) => w.batch(2), 2).cardinality(), data.INFINITE_CARDINALITY);
    // The reduce function sees the key.
    const keys = await Dataset.range(6).groupByWindow((x) => x.item() % 2, (key, w) => w.map(() => key), 3).toArray();
    assert.deepEqual(keys.map((k) => (k as strata.Tensor).item()), [0, 0, 0, 1, 1, 1]);
  });

  it('bucketBySequenceLength batches similar lengths, padded as tf.data pads them', async () => {
    assert.deepEqual(await values(sequences(seqs).bucketBySequenceLength(length, [3, 6], [2, 2, 3])), TF.bucket_by_sequence_length);
    assert.deepEqual(await values(sequences(seqs).bucketBySequenceLength(length, [3, 6], [2, 2, 3], { paddingValues: -1, dropRemainder: true })), TF.bucket_by_sequence_length_pad_values_drop);
    const short = seqs.filter((s) => s.length < 6);
    assert.deepEqual(await values(sequences(short).bucketBySequenceLength(length, [3, 6], [2, 2, 3], { padToBucketBoundary: true })), TF.bucket_by_sequence_length_to_boundary);
    const same = Array.from({ length: 5 }, (_, i) => [i, i + 1]);
    assert.deepEqual(await values(sequences(same).bucketBySequenceLength(length, [3], [2, 2], { noPadding: true })), TF.bucket_by_sequence_length_no_padding);
  });

  it('bad arguments and keys are errors that say what was wrong', async () => {
    assert.throws(() => sequences(seqs).bucketBySequenceLength(length, [3, 3], [1, 1, 1]), /bucketBoundaries=\[3,3\]; expected increasing positive integers/);
    assert.throws(() => sequences(seqs).bucketBySequenceLength(length, [3], [1]), /expected 2 positive integers/);
    await assert.rejects(sequences(seqs).bucketBySequenceLength(length, [3, 6], [2, 2, 3], { padToBucketBoundary: true }).toArray(), /shorter than the last boundary \(6\)/);
    await assert.rejects(Dataset.range(3).groupByWindow(() => 0.5, (_k, w) => w, 2).toArray(), /Dataset\.groupByWindow.*element 0.*must return an integer/s);
  });
});

describe('interleave, flatMap, window', () => {
  const source = () => Dataset.range(1, 7);
  const expand = (x: strata.Tensor) => Dataset.range(10 * x.item(), 10 * x.item() + x.item());

  for (const [c, b] of [[1, 1], [2, 1], [2, 2], [3, 1], [3, 4], [4, 2]]) {
    it(`interleave cycleLength=${c} blockLength=${b} gives tf.data's order (also with parallel reads)`, async () => {
      assert.deepEqual(await numbers(source().interleave(expand, { cycleLength: c, blockLength: b })), TF[`interleave_${c}_${b}`]);
      assert.deepEqual(await numbers(source().interleave(expand, { cycleLength: c, blockLength: b, numParallelCalls: 4 })), TF[`interleave_${c}_${b}`]);
    });
  }

  it('interleave with deterministic: false yields every element; flatMap concatenates', async () => {
    const slowFirst = (x: strata.Tensor) =>
      Dataset.range(3).map(async (y) => {
        await sleep(x.item() === 0 ? 20 : 1);
        return ops.add(ops.multiply(x, 10), y);
      });
    const out = await numbers(Dataset.range(3).interleave(slowFirst, { cycleLength: 3, numParallelCalls: 3, deterministic: false }));
    assert.deepEqual([...out].sort((a, b) => a - b), [0, 1, 2, 10, 11, 12, 20, 21, 22]);
    assert.deepEqual(await numbers(source().flatMap(expand)), TF.interleave_1_1);
    await rejects(Dataset.range(2).flatMap(() => 3 as never).toArray(), /Dataset\.flatMap: the function returned for element 0: expected a Dataset/);
  });

  for (const key of Object.keys(TF).filter((k) => k.startsWith('window_') && !k.includes('cardinality'))) {
    it(`window ${key.slice(7)} (size_shift_stride_drop) gives tf.data's windows`, async () => {
      const [size, shift, stride, drop] = key.slice(7).split('_');
      const ds = Dataset.range(10).window(Number(size), { shift: Number(shift), stride: Number(stride), dropRemainder: drop === 'true' });
      const windows: number[][] = [];
      for await (const w of ds) windows.push(await numbers(w as data.Dataset<strata.Tensor>));
      assert.deepEqual(windows, TF[key]);
      assert.equal(ds.cardinality(), TF[`window_cardinality_${key.slice(7)}`]);
    });
  }

  it('window of structured elements gives a structure of datasets; flatMap(batch) turns windows into tensors', async () => {
    const ds = Dataset.fromTensorSlices({ a: range(5), b: range(5).map((v) => `s${v}`) }).window(2);
    const out = [];
    for await (const w of ds) {
      const { a, b } = w as unknown as { a: data.Dataset<strata.Tensor>; b: data.Dataset<string> };
      out.push({ a: await numbers(a), b: await collect(b) });
    }
    assert.deepEqual(out, [{ a: [0, 1], b: ['s0', 's1'] }, { a: [2, 3], b: ['s2', 's3'] }, { a: [4], b: ['s4'] }]);
    const seqs = Dataset.range(6).window(3, { shift: 1, dropRemainder: true }).flatMap((w) => (w as unknown as data.Dataset<strata.Tensor>).batch(3));
    assert.deepEqual(await collect(seqs), [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]);
  });
});

describe('cache', () => {
  it('in memory: the first complete pass fills it, later passes do not touch the input', async () => {
    let produced = 0;
    const ds = Dataset.range(5)
      .map((x) => {
        produced++;
        return x;
      })
      .cache();
    assert.deepEqual(await numbers(ds.take(2)), [0, 1], 'a partial pass');
    assert.deepEqual(await numbers(ds), range(5));
    const after = produced;
    assert.deepEqual(await numbers(ds), range(5));
    assert.deepEqual(await numbers(ds.shuffle(5, { seed: 1 }).take(5)).then((a) => a.sort()), range(5));
    assert.equal(produced, after, 'later passes read the cache');
    assert.equal(after, 2 + 5, 'the partial pass was discarded, not reused');
  });

  it('in a file: written by a complete pass, reused by the next run, never left half-written', async () => {
    const t = tempDir();
    try {
      const path = t.path('cache.bin');
      let produced = 0;
      const pipeline = () =>
        Dataset.fromTensorSlices({ x: strata.tensor(range(12), [6, 2]), s: range(6).map((i) => `row ${i}`), b: [true, false, true, false, true, false] })
          .map((e) => {
            produced++;
            return { ...e, bytes: new Uint8Array([produced % 256, 7]) };
          })
          .cache(path);
      const first = pipeline();
      assert.equal((await first.take(3).toArray()).length, 3);
      assert.ok(!existsSync(path), 'a partial pass writes no cache file');
      assert.deepEqual(readdirSync(t.dir), [], 'and leaves no temporary file');
      const expected = await collect(first);
      assert.ok(existsSync(path));
      const count = produced;
      const nextRun = pipeline();
      assert.deepEqual(await collect(nextRun), expected);
      assert.equal(produced, count, 'the next run reads the file instead of the input');
      const [el] = await nextRun.toArray();
      assert.equal((el.x as strata.Tensor).dtype, 'float32');
      assert.equal((el.b as strata.Tensor).dtype, 'bool');
      // A damaged file is reported, not silently used.
      const bytes = readFileSync(path);
      writeFileSync(path, bytes.subarray(0, bytes.length - 20));
      await rejects(collect(pipeline()), /cache file '.*cache\.bin' is corrupt at byte \d+: .*Delete it to rebuild/);
    } finally {
      t.remove();
    }
  });
});

describe('prefetch', () => {
  it('keeps contents and order; AUTOTUNE works', async () => {
    assert.deepEqual(await numbers(Dataset.range(50).prefetch(3)), range(50));
    assert.deepEqual(await numbers(Dataset.range(50).prefetch(data.AUTOTUNE)), range(50));
    assert.deepEqual(await numbers(Dataset.range(5).prefetch(0)), range(5));
  });

  it('overlaps producing the next elements with the consumer awaiting other work', async () => {
    // Ordered events, not timings: with prefetch, later elements are produced
    // while the consumer is still busy with an earlier one; without it, never.
    const run = async (prefetch: boolean) => {
      const events: string[] = [];
      let ds: data.Dataset<strata.Tensor> = Dataset.range(6).map(async (x) => {
        events.push(`produce ${x.item()}`);
        await sleep(2);
        return x;
      });
      if (prefetch) ds = ds.prefetch(2);
      for await (const x of ds) {
        events.push(`consume ${x.item()} start`);
        await sleep(10); // the consumer's own work, e.g. a compiled step in the graph worker
        events.push(`consume ${x.item()} end`);
      }
      return events;
    };
    // How many elements were produced while the consumer was inside its own work.
    const producedDuringConsumption = (events: string[]) => {
      let busy = false;
      let count = 0;
      for (const e of events) {
        if (e.endsWith(' start')) busy = true;
        else if (e.endsWith(' end')) busy = false;
        else if (busy) count++;
      }
      return count;
    };
    assert.equal(producedDuringConsumption(await run(false)), 0);
    // Elements 2..5 at least (0 and 1 may be ready before the first step starts).
    assert.ok(producedDuringConsumption(await run(true)) >= 4);
  });

  it('stopping early closes the pipeline (no producer left running)', async () => {
    let produced = 0;
    const ds = Dataset.range(1000)
      .map((x) => {
        produced++;
        return x;
      })
      .prefetch(4);
    for await (const x of ds) if (x.item() === 2) break;
    await sleep(20);
    const after = produced;
    await sleep(20);
    assert.equal(produced, after);
    assert.ok(produced < 20, `produced ${produced}`);
  });
});

describe('worker-thread map', () => {
  it('runs a self-contained function in workers, keeps the order, and gives it strata', async () => {
    const heavy = data.workerFunction((x: strata.Tensor, s: typeof strata) => {
      let acc = 0;
      for (let i = 0; i < 20000; i++) acc += Math.sqrt(i);
      return { y: s.ops.multiply(x, 2), acc: acc > 0 };
    });
    const ds = Dataset.range(20).map(heavy, { numParallelCalls: 2 });
    const out = (await collect(ds)) as { y: number; acc: boolean }[];
    assert.deepEqual(out.map((o) => o.y), range(20).map((v) => v * 2));
    assert.deepEqual(await collect(ds.take(3)), out.slice(0, 3), 'a second pass reuses the pool');
  });

  it('runs an exported module function; errors name the element', async () => {
    const t = tempDir();
    try {
      const mod = t.path('augment.mjs');
      writeFileSync(mod, `export function flip(x) { if (x.shape[0] === 0) throw new Error('empty row'); return { v: x, n: x.shape[0] }; }`);
      const fn = data.workerFunction({ module: mod, exportName: 'flip' });
      const ds = Dataset.fromTensorSlices(strata.tensor([[1, 2], [3, 4]])).map(fn, { numParallelCalls: 2 });
      assert.deepEqual(await collect(ds), [{ v: [1, 2], n: 2 }, { v: [3, 4], n: 2 }]);
      const failing = Dataset.fromGenerator(function* () {
        yield [1];
        yield new Float32Array(0);
      }).map(fn, { numParallelCalls: 1 });
      await rejects(failing.toArray(), /worker function flip from .* threw on element 1 .*: empty row/);
    } finally {
      t.remove();
    }
  });
});
