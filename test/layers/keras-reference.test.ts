/**
 * Every layer of the catalog (RNNs have their own reference in rnn.test.ts)
 * against values Keras 3 computed: test/fixtures/layers/make_fixtures.py
 * writes layers_reference.json. Each case is rebuilt FROM KERAS'S OWN
 * SERIALIZED CONFIG through Strata's deserialization (what loading a .keras
 * file does), given Keras's weights, and must reproduce Keras's outputs
 * (inference, and training where it is deterministic), output mask,
 * regularization losses, moving statistics after a training call,
 * compute_output_shape, and write back the config Keras wrote.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as strata from '../../src/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import type { DType } from '../../src/tensor/dtype.ts';
import type { KerasObject } from '../../src/serialization/keras-object.ts';
import { getMask } from '../../src/layers/layer.ts';
import { assertClose } from '../helpers/close.ts';

interface Nested extends Array<number | Nested> {}
type Values = number | Nested;

interface KerasLayerCase {
  name: string;
  class_name: string;
  config: KerasObject;
  inputs: { shape: number[]; dtype: string; values: Values }[];
  multi_input: boolean;
  weights: Values[];
  weight_shapes: number[][];
  output: Values;
  output_shape: number[];
  compute_output_shape: (number | null)[] | (number | null)[][];
  input_mask?: Values;
  output_mask?: Values | null;
  losses?: number[];
  training_output?: Values;
  weights_after_training?: Values[];
}

const ref = JSON.parse(readFileSync(new URL('../fixtures/layers/layers_reference.json', import.meta.url), 'utf8')) as {
  keras_version: string;
  cases: KerasLayerCase[];
};

const TOL = { rtol: 1e-5, atol: 1e-5 };

/** Every layer class of the catalog this reference must cover (RNN layers: rnn.test.ts; InputLayer: not a computing layer). */
const CATALOG = [
  'Dense', 'EinsumDense', 'Activation', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout',
  'ActivityRegularization', 'Flatten', 'Reshape', 'Permute', 'RepeatVector', 'Identity', 'Masking', 'Embedding',
  'Conv1D', 'Conv2D', 'Conv2DTranspose', 'DepthwiseConv2D', 'SeparableConv2D',
  'MaxPooling1D', 'MaxPooling2D', 'AveragePooling1D', 'AveragePooling2D',
  'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D',
  'BatchNormalization', 'LayerNormalization', 'GroupNormalization', 'UnitNormalization',
  'ZeroPadding1D', 'ZeroPadding2D', 'Cropping1D', 'Cropping2D', 'UpSampling1D', 'UpSampling2D',
  'Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dot',
  'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'Softmax', 'Rescaling', 'Normalization',
];

/**
 * Cases whose training-mode output is not compared, with the reason. The
 * test asserts this is exactly the set of cases without a training output
 * in the fixture, so nothing is skipped silently.
 */
const NO_TRAINING_OUTPUT: Record<string, string> = {
  dropout: 'random in training (Strata and Keras draw from different generators)',
  spatial_dropout1d: 'random in training',
  spatial_dropout2d_cf: 'random in training',
  gaussian_noise: 'random in training',
  gaussian_dropout: 'random in training',
  dropout_noise_shape: 'random in training',
};

/**
 * Documented config differences. Keras 3.15 writes `input_axes: null,
 * output_axes: null` in variance-scaling initializer configs (GlorotUniform
 * ...); Strata leaves null axes out on purpose, because earlier Keras 3
 * releases reject those keys when loading (src/initializers/variance-scaling.ts).
 * Nothing else may differ.
 */
function withoutNullAxes<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), function (this: Record<string, unknown>, key, v) {
    return (key === 'input_axes' || key === 'output_axes') && v === null ? undefined : v;
  }) as T;
}

/**
 * Cases where Keras itself is wrong, so its value is not the reference. Each
 * is checked: the Keras value must still be wrong (if a newer Keras fixes it
 * and the fixture is regenerated, this fails and the exception must go), and
 * Strata is checked against the right value instead.
 */
const KERAS_BUGS: Record<string, string> = {
  activation_glu:
    "compute_output_shape: Keras's Activation.compute_output_shape returns the input shape, but glu halves the last axis " +
    "(Keras's own output is [2, 3] for a [2, 6] input); Strata reports the shape of the output Keras actually computes.",
  activation_sparsemax:
    "output: Keras 3.15's TensorFlow-backend sparsemax takes tau from the sum of the cumulative sums over the support instead of " +
    'the cumulative sum at the support size, so its rows do not sum to 1 (all zeros here); Strata is checked against the definition.',
};

/** Sparsemax of each row (last axis) from its definition (Martins & Astudillo 2016), in float64. */
function sparsemaxRows(rows: number[][]): number[][] {
  return rows.map((z) => {
    const sorted = [...z].sort((a, b) => b - a);
    let cum = 0;
    let k = 0;
    let cumK = 0;
    sorted.forEach((v, i) => {
      cum += v;
      if (1 + (i + 1) * v > cum) {
        k = i + 1;
        cumK = cum;
      }
    });
    const tau = (cumK - 1) / k;
    return z.map((v) => Math.max(v - tau, 0));
  });
}

const flatten = (v: Values): number[] => (Array.isArray(v) ? v.flatMap((x) => flatten(x)) : [v]);

const toTensor = (values: Values, dtype: DType = 'float32'): Tensor => strata.tensor(values as never, undefined, dtype);

describe(`Keras ${ref.keras_version} reference: every layer of the catalog (test/fixtures/layers/make_fixtures.py)`, () => {
  it('covers every layer class of the catalog, and skips training outputs only where listed', () => {
    const classes = new Set(ref.cases.map((c) => c.class_name));
    assert.deepEqual(CATALOG.filter((k) => !classes.has(k)), [], 'catalog classes without a Keras reference case');
    const withoutTraining = ref.cases.filter((c) => c.training_output === undefined).map((c) => c.name).sort();
    assert.deepEqual(withoutTraining, Object.keys(NO_TRAINING_OUTPUT).sort());
    for (const name of Object.keys(KERAS_BUGS)) assert.ok(ref.cases.some((c) => c.name === name), `exception for a missing case ${name}`);
  });

  for (const c of ref.cases) {
    it(`${c.name} (${c.class_name})`, () => {
      // Built from Keras's serialized config (module, class_name, config, build_config).
      const layer = strata.saving.deserialize(c.config);
      // (Keras writes no build_config for layers without weights or a build step.)
      if (c.config.build_config) assert.ok(layer.built, 'built from the build_config');
      assert.equal(layer.constructor.name === c.class_name || (layer.constructor as { className?: string }).className === c.class_name, true, 'class');
      assert.deepEqual(layer.weights.map((w) => [...w.shape]), c.weight_shapes, 'weight shapes, in Keras order');
      layer.setWeights(c.weights.map((w, i) => toTensor(w, layer.weights[i].dtype)) as never);

      const xs = c.inputs.map((i) => toTensor(i.values, i.dtype as DType));
      const x = c.multi_input ? xs : xs[0];
      const mask = c.input_mask === undefined ? undefined : strata.tensor(flatten(c.input_mask).map(Number), c.inputs[0].shape.slice(0, 2), 'bool');
      const outDtype = layer.computeDtype as DType;

      // Inference.
      const out = layer.apply(x as never, { training: false, mask } as never) as unknown as Tensor;
      if (c.name === 'activation_sparsemax') {
        const rowSums = (c.output as number[][]).map((r) => r.reduce((a, b) => a + b, 0));
        assert.ok(rowSums.some((v) => Math.abs(v - 1) > 1e-3), `Keras's sparsemax is right now (${KERAS_BUGS[c.name]}); drop the exception`);
        assertClose(out, toTensor(sparsemaxRows(c.inputs[0].values as number[][])), TOL, `${c.name} inference output (from the definition)`);
      } else {
        assertClose(out, toTensor(c.output, outDtype), TOL, `${c.name} inference output`);
      }
      assert.equal(out.dtype, outDtype, 'output dtype');
      assert.deepEqual(out.shape, c.output_shape, 'output shape');

      if (c.output_mask !== undefined) {
        const outMask = getMask(out);
        if (c.output_mask === null) assert.equal(outMask, null, 'no output mask');
        else {
          assert.ok(outMask, 'an output mask');
          assert.deepEqual(Array.from(outMask.dataSync()).map(Boolean), flatten(c.output_mask).map(Boolean), 'output mask');
        }
      }
      if (c.losses !== undefined) {
        const losses = layer.losses.map((l) => l.dataSync()[0]);
        assertClose(losses, c.losses, TOL, `${c.name} losses`);
      }

      // Training (deterministic layers only), then the weights it changed.
      if (c.training_output !== undefined) {
        const outT = layer.apply(x as never, { training: true, mask } as never) as unknown as Tensor;
        assertClose(outT, toTensor(c.name === 'activation_sparsemax' ? sparsemaxRows(c.inputs[0].values as number[][]) : c.training_output, outDtype), TOL, `${c.name} training output`);
        const after = layer.getWeights();
        assert.equal(after.length, c.weights_after_training!.length);
        after.forEach((w, i) => assertClose(w, toTensor(c.weights_after_training![i], w.dtype), TOL, `${c.name} weight ${layer.weights[i].path} after training`));
      }

      // compute_output_shape with an unknown batch dim.
      const inShapes = c.inputs.map((i) => [null, ...i.shape.slice(1)]);
      const shape = layer.computeOutputShape((c.multi_input ? inShapes : inShapes[0]) as never);
      if (c.name === 'activation_glu') {
        const real = [null, ...c.output_shape.slice(1)];
        assert.notDeepEqual(c.compute_output_shape, real, `Keras's shape is right now (${KERAS_BUGS[c.name]}); drop the exception`);
        assert.deepEqual(shape, real, 'computeOutputShape (the shape of the real output)');
      } else {
        assert.deepEqual(shape, c.compute_output_shape, 'computeOutputShape');
      }

      // Strata writes the config Keras wrote (same keys, same values).
      const written = strata.saving.serialize(layer) as KerasObject;
      const expected = withoutNullAxes(c.config);
      assert.deepEqual(Object.keys(written.config).sort(), Object.keys(expected.config).sort(), 'config keys');
      assert.deepEqual(written, expected, 'serialized config');
    });
  }
});
