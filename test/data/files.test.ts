import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync, deflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as strata from '../../src/index.ts';
import { data } from '../../src/index.ts';
import { collect, rejects, tempDir } from './helpers.ts';

const { Dataset } = data;

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/data/${name}`, import.meta.url));
const EXPECTED = JSON.parse(readFileSync(fixture('examples.expected.json'), 'utf8'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** Compares floats as float32 (and -0 as 0). */
const f32 = (a: number[]) => Array.from(Float32Array.from(a), (v) => v + 0);

describe('TextLineDataset', () => {
  it('streams lines (\\n and \\r\\n endings, empty lines, no final newline), in small chunks too', async () => {
    const t = tempDir();
    try {
      writeFileSync(t.path('a.txt'), 'first\r\nsecond\n\nthé ünïcode ✓\nlast');
      writeFileSync(t.path('b.txt'), 'x\ny\n');
      const want = ['first', 'second', '', 'thé ünïcode ✓', 'last'];
      assert.deepEqual(await collect(new data.TextLineDataset(t.path('a.txt'))), want);
      assert.deepEqual(await collect(new data.TextLineDataset(t.path('a.txt'), { bufferSize: 3 })), want, 'multi-byte characters split across chunks');
      assert.deepEqual(await collect(data.textLineDataset([t.path('a.txt'), t.path('b.txt')])), [...want, 'x', 'y']);
      assert.deepEqual(await collect(data.textLineDataset([t.path('a.txt'), t.path('b.txt')], { numParallelReads: 2 })), ['first', 'x', 'second', 'y', '', 'thé ünïcode ✓', 'last']);
      assert.deepEqual(await collect(data.textLineDataset(Dataset.listFiles(t.path('*.txt'), { shuffle: false }))), [...want, 'x', 'y']);
      writeFileSync(t.path('c.txt.gz'), gzipSync('one\ntwo\n'));
      assert.deepEqual(await collect(data.textLineDataset(t.path('c.txt.gz'), { compressionType: 'GZIP' })), ['one', 'two']);
      await rejects(collect(data.textLineDataset(t.path('missing.txt'))), /TextLineDataset: cannot open '.*missing\.txt': no such file/);
      await rejects(collect(data.textLineDataset(t.path('a.txt'), { compressionType: 'GZIP' })), /cannot decompress '.*a\.txt' as GZIP/);
    } finally {
      t.remove();
    }
  });

  it('bufferSize 0 reads with the default buffer (a pass used to wait forever); bad sizes are errors naming the option', async () => {
    const t = tempDir();
    try {
      writeFileSync(t.path('a.txt'), 'a\nb\n');
      await data.writeTFRecords(t.path('a.tfrecord'), ['x', 'y']);
      writeFileSync(t.path('a.csv'), 'p,q\n1,2\n');
      assert.deepEqual(await collect(new data.TextLineDataset(t.path('a.txt'), { bufferSize: 0 })), ['a', 'b']);
      assert.deepEqual(await collect(new data.TFRecordDataset(t.path('a.tfrecord'), { bufferSize: 0 })), [[120], [121]]);
      assert.deepEqual(await collect(new data.CsvDataset(t.path('a.csv'), [0, 0], { header: true, bufferSize: 0 })), [[1, 2]]);
      assert.throws(() => new data.TextLineDataset(t.path('a.txt'), { bufferSize: -1 }), /TextLineDataset: Received: bufferSize=-1; expected a positive integer/);
      assert.throws(() => new data.TFRecordDataset(t.path('a.tfrecord'), { bufferSize: 1.5 }), /TFRecordDataset: Received: bufferSize=1\.5/);
      assert.throws(() => new data.CsvDataset(t.path('a.csv'), [0, 0], { bufferSize: Number.NaN }), /CsvDataset: Received: bufferSize=NaN/);
    } finally {
      t.remove();
    }
  });
});

describe('CSV', () => {
  const CSV = [
    'name,age,score,city', // line 1
    '"Smith, John",42,3.5,"New ""York"""', // line 2: quoted comma and escaped quotes
    'Jane,,4.25,', // line 3: empty fields
    '"two', // line 4-5: a line break inside quotes
    'lines",7,-1e3,Oslo',
    'Kim,19,nan,Rome', // line 6
    '',
    'Lee,23,2,"Paris"', // line 8
  ].join('\n');

  it('makeCsvDataset: quoted commas, escaped quotes, line breaks in quotes, empty fields with defaults, a label', async () => {
    const t = tempDir();
    try {
      writeFileSync(t.path('people.csv'), CSV);
      const ds = data.makeCsvDataset(t.path('people.csv'), 2, {
        columnDefaults: ['string', { dtype: 'int32', default: -1 }, 0, 'unknown'],
        labelName: 'score',
        numEpochs: 1,
        shuffle: false,
      });
      const batches = await collect(ds);
      assert.deepEqual(batches, [
        [{ name: ['Smith, John', 'Jane'], age: [42, -1], city: ['New "York"', 'unknown'] }, [3.5, 4.25]],
        [{ name: ['two\nlines', 'Kim'], age: [7, 19], city: ['Oslo', 'Rome'] }, [-1000, NaN]],
        [{ name: ['Lee'], age: [23], city: ['Paris'] }, [2]],
      ]);
      const [[features, label]] = (await ds.take(1).toArray()) as unknown as [Record<string, strata.Tensor>, strata.Tensor][];
      assert.equal(features.age.dtype, 'int32');
      assert.equal(label.dtype, 'float32');
      const [featureSpec, labelSpec] = ds.elementSpec as [Record<string, strata.TensorSpec>, strata.TensorSpec];
      assert.deepEqual(Object.keys(featureSpec), ['name', 'age', 'city']);
      assert.equal(featureSpec.age.dtype, 'int32');
      assert.deepEqual(labelSpec.shape, [null]);
    } finally {
      t.remove();
    }
  });

  it('makeCsvDataset: infers int32 / float32 / string columns; selectColumns; repeats and shuffles like tf.data by default', async () => {
    const t = tempDir();
    try {
      const rows = Array.from({ length: 10 }, (_, i) => `${i},${i / 2},w${i}`);
      writeFileSync(t.path('n.csv'), ['i,half,word', ...rows].join('\n'));
      const ds = data.makeCsvDataset(t.path('n.csv'), 4, { numEpochs: 1, shuffle: false, selectColumns: ['i', 'word'] });
      const [first] = (await ds.toArray()) as unknown as Record<string, strata.Tensor | data.StringTensor>[];
      assert.deepEqual(Object.keys(first), ['i', 'word']);
      assert.equal((first.i as strata.Tensor).dtype, 'int32');
      const inferred = (await (data.makeCsvDataset(t.path('n.csv'), 10, { numEpochs: 1, shuffle: false })).toArray())[0] as unknown as Record<string, strata.Tensor>;
      assert.equal(inferred.half.dtype, 'float32');
      assert.deepEqual(Array.from(inferred.half.dataSync()), rows.map((_, i) => i / 2));
      const forever = data.makeCsvDataset(t.path('n.csv'), 4, { shuffleSeed: 5 });
      assert.equal(forever.cardinality(), data.INFINITE_CARDINALITY);
      const seen = (await collect(forever.take(5))) as { i: number[] }[];
      assert.equal(seen.length, 5, 'repeats forever; batches of 4 (dropRemainder)');
      assert.ok(seen.every((b) => b.i.length === 4));
      const again = (await collect((data.makeCsvDataset(t.path('n.csv'), 4, { shuffleSeed: 5 })).take(5))) as { i: number[] }[];
      assert.deepEqual(again, seen, 'same seed, same order');
      const firstEpoch = seen.flatMap((b) => b.i).slice(0, 10);
      assert.notDeepEqual(firstEpoch, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      t.remove();
    }
  });

  it('bad rows: errors name the file and line, or are skipped with ignoreErrors', async () => {
    const t = tempDir();
    try {
      const path = t.path('bad.csv');
      writeFileSync(path, ['a,b,c', '1,2,3', '"x', 'y",5,6', '7,8', '9,oops,1', '10,,12', '13,14,15'].join('\n'));
      const make = (ignoreErrors = false) => data.makeCsvDataset(path, 10, { columnDefaults: ['string', 'int32', 0], numEpochs: 1, shuffle: false, ignoreErrors });
      await rejects(collect(make()), new RegExp(`makeCsvDataset: file '${path.replace(/[.\\]/g, '\\$&')}', line 5: expected 3 fields, found 2`));
      const skipped = (await collect(make(true))) as Record<string, unknown[]>[];
      assert.deepEqual(skipped, [{ a: ['1', 'x\ny', '13'], b: [2, 5, 14], c: [3, 6, 15] }], 'rows 5, 6 and 7 are skipped');
      writeFileSync(path, ['a,b', '1,2', '3,x'].join('\n'));
      await rejects(collect(data.makeCsvDataset(path, 10, { columnDefaults: [0, 0], numEpochs: 1, shuffle: false })), /line 3: column 'b' \(field 2\): cannot read "x" as float32/);
      writeFileSync(path, ['a,b', '1,2', ',4'].join('\n'));
      await rejects(collect(data.makeCsvDataset(path, 10, { columnDefaults: ['float32', 0], numEpochs: 1, shuffle: false })), /line 3: column 'a' \(field 1\) has no value and no default/);
      writeFileSync(path, ['a,b', '1,2', '"3,4', '5,6'].join('\n'));
      await rejects(collect(data.makeCsvDataset(path, 10, { columnDefaults: [0, 0], numEpochs: 1, shuffle: false })), /line 3: a quoted field is not closed before the end of the file/);
      writeFileSync(path, ['a,b', '"1"x,2'].join('\n'));
      await rejects(collect(data.makeCsvDataset(path, 10, { columnDefaults: [0, 0], numEpochs: 1, shuffle: false })), /line 2: unexpected character "x" after the closing quote/);
      writeFileSync(path, ['a,b', '1,2'].join('\n'));
      await rejects(collect(data.makeCsvDataset(path, 10, { labelName: 'nope' })), /labelName 'nope' is not a column; the columns are a, b/);
    } finally {
      t.remove();
    }
  });

  it('CsvDataset: tuples of scalars per row, with header, selectCols, a delimiter and naValue', async () => {
    const t = tempDir();
    try {
      writeFileSync(t.path('d.tsv'), ['h1\th2\th3', '1\tNA\tx', '2\t5.5\t"q\tq"'].join('\n'));
      const ds = new data.CsvDataset(t.path('d.tsv'), [0, { dtype: 'float32', default: -1 }, ''], { header: true, fieldDelim: '\t', naValue: 'NA' });
      assert.deepEqual(await collect(ds), [[1, -1, 'x'], [2, 5.5, 'q\tq']]);
      const sel = new data.CsvDataset(t.path('d.tsv'), [strata.scalar(0, 'int32'), 'string'], { header: true, fieldDelim: '\t', selectCols: [0, 2] });
      assert.deepEqual(await collect(sel), [[1, 'x'], [2, 'q\tq']]);
      assert.equal(((await sel.toArray())[0][0] as strata.Tensor).dtype, 'int32');
    } finally {
      t.remove();
    }
  });
});

describe('TFRecord', () => {
  const records = () => {
    const big = new Uint8Array(300_000).map((_, i) => (i * 31) % 251);
    return [new Uint8Array(0), new TextEncoder().encode('a'), new Uint8Array(1000).map((_, i) => i % 256), big, new TextEncoder().encode('the end')];
  };

  it('records written by TFRecordWriter read back (any buffer size, GZIP and ZLIB)', async () => {
    const t = tempDir();
    try {
      const want = records().map(hex);
      for (const compressionType of ['', 'GZIP', 'ZLIB'] as const) {
        const path = t.path(`r${compressionType}.tfrecord`);
        const w = new data.TFRecordWriter(path, { compressionType });
        for (const r of records()) w.write(r);
        await w.close();
        for (const bufferSize of [undefined, 777, 4096]) {
          const got = (await new data.TFRecordDataset(path, { compressionType, bufferSize }).toArray()).map(hex);
          assert.deepEqual(got, want, `${compressionType || 'uncompressed'} bufferSize=${bufferSize}`);
        }
      }
      const n = await data.writeTFRecords(t.path('s.tfrecord'), Dataset.fromTensorSlices(['x', 'yy', 'zzz']));
      assert.equal(n, 3);
      assert.deepEqual((await new data.TFRecordDataset(t.path('s.tfrecord')).toArray()).map((b) => new TextDecoder().decode(b)), ['x', 'yy', 'zzz']);
      const files = new data.TFRecordDataset([t.path('r.tfrecord'), t.path('s.tfrecord')], { numParallelReads: 2 });
      assert.equal((await files.toArray()).length, 8);
    } finally {
      t.remove();
    }
  });

  it('CRC corruption is detected with an error naming the file and the record offset', async () => {
    const t = tempDir();
    try {
      const path = t.path('c.tfrecord');
      const w = new data.TFRecordWriter(path);
      for (const r of records()) w.write(r);
      await w.close();
      const good = readFileSync(path);
      // Offsets of the records: 12 + length + 4 bytes each.
      const offsets = [0];
      for (const r of records()) offsets.push(offsets[offsets.length - 1] + 16 + r.length);
      const damaged = Buffer.from(good);
      damaged[offsets[2] + 12 + 10] ^= 0xff; // a data byte of record 2
      writeFileSync(path, damaged);
      const seen: Uint8Array[] = [];
      await rejects(
        (async () => {
          for await (const r of new data.TFRecordDataset(path)) seen.push(r);
        })(),
        new RegExp(`TFRecord file '.*c\\.tfrecord': record at byte offset ${offsets[2]} \\(record 2\\) is corrupted: the CRC of its 1000 data bytes does not match \\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\\)`),
      );
      assert.equal(seen.length, 2, 'the records before the damaged one are read');
      const badLength = Buffer.from(good);
      badLength[offsets[3] + 1] ^= 0x01;
      writeFileSync(path, badLength);
      await rejects(collect(new data.TFRecordDataset(path)), new RegExp(`byte offset ${offsets[3]} \\(record 3\\) is corrupted: the CRC of its length field does not match`));
      writeFileSync(path, good.subarray(0, offsets[3] + 100));
      await rejects(collect(new data.TFRecordDataset(path)), new RegExp(`byte offset ${offsets[3]} \\(record 3\\) is truncated: it declares 300000 bytes of data but the file ends after 88`));
      // The pipeline still works on a good file afterwards.
      writeFileSync(path, good);
      assert.equal((await new data.TFRecordDataset(path).toArray()).length, 5);
    } finally {
      t.remove();
    }
  });

  it('crc32c matches the standard check value', () => {
    assert.equal(data.crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
    assert.equal(data.crc32c(new Uint8Array(32)), 0x8a9136aa);
  });
});

describe('tf.train.Example', () => {
  const spec = {
    id: new data.FixedLenFeature([], 'int64'),
    pair: new data.FixedLenFeature([2], 'int64'),
    values: new data.FixedLenFeature([3], 'float32'),
    name: new data.FixedLenFeature([], 'string'),
    optional: new data.FixedLenFeature([], 'float32', -1),
    tags: new data.VarLenFeature('string'),
    scores: new data.VarLenFeature('float32'),
  };

  for (const [file, compressionType] of [
    ['examples.tfrecord', ''],
    ['examples.tfrecord.gz', 'GZIP'],
    ['examples.zlib.tfrecord', 'ZLIB'],
  ] as const) {
    it(`reads ${file}, written by TensorFlow, as tf.io.parse_single_example does`, async () => {
      const ds = new data.TFRecordDataset(fixture(file), { compressionType }).map((r) => data.parseSingleExample(r, spec));
      const got = (await ds.toArray()).map((e) => ({
        id: (e.id as strata.Tensor).item(),
        pair: Array.from((e.pair as strata.Tensor).dataSync()),
        values: f32(Array.from((e.values as strata.Tensor).dataSync())),
        name: e.name,
        optional: (e.optional as strata.Tensor).item(),
        tags: [...(e.tags as data.StringTensor).values],
        scores: f32(Array.from((e.scores as strata.Tensor).dataSync())),
      }));
      const want = EXPECTED.single.map((s: Record<string, unknown>) => ({ ...s, values: f32(s.values as number[]), scores: f32(s.scores as number[]) }));
      assert.deepEqual(got, want);
    });
  }

  it('parseExample on a batch of records gives tf.io.parse_example results (SparseTensors for variable length)', async () => {
    const [batch] = await new data.TFRecordDataset(fixture('examples.tfrecord')).batch(5).toArray();
    assert.ok(batch instanceof data.StringTensor);
    const p = data.parseExample(batch, spec);
    const b = EXPECTED.batched;
    assert.deepEqual(Array.from((p.id as strata.Tensor).dataSync()), b.id);
    assert.deepEqual((p.values as strata.Tensor).shape, [5, 3]);
    assert.deepEqual(((p.values as strata.Tensor).arraySync() as number[][]).map(f32), b.values.map(f32));
    const scores = p.scores as data.SparseTensor;
    assert.deepEqual(scores.indices.arraySync(), b.scores_indices);
    assert.deepEqual(f32(Array.from((scores.values as strata.Tensor).dataSync())), f32(b.scores_values));
    assert.deepEqual(scores.denseShape, b.scores_dense_shape);
    assert.deepEqual((p.tags as data.SparseTensor).toDense().toString().length > 0, true);
    assert.deepEqual(((p.tags as data.SparseTensor).toDense() as data.StringTensor).toArray(), b.tags_dense);
  });

  it('raw byte features decode like tf.io.decode_raw; plain string records read as TF wrote them', async () => {
    const raws = await new data.TFRecordDataset(fixture('examples.tfrecord')).map((r) => data.parseSingleExample(r, { raw: new data.FixedLenFeature([], 'bytes') })).map((e) => data.decodeRaw(e.raw as Uint8Array, 'float32')).toArray();
    assert.deepEqual(raws.map((t) => Array.from(t.dataSync())), EXPECTED.raw_floats);
    const strings = await new data.TFRecordDataset(fixture('raw_strings.tfrecord')).toArray();
    assert.deepEqual(strings.map(hex), EXPECTED.raw_strings_hex);
  });

  it('Examples serialized by Strata parse back (and decode like TensorFlow\'s bytes)', async () => {
    const t = tempDir();
    try {
      const path = t.path('ex.tfrecord');
      const w = new data.TFRecordWriter(path);
      for (let i = 0; i < 4; i++) {
        w.write(data.serializeExample({ x: data.floatFeature([i, i + 0.5]), y: data.int64Feature(i), s: data.bytesFeature(`s${i}`), v: data.int64Feature(Array.from({ length: i }, (_, k) => k)) }));
      }
      await w.close();
      const ds = new data.TFRecordDataset(path)
        .batch(4)
        .map((b) => data.parseExample(b, { x: new data.FixedLenFeature([2], 'float32'), y: new data.FixedLenFeature([], 'int64'), s: new data.FixedLenFeature([], 'string'), v: new data.VarLenFeature('int64') }));
      const [p] = await ds.toArray();
      assert.deepEqual((p.x as strata.Tensor).arraySync(), [[0, 0.5], [1, 1.5], [2, 2.5], [3, 3.5]]);
      assert.deepEqual(Array.from((p.y as strata.Tensor).dataSync()), [0, 1, 2, 3]);
      assert.deepEqual([...(p.s as data.StringTensor).values], ['s0', 's1', 's2', 's3']);
      assert.deepEqual(((p.v as data.SparseTensor).toDense(-1) as strata.Tensor).arraySync(), [[-1, -1, -1], [0, -1, -1], [0, 1, -1], [0, 1, 2]]);
      // TensorFlow's own records decode to the same structure.
      const tfRecord = Buffer.from(EXPECTED.serialized_hex[1], 'hex');
      const decoded = data.deserializeExample(tfRecord);
      assert.deepEqual(decoded.pair, { kind: 'int64List', values: [1, -1] });
    } finally {
      t.remove();
    }
  });

  it('parse errors name the feature and what is wrong', () => {
    const rec = data.serializeExample({ a: data.floatFeature([1, 2]), big: data.int64Feature(2 ** 40) });
    assert.throws(() => data.parseSingleExample(rec, { b: new data.FixedLenFeature([], 'float32') }), /no feature 'b', which the spec requires/);
    assert.throws(() => data.parseSingleExample(rec, { a: new data.FixedLenFeature([3], 'float32') }), /feature 'a' has 2 values but the spec's shape \(3,\) needs 3/);
    assert.throws(() => data.parseSingleExample(rec, { a: new data.FixedLenFeature([2], 'int64') }), /feature 'a' holds a float_list but the spec asks for int64/);
    assert.throws(() => data.parseSingleExample(rec, { big: new data.FixedLenFeature([], 'int64') }), /feature 'big' has the int64 value 1099511627776, outside the int32 range/);
    assert.throws(() => data.parseSingleExample(new Uint8Array([0xff, 0xff, 0xff]), { a: new data.VarLenFeature('float32') }), /not a valid tf\.train\.Example/);
  });
});
