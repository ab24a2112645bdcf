/**
 * Eager vs compiled: a whole training step (forward, GradientTape, and
 * optimizer.apply) run eagerly and inside strata.fn gives the same model and
 * optimizer variables, on ONNX Runtime and on the interpreter.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import * as optimizers from '../../src/optimizers/index.ts';
import type { Optimizer } from '../../src/optimizers/optimizer.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';
import { withExecutor } from '../helpers/graph.ts';

const { ops } = strata;
const { schedules } = optimizers;

/** A two-layer model with its weights in variables, and one training step written with ops. */
function makeProblem(seed: number, opt: Optimizer) {
  const w1 = new strata.Variable(randomTensor([4, 5], seed, -0.5, 0.5, 'float32'), { name: 'kernel' });
  const b1 = new strata.Variable(randomTensor([5], seed + 1, -0.1, 0.1, 'float32'), { name: 'bias' });
  const w2 = new strata.Variable(randomTensor([5, 2], seed + 2, -0.5, 0.5, 'float32'), { name: 'kernel_2' });
  const vars = [w1, b1, w2];
  // matmul as broadcast multiply + sum, so this test does not depend on the linalg family.
  const mm = (a: Tensor, w: strata.Variable) => ops.sum(ops.multiply(ops.expandDims(a, -1), w), 1);
  const loss = (x: Tensor, y: Tensor) => ops.mean(ops.square(ops.subtract(mm(ops.tanh(ops.add(mm(x, w1), b1)), w2), y)));
  const step = (x: Tensor, y: Tensor) => {
    const tape = new strata.GradientTape();
    const l = tape.record(() => loss(x, y));
    opt.apply(tape.gradient(l, vars), vars);
    return l;
  };
  return { vars, step, opt };
}

const X = randomTensor([6, 4], 31, -1, 1, 'float32');
const Y = randomTensor([6, 2], 32, -1, 1, 'float32');
const TOL = { rtol: 1e-5, atol: 1e-6 };

const CASES: [string, () => Optimizer][] = [
  ['SGD', () => new optimizers.SGD({ learningRate: 0.1 })],
  ['SGD nesterov', () => new optimizers.SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true })],
  ['Adam', () => new optimizers.Adam({ learningRate: 0.05 })],
  ['Adam amsgrad + clipnorm', () => new optimizers.Adam({ learningRate: 0.05, amsgrad: true, clipnorm: 0.5 })],
  ['AdamW', () => new optimizers.AdamW({ learningRate: 0.05, weightDecay: 0.1 })],
  ['RMSprop centered momentum', () => new optimizers.RMSprop({ learningRate: 0.01, centered: true, momentum: 0.5 })],
  ['Adagrad + clipvalue', () => new optimizers.Adagrad({ learningRate: 0.1, clipvalue: 0.05 })],
  ['Adadelta', () => new optimizers.Adadelta({ learningRate: 1.0 })],
  ['Adamax + globalClipnorm', () => new optimizers.Adamax({ learningRate: 0.05, globalClipnorm: 0.1 })],
  ['Nadam', () => new optimizers.Nadam({ learningRate: 0.05 })],
  ['Lion', () => new optimizers.Lion({ learningRate: 0.01 })],
  ['Adam + EMA overwrite + gradient accumulation', () => new optimizers.Adam({ learningRate: 0.05, useEma: true, emaMomentum: 0.9, emaOverwriteFrequency: 2, gradientAccumulationSteps: 2 })],
  ['SGD momentum + schedule', () => new optimizers.SGD({ learningRate: new schedules.CosineDecay({ initialLearningRate: 0.01, decaySteps: 4, warmupTarget: 0.2, warmupSteps: 2 }), momentum: 0.5 })],
  ['Nadam + gradient accumulation + weight decay', () => new optimizers.Nadam({ learningRate: 0.05, gradientAccumulationSteps: 3, weightDecay: 0.2 })],
];

describe('optimizers: eager and compiled training steps agree (5 steps)', () => {
  for (const executor of ['onnxruntime', 'interpreter'] as const) {
    for (const [label, make] of CASES) {
      it(`${label} (${executor})`, async () => {
        const eager = makeProblem(7, make());
        const graph = makeProblem(7, make());
        // The optimizer is first applied inside the trace: its slots are created eagerly there.
        const step = strata.fn(graph.step, { name: 'train_step' });
        await withExecutor(executor, async () => {
          for (let i = 0; i < 5; i++) {
            const le = eager.step(X, Y);
            const lg = await step(X, Y);
            assertClose(lg, le, TOL, `${label}: loss at step ${i}`);
          }
          assert.match(await step.concreteFunctions()[0].executorKind(), executor === 'onnxruntime' ? /^onnxruntime/ : /^interpreter$/);
        });
        assert.equal(step.traceCount, 1);
        assert.equal(graph.opt.variables.length, eager.opt.variables.length);
        eager.vars.forEach((v, i) => assertClose(graph.vars[i].value, v.value, TOL, `${label}: ${v.name}`));
        eager.opt.variables.forEach((v, i) => assertClose(graph.opt.variables[i].value, v.value, TOL, `${label}: ${v.path}`));
        assertClose(graph.opt.iterations.value, 5);
        // The variables moved.
        assert.ok(eager.vars[0].value.dataSync().some((x, i) => Math.abs(x - randomTensor([4, 5], 7, -0.5, 0.5, 'float32').dataSync()[i]) > 1e-6), `${label}: nothing moved`);
      });
    }
  }

  it('the compiled step is one graph: no control flow, variable updates as outputs', () => {
    const p = makeProblem(3, new optimizers.Adam({ learningRate: 0.01, gradientAccumulationSteps: 2, useEma: true, emaOverwriteFrequency: 3 }));
    const text = strata.fn(p.step, { name: 'adam_step' }).graph(X, Y);
    assert.doesNotMatch(text, /= cond\(/);
    for (const path of ['kernel', 'adam(_\\d+)?/iteration', 'adam(_\\d+)?/kernel_momentum', 'adam(_\\d+)?/kernel_velocity', 'adam(_\\d+)?/kernel_gradient_accumulator', 'adam(_\\d+)?/kernel_average']) {
      assert.match(text, new RegExp(`update ${path} <- %\\d+`), path);
    }
  });

  it('a learning rate set between compiled steps (as ReduceLROnPlateau does) is used without retracing', async () => {
    const eager = makeProblem(5, new optimizers.SGD({ learningRate: 0.1 }));
    const graph = makeProblem(5, new optimizers.SGD({ learningRate: 0.1 }));
    const step = strata.fn(graph.step, { name: 'sgd_step' });
    eager.step(X, Y);
    await step(X, Y);
    eager.opt.learningRate = 0.01;
    graph.opt.learningRate = 0.01;
    assertClose(graph.opt.learningRate, Math.fround(0.01), { rtol: 0 });
    eager.step(X, Y);
    await step(X, Y);
    assert.equal(step.traceCount, 1);
    eager.vars.forEach((v, i) => assertClose(graph.vars[i].value, v.value, TOL, v.name));
    // And it differs from continuing at 0.1.
    const other = makeProblem(5, new optimizers.SGD({ learningRate: 0.1 }));
    other.step(X, Y);
    other.step(X, Y);
    assert.ok(Math.abs(other.vars[2].value.dataSync()[0] - eager.vars[2].value.dataSync()[0]) > 1e-7);
  });

  it('finalizeVariableValues after compiled EMA training copies the averages', async () => {
    const p = makeProblem(9, new optimizers.SGD({ learningRate: 0.1, useEma: true }));
    const step = strata.fn(p.step, { name: 'ema_step' });
    for (let i = 0; i < 3; i++) await step(X, Y);
    const averages = p.opt.variables.filter((v) => v.name.endsWith('_average'));
    assert.equal(averages.length, 3);
    p.opt.finalizeVariableValues();
    p.vars.forEach((v, i) => assertClose(v.value, averages[i].value, { rtol: 0, atol: 0 }));
  });
});
