import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import * as metrics from '../../src/metrics/index.ts';
import * as losses from '../../src/losses/index.ts';
import * as ops from '../../src/ops/index.ts';
import { Tensor, TensorSpec } from '../../src/tensor/tensor.ts';
import { tensor } from '../../src/tensor/create.ts';
import { setMask } from '../../src/layers/layer.ts';
import { registerSerializable } from '../../src/serialization/registry.ts';
import { assertClose, testRandom } from '../helpers/close.ts';
import * as F from '../losses/formulas.ts';
import { withExecutor } from '../helpers/graph.ts';

type Rows = number[][];
const TOL = { rtol: 1e-5, atol: 1e-6 };

/** Runs batches through a metric and checks result() against the weighted mean of `perSample` over everything seen. */
function checkMean(metric: metrics.Metric, batches: { yTrue: unknown; yPred: unknown; w?: number[]; perSample: number[] }[], label: string): void {
  const all: number[] = [];
  const weights: number[] = [];
  for (const b of batches) {
    metric.updateState(b.yTrue as never, b.yPred as never, b.w ? tensor(b.w) : undefined);
    all.push(...b.perSample);
    weights.push(...(b.w ?? b.perSample.map(() => 1)));
    assertClose(metric.result(), [F.weightedMean(all, weights)], TOL, `${label} after ${all.length} samples`);
  }
}

const T1: Rows = [[0.2, 0.7, 0.1], [0.5, 0.3, 0.9], [0.9, 0.4, 0.6]];
const P1: Rows = [[0.3, 0.5, 0.4], [0.45, 0.6, 0.7], [0.8, 0.1, 0.65]];
const T2: Rows = [[0.3, 0.8, 0.2], [0.6, 0.6, 0.1]];
const P2: Rows = [[0.25, 0.95, 0.5], [0.1, 0.2, 0.3]];
const rowsOf = (t: Rows, p: Rows, f: (a: number[], b: number[]) => number) => t.map((r, i) => f(r, p[i]));

describe('metrics: Mean and Sum', () => {
  it('Mean: weighted mean over several batches, per-sample reduction of 2D values, scalar values', () => {
    const m = new metrics.Mean();
    m.updateState([1, 3, 5, 7]);
    assertClose(m.result(), [4], TOL);
    m.updateState([1, 3, 5, 7], [1, 1, 0, 0]);
    assertClose(m.result(), [(16 + 4) / 6], TOL);
    m.updateState([[1, 2], [3, 4]], [1, 0.5]); // per-sample means 1.5 and 3.5
    assertClose(m.result(), [(20 + 1.5 + 1.75) / 7.5], TOL);
    m.updateState(10, 2);
    assertClose(m.result(), [(23.25 + 20) / 9.5], TOL);
    m.resetState();
    assertClose(m.result(), [0], TOL);
    m.updateState([[1, 2], [3, 4]], [[1, 0], [1, 1]]); // element weights: sum(v w) / sum(w) = 8 / 3
    assertClose(m.result(), [8 / 3], TOL);
  });

  it('Sum: weighted sum; variables are non-trainable, named under the metric and not duplicated', () => {
    const s = new metrics.Sum({ name: 'my_sum' });
    s.updateState([1, 3, 5, 7], [1, 1, 0, 0]);
    s.updateState([[1, 2], [3, 4]], [2, 1]);
    assertClose(s.result(), [4 + 6 + 7], TOL);
    assert.equal(s.variables.length, 1);
    const m = new metrics.Mean({ name: 'loss_mean' });
    assert.deepEqual(m.variables.map((v) => v.path), ['loss_mean/total', 'loss_mean/count']);
    assert.ok(m.variables.every((v) => !v.trainable && v.dtype === 'float32'));
    const m64 = new metrics.Mean({ dtype: 'float64' });
    m64.updateState(tensor([0.1, 0.2], undefined, 'float64'));
    assert.equal(m64.result().dtype, 'float64');
  });

  it('sample weights that cannot broadcast to the values are an error naming the metric', () => {
    assert.throws(() => new metrics.Mean().updateState([[1, 2, 3], [4, 5, 6]], [1, 2, 3]), /Mean: sample_weight of shape \(3,\) cannot be broadcast to the values of shape \(2,\)/);
    assert.throws(() => new metrics.MeanSquaredError().updateState(T1, P1, [1, 2]), /MeanSquaredError: sample_weight of shape \(2,\) cannot be broadcast to the values of shape \(3,\)/);
  });

  it('addVariable makes state with an initializer; apply() updates then returns the result', () => {
    class CountAbove extends metrics.Metric {
      static override readonly className = 'CountAbove';
      readonly count = this.addVariable([], 'zeros', 'float32', 'count');
      readonly offset = this.addVariable([2], 'ones', 'float32', 'offset');
      updateState(yTrue: Tensor): void {
        this.count.assignAdd(ops.sum(ops.cast(ops.greater(yTrue, 0.5), 'float32')));
      }
      result(): Tensor {
        return ops.add(this.count.value, ops.sum(this.offset.value));
      }
    }
    const m = new CountAbove();
    assert.equal(m.name, 'count_above');
    assertClose(m.apply(tensor([0.2, 0.7, 0.9])), [2 + 2], TOL);
    m.resetState();
    assertClose(m.result(), [0], TOL); // resetState zeroes every variable, as Keras does
  });
});

describe('metrics: accuracy', () => {
  it('Accuracy: exact matches, weighted', () => {
    checkMean(new metrics.Accuracy(), [
      { yTrue: [[1], [2], [3], [4]], yPred: [[0], [2], [3], [4]], w: [1, 1, 0, 0], perSample: [0, 1, 1, 1] },
      { yTrue: [[1, 2], [3, 3]], yPred: [[1, 2], [3, 0]], w: [0.5, 2], perSample: [1, 0.5] },
    ], 'Accuracy');
  });

  it('BinaryAccuracy: y_pred > threshold against 0/1 labels, averaged over columns', () => {
    const yp: Rows = [[0.98, 0.2], [0.6, 0.71], [0, 0.9], [0.75, 0.1]];
    const yt: Rows = [[1, 0], [1, 1], [0, 0], [0, 0]];
    const per = (th: number) => yt.map((r, i) => F.mean(r.map((v, j) => (v === (yp[i][j] > th ? 1 : 0) ? 1 : 0))));
    checkMean(new metrics.BinaryAccuracy({ threshold: 0.7 }), [{ yTrue: yt, yPred: yp, w: [1, 2, 0.5, 1], perSample: per(0.7) }], 'BinaryAccuracy 0.7');
    checkMean(new metrics.BinaryAccuracy(), [
      { yTrue: yt, yPred: yp, perSample: per(0.5) },
      { yTrue: [1, 0, 1], yPred: [[0.6], [0.4], [0.3]], w: [1, 1, 3], perSample: [1, 1, 0] },
    ], 'BinaryAccuracy 0.5');
  });

  it('CategoricalAccuracy and SparseCategoricalAccuracy: argmax against one-hot or integer labels', () => {
    const yp: Rows = [[0.1, 0.9, 0.8], [0.05, 0.95, 0], [0.5, 0.2, 0.3], [0.1, 0.3, 0.6]];
    const ids = [2, 1, 0, 0];
    const oneHot = ids.map((c) => [0, 1, 2].map((i) => (i === c ? 1 : 0)));
    const per = ids.map((c, i) => (F.argmax(yp[i]) === c ? 1 : 0));
    const w = [0.7, 0.3, 1, 2];
    checkMean(new metrics.CategoricalAccuracy(), [{ yTrue: oneHot, yPred: yp, w, perSample: per }], 'CategoricalAccuracy');
    checkMean(new metrics.SparseCategoricalAccuracy(), [
      { yTrue: ids, yPred: yp, w, perSample: per },
      { yTrue: tensor([[2], [1]], undefined, 'int32'), yPred: [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], perSample: [0, 1] },
    ], 'SparseCategoricalAccuracy');
  });

  it('TopK and SparseTopK: the target among the k largest (ties at the boundary count), 3D predictions flattened', () => {
    const rand = testRandom(7);
    const yp: Rows = Array.from({ length: 6 }, () => Array.from({ length: 5 }, () => Math.round(rand() * 20) / 20));
    yp[0] = [0.5, 0.5, 0.1, 0.1, 0.1]; // a tie: both 0 and 1 are "top 1"
    const ids = [1, 3, 0, 4, 2, 2];
    const inTopK = (row: number[], c: number, k: number) => row.filter((v) => v > row[c]).length < k;
    const per = (k: number) => ids.map((c, i) => (inTopK(yp[i], c, k) ? 1 : 0));
    const w = [1, 2, 0.5, 1, 1, 3];
    for (const k of [1, 2, 3]) {
      checkMean(new metrics.SparseTopKCategoricalAccuracy({ k }), [{ yTrue: ids, yPred: yp, w, perSample: per(k) }], `sparse top ${k}`);
      const oneHot = ids.map((c) => [0, 1, 2, 3, 4].map((i) => (i === c ? 1 : 0)));
      checkMean(new metrics.TopKCategoricalAccuracy({ k }), [{ yTrue: oneHot, yPred: yp, w, perSample: per(k) }], `top ${k}`);
    }
    // [batch, time, classes] with [batch, time] labels: per-sample mean over time.
    const m = new metrics.SparseTopKCategoricalAccuracy({ k: 2 });
    m.updateState([ids.slice(0, 3), ids.slice(3)], [yp.slice(0, 3), yp.slice(3)]);
    const p2 = per(2);
    assertClose(m.result(), [F.mean(p2)], TOL);
    // Keras's documented example.
    const doc = new metrics.SparseTopKCategoricalAccuracy({ k: 1 });
    doc.updateState([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], [0.7, 0.3]);
    assertClose(doc.result(), [0.3], TOL);
  });

  it('label-shape mistakes are errors naming the metric, both shapes and the right metric', () => {
    const yp = [[0.1, 0.9, 0.8], [0.05, 0.95, 0]];
    assert.throws(
      () => new metrics.SparseCategoricalAccuracy().updateState([[0, 0, 1], [0, 1, 0]], yp),
      /SparseCategoricalAccuracy: Received: y_true\.shape=\(2, 3\) and y_pred\.shape=\(2, 3\); expected y_true of shape \(2,\).*sparse labels are integer class ids.*CategoricalAccuracy/,
    );
    assert.throws(() => new metrics.CategoricalAccuracy().updateState([2, 1], yp), /CategoricalAccuracy: Received: y_true\.shape=\(2,\) and y_pred\.shape=\(2, 3\).*use SparseCategoricalAccuracy/);
    assert.throws(() => new metrics.TopKCategoricalAccuracy().updateState([2, 1], yp), /use SparseTopKCategoricalAccuracy/);
    assert.throws(() => new metrics.BinaryAccuracy().updateState([1, 0], yp), /BinaryAccuracy: Received: y_true\.shape=\(2,\) and y_pred\.shape=\(2, 3\)/);
    assert.throws(() => new metrics.BinaryAccuracy({ threshold: 1 }), /Expected a value in interval \(0, 1\)\. Received: threshold=1/);
    assert.throws(() => new metrics.TopKCategoricalAccuracy({ k: 0 }), /k=0; expected an integer >= 1/);
    assert.throws(() => new metrics.Accuracy().updateState([1, 2]), /y_pred is missing/);
  });
});

describe('metrics: losses as metrics', () => {
  const B1: Rows = [[0, 1, 1], [1, 0, 0], [1, 1, 0]];
  const B2: Rows = [[0, 0, 1], [1, 1, 1]];
  const H1: Rows = [[-0.5, 0.3, 1.7], [0.8, -1.2, 0.4], [2.1, 0.2, -0.3]];
  const H2: Rows = [[-1.5, 0.6, 0.9], [0.3, 0.35, -2]];
  const w1 = [1, 0.5, 2];
  const w2 = [3, 1];
  const cases: [string, () => metrics.Metric, Rows, Rows, Rows, Rows, (t: Rows, p: Rows) => number[]][] = [
    ['MeanSquaredError', () => new metrics.MeanSquaredError(), T1, P1, T2, P2, (t, p) => rowsOf(t, p, F.mse)],
    ['MeanAbsoluteError', () => new metrics.MeanAbsoluteError(), T1, P1, T2, P2, (t, p) => rowsOf(t, p, F.mae)],
    ['MeanAbsolutePercentageError', () => new metrics.MeanAbsolutePercentageError(), T1, P1, T2, P2, (t, p) => rowsOf(t, p, F.mape)],
    ['MeanSquaredLogarithmicError', () => new metrics.MeanSquaredLogarithmicError(), T1, P1, T2, P2, (t, p) => rowsOf(t, p, F.msle)],
    ['LogCoshError', () => new metrics.LogCoshError(), T1, P1, T2, P2, (t, p) => rowsOf(t, p, F.logCosh)],
    ['CosineSimilarity', () => new metrics.CosineSimilarity(), T1, P1, T2, P2, (t, p) => rowsOf(t, p, (a, b) => -F.cosineLoss(a, b))],
    ['Poisson', () => new metrics.Poisson(), T1, P1, T2, P2, (t, p) => rowsOf(t, p, F.poisson)],
    ['KLDivergence', () => new metrics.KLDivergence(), T1, P1, T2, P2, (t, p) => rowsOf(t, p, F.kl)],
    ['Hinge', () => new metrics.Hinge(), B1, H1, B2, H2, (t, p) => F.hingeRows(t, p)],
    ['SquaredHinge', () => new metrics.SquaredHinge(), B1, H1, B2, H2, (t, p) => F.squaredHingeRows(t, p)],
    ['CategoricalHinge', () => new metrics.CategoricalHinge(), B1, H1, B2, H2, (t, p) => rowsOf(t, p, F.categoricalHinge)],
    ['BinaryCrossentropy', () => new metrics.BinaryCrossentropy(), B1, P1, B2, P2, (t, p) => rowsOf(t, p, (a, b) => F.bce(a, b))],
    ['BinaryCrossentropy(fromLogits, smoothing)', () => new metrics.BinaryCrossentropy({ fromLogits: true, labelSmoothing: 0.2 }), B1, H1, B2, H2, (t, p) => rowsOf(t, p, (a, b) => F.bceLogits(a, b, 0.2))],
    ['CategoricalCrossentropy(fromLogits, smoothing)', () => new metrics.CategoricalCrossentropy({ fromLogits: true, labelSmoothing: 0.1 }), B1, H1, B2, H2, (t, p) => rowsOf(t, p, (a, b) => F.cce(a, b, { logits: true, smoothing: 0.1 }))],
  ];
  for (const [label, make, t1, p1, t2, p2, ref] of cases) {
    it(`${label}: weighted mean of the per-sample loss over two batches`, () => {
      checkMean(make(), [
        { yTrue: t1, yPred: p1, w: w1, perSample: ref(t1, p1) },
        { yTrue: t2, yPred: p2, w: w2, perSample: ref(t2, p2) },
      ], label);
    });
  }

  it('RootMeanSquaredError: sqrt of the weighted mean of squared errors (Keras example)', () => {
    const m = new metrics.RootMeanSquaredError();
    m.updateState([[0, 1], [0, 0]], [[1, 1], [0, 0]]);
    assertClose(m.result(), [0.5], TOL);
    m.resetState();
    m.updateState([[0, 1], [0, 0]], [[1, 1], [0, 0]], [1, 0]);
    assertClose(m.result(), [Math.SQRT1_2], TOL);
    m.updateState(T1, P1, w1);
    const mses = [0.5, 0, ...rowsOf(T1, P1, F.mse)];
    assertClose(m.result(), [Math.sqrt(F.weightedMean(mses, [1, 0, ...w1]))], TOL);
  });

  it('SparseCategoricalCrossentropy: ignore_class samples are left out of the mean', () => {
    const logits: Rows = [[1.2, -0.3, 0.5], [0.1, 0.9, -1.4], [2.0, 0.3, -0.7], [-0.2, 0.4, 1.1]];
    const m = new metrics.SparseCategoricalCrossentropy({ fromLogits: true, ignoreClass: -1 });
    m.updateState([1, -1, 0, 2], logits, [1, 5, 2, 1]);
    const per = [F.scce(1, logits[0], true), F.scce(0, logits[2], true), F.scce(2, logits[3], true)];
    assertClose(m.result(), [F.weightedMean(per, [1, 2, 1])], TOL);
    const plain = new metrics.SparseCategoricalCrossentropy({ fromLogits: true, ignoreClass: -1 });
    plain.updateState([1, -1, 0, 2], logits);
    assertClose(plain.result(), [F.mean(per)], TOL);
  });

  it('a mask on y_pred drops masked samples from the mean', () => {
    const yp = tensor(P1);
    setMask(yp, tensor([true, false, true]));
    const m = new metrics.MeanSquaredError();
    m.updateState(T1, yp);
    const v = rowsOf(T1, P1, F.mse);
    assertClose(m.result(), [(v[0] + v[2]) / 2], TOL);
  });

  it('MeanMetricWrapper wraps a function (with options) or a Loss', () => {
    const scaled = (t: Tensor, p: Tensor, o?: { scale?: number }) => ops.multiply(ops.mean(ops.abs(ops.subtract(t, p)), -1), o?.scale ?? 1);
    const m = new metrics.MeanMetricWrapper(scaled as never, { fnOptions: { scale: 3 } });
    assert.equal(m.name, 'scaled');
    m.updateState(T1, P1, w1);
    assertClose(m.result(), [3 * F.weightedMean(rowsOf(T1, P1, F.mae), w1)], TOL);
    const huber = metrics.get(new losses.Huber({ delta: 0.15 }));
    assert.equal(huber.name, 'huber_loss');
    huber.updateState(T1, P1, w1);
    assertClose(huber.result(), [F.weightedMean(rowsOf(T1, P1, (a, b) => F.huber(a, b, 0.15)), w1)], TOL);
  });
});

describe('metrics: inside strata.fn', () => {
  function makeSet() {
    return {
      binAcc: new metrics.BinaryAccuracy(),
      rocAuc: new metrics.AUC({ numThresholds: 50 }),
      prAuc: new metrics.AUC({ curve: 'PR' }),
      multiAuc: new metrics.AUC({ numThresholds: 20, multiLabel: true }),
      precision: new metrics.Precision({ thresholds: [0.3, 0.5, 0.7] }),
      recall: new metrics.Recall(),
      rmse: new metrics.RootMeanSquaredError(),
      sparseAcc: new metrics.SparseCategoricalAccuracy(),
      topK: new metrics.SparseTopKCategoricalAccuracy({ k: 2 }),
      catAcc: new metrics.CategoricalAccuracy(),
      scce: new metrics.SparseCategoricalCrossentropy({ ignoreClass: 0 }),
      f1: new metrics.F1Score({ average: 'macro' }),
      mean: new metrics.Mean(),
    };
  }
  type Set = ReturnType<typeof makeSet>;
  function update(s: Set, yb: Tensor, pb: Tensor, ys: Tensor, pc: Tensor, w: Tensor): Tensor[] {
    s.binAcc.updateState(yb, pb, w);
    s.rocAuc.updateState(yb, pb, w);
    s.prAuc.updateState(yb, pb, w);
    s.multiAuc.updateState(yb, pb);
    s.precision.updateState(yb, pb, w);
    s.recall.updateState(yb, pb, w);
    s.rmse.updateState(yb, pb, w);
    s.sparseAcc.updateState(ys, pc, w);
    s.topK.updateState(ys, pc, w);
    const oneHot = ops.oneHot(ys, 4);
    s.catAcc.updateState(oneHot, pc, w);
    s.scce.updateState(ys, pc, w);
    s.f1.updateState(oneHot, pc, w);
    s.mean.updateState(pb, w);
    return Object.values(s).map((m) => m.result());
  }
  function batch(seed: number) {
    const rand = testRandom(seed);
    const n = 8;
    const pb = tensor(Array.from({ length: n }, () => [rand(), rand(), rand()]));
    const yb = tensor(Array.from({ length: n }, () => [rand() > 0.5 ? 1 : 0, rand() > 0.5 ? 1 : 0, rand() > 0.5 ? 1 : 0]));
    const pcRows = Array.from({ length: n }, () => Array.from({ length: 4 }, () => rand()));
    const pc = tensor(pcRows.map((r) => r.map((v) => v / r.reduce((a, b) => a + b, 0))));
    const ys = tensor(Array.from({ length: n }, () => Math.floor(rand() * 4)), undefined, 'int32');
    const w = tensor(Array.from({ length: n }, () => Math.round(rand() * 4) / 2));
    return [yb, pb, ys, pc, w] as const;
  }

  for (const executor of ['onnxruntime', 'interpreter'] as const) {
    it(`updating inside a compiled function (${executor}) gives the eager results, batch after batch, and resetState compiles too`, async () => {
      await withExecutor(executor, async () => {
        const eager = makeSet();
        const graph = makeSet();
        const step = strata.fn((yb: Tensor, pb: Tensor, ys: Tensor, pc: Tensor, w: Tensor) => update(graph, yb, pb, ys, pc, w), { name: `metric_step_${executor}` });
        const reset = strata.fn(() => {
          for (const m of Object.values(graph)) m.resetState();
          return graph.mean.result();
        }, { name: `metric_reset_${executor}` });
        const names = Object.keys(eager);
        for (let i = 0; i < 3; i++) {
          const inputs = batch(100 + i);
          const expected = update(eager, ...inputs);
          const got = (await step(...inputs)) as Tensor[];
          got.forEach((g, k) => assertClose(g, expected[k], { rtol: 1e-5, atol: 1e-6 }, `${names[k]} after batch ${i}`));
          // The state lives in the variables: reading the results eagerly agrees too.
          assertClose(graph.rocAuc.result(), eager.rocAuc.result(), { rtol: 1e-6 }, 'variables written back');
        }
        assert.ok(Object.values(eager).every((m) => m.result().dataSync().every(Number.isFinite)));
        assert.ok(eager.rocAuc.result().item() > 0 && eager.f1.result().item() > 0);
        assertClose((await reset()) as Tensor, [0], TOL);
        for (const m of Object.values(eager)) m.resetState();
        const inputs = batch(200);
        const expected = update(eager, ...inputs);
        const got = (await step(...inputs)) as Tensor[];
        got.forEach((g, k) => assertClose(g, expected[k], { rtol: 1e-5, atol: 1e-6 }, `${names[k]} after reset`));
        assert.equal(step.traceCount, 1);
      });
    });
  }
});

describe('metrics and losses with an unknown batch size (inputSignature with null)', () => {
  it('counts, reshapes and broadcasts at run time', async () => {
    const auc = new metrics.AUC({ numThresholds: 11 });
    const mean = new metrics.Mean();
    const acc = new metrics.SparseCategoricalAccuracy();
    const topk = new metrics.SparseTopKCategoricalAccuracy({ k: 2 });
    const f1 = new metrics.F1Score({ average: 'micro' });
    const loss = new losses.SparseCategoricalCrossentropy({ ignoreClass: -1 });
    const f = strata.fn(
      (yb: Tensor, pb: Tensor, ys: Tensor, pc: Tensor, w: Tensor) => {
        auc.updateState(yb, pb, w);
        mean.updateState(pb, w);
        acc.updateState(ys, pc, w);
        topk.updateState(ys, pc);
        f1.updateState(ops.oneHot(ops.maximum(ys, 0), 3), pc, w);
        return [auc.result(), mean.result(), acc.result(), topk.result(), f1.result(), loss.apply(ys, pc, w)];
      },
      { name: 'dynamic_batch', inputSignature: [new TensorSpec([null, 1]), new TensorSpec([null, 1]), new TensorSpec([null], 'int32'), new TensorSpec([null, 3]), new TensorSpec([null])] },
    );
    const pc: Rows = [[0.1, 0.2, 0.7], [0.5, 0.3, 0.2], [0.3, 0.3, 0.4]];
    const out = (await f(tensor([[1], [0], [1]]), tensor([[0.9], [0.2], [0.4]]), tensor([2, 0, -1], undefined, 'int32'), tensor(pc), tensor([1, 2, 1]))) as Tensor[];
    assert.ok(f.graph(tensor([[1]]), tensor([[0.5]]), tensor([0], undefined, 'int32'), tensor([[0.2, 0.3, 0.5]]), tensor([1])).length > 0);
    assertClose(out[0], [1], TOL, 'auc'); // both positives above the negative
    assertClose(out[1], [(0.9 * 1 + 0.2 * 2 + 0.4 * 1) / 4], TOL, 'mean');
    assertClose(out[2], [3 / 4], TOL, 'accuracy'); // argmax [2, 0, 2] against [2, 0, -1], weights [1, 2, 1]
    assertClose(out[3], [2 / 3], TOL, 'top-2'); // the label -1 is in no top k
    assertClose(out[4], [0.75], TOL, 'f1 micro'); // tp 3, fp 1, fn 1
    // ignore_class: mask [1, 1, 0] scaled by 3/2, times the weights, over the batch of 3.
    const expected = ((F.cce([0, 0, 1], pc[0]) * 1 + F.cce([1, 0, 0], pc[1]) * 2) * 1.5) / 3;
    assertClose(out[5], [expected], TOL, 'loss');
    assert.equal(f.traceCount, 1);
  });
});

describe('metrics: configs, serialization and get', () => {
  const configs: [metrics.Metric, Record<string, unknown>][] = [
    [new metrics.Mean(), { name: 'mean', dtype: 'float32' }],
    [new metrics.Sum({ dtype: 'float64' }), { name: 'sum', dtype: 'float64' }],
    [new metrics.Accuracy(), { name: 'accuracy', dtype: 'float32' }],
    [new metrics.BinaryAccuracy({ threshold: 0.3 }), { name: 'binary_accuracy', dtype: 'float32', threshold: 0.3 }],
    [new metrics.CategoricalAccuracy({ name: 'acc' }), { name: 'acc', dtype: 'float32' }],
    [new metrics.SparseCategoricalAccuracy(), { name: 'sparse_categorical_accuracy', dtype: 'float32' }],
    [new metrics.TopKCategoricalAccuracy({ k: 3 }), { name: 'top_k_categorical_accuracy', dtype: 'float32', k: 3 }],
    [new metrics.SparseTopKCategoricalAccuracy(), { name: 'sparse_top_k_categorical_accuracy', dtype: 'float32', k: 5 }],
    [new metrics.MeanSquaredError(), { name: 'mean_squared_error', dtype: 'float32' }],
    [new metrics.MeanAbsoluteError(), { name: 'mean_absolute_error', dtype: 'float32' }],
    [new metrics.RootMeanSquaredError(), { name: 'root_mean_squared_error', dtype: 'float32' }],
    [new metrics.LogCoshError(), { name: 'logcosh', dtype: 'float32' }],
    [new metrics.CosineSimilarity({ axis: 1 }), { name: 'cosine_similarity', dtype: 'float32', axis: 1 }],
    [new metrics.KLDivergence(), { name: 'kl_divergence', dtype: 'float32' }],
    [new metrics.BinaryCrossentropy({ fromLogits: true }), { name: 'binary_crossentropy', dtype: 'float32', from_logits: true, label_smoothing: 0 }],
    [new metrics.CategoricalCrossentropy({ labelSmoothing: 0.1 }), { name: 'categorical_crossentropy', dtype: 'float32', from_logits: false, label_smoothing: 0.1, axis: -1 }],
    [new metrics.SparseCategoricalCrossentropy({ ignoreClass: 3 }), { name: 'sparse_categorical_crossentropy', dtype: 'float32', from_logits: false, axis: -1, ignore_class: 3 }],
    [new metrics.Precision({ thresholds: [0.2, 0.6], classId: 1 }), { name: 'precision', dtype: 'float32', thresholds: [0.2, 0.6], top_k: null, class_id: 1 }],
    [new metrics.Recall({ topK: 2 }), { name: 'recall', dtype: 'float32', thresholds: null, top_k: 2, class_id: null }],
    [new metrics.TruePositives({ thresholds: 0.4 }), { name: 'true_positives', dtype: 'float32', thresholds: 0.4 }],
    [
      new metrics.AUC({ numThresholds: 7, curve: 'PR', summationMethod: 'minoring', multiLabel: true, numLabels: 3, labelWeights: [1, 2, 1] }),
      { name: 'auc', dtype: 'float32', num_thresholds: 7, curve: 'PR', summation_method: 'minoring', multi_label: true, num_labels: 3, label_weights: [1, 2, 1], from_logits: false },
    ],
    [
      new metrics.AUC({ thresholds: [0.7, 0.2, 0.5], fromLogits: true }),
      { name: 'auc', dtype: 'float32', num_thresholds: 5, curve: 'ROC', summation_method: 'interpolation', multi_label: false, num_labels: null, label_weights: null, from_logits: true, thresholds: [0.2, 0.5, 0.7] },
    ],
    [new metrics.F1Score({ average: 'weighted', threshold: 0.4 }), { name: 'f1_score', dtype: 'float32', average: 'weighted', threshold: 0.4 }],
    [new metrics.FBetaScore({ beta: 2 }), { name: 'fbeta_score', dtype: 'float32', average: null, beta: 2, threshold: null }],
  ];
  for (const [metric, expected] of configs) {
    it(`${metric.constructor.name}: Keras config keys, and a round trip through serialize/deserialize`, () => {
      assert.deepEqual(metric.getConfig(), expected);
      const serialized = metrics.serialize(metric) as { module: string; class_name: string };
      assert.equal(serialized.module, 'keras.metrics');
      assert.equal(serialized.class_name, (metric.constructor as { className?: string }).className);
      const back = metrics.deserialize(JSON.parse(JSON.stringify(serialized)));
      assert.equal(back.constructor, metric.constructor);
      assert.deepEqual(back.getConfig(), expected);
    });
  }

  it('MeanMetricWrapper configs carry the function (built-in by name, a Loss as an object)', () => {
    const wrapped = new metrics.MeanMetricWrapper(losses.huber as never, { fnOptions: { delta: 0.5 } });
    const config = wrapped.getConfig();
    assert.deepEqual(config, { name: 'huber', dtype: 'float32', fn: { module: 'keras.losses', class_name: 'function', config: 'huber', registered_name: 'huber' }, delta: 0.5 });
    const back = metrics.deserialize(JSON.parse(JSON.stringify(metrics.serialize(wrapped)))) as metrics.MeanMetricWrapper;
    assert.equal(back.fn, losses.huber);
    assert.deepEqual(back.fnOptions, { delta: 0.5 });
    const acc = new metrics.MeanMetricWrapper(metrics.binaryAccuracy as never, { fnOptions: { threshold: 0.2 } });
    const accConfig = acc.getConfig();
    assert.deepEqual(accConfig.fn, { module: 'keras.metrics', class_name: 'function', config: 'binary_accuracy', registered_name: 'binary_accuracy' });
    assert.equal((metrics.MeanMetricWrapper.fromConfig(accConfig) as metrics.MeanMetricWrapper).fn, metrics.binaryAccuracy);
    // cosine_similarity: the loss (negative) and the metric (positive) are told apart by module.
    const cosLoss = metrics.MeanMetricWrapper.fromConfig({ fn: { module: 'keras.losses', class_name: 'function', config: 'cosine_similarity', registered_name: 'cosine_similarity' } }) as metrics.MeanMetricWrapper;
    assert.equal(cosLoss.fn, losses.cosineSimilarity);
    assert.equal((metrics.get('cosine_similarity') as metrics.MeanMetricWrapper).fn, metrics.cosineSimilarity);
    const fromLoss = metrics.get(new losses.CategoricalCrossentropy({ fromLogits: true })) as metrics.MeanMetricWrapper;
    const again = metrics.deserialize(JSON.parse(JSON.stringify(metrics.serialize(fromLoss)))) as metrics.MeanMetricWrapper;
    assert.ok(again.fn instanceof losses.CategoricalCrossentropy);
    assert.equal((again.fn as losses.CategoricalCrossentropy).fromLogits, true);
  });

  it('reads Keras-written configs and refuses unknown keys and classes', () => {
    const auc = metrics.deserialize({
      module: 'keras.metrics',
      class_name: 'AUC',
      config: { name: 'auc_1', dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null }, num_thresholds: 200, curve: 'ROC', summation_method: 'interpolation', multi_label: false, num_labels: null, label_weights: null, from_logits: false },
      registered_name: null,
    }) as metrics.AUC;
    assert.equal(auc.name, 'auc_1');
    assert.equal(auc.thresholds.length, 200);
    assert.throws(() => metrics.deserialize({ class_name: 'Precision', config: { thresholds: 0.5, bogus: 1 } }), /Precision\.fromConfig: unknown config key 'bogus'/);
    assert.throws(() => metrics.deserialize({ class_name: 'Frobnicate', config: {} }), /unknown metric class 'Frobnicate'/);
  });

  it('get: names (named as given, as Keras compile does), aliases, loss names, functions and instances', () => {
    const cases: [string, Function][] = [
      ['accuracy', metrics.Accuracy],
      ['acc', metrics.Accuracy],
      ['mse', metrics.MeanSquaredError],
      ['MSE', metrics.MeanSquaredError],
      ['mae', metrics.MeanAbsoluteError],
      ['mape', metrics.MeanAbsolutePercentageError],
      ['msle', metrics.MeanSquaredLogarithmicError],
      ['bce', metrics.BinaryCrossentropy],
      ['auc', metrics.AUC],
      ['AUC', metrics.AUC],
      ['precision', metrics.Precision],
      ['recall', metrics.Recall],
      ['binary_accuracy', metrics.BinaryAccuracy],
      ['sparse_categorical_accuracy', metrics.SparseCategoricalAccuracy],
      ['top_k_categorical_accuracy', metrics.TopKCategoricalAccuracy],
      ['f1_score', metrics.F1Score],
      ['root_mean_squared_error', metrics.RootMeanSquaredError],
      ['sparse_categorical_crossentropy', metrics.SparseCategoricalCrossentropy],
      ['logcosh', metrics.LogCoshError],
      ['kl_divergence', metrics.KLDivergence],
      ['mean', metrics.Mean],
    ];
    for (const [name, cls] of cases) {
      const m = metrics.get(name);
      assert.equal(m.constructor, cls, name);
      assert.equal(m.name, name);
    }
    const huber = metrics.get('huber') as metrics.MeanMetricWrapper;
    assert.equal(huber.fn, losses.huber);
    assert.equal((metrics.get('binary_focal_crossentropy') as metrics.MeanMetricWrapper).fn, losses.binaryFocalCrossentropy);
    const inst = new metrics.Recall();
    assert.equal(metrics.get(inst), inst);
    assert.ok(metrics.get(metrics.Precision) instanceof metrics.Precision);
    assert.equal(metrics.get(null), null);
    function meanDiff(t: Tensor, p: Tensor) {
      return ops.mean(ops.subtract(p, t), -1);
    }
    const fromFn = metrics.get(meanDiff);
    assert.equal(fromFn.name, 'meanDiff');
    fromFn.updateState([[1, 2]], [[2, 4]]);
    assertClose(fromFn.result(), [1.5], TOL);
    registerSerializable(meanDiff, { package: 'metric_test' });
    assert.deepEqual(metrics.serialize(meanDiff), { module: null, class_name: 'function', config: 'meanDiff', registered_name: 'metric_test>meanDiff' });
    assert.equal((metrics.deserialize(metrics.serialize(fromFn) as never) as metrics.MeanMetricWrapper).fn, meanDiff);
    assert.equal(metrics.serialize(metrics.binaryAccuracy), 'binary_accuracy');
    assert.equal(metrics.serialize('accuracy'), 'accuracy');
    assert.throws(() => metrics.get('acuracy'), /metrics\.get: unknown metric 'acuracy'\. Valid names: /);
    assert.throws(() => metrics.get('Precison'), /unknown metric 'Precison'/);
    assert.throws(() => metrics.get('f1score'), /Did you mean 'f1_score'\?/);
    assert.throws(() => metrics.get(3 as never), /could not interpret metric identifier 3/);
  });

  it('a user Metric subclass round-trips once registered and is found by its registered name', () => {
    class MaxSeen extends metrics.Metric {
      static override readonly className = 'MaxSeen';
      readonly best = this.addVariable([], 'zeros', this.dtype, 'best');
      updateState(yTrue: Tensor): void {
        this.best.assign(ops.maximum(this.best.value, ops.max(ops.cast(yTrue, this.dtype))));
      }
      result(): Tensor {
        return this.best.value;
      }
    }
    const m = new MaxSeen({ name: 'peak' });
    m.updateState(tensor([1, 5, 2]));
    m.updateState(tensor([3]));
    assertClose(m.result(), [5], TOL);
    registerSerializable(MaxSeen, { package: 'metric_test' });
    const back = metrics.deserialize(JSON.parse(JSON.stringify(metrics.serialize(m))));
    assert.ok(back instanceof MaxSeen);
    assert.equal(back.name, 'peak');
    assert.ok(metrics.get('metric_test>MaxSeen') instanceof MaxSeen);
    assert.throws(() => metrics.get('Dense'), /unknown metric 'Dense'/);
  });

  it('resolveAccuracy follows the loss, then Keras\'s shape rules', () => {
    const kind = (loss: unknown, t: (number | null)[], p: (number | null)[]) => metrics.resolveAccuracy(loss, t, p).constructor;
    assert.equal(kind('binary_crossentropy', [null, 3], [null, 3]), metrics.BinaryAccuracy);
    assert.equal(kind(new losses.BinaryFocalCrossentropy(), [null, 1], [null, 1]), metrics.BinaryAccuracy);
    assert.equal(kind('sparse_categorical_crossentropy', [null, 1], [null, 10]), metrics.SparseCategoricalAccuracy);
    assert.equal(kind(new losses.SparseCategoricalCrossentropy({ fromLogits: true }), [null], [null, 10]), metrics.SparseCategoricalAccuracy);
    assert.equal(kind('CategoricalCrossentropy', [null, 10], [null, 10]), metrics.CategoricalAccuracy);
    assert.equal(kind(losses.categoricalCrossentropy, [null, 10], [null, 10]), metrics.CategoricalAccuracy);
    // Other losses: the shapes decide (Keras 3's get_metric).
    assert.equal(kind('mse', [null, 1], [null, 1]), metrics.BinaryAccuracy);
    assert.equal(kind(null, [null], [null, 5]), metrics.SparseCategoricalAccuracy);
    assert.equal(kind('hinge', [null, 1], [null, 5]), metrics.SparseCategoricalAccuracy);
    assert.equal(kind(undefined, [null, 5], [null, 5]), metrics.CategoricalAccuracy);
    const acc = metrics.resolveMetric('acc', { loss: 'bce', yTrueShape: [null, 1], yPredShape: [null, 1] })!;
    assert.ok(acc instanceof metrics.BinaryAccuracy);
    assert.equal(acc.name, 'acc');
    const accuracy = metrics.resolveMetric('Accuracy', { yTrueShape: [null], yPredShape: [null, 3] })!;
    assert.ok(accuracy instanceof metrics.SparseCategoricalAccuracy);
    assert.equal(accuracy.name, 'Accuracy');
    assert.ok(metrics.resolveMetric('auc', { yTrueShape: [null, 1], yPredShape: [null, 1] }) instanceof metrics.AUC);
  });
});
