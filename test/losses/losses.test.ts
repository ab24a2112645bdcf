import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import * as losses from '../../src/losses/index.ts';
import * as ops from '../../src/ops/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { tensor } from '../../src/tensor/create.ts';
import { GradientTape } from '../../src/autodiff/tape.ts';
import { setMask } from '../../src/layers/layer.ts';
import { registerSerializable } from '../../src/serialization/registry.ts';
import { assertClose } from '../helpers/close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import * as F from './formulas.ts';

type Rows = number[][];
const f64 = (x: Rows | number[] | number[][][]) => tensor(x, undefined, 'float64');
const values = (t: Tensor) => [...t.dataSync()];

// Fixed inputs (4 samples × 3 features/classes).
const T: Rows = [[0.2, 0.7, 0.1], [0.5, 0.3, 0.9], [0.9, 0.4, 0.6], [0.3, 0.8, 0.2]];
const P: Rows = [[0.3, 0.5, 0.4], [0.45, 0.6, 0.7], [0.8, 0.1, 0.65], [0.25, 0.95, 0.5]];
const B: Rows = [[0, 1, 1], [1, 0, 0], [1, 1, 0], [0, 0, 1]];
const O: Rows = [[0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]];
const S = [1, 2, 0, 1];
const Q: Rows = [[0.2, 0.7, 0.1], [0.1, 0.3, 0.6], [0.5, 0.25, 0.25], [0.3, 0.4, 0.3]];
const L: Rows = [[1.2, -0.3, 0.5], [0.1, 0.9, -1.4], [2.0, 0.3, -0.7], [-0.2, 0.4, 1.1]];
const H: Rows = [[-0.5, 0.3, 1.7], [0.8, -1.2, 0.4], [2.1, 0.2, -0.3], [-1.5, 0.6, 0.9]];
const W = [0.5, 2, 1, 0];
const norm = (r: number[]) => r.map((v) => v / r.reduce((a, b) => a + b, 0));
const rowsOf = (t: Rows, p: Rows, f: (a: number[], b: number[]) => number) => t.map((r, i) => f(r, p[i]));

interface Case {
  label: string;
  make: (options: losses.LossOptions) => losses.Loss;
  fn?: (yTrue: Tensor, yPred: Tensor) => Tensor;
  yTrue: Rows | number[];
  yPred: Rows;
  expected: number[];
  /** Also check the gradient with respect to y_true. */
  gradTrue?: boolean;
}

const CASES: Case[] = [
  { label: 'MeanSquaredError', make: (o) => new losses.MeanSquaredError(o), fn: losses.meanSquaredError, yTrue: T, yPred: P, expected: rowsOf(T, P, F.mse), gradTrue: true },
  { label: 'MeanAbsoluteError', make: (o) => new losses.MeanAbsoluteError(o), fn: losses.meanAbsoluteError, yTrue: T, yPred: P, expected: rowsOf(T, P, F.mae), gradTrue: true },
  { label: 'MeanAbsolutePercentageError', make: (o) => new losses.MeanAbsolutePercentageError(o), fn: losses.meanAbsolutePercentageError, yTrue: T, yPred: P, expected: rowsOf(T, P, F.mape), gradTrue: true },
  { label: 'MeanSquaredLogarithmicError', make: (o) => new losses.MeanSquaredLogarithmicError(o), fn: losses.meanSquaredLogarithmicError, yTrue: T, yPred: P, expected: rowsOf(T, P, F.msle), gradTrue: true },
  { label: 'CosineSimilarity', make: (o) => new losses.CosineSimilarity(o), fn: (t, p) => losses.cosineSimilarity(t, p), yTrue: T, yPred: P, expected: rowsOf(T, P, F.cosineLoss), gradTrue: true },
  { label: 'Huber(delta=0.15)', make: (o) => new losses.Huber({ ...o, delta: 0.15 }), fn: (t, p) => losses.huber(t, p, 0.15), yTrue: T, yPred: P, expected: rowsOf(T, P, (a, b) => F.huber(a, b, 0.15)), gradTrue: true },
  { label: 'LogCosh', make: (o) => new losses.LogCosh(o), fn: losses.logCosh, yTrue: T, yPred: P, expected: rowsOf(T, P, F.logCosh), gradTrue: true },
  { label: 'KLDivergence', make: (o) => new losses.KLDivergence(o), fn: losses.klDivergence, yTrue: Q, yPred: P.map(norm), expected: rowsOf(Q, P.map(norm), F.kl), gradTrue: true },
  { label: 'Poisson', make: (o) => new losses.Poisson(o), fn: losses.poisson, yTrue: T, yPred: P, expected: rowsOf(T, P, F.poisson), gradTrue: true },
  { label: 'BinaryCrossentropy', make: (o) => new losses.BinaryCrossentropy(o), fn: (t, p) => losses.binaryCrossentropy(t, p), yTrue: B, yPred: P, expected: rowsOf(B, P, (a, b) => F.bce(a, b)) },
  {
    label: 'BinaryCrossentropy(fromLogits)',
    make: (o) => new losses.BinaryCrossentropy({ ...o, fromLogits: true }),
    fn: (t, p) => losses.binaryCrossentropy(t, p, { fromLogits: true }),
    yTrue: T,
    yPred: L,
    expected: rowsOf(T, L, (a, b) => F.bceLogits(a, b)),
    gradTrue: true,
  },
  { label: 'BinaryFocalCrossentropy', make: (o) => new losses.BinaryFocalCrossentropy(o), fn: (t, p) => losses.binaryFocalCrossentropy(t, p), yTrue: B, yPred: P, expected: rowsOf(B, P, (a, b) => F.focal(a, b)) },
  {
    label: 'BinaryFocalCrossentropy(balanced, gamma=1.5, fromLogits)',
    make: (o) => new losses.BinaryFocalCrossentropy({ ...o, applyClassBalancing: true, alpha: 0.3, gamma: 1.5, fromLogits: true }),
    yTrue: B,
    yPred: L,
    expected: rowsOf(B, L, (a, b) => F.focal(a, b, { gamma: 1.5, alpha: 0.3, balance: true, logits: true })),
  },
  { label: 'CategoricalCrossentropy', make: (o) => new losses.CategoricalCrossentropy(o), fn: (t, p) => losses.categoricalCrossentropy(t, p), yTrue: O, yPred: Q, expected: rowsOf(O, Q, (a, b) => F.cce(a, b)) },
  {
    label: 'CategoricalCrossentropy(fromLogits)',
    make: (o) => new losses.CategoricalCrossentropy({ ...o, fromLogits: true }),
    yTrue: Q,
    yPred: L,
    expected: rowsOf(Q, L, (a, b) => F.cce(a, b, { logits: true })),
    gradTrue: true,
  },
  { label: 'SparseCategoricalCrossentropy', make: (o) => new losses.SparseCategoricalCrossentropy(o), fn: (t, p) => losses.sparseCategoricalCrossentropy(t, p), yTrue: S, yPred: Q, expected: S.map((s, i) => F.scce(s, Q[i])) },
  {
    label: 'SparseCategoricalCrossentropy(fromLogits)',
    make: (o) => new losses.SparseCategoricalCrossentropy({ ...o, fromLogits: true }),
    yTrue: S,
    yPred: L,
    expected: S.map((s, i) => F.scce(s, L[i], true)),
  },
  { label: 'Hinge', make: (o) => new losses.Hinge(o), fn: losses.hinge, yTrue: B, yPred: H, expected: F.hingeRows(B, H) },
  { label: 'SquaredHinge', make: (o) => new losses.SquaredHinge(o), fn: losses.squaredHinge, yTrue: B, yPred: H, expected: F.squaredHingeRows(B, H) },
  { label: 'CategoricalHinge', make: (o) => new losses.CategoricalHinge(o), fn: losses.categoricalHinge, yTrue: O, yPred: H, expected: rowsOf(O, H, F.categoricalHinge) },
];

const TIGHT = { rtol: 1e-9, atol: 1e-12 };

describe('losses: values against reference formulas', () => {
  for (const c of CASES) {
    it(`${c.label}: per-sample values (reduction none) and the function form`, () => {
      const out = c.make({ reduction: 'none' }).apply(f64(c.yTrue), f64(c.yPred));
      assert.equal(out.dtype, 'float64');
      assert.deepEqual(out.shape, [4]);
      assertClose(out, c.expected, TIGHT, c.label);
      if (c.fn) assertClose(c.fn(f64(c.yTrue), f64(c.yPred)), c.expected, TIGHT, `${c.label} function`);
    });

    it(`${c.label}: every reduction, with and without sample weights`, () => {
      const v = c.expected;
      const vw = v.map((x, i) => x * W[i]);
      const total = vw.reduce((a, b) => a + b, 0);
      const sumW = W.reduce((a, b) => a + b, 0);
      const apply = (reduction: losses.Reduction, sw?: number[]) => c.make({ reduction }).apply(f64(c.yTrue), f64(c.yPred), sw ? f64(sw) : undefined);
      assertClose(apply('sum_over_batch_size'), [v.reduce((a, b) => a + b, 0) / 4], TIGHT, 'sobs');
      assertClose(c.make({}).apply(f64(c.yTrue), f64(c.yPred), f64(W)), [total / 4], TIGHT, 'default reduction');
      assertClose(apply('sum_over_batch_size', W), [total / 4], TIGHT, 'sobs weighted');
      assertClose(apply('mean', W), [total / 4], TIGHT, 'mean weighted');
      assertClose(apply('sum', W), [total], TIGHT, 'sum weighted');
      assertClose(apply('mean_with_sample_weight', W), [total / sumW], TIGHT, 'mean_with_sample_weight');
      assertClose(apply('mean_with_sample_weight'), [v.reduce((a, b) => a + b, 0) / 4], TIGHT, 'mean_with_sample_weight without weights');
      assertClose(apply('none', W), vw, TIGHT, 'none weighted');
      assertClose(apply(null, W), vw, TIGHT, 'null weighted');
    });
  }

  it('a float32 prediction gives a float32 loss; dtype casts the inputs', () => {
    const out = new losses.MeanSquaredError().apply(T, P);
    assert.equal(out.dtype, 'float32');
    assertClose(out, [F.mean(rowsOf(T, P, F.mse))], { rtol: 1e-6 });
    const l64 = new losses.MeanSquaredError({ dtype: 'float64' }).apply(tensor(T), tensor(P));
    assert.equal(l64.dtype, 'float64');
    const i32 = new losses.SparseCategoricalCrossentropy().apply(tensor(S, undefined, 'int32'), tensor(Q));
    assertClose(i32, [F.mean(S.map((s, i) => F.scce(s, Q[i])))], { rtol: 1e-6 });
  });

  it('Keras documentation examples give Keras\'s numbers', () => {
    const bce = new losses.BinaryCrossentropy({ fromLogits: true });
    const yt = [[0, 1], [0, 0]];
    const yp = [[-18.6, 0.51], [2.94, -12.8]];
    assertClose(bce.apply(yt, yp), [0.8654], { atol: 1e-4 });
    assertClose(bce.apply(yt, yp, [0.8, 0.2]), [0.243], { atol: 1e-3 });
    assertClose(new losses.BinaryCrossentropy({ fromLogits: true, reduction: 'sum' }).apply(yt, yp), [1.730], { atol: 1e-3 });
    assertClose(new losses.BinaryFocalCrossentropy({ gamma: 2, fromLogits: true }).apply([0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8]), [0.691], { atol: 1e-3 });
    assertClose(new losses.BinaryFocalCrossentropy({ applyClassBalancing: true, gamma: 3, fromLogits: true }).apply(yt, yp, [0.8, 0.2]), [0.097], { atol: 1e-3 });
    const cce = new losses.CategoricalCrossentropy();
    assertClose(cce.apply([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]), [1.177], { atol: 1e-3 });
    assertClose(cce.apply([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], [0.3, 0.7]), [0.814], { atol: 1e-3 });
    assertClose(new losses.SparseCategoricalCrossentropy().apply([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]), [1.177], { atol: 1e-3 });
    assertClose(losses.huber([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]), [0.18, 0.13], { atol: 1e-6 });
    assertClose(losses.cosineSimilarity([[0, 1], [1, 1], [1, 1]], [[1, 0], [1, 1], [-1, -1]]), [0, -1, 1], { atol: 1e-6 });
  });
});

describe('losses: sample weights, shapes and masks', () => {
  it('a trailing size-1 axis on labels, predictions or weights is squeezed or added as in Keras', () => {
    const yt = [0.2, 0.7, 0.4];
    const yp = [[0.3], [0.5], [0.1]];
    const expected = [0.01, 0.04, 0.09];
    assertClose(new losses.MeanSquaredError({ reduction: 'none' }).apply(yt, yp), expected, { atol: 1e-7 });
    assertClose(new losses.MeanSquaredError({ reduction: 'none' }).apply(yt, yp, [[1], [2], [3]]), [0.01, 0.08, 0.27], { atol: 1e-7 });
    assertClose(new losses.MeanSquaredError().apply(yt, yp, 2), [(2 * (0.01 + 0.04 + 0.09)) / 3], { atol: 1e-7 });
  });

  it('per-timestep losses take weights per sample ([batch, 1]) or per element, and refuse others with a clear error', () => {
    const labels = f64([[0, 2, 1], [1, 1, 0]]);
    const logits = f64([L.slice(0, 3), L.slice(1, 4)]);
    const per = [0, 1].map((b) => [0, 1, 2].map((t) => F.scce((labels.arraySync() as Rows)[b][t], (logits.arraySync() as number[][][])[b][t], true)));
    const loss = new losses.SparseCategoricalCrossentropy({ fromLogits: true, reduction: 'sum' });
    assertClose(loss.apply(labels, logits, f64([[2], [0.5]])), [2 * F.sum(per[0]) + 0.5 * F.sum(per[1])], TIGHT);
    const elementwise = [[1, 0, 2], [0, 1, 1]];
    const expected = per.flat().reduce((a, v, i) => a + v * elementwise.flat()[i], 0);
    assertClose(loss.apply(labels, logits, f64(elementwise)), [expected], TIGHT);
    assert.throws(() => loss.apply(labels, logits, f64([1, 2, 3, 4])), /SparseCategoricalCrossentropy: sample_weight of shape \(4,\) cannot be broadcast to the per-sample values of shape \(2, 3\)/);
  });

  it('a mask on y_pred (Keras\'s _keras_mask) weights the values and the mean runs over the valid entries', () => {
    const yp = f64(P);
    setMask(yp, tensor([true, false, true, true]));
    const v = rowsOf(T, P, F.mse);
    assertClose(new losses.MeanSquaredError().apply(f64(T), yp), [(v[0] + v[2] + v[3]) / 3], TIGHT);
    assertClose(new losses.MeanSquaredError({ reduction: 'sum' }).apply(f64(T), yp), [v[0] + v[2] + v[3]], TIGHT);
    // With weights: mask × total / valid × weight, summed over the batch size.
    const expected = (v[0] * W[0] + v[2] * W[2] + v[3] * W[3]) * (4 / 3) / 4;
    assertClose(new losses.MeanSquaredError().apply(f64(T), yp, f64(W)), [expected], TIGHT);
  });

  it('an empty batch gives 0 for the mean reductions (no NaN)', () => {
    const out = new losses.MeanSquaredError().apply(tensor([], [0, 3]), tensor([], [0, 3]));
    assert.deepEqual(values(out), []);
    const sumOut = new losses.MeanSquaredError({ reduction: 'sum_over_batch_size' }).apply(tensor([], [0, 2, 3]), tensor([], [0, 2, 3]));
    assert.deepEqual(values(sumOut), [0]);
  });
});

describe('losses: gradients (float64, away from kinks)', () => {
  for (const c of CASES) {
    it(`${c.label}: gradient of the weighted loss`, () => {
      const loss = c.make({});
      const yt = f64(c.yTrue);
      const yp = f64(c.yPred);
      const w = f64([0.5, 2, 1, 0.25]);
      checkGradients((p) => loss.apply(yt, p, w), [yp], {}, `${c.label} d/dy_pred`);
      if (c.gradTrue) checkGradients((t) => loss.apply(t, yp, w), [yt], {}, `${c.label} d/dy_true`);
    });
  }

  it('the loss is traced by strata.fn with the same value (ignore_class mask included)', async () => {
    const loss = new losses.SparseCategoricalCrossentropy({ fromLogits: true, ignoreClass: -1 });
    const f = (t: Tensor, p: Tensor) => loss.apply(t, p);
    const labels = tensor([1, -1, 0, 2], undefined, 'int32');
    const eager = f(labels, tensor(L));
    const traced = await strata.fn(f, { name: 'scce_ignore' })(labels, tensor(L));
    assertClose(traced as Tensor, eager, { rtol: 1e-6 });
  });
});

describe('losses: numerical stability, logits and label smoothing', () => {
  it('binary crossentropy from logits of ±100 is exact and its gradient finite', () => {
    const logits = f64([[100, -100, 100, -100]]);
    const loss = new losses.BinaryCrossentropy({ fromLogits: true, reduction: 'none' });
    assertClose(loss.apply(f64([[1, 0, 0, 1]]), logits), [50], { rtol: 1e-12 });
    assertClose(loss.apply(f64([[0, 1, 0, 1]]), logits), [100], { rtol: 1e-12 });
    assertClose(loss.apply(f64([[1, 0, 1, 0]]), logits), [0], { atol: 1e-40 });
    const tape = new GradientTape();
    const out = tape.record(() => new losses.BinaryCrossentropy({ fromLogits: true, reduction: 'sum' }).apply(f64([[1, 0, 0, 1]]), logits));
    const [g] = tape.gradient(out, [logits]);
    // d/dx mean(softplus(x) - y x) = (sigmoid(x) - y) / 4.
    assertClose(g!, f64([[0, 0, 0.25, -0.25]]), { atol: 1e-12 });
  });

  it('categorical, sparse and focal crossentropy from logits of ±100 stay finite and exact', () => {
    const logits = f64([[100, -100, 0], [-100, 100, 0]]);
    const cce = new losses.CategoricalCrossentropy({ fromLogits: true, reduction: 'none' }).apply(f64([[0, 1, 0], [0, 1, 0]]), logits);
    assertClose(cce, [200, 0], { rtol: 1e-12, atol: 1e-30 });
    const scce = new losses.SparseCategoricalCrossentropy({ fromLogits: true, reduction: 'none' }).apply([1, 2], logits);
    assertClose(scce, [200, 100], { rtol: 1e-12 });
    const focalLoss = new losses.BinaryFocalCrossentropy({ fromLogits: true, gamma: 2, reduction: 'none' }).apply(f64([[1, 0]]), f64([[-100, 100]]));
    // p_t ≈ 0, so (1 - p_t)^2 ≈ 1 and the loss is the crossentropy, 100 per element.
    assertClose(focalLoss, [100], { rtol: 1e-9 });
    const tape = new GradientTape();
    const out = tape.record(() => new losses.CategoricalCrossentropy({ fromLogits: true }).apply(f64([[0, 1, 0], [0, 1, 0]]), logits));
    const [g] = tape.gradient(out, [logits]);
    // (softmax - onehot) / batch.
    assertClose(g!, f64([[0.5, -0.5, 0], [0, 0, 0]]), { atol: 1e-12 });
  });

  it('from_logits on logits equals the probability form on sigmoid/softmax of them', () => {
    const logits = f64(L);
    const sig = ops.sigmoid(logits);
    const sm = ops.softmax(logits);
    const tol = { rtol: 1e-9 };
    assertClose(new losses.BinaryCrossentropy({ fromLogits: true }).apply(f64(B), logits), new losses.BinaryCrossentropy().apply(f64(B), sig), tol);
    assertClose(new losses.BinaryFocalCrossentropy({ fromLogits: true, gamma: 2 }).apply(f64(B), logits), new losses.BinaryFocalCrossentropy({ gamma: 2 }).apply(f64(B), sig), tol);
    assertClose(new losses.CategoricalCrossentropy({ fromLogits: true }).apply(f64(O), logits), new losses.CategoricalCrossentropy().apply(f64(O), sm), tol);
    assertClose(new losses.SparseCategoricalCrossentropy({ fromLogits: true }).apply(S, logits), new losses.SparseCategoricalCrossentropy().apply(S, sm), tol);
  });

  it('label smoothing squeezes labels towards 0.5 (binary) or 1/numClasses (categorical)', () => {
    const bce = new losses.BinaryCrossentropy({ labelSmoothing: 0.2, reduction: 'none' }).apply(f64(B), f64(P));
    assertClose(bce, rowsOf(B, P, (a, b) => F.bce(a, b, 0.2)), TIGHT);
    const smoothed = B.map((r) => r.map((v) => v * 0.8 + 0.1));
    assertClose(bce, new losses.BinaryCrossentropy({ reduction: 'none' }).apply(f64(smoothed), f64(P)), TIGHT);
    const bceLogits = new losses.BinaryCrossentropy({ fromLogits: true, labelSmoothing: 0.3, reduction: 'none' }).apply(f64(B), f64(L));
    assertClose(bceLogits, rowsOf(B, L, (a, b) => F.bceLogits(a, b, 0.3)), TIGHT);
    const cce = new losses.CategoricalCrossentropy({ fromLogits: true, labelSmoothing: 0.3, reduction: 'none' }).apply(f64(O), f64(L));
    assertClose(cce, rowsOf(O, L, (a, b) => F.cce(a, b, { logits: true, smoothing: 0.3 })), TIGHT);
    const manual = O.map((r) => r.map((v) => v * 0.7 + 0.1));
    assertClose(cce, new losses.CategoricalCrossentropy({ fromLogits: true, reduction: 'none' }).apply(f64(manual), f64(L)), TIGHT);
  });

  it('ignore_class zeroes those samples, leaves them out of the mean, and gives them no gradient', () => {
    const labels = [1, 255, 0, 255];
    const logits = f64(L);
    const per = [F.scce(1, L[0], true), 0, F.scce(0, L[2], true), 0];
    const make = (reduction: losses.Reduction) => new losses.SparseCategoricalCrossentropy({ fromLogits: true, ignoreClass: 255, reduction });
    assertClose(make('none').apply(labels, logits), per, TIGHT);
    assertClose(make('sum_over_batch_size').apply(labels, logits), [(per[0] + per[2]) / 2], TIGHT);
    assertClose(make('sum').apply(labels, logits), [per[0] + per[2]], TIGHT);
    // Weights and mask combine: mask × total/valid (= 2) × weight, over the batch size 4.
    assertClose(make('sum_over_batch_size').apply(labels, logits, f64([1, 5, 3, 7])), [(2 * per[0] * 1 + 2 * per[2] * 3) / 4], TIGHT);
    const probs = ops.softmax(logits);
    const tape = new GradientTape();
    const out = tape.record(() => new losses.SparseCategoricalCrossentropy({ ignoreClass: 255 }).apply(labels, probs));
    const [g] = tape.gradient(out, [probs]);
    const gv = values(g!);
    assert.ok(gv.every(Number.isFinite), `finite gradient: ${gv}`);
    assert.deepEqual(gv.slice(3, 6), [0, 0, 0]);
    assert.deepEqual(gv.slice(9, 12), [0, 0, 0]);
    assert.ok(gv.slice(0, 3).some((v) => v !== 0));
    checkGradients((p) => make('sum_over_batch_size').apply(labels, p), [logits], {}, 'ignore_class gradient');
  });

  it('hinge losses convert 0/1 labels to -1/1 but keep -1/1 labels', () => {
    const pm = B.map((r) => r.map((v) => 2 * v - 1));
    assertClose(new losses.Hinge({ reduction: 'none' }).apply(f64(B), f64(H)), new losses.Hinge({ reduction: 'none' }).apply(f64(pm), f64(H)), TIGHT);
    assertClose(new losses.Hinge({ reduction: 'none' }).apply(f64([[-1, 1]]), f64([[0.5, 0.5]])), [(1.5 + 0.5) / 2], TIGHT);
  });
});

describe('losses: errors', () => {
  it('SparseCategoricalCrossentropy given one-hot labels says what sparse labels are and suggests CategoricalCrossentropy', () => {
    assert.throws(
      () => new losses.SparseCategoricalCrossentropy().apply(O, Q),
      /SparseCategoricalCrossentropy: Received: y_true\.shape=\(4, 3\) and y_pred\.shape=\(4, 3\);.*sparse labels are integer class ids.*use CategoricalCrossentropy/,
    );
    assert.throws(() => losses.sparseCategoricalCrossentropy([1, 2], Q), /losses\.sparseCategoricalCrossentropy: Received: y_true\.shape=\(2,\) and y_pred\.shape=\(4, 3\); expected y_true of shape \(4,\)/);
  });

  it('CategoricalCrossentropy given class ids suggests SparseCategoricalCrossentropy', () => {
    assert.throws(() => new losses.CategoricalCrossentropy().apply(S, Q), /CategoricalCrossentropy: Received: y_true\.shape=\(4,\) and y_pred\.shape=\(4, 3\);.*use SparseCategoricalCrossentropy/);
    assert.throws(() => new losses.CategoricalCrossentropy().apply(S.map((s) => [s]), Q), /y_true\.shape=\(4, 1\).*integer class ids/);
    assert.throws(() => new losses.BinaryCrossentropy().apply(S, Q), /BinaryCrossentropy: Received: y_true\.shape=\(4,\) and y_pred\.shape=\(4, 3\).*SparseCategoricalCrossentropy/);
  });

  it('mismatched regression shapes name the loss and both shapes', () => {
    assert.throws(() => new losses.MeanSquaredError().apply(tensor([1, 2, 3, 4], [4, 1]), P), /MeanSquaredError: Received: y_true\.shape=\(4, 1\) and y_pred\.shape=\(4, 3\)/);
    assert.throws(() => losses.huber(T, [[1, 2]]), /losses\.huber: Received: y_true\.shape=\(4, 3\) and y_pred\.shape=\(1, 2\)/);
    assert.throws(() => new losses.Huber().apply(T, [[1, 2]]), /^Error: Huber: /);
  });

  it('bad options are refused with the argument and the value received', () => {
    assert.throws(() => new losses.MeanSquaredError({ reduction: 'auto' as never }), /Invalid value for argument `reduction`.*Received: reduction="auto"/);
    assert.throws(() => new losses.BinaryCrossentropy({ labelSmoothing: 1.5 }), /label_smoothing=1\.5; expected a finite number in \[0, 1\]/);
    assert.throws(() => new losses.Huber({ delta: -1 }), /delta=-1/);
    assert.throws(() => new losses.SparseCategoricalCrossentropy({ ignoreClass: 0.5 }), /ignore_class=0\.5; expected an integer/);
    assert.throws(() => new losses.CategoricalCrossentropy({ axis: true as never }), /`axis` must be an integer/);
    assert.throws(() => new losses.BinaryFocalCrossentropy({ alpha: 2 }), /alpha=2/);
    assert.throws(() => new losses.MeanSquaredError({ dtype: 'float16' as never }), /unknown dtype "float16"/);
  });
});

describe('losses: configs, serialization and get', () => {
  const configs: [losses.Loss, Record<string, unknown>][] = [
    [new losses.MeanSquaredError(), { name: 'mean_squared_error', reduction: 'sum_over_batch_size', dtype: null }],
    [new losses.MeanAbsoluteError({ reduction: 'sum' }), { name: 'mean_absolute_error', reduction: 'sum', dtype: null }],
    [new losses.MeanAbsolutePercentageError({ name: 'mape' }), { name: 'mape', reduction: 'sum_over_batch_size', dtype: null }],
    [new losses.MeanSquaredLogarithmicError({ dtype: 'float64' }), { name: 'mean_squared_logarithmic_error', reduction: 'sum_over_batch_size', dtype: 'float64' }],
    [new losses.CosineSimilarity({ axis: 0 }), { name: 'cosine_similarity', reduction: 'sum_over_batch_size', dtype: null, axis: 0 }],
    [new losses.Huber({ delta: 2.5 }), { name: 'huber_loss', reduction: 'sum_over_batch_size', dtype: null, delta: 2.5 }],
    [new losses.LogCosh({ reduction: null }), { name: 'log_cosh', reduction: null, dtype: null }],
    [new losses.KLDivergence(), { name: 'kl_divergence', reduction: 'sum_over_batch_size', dtype: null }],
    [new losses.Poisson({ reduction: 'mean_with_sample_weight' }), { name: 'poisson', reduction: 'mean_with_sample_weight', dtype: null }],
    [
      new losses.BinaryCrossentropy({ fromLogits: true, labelSmoothing: 0.1 }),
      { name: 'binary_crossentropy', reduction: 'sum_over_batch_size', dtype: null, from_logits: true, label_smoothing: 0.1, axis: -1 },
    ],
    [
      new losses.BinaryFocalCrossentropy({ applyClassBalancing: true, alpha: 0.4, gamma: 3 }),
      { name: 'binary_focal_crossentropy', reduction: 'sum_over_batch_size', dtype: null, from_logits: false, label_smoothing: 0, axis: -1, apply_class_balancing: true, alpha: 0.4, gamma: 3 },
    ],
    [
      new losses.CategoricalCrossentropy({ axis: 1, reduction: 'none' }),
      { name: 'categorical_crossentropy', reduction: 'none', dtype: null, from_logits: false, label_smoothing: 0, axis: 1 },
    ],
    [
      new losses.SparseCategoricalCrossentropy({ fromLogits: true, ignoreClass: -1 }),
      { name: 'sparse_categorical_crossentropy', reduction: 'sum_over_batch_size', dtype: null, from_logits: true, ignore_class: -1 },
    ],
    [new losses.Hinge(), { name: 'hinge', reduction: 'sum_over_batch_size', dtype: null }],
    [new losses.SquaredHinge(), { name: 'squared_hinge', reduction: 'sum_over_batch_size', dtype: null }],
    [new losses.CategoricalHinge(), { name: 'categorical_hinge', reduction: 'sum_over_batch_size', dtype: null }],
  ];
  for (const [loss, expected] of configs) {
    it(`${loss.constructor.name}: Keras config keys, and a round trip through serialize/deserialize`, () => {
      assert.deepEqual(loss.getConfig(), expected);
      const serialized = losses.serialize(loss) as { module: string; class_name: string; config: unknown };
      assert.equal(serialized.module, 'keras.losses');
      assert.equal(serialized.class_name, (loss.constructor as { className?: string }).className);
      const back = losses.deserialize(JSON.parse(JSON.stringify(serialized)));
      assert.equal(back.constructor, loss.constructor);
      assert.deepEqual(back.getConfig(), expected);
    });
  }

  it('reads configs written by Keras (dtype policies, missing keys, tf.keras "auto")', () => {
    const bce = losses.deserialize({
      module: 'keras.losses',
      class_name: 'BinaryCrossentropy',
      config: { name: 'bce', reduction: 'sum_over_batch_size', from_logits: true, label_smoothing: 0.0, axis: -1, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float64' }, registered_name: null } },
      registered_name: null,
    }) as losses.BinaryCrossentropy;
    assert.ok(bce instanceof losses.BinaryCrossentropy);
    assert.equal(bce.fromLogits, true);
    assert.equal(bce.dtype, 'float64');
    assert.equal(bce.name, 'bce');
    const old = losses.deserialize({ class_name: 'CategoricalCrossentropy', config: { reduction: 'auto', name: 'cce' } });
    assert.equal(old.reduction, 'sum_over_batch_size');
    assert.throws(() => losses.deserialize({ class_name: 'Huber', config: { delta: 1, bogus: 2 } }), /Huber\.fromConfig: unknown config key 'bogus'/);
    assert.throws(() => losses.deserialize({ class_name: 'NoSuchLoss', config: {} }), /unknown loss class 'NoSuchLoss'/);
  });

  it('get: names, aliases, instances, classes, functions and serialized forms', () => {
    const mse = losses.get('mse') as losses.LossFunctionWrapper;
    assert.ok(mse instanceof losses.LossFunctionWrapper);
    assert.equal(mse.fn, losses.meanSquaredError);
    assert.equal(mse.name, 'mse');
    assertClose(mse.apply(T, P), [F.mean(rowsOf(T, P, F.mse))], { rtol: 1e-6 });
    for (const [name, fn] of [
      ['MSE', losses.meanSquaredError],
      ['mae', losses.meanAbsoluteError],
      ['mape', losses.meanAbsolutePercentageError],
      ['msle', losses.meanSquaredLogarithmicError],
      ['bce', losses.binaryCrossentropy],
      ['kld', losses.klDivergence],
      ['logcosh', losses.logCosh],
      ['sparse_categorical_crossentropy', losses.sparseCategoricalCrossentropy],
      ['categorical_hinge', losses.categoricalHinge],
      ['huber', losses.huber],
    ] as const) {
      assert.equal((losses.get(name) as losses.LossFunctionWrapper).fn, fn, name);
    }
    assert.ok(losses.get('CategoricalCrossentropy') instanceof losses.CategoricalCrossentropy);
    assert.ok(losses.get('KLDivergence') instanceof losses.KLDivergence);
    const inst = new losses.Huber();
    assert.equal(losses.get(inst), inst);
    assert.ok(losses.get(losses.Poisson) instanceof losses.Poisson);
    assert.equal(losses.get(null), null);
    const custom = (t: Tensor, p: Tensor) => ops.mean(ops.abs(ops.subtract(t, p)), -1);
    const wrapped = losses.get(custom);
    assert.equal(wrapped.name, 'custom');
    assertClose(wrapped.apply(T, P), [F.mean(rowsOf(T, P, F.mae))], { rtol: 1e-6 });
    const fromDict = losses.get({ module: 'keras.losses', class_name: 'function' as const, config: 'mean_absolute_error', registered_name: 'mean_absolute_error' });
    assert.equal((fromDict as losses.LossFunctionWrapper).fn, losses.meanAbsoluteError);
    assert.throws(() => losses.get('mean_sqared_error'), /losses\.get: unknown loss 'mean_sqared_error'\. Valid names: /);
    assert.throws(() => losses.get('Mse'), /Did you mean 'mse'\?/);
    assert.throws(() => losses.get(42 as never), /could not interpret loss identifier 42/);
  });

  it('serialize: built-in functions and names serialize to their names; wrappers keep their function', () => {
    assert.equal(losses.serialize(losses.meanSquaredError), 'mean_squared_error');
    assert.equal(losses.serialize(losses.sparseCategoricalCrossentropy), 'sparse_categorical_crossentropy');
    assert.equal(losses.serialize('mse'), 'mse');
    assert.throws(() => losses.serialize('nope'), /unknown loss 'nope'/);
    const wrapped = losses.serialize(losses.get('sparse_categorical_crossentropy')) as { class_name: string; config: Record<string, unknown> };
    assert.equal(wrapped.class_name, 'LossFunctionWrapper');
    assert.deepEqual(wrapped.config.fn, { module: 'keras.losses', class_name: 'function', config: 'sparse_categorical_crossentropy', registered_name: 'sparse_categorical_crossentropy' });
    const back = losses.deserialize(wrapped as never) as losses.LossFunctionWrapper;
    assert.equal(back.fn, losses.sparseCategoricalCrossentropy);
    assert.equal(back.name, 'sparse_categorical_crossentropy');
    const anonymous = (t: Tensor, p: Tensor) => ops.subtract(t, p);
    assert.throws(() => losses.serialize(anonymous), /cannot serialize the function 'anonymous': it is not registered/);
  });

  it('a custom function registered with registerSerializable round-trips in function form', () => {
    function myLoss(t: Tensor, p: Tensor): Tensor {
      return ops.sum(ops.square(ops.subtract(t, p)), -1);
    }
    registerSerializable(myLoss, { package: 'loss_test' });
    const s = losses.serialize(myLoss);
    assert.deepEqual(s, { module: null, class_name: 'function', config: 'myLoss', registered_name: 'loss_test>myLoss' });
    const back = losses.deserialize(s as never) as losses.LossFunctionWrapper;
    assert.equal(back.fn, myLoss);
    const wrapper = new losses.LossFunctionWrapper(myLoss, { reduction: 'sum' });
    const config = losses.serialize(wrapper) as { config: Record<string, unknown> };
    assert.deepEqual(config.config, { name: 'myLoss', reduction: 'sum', dtype: null, fn: s });
    const rebuilt = losses.deserialize(JSON.parse(JSON.stringify(config))) as losses.LossFunctionWrapper;
    assert.equal(rebuilt.fn, myLoss);
    assert.equal(rebuilt.reduction, 'sum');
    assertClose(rebuilt.apply(T, P), [F.sum(rowsOf(T, P, (a, b) => 3 * F.mse(a, b)))], { rtol: 1e-6 });
    assert.equal(losses.get('loss_test>myLoss').constructor, losses.LossFunctionWrapper);
  });

  it('a user Loss subclass: apply() reduces its call(), and it round-trips once registered', () => {
    class ScaledAbs extends losses.Loss {
      static override readonly className = 'ScaledAbs';
      readonly scale: number;
      constructor(options: losses.LossOptions & { scale?: number } = {}) {
        super(options);
        this.scale = options.scale ?? 1;
      }
      call(t: Tensor, p: Tensor): Tensor {
        return ops.multiply(ops.mean(ops.abs(ops.subtract(t, p)), -1), this.scale);
      }
      override getConfig() {
        return { ...super.getConfig(), scale: this.scale };
      }
    }
    const loss = new ScaledAbs({ scale: 2, reduction: 'sum' });
    assert.equal(loss.name, 'scaled_abs');
    assertClose(loss.apply(f64(T), f64(P), f64(W)), [2 * rowsOf(T, P, F.mae).reduce((a, v, i) => a + v * W[i], 0)], TIGHT);
    assert.throws(() => losses.deserialize(losses.serialize(loss) as never), /unknown loss class 'ScaledAbs'.*register it with registerSerializable/);
    registerSerializable(ScaledAbs, { package: 'loss_test' });
    const back = losses.deserialize(JSON.parse(JSON.stringify(losses.serialize(loss)))) as ScaledAbs;
    assert.ok(back instanceof ScaledAbs);
    assert.equal(back.scale, 2);
    assert.equal(back.reduction, 'sum');
    assert.ok(losses.get('loss_test>ScaledAbs') instanceof ScaledAbs);
    assert.throws(() => losses.get('Dense'), /unknown loss 'Dense'/);
  });

  it('resolveLoss picks the crossentropy for "crossentropy"/"ce" from the shapes (Keras get_loss)', () => {
    const fnOf = (l: losses.Loss | null) => (l as losses.LossFunctionWrapper).fn;
    assert.equal(fnOf(losses.resolveLoss('crossentropy', [null, 1], [null, 1])), losses.binaryCrossentropy);
    assert.equal(fnOf(losses.resolveLoss('ce', [null], [null, 5])), losses.sparseCategoricalCrossentropy);
    assert.equal(fnOf(losses.resolveLoss('CE', [null, 1], [null, 5])), losses.sparseCategoricalCrossentropy);
    assert.equal(fnOf(losses.resolveLoss('crossentropy', [null, 5], [null, 5])), losses.categoricalCrossentropy);
    assert.ok(losses.resolveLoss('Huber', [null, 1], [null, 1]) instanceof losses.Huber);
    assert.equal(losses.lossKind('bce'), 'binary');
    assert.equal(losses.lossKind(new losses.SparseCategoricalCrossentropy()), 'sparse_categorical');
    assert.equal(losses.lossKind(losses.categoricalCrossentropy), 'categorical');
    assert.equal(losses.lossKind('mse'), null);
  });
});
