import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'fflate';
import {
  chunkAttr,
  getH5Dataset,
  getH5Group,
  numberedDatasets,
  readChunkedAttr,
  readH5,
  sortNumericNames,
  writeH5,
  type H5Dataset,
  type H5Group,
  type H5WriteGroup,
} from '../../src/saving/io/h5.ts';
import { readZip, writeZip } from '../../src/saving/io/zip.ts';
import { crc32 } from '../../src/util/checksums.ts';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/io/${name}`, import.meta.url)));
const enc = new TextEncoder();

/** A deterministic generator (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function group(root: H5Group, path: string): H5Group {
  const g = getH5Group(root, path);
  assert.ok(g, `no group ${path}`);
  return g;
}

function dataset(root: H5Group, path: string): H5Dataset {
  const d = getH5Dataset(root, path);
  assert.ok(d, `no dataset ${path}`);
  return d;
}

/** Every dataset in the tree, depth first. */
function allDatasets(g: H5Group): H5Dataset[] {
  return [...g.datasets.values(), ...[...g.groups.values()].flatMap(allDatasets)];
}

async function rejectsWith(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof Error, `not an Error: ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

// ---------------------------------------------------------------------------

describe('writeH5 / readH5 round trip', () => {
  it('keeps structure, attributes, shapes, dtypes and values', async () => {
    const tree: H5WriteGroup = {
      attrs: { keras_version: '3.15.1', count: 3, rate: 0.25, ints: [1, 2, 3], floats: [0.5, 1], names: ['dense', 'dénse ✓'], empty: [] },
      groups: {
        layers: {
          groups: {
            dense: {
              groups: {
                vars: {
                  attrs: { name: 'dense' },
                  datasets: {
                    '0': { shape: [2, 3], dtype: 'float32', values: new Float32Array([1, 2, 3, 4, 5, 6.5]) },
                    '1': { shape: [3], dtype: 'float64', values: [0.1, -2, 1e300] },
                    '2': { shape: [], dtype: 'int64', values: [42] },
                    '3': { shape: [2, 1], dtype: 'int32', values: [-2147483648, 2147483647] },
                    '4': { shape: [4], dtype: 'bool', values: [1, 0, 0, 1] },
                    '5': { shape: [0], dtype: 'uint8', values: [] },
                    '6': { shape: [], dtype: 'float32', values: [0.5], attrs: { note: 'scalar' } },
                  },
                },
              },
            },
            dropout: { groups: { vars: { attrs: { name: 'dropout' } } } },
          },
        },
        empty: {},
      },
    };
    const root = await readH5(await writeH5(tree), 'roundtrip.h5');
    assert.equal(root.path, '/');
    assert.equal(root.name, '');
    assert.deepEqual({ ...root.attrs }, { keras_version: '3.15.1', count: 3, rate: 0.25, ints: [1, 2, 3], floats: [0.5, 1], names: ['dense', 'dénse ✓'], empty: [] });
    assert.deepEqual([...root.groups.keys()], ['layers', 'empty']);
    assert.equal(group(root, 'empty').groups.size + group(root, 'empty').datasets.size, 0);
    const vars = group(root, '/layers/dense/vars');
    assert.equal(vars.path, '/layers/dense/vars');
    assert.equal(vars.name, 'vars');
    assert.equal(vars.attrs.name, 'dense');
    assert.equal(group(root, 'layers/dropout/vars').attrs.name, 'dropout');
    assert.equal(group(root, 'layers/dropout/vars').datasets.size, 0);

    const expect: [string, string, number[], ArrayLike<number>][] = [
      ['0', 'float32', [2, 3], new Float32Array([1, 2, 3, 4, 5, 6.5])],
      ['1', 'float64', [3], new Float64Array([0.1, -2, 1e300])],
      ['2', 'int64', [], new Int32Array([42])],
      ['3', 'int32', [2, 1], new Int32Array([-2147483648, 2147483647])],
      ['4', 'bool', [4], new Uint8Array([1, 0, 0, 1])],
      ['5', 'uint8', [0], new Uint8Array([])],
      ['6', 'float32', [], new Float32Array([0.5])],
    ];
    assert.deepEqual([...vars.datasets.keys()], expect.map((e) => e[0]));
    for (const [name, dtype, shape, values] of expect) {
      const d = vars.datasets.get(name)!;
      assert.equal(d.dtype, dtype, name);
      assert.deepEqual(d.shape, shape, name);
      assert.deepEqual(d.read(), values, name);
      assert.equal(d.path, `/layers/dense/vars/${name}`);
    }
    assert.equal(vars.datasets.get('6')!.attrs.note, 'scalar');
  });

  it('keeps insertion order of groups and datasets; sortNumericNames orders numeric names', async () => {
    const datasets = new Map(['10', '2', '0', 'x', '1'].map((n, i) => [n, { shape: [1], dtype: 'float32' as const, values: [i] }]));
    const groups = new Map([['zeta', {}], ['alpha', {}], ['mid', {}]]);
    const root = await readH5(await writeH5({ groups, datasets }), 'order.h5');
    assert.deepEqual([...root.datasets.keys()], ['10', '2', '0', 'x', '1']);
    assert.deepEqual([...root.groups.keys()], ['zeta', 'alpha', 'mid']);
    assert.deepEqual(sortNumericNames(root.datasets.keys()), ['0', '1', '2', '10', 'x']);
    assert.deepEqual(numberedDatasets(root).map((d) => d.read()[0]), [2, 4, 1, 0, 3]);
    assert.deepEqual(sortNumericNames(['b', '11', '01', '3', 'a', '100']), ['3', '11', '100', '01', 'a', 'b']);
  });

  it('read() returns a fresh array each call', async () => {
    const root = await readH5(await writeH5({ datasets: { w: { shape: [2], dtype: 'float32', values: [1, 2] } } }), 'fresh.h5');
    const d = root.datasets.get('w')!;
    const a = d.read() as Float32Array;
    a[0] = 99;
    assert.deepEqual(d.read(), new Float32Array([1, 2]));
  });

  it('writes large string-array attributes and Keras-style chunks', async () => {
    const names = Array.from({ length: 4000 }, (_, i) => `layer_with_a_long_name_${i}`);
    const chunks = chunkAttr('layer_names', names);
    assert.deepEqual(Object.keys(chunks), ['layer_names0', 'layer_names1']);
    assert.deepEqual(chunkAttr('weight_names', ['a', 'b']), { weight_names: ['a', 'b'] });
    const root = await readH5(await writeH5({ attrs: { whole: names, ...chunks } }), 'chunks.h5');
    assert.deepEqual(root.attrs.whole, names);
    assert.deepEqual(readChunkedAttr(root.attrs, 'layer_names'), names);
    assert.deepEqual(readChunkedAttr(root.attrs, 'whole'), names);
    assert.equal(readChunkedAttr(root.attrs, 'missing'), undefined);
  });

  it('rejects invalid trees with clear errors', async () => {
    await rejectsWith(writeH5({ datasets: { a: { shape: [2, 2], dtype: 'float32', values: [1, 2, 3] } } }), /dataset "\/a": shape \[2, 2\] needs 4 values, got 3/);
    await rejectsWith(writeH5({ groups: { 'a/b': {} } }), /invalid name "a\/b"/);
    await rejectsWith(writeH5({ datasets: { '': { shape: [], dtype: 'float32', values: [1] } } }), /invalid name ""/);
    await rejectsWith(writeH5({ datasets: { a: { shape: [1], dtype: 'float16' as never, values: [1] } } }), /unknown dtype "float16"/);
    await rejectsWith(writeH5({ datasets: { a: { shape: [1], dtype: 'int32', values: [2 ** 31] } } }), /value 2147483648 at index 0 is not a int32/);
    await rejectsWith(writeH5({ datasets: { a: { shape: [1], dtype: 'int64', values: [0.5] } } }), /is not a int64/);
    await rejectsWith(writeH5({ datasets: { a: { shape: [-1], dtype: 'int64', values: [] } } }), /invalid shape/);
    await rejectsWith(writeH5({ attrs: { a: { x: 1 } as never } }), /attribute "a" of "\/": unsupported value object/);
  });

  it('handles concurrent reads and writes', async () => {
    const trees = Array.from({ length: 6 }, (_, i) => ({
      attrs: { i },
      datasets: { v: { shape: [3], dtype: 'float32' as const, values: [i, i + 1, i + 2] } },
    }));
    const written = await Promise.all(trees.map((t) => writeH5(t)));
    const read = await Promise.all([...written.map((b, i) => readH5(b, `c${i}.h5`)), readH5(fixture('keras3_weights.h5'), 'k.h5')]);
    for (let i = 0; i < trees.length; i++) {
      assert.equal(read[i].attrs.i, i);
      assert.deepEqual(read[i].datasets.get('v')!.read(), new Float32Array([i, i + 1, i + 2]));
    }
    assert.equal(group(read[6], 'layers/dense/vars').attrs.name, 'dense');
  });
});

// ---------------------------------------------------------------------------

describe('readH5 on files written by h5py', () => {
  it('reads a Keras 3 model.weights.h5', async () => {
    const root = await readH5(fixture('keras3_weights.h5'), 'keras3_weights.h5');
    assert.deepEqual([...root.groups.keys()], ['layers', 'optimizer', 'vars']);
    assert.equal(group(root, 'vars').attrs.name, 'seq');
    const dense = group(root, 'layers/dense/vars');
    assert.equal(dense.attrs.name, 'dense');
    const [kernel, bias] = numberedDatasets(dense);
    assert.equal(kernel.dtype, 'float32');
    assert.deepEqual(kernel.shape, [4, 3]);
    assert.deepEqual(kernel.read(), new Float32Array(Array.from({ length: 12 }, (_, i) => i / 4)));
    assert.deepEqual(bias.read(), new Float32Array([0.5, -1.5, 2]));
    assert.equal(group(root, 'layers/dropout/vars').datasets.size, 0);
    const opt = group(root, 'optimizer/vars');
    assert.equal(opt.attrs.name, 'adam');
    // HDF5 lists by name; Keras's indices are positional.
    assert.deepEqual([...opt.datasets.keys()].slice(0, 5), ['0', '1', '10', '11', '2']);
    const ordered = numberedDatasets(opt);
    assert.deepEqual(ordered.map((d) => d.name), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
    assert.equal(ordered[0].dtype, 'int64');
    assert.deepEqual(ordered[0].shape, []);
    assert.deepEqual(ordered[0].read(), new Int32Array([7]));
    assert.deepEqual(ordered[1].read(), new Float32Array([0.001]));
    assert.deepEqual(ordered[11].read(), new Float32Array([11, 11]));
  });

  it('maps every dtype', async () => {
    const root = await readH5(fixture('dtypes.h5'), 'dtypes.h5');
    const cases: [string, string, number[], unknown][] = [
      ['float16', 'float16', [4], new Float32Array([0.5, -1.5, 65504, 2 ** -24])],
      ['bfloat16', 'bfloat16', [2, 2], new Float32Array([1, -2.5, 3.140625, 9.953037915854457e29])],
      ['float64', 'float64', [2], new Float64Array([1.25, -2.5])],
      ['int64', 'int64', [2, 2], new Int32Array([1, -2, 3, 2147483647])],
      ['int8', 'int8', [2], new Int8Array([-128, 127])],
      ['uint8', 'uint8', [2], new Uint8Array([0, 255])],
      ['int16', 'int16', [2], new Int16Array([-32768, 32767])],
      ['uint16', 'uint16', [2], new Uint16Array([0, 65535])],
      ['uint32', 'uint32', [2], new Uint32Array([0, 4294967295])],
      ['bool', 'bool', [3], new Uint8Array([1, 0, 1])],
      ['scalar', 'float64', [], new Float64Array([2.5])],
      ['vlen_strings', 'string', [2], ['a', 'héllo']],
      ['fixed_strings', 'string', [2], ['ab', 'c']],
      ['opaque', 'opaque', [1], new Uint8Array([1, 2, 3, 4])],
      ['gzip', 'float32', [100], new Float32Array(Array.from({ length: 100 }, (_, i) => i))],
    ];
    for (const [name, dtype, shape, values] of cases) {
      const d = dataset(root, name);
      assert.equal(d.dtype, dtype, name);
      assert.deepEqual(d.shape, shape, name);
      assert.deepEqual(d.read(), values, name);
    }
    assert.equal(dataset(root, 'bfloat16').attrs.dtype, 'bfloat16');
    assert.deepEqual(dataset(root, 'gzip').filters, ['deflate']);
    assert.throws(() => dataset(root, 'int64_big').read(), /^Error: dtypes\.h5: dataset "\/int64_big" \(int64\) holds 1099511627776 at index 1, which does not fit in int32\.$/);
    assert.throws(() => dataset(root, 'compound').read(), /dtypes\.h5: dataset "\/compound" holds compound values/);
    assert.throws(() => dataset(root, 'uint64').read(), /dtypes\.h5: dataset "\/uint64" holds uint64 values/);
  });

  it('decodes attributes', async () => {
    const { attrs } = await readH5(fixture('dtypes.h5'), 'dtypes.h5');
    assert.equal(attrs.vlen_str, 'dense');
    assert.equal(attrs.fixed_bytes, 'tensorflow');
    assert.deepEqual(JSON.parse(attrs.json_bytes as string), { class_name: 'Dense', config: { units: 3 } });
    assert.deepEqual(attrs.vlen_list, ['a', 'bé']);
    assert.deepEqual(attrs.fixed_list, ['dense/kernel:0', 'dense/bias:0']);
    assert.deepEqual(attrs.empty_list, []);
    assert.equal(attrs.int, 3);
    assert.equal(attrs.float, 0.25);
    assert.deepEqual(attrs.ints, [1, 2, 3]);
    assert.deepEqual(attrs.floats, [0.5, 1.5]);
    assert.equal(attrs.half, 1.5);
    assert.equal(attrs.empty, null);
  });

  it('reads a legacy Keras .h5 model', async () => {
    const root = await readH5(fixture('legacy_model.h5'), 'legacy_model.h5');
    assert.equal(root.attrs.keras_version, '2.13.1');
    assert.equal(root.attrs.backend, 'tensorflow');
    assert.equal((JSON.parse(root.attrs.model_config as string) as { class_name: string }).class_name, 'Sequential');
    assert.equal((JSON.parse(root.attrs.training_config as string) as { loss: string }).loss, 'mse');
    const mw = group(root, 'model_weights');
    assert.deepEqual(mw.attrs.layer_names, ['dense', 'flatten', 'dense_1']);
    assert.equal(mw.attrs.backend, 'tensorflow');
    const names = group(root, 'model_weights/dense').attrs.weight_names as string[];
    assert.deepEqual(names, ['dense/kernel:0', 'dense/bias:0']);
    assert.deepEqual(names.map((n) => dataset(group(root, 'model_weights/dense'), n).read()), [new Float32Array([1, 2, 3, 4]), new Float32Array([0.5, -0.5])]);
    assert.deepEqual(dataset(root, 'model_weights/dense/dense/kernel:0').shape, [2, 2]);
    assert.deepEqual(group(root, 'model_weights/flatten').attrs.weight_names, []);
    assert.deepEqual(readChunkedAttr(group(root, 'model_weights/dense_1').attrs, 'weight_names'), ['dense_1/kernel:0', 'dense_1/bias:0']);
    assert.deepEqual(dataset(root, '/model_weights/dense_1/dense_1/bias:0').read(), new Float32Array([3]));
    assert.deepEqual(group(root, 'optimizer_weights').attrs.weight_names, ['Adam/iter:0']);
    assert.deepEqual(dataset(root, 'optimizer_weights/Adam/iter:0').read(), new Int32Array([10]));
  });

  it('lists links and named datatypes without following them', async () => {
    const root = await readH5(fixture('links.h5'), 'links.h5');
    assert.deepEqual([...root.datasets.keys()], ['a', 'hard']);
    assert.deepEqual(dataset(root, 'hard').read(), new Float64Array([0, 1, 2]));
    assert.deepEqual(Object.fromEntries(root.skipped), {
      broken: 'soft link to /nowhere',
      ext: 'external link to /etc/other.h5:/x',
      soft: 'soft link to /a',
      type: 'named datatype',
    });
    assert.deepEqual([...group(root, 'g').skipped], [['up', 'soft link to /g']]);
  });

  it('says when a compression filter is not available', async () => {
    await rejectsWith(readH5(fixture('lzf.h5'), 'lzf.h5'), /^lzf\.h5: dataset "\/x" is compressed with lzf, which this reader cannot decompress/);
  });

  it('refuses datasets that declare more data than the file holds, without allocating', async () => {
    await rejectsWith(
      readH5(fixture('absurd_contiguous.h5'), 'absurd_contiguous.h5'),
      /^absurd_contiguous\.h5: dataset "\/huge" declares 4000000000000 bytes \(shape \[1000000, 1000000\] of 4-byte values\), more than the whole file \(1400 bytes\)/,
    );
    await rejectsWith(readH5(fixture('absurd_compressed.h5'), 'absurd_compressed.h5'), /^absurd_compressed\.h5: dataset "\/huge" declares 8589934592 bytes .* once decompressed/);
    // A lower limit applies to compressed data.
    await rejectsWith(readH5(fixture('dtypes.h5'), 'dtypes.h5', { maxFilteredBytes: 100 }), /dataset "\/gzip" declares 400 bytes/);
  });
});

// ---------------------------------------------------------------------------

describe('readH5 on bad input', () => {
  it('says when a file is not HDF5', async () => {
    await rejectsWith(readH5(new Uint8Array(0), 'empty.h5'), /^empty\.h5: is not an HDF5 file \(it is empty\)\.$/);
    await rejectsWith(readH5(enc.encode('{"not": "hdf5"}'), 'config.json'), /^config\.json: is not an HDF5 file \(no HDF5 signature\)\.$/);
    await rejectsWith(readH5(fixture('python_stored.zip'), 'model.keras'), /^model\.keras: is not an HDF5 file/);
  });

  it('says when a file is truncated or corrupt', async () => {
    const bytes = fixture('keras3_weights.h5');
    await rejectsWith(readH5(bytes.subarray(0, 12), 'short.h5'), /^short\.h5: is truncated or corrupt \(it ends inside the superblock\)\.$/);
    await rejectsWith(readH5(bytes.subarray(0, 5000), 'half.h5'), /^half\.h5: is truncated or corrupt \(the superblock says the file is 19568 bytes, but it has 5000\)\.$/);
    const bad = bytes.slice();
    bad[13] = 3; // size of offsets
    await rejectsWith(readH5(bad, 'bad.h5'), /^bad\.h5: is truncated or corrupt \(superblock declares 3-byte addresses/);
    // Damage past the superblock is found by HDF5 itself; its innermost message is kept.
    const written = await writeH5({ groups: { a: { datasets: { x: { shape: [1], dtype: 'float32', values: [1] } } } } });
    const damaged = written.slice();
    damaged.fill(0xaa, 200, 400);
    await rejectsWith(readH5(damaged, 'damaged.h5'), /^damaged\.h5: is truncated or corrupt \(.+\)\.$/);
  });

  /** Reads `input`; it must give a tree whose every dataset reads (or throws a labelled Error), or a labelled Error. */
  async function survives(input: Uint8Array, label: string): Promise<'ok' | 'error'> {
    const started = Date.now();
    try {
      const root = await readH5(input, label, { timeoutMs: 5000 });
      for (const d of allDatasets(root)) {
        assert.ok(Array.isArray(d.shape));
        try {
          const v = d.read();
          assert.ok(Array.isArray(v) || ArrayBuffer.isView(v));
        } catch (e) {
          assert.ok(e instanceof Error && e.message.startsWith(`${label}: `), String(e));
        }
      }
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof Error, `not an Error: ${String(e)}`);
      assert.ok(e.message.startsWith(`${label}: `), `message does not name the file: ${e.message}`);
      return 'error';
    } finally {
      assert.ok(Date.now() - started < 8000, `${label} took ${Date.now() - started} ms`);
    }
  }

  it('survives truncation at many offsets', async () => {
    const files = [fixture('keras3_weights.h5'), fixture('legacy_model.h5'), await writeH5({ attrs: { name: 'x' }, groups: { g: { datasets: { d: { shape: [8], dtype: 'float64', values: [1, 2, 3, 4, 5, 6, 7, 8] } } } } })];
    let errors = 0;
    for (const [f, bytes] of files.entries()) {
      for (let k = 0; k < 30; k++) {
        const at = Math.floor((bytes.length * k) / 30);
        if ((await survives(bytes.subarray(0, at), `trunc${f}-${at}.h5`)) === 'error') errors++;
      }
    }
    assert.equal(errors, 90); // every truncated file is refused
  });

  it('survives files whose end was never written (zero-filled tails)', async () => {
    const files = [fixture('keras3_weights.h5'), fixture('legacy_model.h5')];
    let errors = 0;
    for (const [f, bytes] of files.entries()) {
      for (let k = 1; k < 30; k++) {
        const at = Math.floor((bytes.length * k) / 30);
        const damaged = bytes.slice();
        damaged.fill(0, at);
        if ((await survives(damaged, `zeros${f}-${at}.h5`)) === 'error') errors++;
      }
    }
    assert.ok(errors > 40, `${errors} refused`);
  });

  it('survives random byte damage (seeded)', async () => {
    const files = [fixture('keras3_weights.h5'), fixture('legacy_model.h5'), fixture('dtypes.h5')];
    const random = rng(20261125);
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 150; i++) {
      const bytes = files[i % files.length].slice();
      const flips = 1 + Math.floor(random() * 6);
      for (let j = 0; j < flips; j++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      outcomes[await survives(bytes, `flip${i}.h5`)]++;
    }
    assert.ok(outcomes.ok > 0 && outcomes.error > 0, JSON.stringify(outcomes));
  });

  it('refuses global heaps that would make HDF5 loop forever', async () => {
    // These four bytes of damage make HDF5 (also the native library under
    // h5py) loop forever while reading a variable-length string attribute;
    // so does a file whose end was zero-filled inside a global heap.
    const looping = fixture('keras3_weights.h5');
    for (const [at, v] of [[1316, 231], [2120, 194], [9191, 80], [11197, 186]]) looping[at] = v;
    await rejectsWith(readH5(looping, 'loops.h5'), /^loops\.h5: is truncated or corrupt \(the global heap at byte 2048 has a damaged object at byte \d+\)\.$/);
    const zeroTail = fixture('legacy_model.h5');
    zeroTail.fill(0, 2371);
    await rejectsWith(readH5(zeroTail, 'zeros.h5'), /^zeros\.h5: is truncated or corrupt \(the global heap at byte 2048 has a damaged object/);
  });

  it('stops a read that runs past its time limit, and recovers', async () => {
    await rejectsWith(readH5(fixture('dtypes.h5'), 'slow.h5', { timeoutMs: 1 }), /^slow\.h5: reading took longer than 1 ms and was stopped \(a corrupt file\?\)\.$/);
    const [a, b] = await Promise.allSettled([readH5(fixture('dtypes.h5'), 'slow.h5', { timeoutMs: 1 }), readH5(fixture('dtypes.h5'), 'next.h5')]);
    assert.equal(a.status, 'rejected');
    assert.equal(b.status === 'fulfilled' && b.value.attrs.vlen_str, 'dense');
  });
});

// ---------------------------------------------------------------------------

interface RawEntry {
  name: string | Uint8Array;
  data: Uint8Array; // as stored (compressed when method is 8)
  method?: number;
  size?: number; // declared uncompressed size
  crc?: number;
  flags?: number;
  localOffset?: number; // override the central directory's pointer
}

/** A zip builder that writes whatever it is told, for malformed archives. */
function rawZip(entries: RawEntry[], opts: { count?: number } = {}): Uint8Array {
  const parts: number[] = [];
  const u16 = (v: number) => parts.push(v & 0xff, (v >>> 8) & 0xff);
  const u32 = (v: number) => parts.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  const bytes = (b: Uint8Array) => parts.push(...b);
  const meta = entries.map((e) => ({
    e,
    name: typeof e.name === 'string' ? enc.encode(e.name) : e.name,
    size: e.size ?? e.data.length,
    crc: e.crc ?? crc32(e.data),
    offset: 0,
  }));
  for (const m of meta) {
    m.offset = parts.length;
    u32(0x04034b50), u16(20), u16(m.e.flags ?? 0), u16(m.e.method ?? 0), u16(0), u16(33);
    u32(m.crc), u32(m.e.data.length), u32(m.size), u16(m.name.length), u16(0);
    bytes(m.name);
    bytes(m.e.data);
  }
  const cd = parts.length;
  for (const m of meta) {
    u32(0x02014b50), u16(20), u16(20), u16(m.e.flags ?? 0), u16(m.e.method ?? 0), u16(0), u16(33);
    u32(m.crc), u32(m.e.data.length), u32(m.size), u16(m.name.length), u16(0), u16(0), u16(0), u16(0), u32(0);
    u32(m.e.localOffset ?? m.offset);
    bytes(m.name);
  }
  const cdSize = parts.length - cd;
  const count = opts.count ?? entries.length;
  u32(0x06054b50), u16(0), u16(0), u16(count), u16(count), u32(cdSize), u32(cd), u16(0);
  return new Uint8Array(parts);
}

function throwsWith(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error, `not an Error: ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('zip', () => {
  const entries = [
    { name: 'metadata.json', data: enc.encode('{"keras_version": "3.15.1"}') },
    { name: 'config.json', data: enc.encode('{}') },
    { name: '1', data: new Uint8Array([1]) }, // integer-like names keep their place too
    { name: '0', data: new Uint8Array(0) },
    { name: 'assets/vocab é.txt', data: enc.encode('a\nb\n') },
  ];

  it('round-trips in order, stored, dated 1980-01-01', () => {
    const zip = writeZip(entries);
    const back = readZip(zip, 'model.keras');
    assert.deepEqual([...back.keys()], entries.map((e) => e.name));
    for (const e of entries) assert.deepEqual(back.get(e.name), e.data);
    assert.deepEqual(writeZip(entries), zip, 'deterministic');
    const view = new DataView(zip.buffer);
    assert.equal(view.getUint32(0, true), 0x04034b50);
    assert.equal(view.getUint16(8, true), 0, 'stored');
    assert.equal(view.getUint16(10, true), 0, 'time 00:00:00');
    assert.equal(view.getUint16(12, true), 33, 'date 1980-01-01');
    assert.deepEqual(readZip(writeZip([]), 'empty.keras'), new Map());
  });

  it('reads archives written by Python zipfile (stored and deflated)', () => {
    const stored = readZip(fixture('python_stored.zip'), 'python_stored.zip');
    assert.deepEqual([...stored.keys()], ['metadata.json', 'config.json', 'model.weights.h5']);
    assert.equal(JSON.parse(new TextDecoder().decode(stored.get('metadata.json'))).keras_version, '3.15.1');
    const weights = new Uint8Array(1024).map((_, i) => i % 256);
    assert.deepEqual(stored.get('model.weights.h5'), weights);
    const deflated = readZip(fixture('python_deflated.zip'), 'python_deflated.zip');
    assert.deepEqual([...deflated.keys()], ['metadata.json', 'config.json', 'model.weights.h5', 'assets/vocab é.txt']);
    assert.deepEqual(deflated.get('model.weights.h5'), weights);
    assert.equal(new TextDecoder().decode(deflated.get('assets/vocab é.txt')), 'a\nb\n');
  });

  it('refuses writing unsafe or duplicate names', () => {
    throwsWith(() => writeZip([{ name: '../x', data: new Uint8Array(0) }]), /writeZip: entry "\.\.\/x": the name escapes the archive/);
    throwsWith(() => writeZip([{ name: 'a', data: new Uint8Array(0) }, { name: 'a', data: new Uint8Array(0) }]), /entry "a" is given twice/);
  });

  it('refuses what is not a zip, or is truncated or corrupt', () => {
    throwsWith(() => readZip(new Uint8Array(0), 'x.keras'), /^x\.keras: is empty, not a zip archive$/);
    throwsWith(() => readZip(enc.encode('hello world, this is not a zip archive at all'), 'x.keras'), /^x\.keras: is not a zip archive/);
    const zip = writeZip(entries);
    throwsWith(() => readZip(zip.subarray(0, zip.length - 5), 'cut.keras'), /^cut\.keras: is truncated or corrupt \(no end-of-central-directory record\)$/);
    const flipped = zip.slice();
    flipped[30 + 'metadata.json'.length + 3] ^= 1; // a data byte of the first entry
    throwsWith(() => readZip(flipped, 'crc.keras'), /^crc\.keras: is truncated or corrupt \(zip entry "metadata\.json": CRC-32 mismatch\)$/);
    const random = rng(3);
    const data = new Uint8Array(1000).map(() => Math.floor(random() * 16));
    const deflated = deflateSync(data);
    throwsWith(() => readZip(rawZip([{ name: 'a', data: deflated.subarray(0, deflated.length >> 1), method: 8, size: 1000, crc: crc32(data) }]), 'z.keras'), /^z\.keras: is truncated or corrupt \(zip entry "a": bad deflate data/);
    throwsWith(() => readZip(rawZip([{ name: 'a', data: deflated, method: 8, size: 1001, crc: crc32(data) }]), 'z.keras'), /zip entry "a": inflates to 1000 bytes, not the declared 1001/);
    throwsWith(() => readZip(rawZip([{ name: 'a', data, method: 12 }]), 'z.keras'), /^z\.keras: zip entry "a" uses compression method 12/);
    throwsWith(() => readZip(rawZip([{ name: 'a', data, flags: 1 }]), 'z.keras'), /^z\.keras: zip entry "a" is encrypted/);
    throwsWith(() => readZip(rawZip([{ name: 'a', data, size: 999 }]), 'z.keras'), /zip entry "a" is stored but its sizes differ/);
    throwsWith(() => readZip(rawZip([{ name: 'a', data }], { count: 2 }), 'z.keras'), /^z\.keras: is truncated or corrupt/);
    throwsWith(() => readZip(rawZip([{ name: 'a', data, localOffset: 5 }]), 'z.keras'), /zip entry "a": local header missing or damaged/);
  });

  it('refuses path traversal, absolute paths and duplicates, naming the entry', () => {
    const cases: [string, RegExp][] = [
      ['../evil.sh', /zip entry "\.\.\/evil\.sh" is unsafe: the name escapes the archive/],
      ['assets/../../evil', /zip entry "assets\/\.\.\/\.\.\/evil" is unsafe: the name escapes the archive/],
      ['/etc/passwd', /zip entry "\/etc\/passwd" is unsafe: the name is an absolute path/],
      ['C:/x', /zip entry "C:\/x" is unsafe: the name is an absolute path \(drive letter\)/],
      ['a\\..\\b', /zip entry "a\\\\\.\.\\\\b" is unsafe: the name contains a backslash/],
      ['a//b', /zip entry "a\/\/b" is unsafe: the name has an empty path segment/],
    ];
    for (const [name, pattern] of cases) throwsWith(() => readZip(rawZip([{ name, data: new Uint8Array(1) }]), 'evil.keras'), new RegExp(`^evil\\.keras: ${pattern.source}`));
    const dup = rawZip([{ name: 'config.json', data: enc.encode('{}') }, { name: 'config.json', data: enc.encode('{"x":1}') }]);
    throwsWith(() => readZip(dup, 'dup.keras'), /^dup\.keras: zip entry "config\.json" appears twice$/);
    throwsWith(() => readZip(rawZip([{ name: new Uint8Array([0x61, 0xff]), data: new Uint8Array(1), flags: 0x800 }]), 'bad.keras'), /zip entry 0: the name is not valid UTF-8/);
  });

  it('refuses zip bombs', () => {
    // A deflated entry that claims 4 GiB: refused before anything is inflated.
    const zeros = deflateSync(new Uint8Array(1 << 20));
    throwsWith(() => readZip(rawZip([{ name: 'bomb', data: zeros, method: 8, size: 0xfffffffe }]), 'bomb.keras', { maxEntryBytes: 1 << 30 }), /^bomb\.keras: zip entry "bomb" declares 4294967294 bytes uncompressed, more than the limit of 1073741824 \(a zip bomb\?\)$/);
    // One that inflates to more than it declares.
    throwsWith(() => readZip(rawZip([{ name: 'bomb', data: zeros, method: 8, size: 1000 }]), 'bomb.keras'), /^bomb\.keras: zip entry "bomb" inflates to more than its declared 1000 bytes \(a zip bomb\?\)$/);
    // Many entries, each small, too much in all.
    const many = rawZip(Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, data: zeros, method: 8, size: 1 << 20, crc: 0 })));
    throwsWith(() => readZip(many, 'many.keras', { maxTotalBytes: 10 << 20 }), /^many\.keras: zip entries declare more than 10485760 bytes uncompressed in all \(limit reached at entry "f10"; a zip bomb\?\)$/);
    throwsWith(() => readZip(many, 'many.keras', { maxEntries: 10 }), /^many\.keras: has 20 entries, more than the limit of 10 \(a zip bomb\?\)$/);
    // Entries that share one compressed stream (overlapping).
    const shared = rawZip([{ name: 'a', data: zeros, method: 8, size: 1 << 20 }, { name: 'b', data: new Uint8Array(0), method: 8, size: 1 << 20, crc: crc32(new Uint8Array(1 << 20)), localOffset: 0 }]);
    throwsWith(() => readZip(shared, 'overlap.keras'), /zip entry "b": local header names a different file|entries "a" and "b" overlap/);
    throwsWith(() => readZip(writeZip(entries), 'x.keras', { maxEntries: -1 }), /limit maxEntries must be a non-negative finite number/);
  });

  it('survives truncation and random damage (seeded)', () => {
    const zip = writeZip(entries);
    const deflated = fixture('python_deflated.zip');
    const random = rng(7);
    const check = (input: Uint8Array, label: string) => {
      try {
        const out = readZip(input, label);
        assert.ok(out instanceof Map);
      } catch (e) {
        assert.ok(e instanceof Error && e.message.startsWith(`${label}: `), String(e));
      }
    };
    for (const bytes of [zip, deflated]) {
      for (let at = 0; at < bytes.length; at += 7) check(bytes.subarray(0, at), `t${at}.keras`);
      for (let i = 0; i < 300; i++) {
        const b = bytes.slice();
        for (let j = 0; j < 1 + Math.floor(random() * 4); j++) b[Math.floor(random() * b.length)] = Math.floor(random() * 256);
        check(b, `f${i}.keras`);
      }
    }
  });
});
