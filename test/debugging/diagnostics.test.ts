import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { captureWarnings } from '../../src/engine/warnings.ts';
import { randomTensor } from '../helpers/close.ts';

const { layers, ops, debugging } = strata;

afterEach(() => debugging.disableCheckNumerics());

function data(n = 16, features = 4) {
  return { x: randomTensor([n, features], 1, -1, 1, 'float32'), y: randomTensor([n, 1], 2, -1, 1, 'float32') };
}

function healthy(seed = 1) {
  strata.random.setRandomSeed(seed);
  const m = new strata.Sequential([strata.Input({ shape: [4] }), new layers.Dense(8, { activation: 'relu' }), new layers.Dense(8, { activation: 'tanh' }), new layers.Dense(1)]);
  m.compile({ optimizer: 'adam', loss: 'mse' });
  return m;
}

describe('gradientReport', () => {
  it('a healthy model gets a clean report (no false alarms)', async () => {
    const { x, y } = data();
    const report = await debugging.gradientReport(healthy(), x, y);
    assert.ok(report.healthy, String(report));
    assert.equal(report.weights.length, 6);
    assert.ok(report.weights.every((w) => w.verdict === 'ok' && w.norm! > 0));
    assert.match(String(report), /No problems found/);
  });

  it("the seed's own example: a loss wrapped in stopGradient", async () => {
    const { x, y } = data();
    const report = await debugging.gradientReport(healthy(), x, y, { loss: (yt: Tensor, yp: Tensor) => ops.mean(ops.stopGradient(ops.square(ops.subtract(yp, yt))), -1) });
    assert.ok(report.weights.every((w) => w.verdict === 'none' && w.nullReason?.kind === 'stopGradient'), String(report));
    assert.match(String(report), /cut by ops\.stopGradient/);
    assert.match(String(report), /Remove ops\.stopGradient/);
  });

  it('a branch through argmax names the op and the layer', async () => {
    class Argmaxed extends strata.Model {
      hidden = new layers.Dense(3, { name: 'scores' });
      out = new layers.Dense(1, { name: 'out' });
      override call(x: Tensor) {
        const picked = ops.cast(ops.argmax(this.hidden.apply(x), -1), 'float32');
        return this.out.apply(ops.expandDims(picked, -1));
      }
    }
    const model = new Argmaxed({ name: 'argmaxed' });
    const { x, y } = data();
    const report = await debugging.gradientReport(model, x, y, { loss: 'mse' });
    const scores = report.weights.filter((w) => w.path.includes('scores'));
    assert.equal(scores.length, 2);
    for (const w of scores) {
      assert.equal(w.verdict, 'none');
      assert.equal(w.nullReason?.kind, 'nonDifferentiable');
      assert.match(w.reason, /non-differentiable op 'argmax' in layer 'argmaxed'/);
    }
    assert.ok(report.weights.filter((w) => w.path.includes('/out/')).every((w) => w.verdict === 'ok'));
  });

  it('a layer whose output is unused is reported as not connected', async () => {
    class Unused extends strata.Model {
      used = new layers.Dense(1, { name: 'used' });
      spare = new layers.Dense(2, { name: 'spare' });
      override call(x: Tensor) {
        this.spare.apply(x);
        return this.used.apply(x);
      }
    }
    const { x, y } = data();
    const report = await debugging.gradientReport(new Unused(), x, y, { loss: 'mse' });
    const spare = report.weights.filter((w) => w.path.includes('spare'));
    assert.ok(spare.length === 2 && spare.every((w) => w.verdict === 'none' && w.nullReason?.kind === 'unconnected'));
    assert.match(spare[0].reason, /the target does not depend on it/);
  });

  it('a dead ReLU layer (bias initialised very negative) is a zero gradient with the dead fraction', async () => {
    strata.random.setRandomSeed(3);
    const model = new strata.Sequential([
      strata.Input({ shape: [4] }),
      new layers.Dense(8, { activation: 'relu', biasInitializer: new strata.initializers.Constant({ value: -100 }), name: 'dead' }),
      new layers.Dense(1, { name: 'head' }),
    ]);
    const { x, y } = data();
    const report = await debugging.gradientReport(model, x, y, { loss: 'mse' });
    const dead = report.weights.filter((w) => w.path.includes('/dead/'));
    assert.ok(dead.every((w) => w.verdict === 'zero' && w.deadFraction === 1), String(report));
    assert.match(dead[0].reason, /100% of the ReLU units of layer '.*dead' are dead/);
  });

  it('a saturating sigmoid stack is reported with the saturated fraction', async () => {
    strata.random.setRandomSeed(4);
    const big = new strata.initializers.RandomNormal({ stddev: 30 });
    const model = new strata.Sequential([
      strata.Input({ shape: [4] }),
      new layers.Dense(16, { activation: 'sigmoid', kernelInitializer: big, name: 's1' }),
      new layers.Dense(16, { activation: 'sigmoid', kernelInitializer: big, name: 's2' }),
      new layers.Dense(16, { activation: 'sigmoid', kernelInitializer: big, name: 's3' }),
      new layers.Dense(1, { name: 'head' }),
    ]);
    const { x, y } = data(32);
    const report = await debugging.gradientReport(model, ops.multiply(x, 10), y, { loss: 'mse' });
    const early = report.weights.find((w) => w.path.includes('/s1/kernel'))!;
    assert.ok(early.verdict === 'zero' || early.verdict === 'vanishing', String(report));
    assert.ok((early.saturatedFraction ?? 0) > 0.5, String(report));
    assert.match(early.reason, /of the sigmoid outputs of layer '.*s1' are saturated/);
    assert.match(String(report), /Saturated sigmoid\/tanh: normalise the inputs/);
  });
});

describe('check numerics', () => {
  function fiveLayers() {
    class LogLayer extends layers.Layer {
      override call(x: Tensor) {
        return ops.log(ops.relu(ops.negative(ops.abs(x))));
      }
    }
    strata.random.setRandomSeed(5);
    return new strata.Sequential([
      strata.Input({ shape: [4] }),
      new layers.Dense(4, { name: 'layer1' }),
      new layers.Dense(4, { name: 'layer2' }),
      new LogLayer({ name: 'layer3' }),
      new layers.Dense(4, { name: 'layer4' }),
      new layers.Dense(1, { name: 'layer5' }),
    ], { name: 'five' });
  }

  it('eager: the first op producing NaN/Inf is named with its layer, and later ops are not blamed', () => {
    const model = fiveLayers();
    debugging.enableCheckNumerics();
    assert.throws(() => model.apply(strata.ones([2, 4])), (e: Error) => {
      assert.equal(e.name, 'NumericsError');
      assert.match(e.message, /op 'log' in layer 'five\/layer3'/);
      assert.match(e.message, /All its inputs were finite: this op produced the first -Inf/);
      return true;
    });
  });

  it('graph mode: the same op and layer are named during model.fit, with the step', async () => {
    const model = fiveLayers();
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    debugging.enableCheckNumerics();
    const { warnings } = await captureWarnings(() =>
      assert.rejects(model.fit(strata.ones([4, 4]), strata.zeros([4, 1]), { epochs: 1, verbose: 0 }), (e: Error) => {
        assert.match(e.message, /op 'log' in layer 'five\/layer3'/);
        assert.match(e.message, /graph mode, function 'train_function', call 1/);
        return true;
      }),
    );
    assert.ok(warnings.some((w) => /interpreter/.test(w)));
  });

  it('checkNumerics(t, message) names the message; disabled checks let NaN flow', () => {
    assert.throws(() => debugging.checkNumerics(strata.tensor([1, NaN]), 'after softmax'), /after softmax: tensor of shape \[2\] holds NaN at element 1/);
    assert.ok(Number.isNaN(ops.log(strata.tensor([-1])).item()));
  });
});

describe('what really ran, eager/graph parity, determinism', () => {
  it('traceModel shows ops a custom call() hides from summary()', () => {
    class Hidden extends strata.Model {
      dense = new layers.Dense(4, { name: 'proj' });
      override call(x: Tensor) {
        const h = this.dense.apply(x);
        return ops.softmax(ops.multiply(h, h)); // not in any sublayer
      }
    }
    const model = new Hidden({ name: 'hidden' });
    const trace = debugging.traceModel(model, strata.ones([2, 3]));
    assert.equal(trace.hidden.length, 1);
    assert.equal(trace.hidden[0].path, 'hidden');
    assert.ok(trace.hidden[0].hiddenOps.some((o) => o.op === 'multiply'));
    const projOps = trace.layers.find((l) => l.path === 'hidden/proj')!;
    assert.equal(projOps.flops, 2 * 2 * 4 * 3 + 2 * 4);
    assert.match(String(trace), /layer 'hidden' runs \d+ ops in its own call\(\) that summary\(\) does not list/);
    const lines: string[] = [];
    const seq = healthy();
    seq.summary({ expandOps: true, printFn: (l) => lines.push(l) });
    assert.ok(lines.some((l) => /matmul/.test(l)));
  });

  it('compareEagerAndGraph says identical for a healthy model', async () => {
    const report = await debugging.compareEagerAndGraph(healthy(), randomTensor([3, 4], 9, -1, 1, 'float32'));
    assert.ok(report.identical, String(report));
    assert.match(String(report), /^identical: \d+ ops agree/);
  });

  it('compareEagerAndGraph finds the first diverging op (JavaScript randomness frozen by tracing)', async () => {
    let calls = 0;
    const f = (x: Tensor) => {
      calls++;
      return ops.multiply(ops.exp(x), calls); // a JavaScript counter read during tracing
    };
    const report = await debugging.compareEagerAndGraph(f, strata.tensor([0.5, 1]));
    assert.equal(report.identical, false);
    assert.equal(report.divergence?.op, 'multiply');
  });

  it('a traced function reading Math.random() is warned about', async () => {
    const f = strata.fn((x: Tensor) => ops.add(x, Math.random()), { name: 'jittery' });
    const { warnings } = await captureWarnings(() => f(strata.tensor([1])));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /strata\.fn 'jittery' called Math\.random\(\) while being traced\. The value read during tracing is frozen into the graph/);
  });

  it('checkDeterminism reports identical runs (dropout included) and leaves the model unchanged', async () => {
    strata.random.setRandomSeed(6);
    const model = new strata.Sequential([strata.Input({ shape: [4] }), new layers.Dense(8, { activation: 'relu' }), new layers.Dropout(0.4), new layers.Dense(1)]);
    model.compile({ optimizer: 'adam', loss: 'mse' });
    const { x, y } = data();
    const before = model.getWeights().map((w) => [...w.dataSync()]);
    const report = await debugging.checkDeterminism(model, x, y, { steps: 3, batchSize: 8 });
    assert.ok(report.deterministic, String(report));
    assert.deepEqual(model.getWeights().map((w) => [...w.dataSync()]), before);
  });
});
