/**
 * The shared layer-test harness (Keras's run_layer_test): one table entry per
 * layer checks that it builds, has the right output shape and weights, round-
 * trips its config and its weights, gives the same result inside strata.fn
 * as eagerly, works on KerasTensors, and passes a finite gradient to every
 * trainable weight.
 */
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import type { Layer } from '../../src/layers/layer.ts';
import { KerasTensor } from '../../src/layers/keras-tensor.ts';
import { Input } from '../../src/layers/core/input-layer.ts';
import { assertClose, randomTensor } from './close.ts';

export interface LayerTestCase {
  /** Label in the test output. */
  name: string;
  make: () => Layer;
  /** Shape(s) of the input, batch dim included. */
  inputShape: number[] | number[][];
  /** Custom input (default: uniform random in [-1, 1), int32 for integer inputs). */
  input?: () => Tensor | Tensor[];
  expectedOutputShape: number[] | number[][];
  expectedTrainableWeights?: number;
  expectedNonTrainableWeights?: number;
  /** Expected shapes of `weights`, in order. */
  expectedWeightShapes?: number[][];
  /** The layer is random in training (dropout, noise): compare eager and graph only in inference. */
  randomInTraining?: boolean;
  /** Input dims that may be unknown in a functional model (default: the batch dim). */
  tolerance?: { rtol?: number; atol?: number };
  /** Skip the gradient check for layers whose outputs are not differentiable in their weights (give the reason). */
  noGradientBecause?: string;
}

function makeInputs(c: LayerTestCase): Tensor | Tensor[] {
  if (c.input) return c.input();
  const shapes = (Array.isArray(c.inputShape[0]) ? c.inputShape : [c.inputShape]) as number[][];
  const tensors = shapes.map((s, i) => randomTensor(s, 100 + i, -1, 1, 'float32'));
  return Array.isArray(c.inputShape[0]) ? tensors : tensors[0];
}

const asList = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

export async function runLayerTest(c: LayerTestCase): Promise<void> {
  const layer = c.make();
  const inputs = makeInputs(c);
  const inputList = asList(inputs);

  // 1. Builds and computes the expected output shape.
  const out = layer.apply(inputs as never) as unknown as Tensor | Tensor[];
  const outs = asList(out);
  const expectedShapes = (Array.isArray(c.expectedOutputShape[0]) ? c.expectedOutputShape : [c.expectedOutputShape]) as number[][];
  assert.equal(outs.length, expectedShapes.length, `${c.name}: number of outputs`);
  outs.forEach((o, i) => assert.deepEqual(o.shape, expectedShapes[i], `${c.name}: output ${i} shape`));
  outs.forEach((o) => assert.ok(o.dataSync().every((v) => Number.isFinite(v) || o.dtype === 'bool'), `${c.name}: non-finite output`));
  assert.ok(layer.built, `${c.name}: built after the first call`);

  // 2. Weights.
  if (c.expectedTrainableWeights !== undefined) assert.equal(layer.trainableWeights.length, c.expectedTrainableWeights, `${c.name}: trainable weights`);
  if (c.expectedNonTrainableWeights !== undefined) assert.equal(layer.nonTrainableWeights.length, c.expectedNonTrainableWeights, `${c.name}: non-trainable weights`);
  if (c.expectedWeightShapes) assert.deepEqual(layer.weights.map((w) => [...w.shape]), c.expectedWeightShapes, `${c.name}: weight shapes`);

  // 3. Config round trip: same config, and with the same weights the same outputs.
  const config = layer.getConfig();
  const ctor = layer.constructor as unknown as { fromConfig(c: unknown): Layer };
  const clone = ctor.fromConfig(JSON.parse(JSON.stringify(config)));
  const { name: _n1, ...configNoName } = config;
  const { name: _n2, ...cloneNoName } = clone.getConfig();
  void _n1;
  void _n2;
  assert.deepEqual(cloneNoName, configNoName, `${c.name}: getConfig/fromConfig round trip`);
  clone.apply(inputs as never);
  // 4. Weights round trip.
  clone.setWeights(layer.getWeights());
  asList(clone.apply(inputs as never) as unknown as Tensor | Tensor[]).forEach((o, i) => assertClose(o, outs[i], c.tolerance, `${c.name}: clone output ${i}`));

  // 5. Same result inside strata.fn as eagerly (inference, and training for deterministic layers).
  for (const training of c.randomInTraining ? [false] : [false, true]) {
    const eager = asList(layer.apply(inputs as never, { training }) as unknown as Tensor | Tensor[]);
    const compiled = strata.fn((...xs: Tensor[]) => layer.apply((Array.isArray(inputs) ? xs : xs[0]) as never, { training }) as unknown as Tensor, { name: `${c.name}_fn` });
    const graph = asList((await compiled(...inputList)) as Tensor | Tensor[]);
    graph.forEach((g, i) => assertClose(g, eager[i], c.tolerance ?? { rtol: 1e-5, atol: 1e-5 }, `${c.name}: graph vs eager (training=${training}) output ${i}`));
  }

  // 6. Functional: KerasTensors in, KerasTensors out, with the batch dim unknown.
  const symbolic = inputList.map((t) => Input({ shape: t.shape.slice(1) as number[], dtype: t.dtype }));
  const fresh = ctor.fromConfig(JSON.parse(JSON.stringify(config)));
  const kout = asList(fresh.apply((Array.isArray(inputs) ? symbolic : symbolic[0]) as never) as KerasTensor | KerasTensor[]);
  kout.forEach((k, i) => {
    assert.ok(k instanceof KerasTensor, `${c.name}: functional call returns KerasTensors`);
    assert.deepEqual(k.shape.slice(1), expectedShapes[i].slice(1), `${c.name}: symbolic output ${i} shape`);
  });

  // 7. A finite gradient reaches every trainable weight.
  if (layer.trainableWeights.length > 0 && !c.noGradientBecause) {
    const tape = new strata.GradientTape();
    const loss = tape.record(() => {
      const o = asList(layer.apply(inputs as never, { training: !c.randomInTraining }) as unknown as Tensor | Tensor[]);
      return o.reduce((acc: Tensor, t, i) => strata.ops.add(acc, strata.ops.sum(strata.ops.multiply(t, randomTensor(t.shape as number[], 7 + i, 0.5, 1.5, 'float32')))), strata.tensor(0));
    });
    const grads = tape.gradient(loss, layer.trainableWeights);
    grads.forEach((g, i) => {
      const w = layer.trainableWeights[i];
      assert.ok(g, `${c.name}: no gradient for ${w.path}: ${tape.whyNull(w)?.message}`);
      assert.ok(g.dataSync().every(Number.isFinite), `${c.name}: non-finite gradient for ${w.path}`);
    });
  }
}
