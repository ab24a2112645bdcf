/**
 * Image preprocessing and augmentation layers against Keras 3
 * (test/fixtures/layers/make_image_fixtures.py writes image_reference.json
 * and image_preprocessing.keras). Every case is rebuilt from Keras's
 * serialized config. Resizing and CenterCrop must reproduce Keras's outputs;
 * for the random layers Keras drew a transformation (angle, zoom,
 * translation, flip decision, contrast factor, brightness delta, crop
 * offsets) and Strata's `transformImages` with the same parameters must
 * give Keras's pixels. Then: random behaviour (training only, seeded),
 * strata.fn, compiled fit, and loading Keras's .keras file.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as strata from '../../src/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import type { KerasObject } from '../../src/serialization/keras-object.ts';
import * as L from '../../src/layers/preprocessing/image.ts';
import { assertClose } from '../helpers/close.ts';

interface Nested extends Array<number | boolean | Nested> {}
interface ImageCase {
  name: string;
  kind: 'deterministic' | 'random';
  class_name: string;
  config: KerasObject & { config: Record<string, unknown> };
  input: Nested;
  input_shape: number[];
  output: Nested;
  output_shape: number[];
  params?: Record<string, unknown>;
  inference_output?: Nested;
}
const ref = JSON.parse(readFileSync(new URL('../fixtures/layers/image_reference.json', import.meta.url), 'utf8')) as {
  keras_version: string;
  cases: ImageCase[];
  model: { input: Nested; output: Nested };
};
const KERAS_FILE = new URL('../fixtures/layers/image_preprocessing.keras', import.meta.url).pathname;

const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [Number(v)]);
const shapeOf = (v: unknown): number[] => (Array.isArray(v) ? [v.length, ...shapeOf(v[0])] : []);
const t = (v: unknown, dtype: 'float32' | 'bool' = 'float32'): Tensor => strata.tensor(flat(v), shapeOf(v), dtype);
const TOL = { rtol: 1e-5, atol: 1e-4 };

/** The transformation for Strata's transformImages from Keras's recorded parameters. */
function transformationOf(c: ImageCase): unknown {
  const p = c.params!;
  switch (c.class_name) {
    case 'RandomRotation': return { angle: t(p.angle) };
    case 'RandomZoom': return { heightZoom: t(p.height_zoom), widthZoom: t(p.width_zoom) };
    case 'RandomTranslation': return { translations: t(p.translations) };
    case 'RandomFlip': return { flips: t(p.flips, 'bool') };
    case 'RandomContrast': return { contrastFactor: t(p.contrast_factor) };
    case 'RandomBrightness': return { rgbDelta: t(p.rgb_delta) };
    case 'RandomCrop': return { hStart: p.h_start, wStart: p.w_start };
  }
  throw new Error(`no transformation for ${c.class_name}`);
}

/** Keras's config (without build_config) as written back by Strata. */
function assertConfig(layer: strata.layers.Layer, c: ImageCase): void {
  const { name: _a, ...mine } = layer.getConfig();
  const { name: _b, ...theirs } = c.config.config;
  void _a;
  void _b;
  assert.deepEqual(JSON.parse(JSON.stringify(mine)), theirs, `${c.name}: config written back`);
}

describe(`image preprocessing layers against Keras ${ref.keras_version}`, () => {
  for (const c of ref.cases) {
    it(`${c.name} (${c.class_name})`, async () => {
      const layer = strata.saving.deserialize(c.config) as strata.layers.Layer;
      assert.equal((layer.constructor as { className?: string }).className, c.class_name);
      assertConfig(layer, c);
      const x = t(c.input);
      if (c.kind === 'deterministic') {
        for (const training of [false, true]) {
          const out = layer.apply(x, { training }) as unknown as Tensor;
          assertClose(out, t(c.output), TOL, `${c.name} output (training=${training})`);
        }
        const compiled = strata.fn((a: Tensor) => layer.apply(a) as unknown as Tensor);
        assertClose((await compiled(x)) as Tensor, t(c.output), TOL, `${c.name} strata.fn`);
        return;
      }
      const random = layer as unknown as { transformImages(x: Tensor, tr: unknown): Tensor };
      const tr = transformationOf(c);
      const out = random.transformImages(x, tr);
      assert.deepEqual(out.shape, c.output_shape);
      assertClose(out, t(c.output), TOL, `${c.name} transform with Keras's parameters`);
      // The same in a traced function (parameters as graph inputs where they are tensors).
      if (c.class_name !== 'RandomCrop') {
        const [key, value] = Object.entries(tr as Record<string, Tensor>)[0];
        const rest = Object.fromEntries(Object.entries(tr as Record<string, Tensor>).slice(1));
        const compiled = strata.fn((a: Tensor, p: Tensor) => random.transformImages(a, { ...rest, [key]: p }));
        assertClose((await compiled(x, value)) as Tensor, t(c.output), TOL, `${c.name} transform in strata.fn`);
      }
      // Inference passes the input through unchanged (Keras 3, RandomCrop included).
      const inference = layer.apply(x, { training: false }) as unknown as Tensor;
      assertClose(inference, t(c.inference_output), { rtol: 0, atol: 0 }, `${c.name} inference`);
    });
  }
});

const images = (seed: number, shape = [4, 6, 8, 3]) => strata.random.uniform(shape, { minval: 0, maxval: 255, seed });
const same = (a: Tensor, b: Tensor) => a.dataSync().every((v, i) => v === b.dataSync()[i]);

describe('random image layers: behaviour', () => {
  const makers: [string, (seed: number) => strata.layers.Layer][] = [
    ['RandomFlip', (seed) => new L.RandomFlip('horizontal_and_vertical', { seed })],
    ['RandomCrop', (seed) => new L.RandomCrop(4, 5, { seed })],
    ['RandomContrast', (seed) => new L.RandomContrast(0.5, { seed })],
    ['RandomBrightness', (seed) => new L.RandomBrightness(0.3, { seed })],
    ['RandomTranslation', (seed) => new L.RandomTranslation(0.3, 0.3, { seed })],
    ['RandomRotation', (seed) => new L.RandomRotation(0.2, { seed })],
    ['RandomZoom', (seed) => new L.RandomZoom(0.3, null, { seed })],
  ];
  for (const [name, make] of makers) {
    it(`${name}: random in training, seeded, identity in inference, graph = eager`, async () => {
      const x = images(1);
      const layer = make(5);
      const first = layer.apply(x, { training: true }) as unknown as Tensor;
      const second = layer.apply(x, { training: true }) as unknown as Tensor;
      assert.ok(!same(first, second), 'two training calls differ');
      const again = make(5).apply(x, { training: true }) as unknown as Tensor;
      assert.ok(same(first, again), 'the same seed gives the same output');
      const others = [6, 7, 8, 9].map((s) => make(s).apply(x, { training: true }) as unknown as Tensor);
      assert.ok(others.some((o) => !same(first, o)), 'other seeds give other outputs');
      assert.ok(same(layer.apply(x, { training: false }) as unknown as Tensor, x), 'inference passes through');
      if (name === 'RandomContrast' || name === 'RandomBrightness') {
        assert.ok(first.dataSync().every((v) => v >= 0 && v <= 255), 'clipped to the value range');
      }
      // Single images.
      const single = layer.apply(strata.ops.squeeze(strata.ops.slice(x, [0, 0, 0, 0], [1, -1, -1, -1]), 0), { training: true }) as unknown as Tensor;
      assert.equal(single.rank, 3);
      // strata.fn continues the same stream as eager code: a fresh layer with the same seed gives the same first draw.
      const traced = make(5);
      const f = strata.fn((a: Tensor) => traced.apply(a, { training: true }) as unknown as Tensor, { inputSignature: [new strata.TensorSpec([null, 6, 8, 3], 'float32')] } as never);
      const g1 = (await f(x)) as Tensor;
      assertClose(g1, first, TOL, 'first traced call = first eager call');
      const g2 = (await f(x)) as Tensor;
      assertClose(g2, second, TOL, 'second traced call = second eager call');
      // Config round trip.
      const clone = strata.saving.deserialize(JSON.parse(JSON.stringify(strata.saving.serialize(layer))));
      assert.deepEqual(clone.getConfig(), layer.getConfig());
    });
  }

  it('RandomRotation and RandomZoom keep the value range; flips are exact permutations', () => {
    const x = images(2);
    const rotated = new L.RandomRotation(0.5, { seed: 1 }).apply(x, { training: true }) as unknown as Tensor;
    assert.ok(rotated.dataSync().every((v) => v >= -1e-3 && v <= 255.001));
    const flipped = new L.RandomFlip('horizontal', { seed: 2 }).apply(x, { training: true }) as unknown as Tensor;
    assert.deepEqual([...flipped.dataSync()].sort(), [...x.dataSync()].sort());
  });

  it('a Sequential with RandomFlip + RandomRotation before a Conv2D trains compiled (runEagerly false)', async () => {
    const model = new strata.Sequential([
      strata.Input({ shape: [8, 8, 1] }),
      new L.RandomFlip('horizontal', { seed: 1 }),
      new L.RandomRotation(0.1, { seed: 2, fillMode: 'constant' }),
      new strata.layers.Conv2D(2, 3),
      new strata.layers.GlobalAveragePooling2D(),
      new strata.layers.Dense(1),
    ]);
    model.compile({ optimizer: 'adam', loss: 'mse', runEagerly: false });
    const x = strata.random.uniform([16, 8, 8, 1], { seed: 3 });
    const y = strata.random.uniform([16, 1], { seed: 4 });
    const history = await model.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0 });
    const losses = history.history.loss as number[];
    assert.equal(losses.length, 3);
    assert.ok(losses.every(Number.isFinite));
    const p = (await model.predict(x)) as unknown as Tensor;
    assert.deepEqual(p.shape, [16, 1]);
  });
});

describe('the .keras file from Keras', () => {
  it('loads and reproduces Keras inference', async () => {
    const model = (await strata.saving.loadModel(KERAS_FILE)) as strata.Model;
    const names = model.layers.map((l) => (l.constructor as { className?: string }).className);
    for (const cls of ['Resizing', 'RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomTranslation', 'RandomContrast', 'RandomBrightness', 'CenterCrop']) {
      assert.ok(names.includes(cls), `${cls} in the loaded model`);
    }
    const out = (await model.predict(t(ref.model.input))) as unknown as Tensor;
    assertClose(out, t(ref.model.output), { rtol: 1e-4, atol: 1e-4 }, 'inference output');
  });
});
