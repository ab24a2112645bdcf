/**
 * Small models and inputs shared by the legacy .h5, TF.js and convert tests
 * (and test/fixtures/legacy/write_strata_h5.ts, which writes .h5 files for
 * the Python check).
 */
import * as strata from '../../src/index.ts';
import type { Layer } from '../../src/layers/layer.ts';

const L = strata.layers;

/** Deterministic values in [-1, 1). */
export function pseudoRandom(seed: number, n: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export function floats(shape: number[], seed: number): strata.Tensor {
  return new strata.Tensor(shape, 'float32', pseudoRandom(seed, shape.reduce((p, d) => p * d, 1)));
}

export function ints(shape: number[], max: number, seed: number): strata.Tensor {
  return new strata.Tensor(shape, 'int32', Int32Array.from(pseudoRandom(seed, shape.reduce((p, d) => p * d, 1)), (v) => Math.floor(((v + 1) / 2) * max)));
}

/** Input(4) -> Dense(5, relu) -> BatchNormalization -> Dropout -> Dense(3, softmax). */
export function sequentialModel(name = 'seqx'): strata.Sequential {
  return new strata.Sequential(
    [strata.Input({ shape: [4] }), new L.Dense(5, { activation: 'relu' }), new L.BatchNormalization(), new L.Dropout(0.2), new L.Dense(3, { activation: 'softmax' })],
    { name },
  );
}

/** Input(8, 8, 1) -> Conv2D -> BatchNormalization -> MaxPooling2D -> Flatten -> Dense(3, softmax). */
export function convModel(name = 'convnet'): strata.Sequential {
  return new strata.Sequential(
    [
      strata.Input({ shape: [8, 8, 1] }),
      new L.Conv2D(2, 3, { activation: 'relu', name: 'conv2d' }),
      new L.BatchNormalization({ name: 'batch_normalization' }),
      new L.MaxPooling2D(2, { name: 'max_pooling2d' }),
      new L.Flatten({ name: 'flatten' }),
      new L.Dense(3, { activation: 'softmax', name: 'dense' }),
    ],
    { name },
  );
}

/**
 * Two inputs (an image and int32 tokens), Conv2D + BatchNormalization,
 * Embedding, Concatenate, a nested Sequential, a nested functional model,
 * three outputs.
 */
export function functionalModel(name = 'fn'): strata.Model {
  const img = strata.Input({ shape: [6, 6, 2], name: 'img' });
  const tok = strata.Input({ shape: [3], dtype: 'int32', name: 'tok' });
  let x = new L.Conv2D(3, 3, { activation: 'relu', name: 'conv' }).apply(img);
  x = new L.BatchNormalization({ name: 'bn' }).apply(x);
  x = new L.Flatten({ name: 'flat_img' }).apply(x);
  let e = new L.Embedding(10, 4, { name: 'emb' }).apply(tok);
  e = new L.Flatten({ name: 'flat_tok' }).apply(e);
  const h = new L.Concatenate({ name: 'cat' }).apply([x, e]);
  const width = h.shape[1] as number;
  const head = new strata.Sequential([strata.Input({ shape: [width] }), new L.Dense(4, { activation: 'relu', name: 'head_hidden' }), new L.Dense(2, { name: 'head_out' })], { name: 'head' });
  const subIn = strata.Input({ shape: [width], name: 'sub_in' });
  const sub = new strata.Model({ inputs: subIn, outputs: new L.Dense(2, { activation: 'tanh', name: 'sub_dense' }).apply(subIn), name: 'sub' });
  return new strata.Model({ inputs: [img, tok], outputs: [head.apply(h), new L.Dense(1, { name: 'aux' }).apply(h), sub.apply(h)], name });
}

export function functionalInputs(batch: number, seed: number): strata.Tensor[] {
  return [floats([batch, 6, 6, 2], seed), ints([batch, 3], 10, seed + 1)];
}

/**
 * A branched graph whose layer order differs between Strata and Keras
 * (Keras sorts by depth: 'tok', 'emb', 'a', ...), with a layer shared by
 * both branches.
 */
export function branchedModel(name = 'branched'): strata.Model {
  const a = strata.Input({ shape: [5], name: 'a' });
  const tok = strata.Input({ shape: [4], dtype: 'int32', name: 'tok' });
  const d = new L.Dense(6, { activation: 'relu', name: 'dense' }).apply(a);
  const t = new L.Dense(6, { activation: 'tanh', name: 'tok_dense' }).apply(new L.Flatten({ name: 'flatten' }).apply(new L.Embedding(12, 3, { name: 'emb' }).apply(tok)));
  const shared = new L.Dense(6, { activation: 'relu', name: 'shared' });
  const s0 = shared.apply(d);
  const s1 = shared.apply(t);
  const outA = new L.Dense(2, { name: 'out_a' }).apply(new L.Concatenate({ name: 'concatenate' }).apply([s0, s1]));
  const outB = new L.Dense(1, { activation: 'sigmoid', name: 'out_b' }).apply(s1);
  return new strata.Model({ inputs: [a, tok], outputs: [outA, outB], name });
}

export function branchedInputs(batch: number, seed: number): strata.Tensor[] {
  return [floats([batch, 5], seed), ints([batch, 4], 12, seed + 1)];
}

/** Flattened outputs of a model in inference mode. */
export function predict(model: Layer, x: strata.Tensor | strata.Tensor[]): strata.Tensor[] {
  const out: unknown = model.apply(x as never, { training: false });
  return Array.isArray(out) ? (out as strata.Tensor[]) : [out as strata.Tensor];
}

/** Compiles and trains a few steps, so BatchNormalization statistics and optimizer slots are not trivial. */
export async function train(model: strata.Model, x: strata.Tensor | strata.Tensor[], y: strata.Tensor | strata.Tensor[], optimizer: strata.optimizers.Optimizer, loss = 'mse'): Promise<void> {
  model.compile({ optimizer, loss });
  await model.fit(x as never, y as never, { epochs: 2, batchSize: 4, verbose: 0, shuffle: false });
}

export interface TensorJson {
  shape: number[];
  dtype: string;
  values: number[];
}

/** A tensor from the JSON form the fixture scripts write. */
export function tensorOf(j: TensorJson): strata.Tensor {
  return j.dtype.startsWith('int') ? new strata.Tensor(j.shape, 'int32', Int32Array.from(j.values)) : new strata.Tensor(j.shape, 'float32', Float32Array.from(j.values));
}
