/**
 * Optimizer update rules: three steps of each optimizer on a small quadratic
 * (gradient `c * w + d`) compared with the published update rules written
 * here in plain JavaScript numbers (float64), independently of the ops.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import * as optimizers from '../../src/optimizers/index.ts';
import { Optimizer } from '../../src/optimizers/optimizer.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { captureWarnings } from '../../src/engine/warnings.ts';
import { NonNeg } from '../../src/constraints/index.ts';
import { assertClose } from '../helpers/close.ts';

const { ops } = strata;
const { schedules } = optimizers;

// ---------------------------------------------------------------------------
// The problem: two variables, gradient g = c * w + d (elementwise).

const INIT = [
  [0.5, -1.2, 2.0],
  [0.3, -0.7, 1.1, -2.5],
];
const C = [
  [1.0, 2.0, 0.5],
  [3.0, 0.2, 1.5, 0.8],
];
const D = [
  [0.1, -0.3, 0.0],
  [-0.2, 0.4, 0.05, 0.3],
];

type Vec = number[];
const gradOf = (w: Vec[], k: number): Vec => w[k].map((x, i) => C[k][i] * x + D[k][i]);

function makeVars(names = ['w1', 'w2']): strata.Variable[] {
  return [
    new strata.Variable(strata.tensor(INIT[0]), { name: names[0] }),
    new strata.Variable(strata.tensor(INIT[1], [2, 2]), { name: names[1] }),
  ];
}

function gradTensors(vars: strata.Variable[]): Tensor[] {
  return vars.map((v, k) => ops.add(ops.multiply(strata.tensor(C[k], v.shape as number[]), v.value), strata.tensor(D[k], v.shape as number[])));
}

/** Runs `steps` applies and returns the variables' values after each step. */
function run(opt: Optimizer, steps = 3, vars = makeVars(), grads: (vars: strata.Variable[], step: number) => (Tensor | null)[] = (vs) => gradTensors(vs)): number[][][] {
  const history: number[][][] = [];
  for (let s = 0; s < steps; s++) {
    opt.apply(grads(vars, s), vars);
    history.push(vars.map((v) => [...v.value.dataSync()]));
  }
  return history;
}

/** A reference optimizer: per-variable state and an elementwise step (t is 1-based). */
interface Ref<S> {
  init(n: number): S;
  step(w: Vec, g: Vec, s: S, t: number, lr: number): void;
  /** Per-step work shared by all variables (Nadam's u_product). */
  beforeStep?(t: number): void;
}

function runRef<S>(ref: Ref<S>, steps = 3, lr: (t: number) => number = () => 0.1, gradFn: (w: Vec[], k: number, step: number) => Vec = (w, k) => gradOf(w, k)): number[][][] {
  const w = INIT.map((x) => [...x]);
  const states = w.map((x) => ref.init(x.length));
  const history: number[][][] = [];
  for (let t = 1; t <= steps; t++) {
    const gs = w.map((_, k) => gradFn(w, k, t - 1));
    ref.beforeStep?.(t);
    w.forEach((x, k) => ref.step(x, gs[k], states[k], t, lr(t)));
    history.push(w.map((x) => [...x]));
  }
  return history;
}

function assertHistory(actual: number[][][], expected: number[][][], label: string, tol = { rtol: 2e-5, atol: 1e-6 }): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((step, s) => step.forEach((v, k) => assertClose(v, expected[s][k], tol, `${label} step ${s + 1} variable ${k}`)));
  // Something must have moved, or the comparison proves little.
  assert.notDeepEqual(expected[expected.length - 1], INIT, `${label}: the reference did not move`);
}

const zeros = (n: number) => new Array<number>(n).fill(0);
/**
 * Keras raises the float32-cast betas to the step (`power(cast(beta, dtype), t)`);
 * float32 0.999 is 0.99900001, which shifts `1 - beta2^t` by ~1e-5 relative.
 * The references round those constants the same way for float32 variables.
 */
type Round = (x: number) => number;
const f32: Round = Math.fround;

// ---------------------------------------------------------------------------
// Reference update rules (from the papers / Keras docs).

const sgdRef = (momentum: number, nesterov: boolean): Ref<{ m: Vec }> => ({
  init: (n) => ({ m: zeros(n) }),
  step(w, g, s, _t, lr) {
    for (let i = 0; i < w.length; i++) {
      if (momentum === 0) {
        w[i] -= lr * g[i];
        continue;
      }
      s.m[i] = momentum * s.m[i] - lr * g[i];
      w[i] += nesterov ? momentum * s.m[i] - lr * g[i] : s.m[i];
    }
  },
});

const adamRef = (b1: number, b2: number, eps: number, amsgrad: boolean, r: Round = f32): Ref<{ m: Vec; v: Vec; vhat: Vec }> => ({
  init: (n) => ({ m: zeros(n), v: zeros(n), vhat: zeros(n) }),
  step(w, g, s, t, lr) {
    for (let i = 0; i < w.length; i++) {
      s.m[i] = b1 * s.m[i] + (1 - b1) * g[i];
      s.v[i] = b2 * s.v[i] + (1 - b2) * g[i] * g[i];
      s.vhat[i] = Math.max(s.vhat[i], s.v[i]);
      const alpha = (lr * Math.sqrt(1 - r(b2) ** t)) / (1 - r(b1) ** t);
      w[i] -= (alpha * s.m[i]) / (Math.sqrt(amsgrad ? s.vhat[i] : s.v[i]) + eps);
    }
  },
});

const rmspropRef = (rho: number, momentum: number, eps: number, centered: boolean): Ref<{ ms: Vec; mg: Vec; mom: Vec }> => ({
  init: (n) => ({ ms: zeros(n), mg: zeros(n), mom: zeros(n) }),
  step(w, g, s, _t, lr) {
    for (let i = 0; i < w.length; i++) {
      s.ms[i] = rho * s.ms[i] + (1 - rho) * g[i] * g[i];
      s.mg[i] = rho * s.mg[i] + (1 - rho) * g[i];
      const denom = centered ? s.ms[i] - s.mg[i] * s.mg[i] + eps : s.ms[i] + eps;
      const inc = (lr * g[i]) / Math.sqrt(denom);
      if (momentum > 0) {
        s.mom[i] = momentum * s.mom[i] + inc;
        w[i] -= s.mom[i];
      } else w[i] -= inc;
    }
  },
});

const adagradRef = (init: number, eps: number): Ref<{ acc: Vec }> => ({
  init: (n) => ({ acc: new Array<number>(n).fill(init) }),
  step(w, g, s, _t, lr) {
    for (let i = 0; i < w.length; i++) {
      s.acc[i] += g[i] * g[i];
      w[i] -= (lr * g[i]) / Math.sqrt(s.acc[i] + eps);
    }
  },
});

const adadeltaRef = (rho: number, eps: number): Ref<{ eg: Vec; ed: Vec }> => ({
  init: (n) => ({ eg: zeros(n), ed: zeros(n) }),
  step(w, g, s, _t, lr) {
    for (let i = 0; i < w.length; i++) {
      s.eg[i] = rho * s.eg[i] + (1 - rho) * g[i] * g[i];
      const delta = (-Math.sqrt(s.ed[i] + eps) * g[i]) / Math.sqrt(s.eg[i] + eps);
      s.ed[i] = rho * s.ed[i] + (1 - rho) * delta * delta;
      w[i] += lr * delta;
    }
  },
});

const adamaxRef = (b1: number, b2: number, eps: number, r: Round = f32): Ref<{ m: Vec; u: Vec }> => ({
  init: (n) => ({ m: zeros(n), u: zeros(n) }),
  step(w, g, s, t, lr) {
    for (let i = 0; i < w.length; i++) {
      s.m[i] = b1 * s.m[i] + (1 - b1) * g[i];
      s.u[i] = Math.max(b2 * s.u[i], Math.abs(g[i]));
      w[i] -= (lr * s.m[i]) / ((1 - r(b1) ** t) * (s.u[i] + eps));
    }
  },
});

function nadamRef(b1: number, b2: number, eps: number, r: Round = f32): Ref<{ m: Vec; v: Vec }> {
  let uProduct = 1;
  const mu = (t: number) => b1 * (1 - 0.5 * r(0.96) ** t);
  return {
    init: (n) => ({ m: zeros(n), v: zeros(n) }),
    beforeStep(t) {
      uProduct *= mu(t);
    },
    step(w, g, s, t, lr) {
      for (let i = 0; i < w.length; i++) {
        s.m[i] = b1 * s.m[i] + (1 - b1) * g[i];
        s.v[i] = b2 * s.v[i] + (1 - b2) * g[i] * g[i];
        const mHat = (mu(t + 1) * s.m[i]) / (1 - uProduct * mu(t + 1)) + ((1 - mu(t)) * g[i]) / (1 - uProduct);
        const vHat = s.v[i] / (1 - r(b2) ** t);
        w[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
      }
    },
  };
}

const lionRef = (b1: number, b2: number): Ref<{ m: Vec }> => ({
  init: (n) => ({ m: zeros(n) }),
  step(w, g, s, _t, lr) {
    for (let i = 0; i < w.length; i++) {
      w[i] -= lr * Math.sign(b1 * s.m[i] + (1 - b1) * g[i]);
      s.m[i] = b2 * s.m[i] + (1 - b2) * g[i];
    }
  },
});

// ---------------------------------------------------------------------------

describe('optimizers: update rules match the published rules over 3 steps', () => {
  const cases: [string, () => Optimizer, Ref<any>][] = [
    ['SGD', () => new optimizers.SGD({ learningRate: 0.1 }), sgdRef(0, false)],
    ['SGD momentum', () => new optimizers.SGD({ learningRate: 0.1, momentum: 0.9 }), sgdRef(0.9, false)],
    ['SGD nesterov', () => new optimizers.SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true }), sgdRef(0.9, true)],
    ['Adam', () => new optimizers.Adam({ learningRate: 0.1 }), adamRef(0.9, 0.999, 1e-7, false)],
    ['Adam custom betas', () => new optimizers.Adam({ learningRate: 0.1, beta1: 0.8, beta2: 0.95, epsilon: 1e-3 }), adamRef(0.8, 0.95, 1e-3, false)],
    // Gradients shrink along the path, so v_hat (the max) differs from v by step 3.
    ['Adam amsgrad', () => new optimizers.Adam({ learningRate: 0.1, beta2: 0.5, amsgrad: true }), adamRef(0.9, 0.5, 1e-7, true)],
    ['RMSprop', () => new optimizers.RMSprop({ learningRate: 0.1 }), rmspropRef(0.9, 0, 1e-7, false)],
    ['RMSprop momentum', () => new optimizers.RMSprop({ learningRate: 0.1, momentum: 0.5 }), rmspropRef(0.9, 0.5, 1e-7, false)],
    ['RMSprop centered', () => new optimizers.RMSprop({ learningRate: 0.1, centered: true, rho: 0.8 }), rmspropRef(0.8, 0, 1e-7, true)],
    ['RMSprop centered momentum', () => new optimizers.RMSprop({ learningRate: 0.1, centered: true, momentum: 0.3 }), rmspropRef(0.9, 0.3, 1e-7, true)],
    ['Adagrad', () => new optimizers.Adagrad({ learningRate: 0.1 }), adagradRef(0.1, 1e-7)],
    ['Adagrad initial accumulator', () => new optimizers.Adagrad({ learningRate: 0.1, initialAccumulatorValue: 0.5, epsilon: 1e-4 }), adagradRef(0.5, 1e-4)],
    ['Adadelta', () => new optimizers.Adadelta({ learningRate: 1.0 }), adadeltaRef(0.95, 1e-7)],
    ['Adadelta rho/epsilon', () => new optimizers.Adadelta({ learningRate: 1.0, rho: 0.5, epsilon: 1e-3 }), adadeltaRef(0.5, 1e-3)],
    ['Adamax', () => new optimizers.Adamax({ learningRate: 0.1 }), adamaxRef(0.9, 0.999, 1e-7)],
    ['Nadam', () => new optimizers.Nadam({ learningRate: 0.1 }), nadamRef(0.9, 0.999, 1e-7)],
    ['Lion', () => new optimizers.Lion({ learningRate: 0.1 }), lionRef(0.9, 0.99)],
  ];
  for (const [label, make, ref] of cases) {
    it(label, () => {
      const lr = label.startsWith('Adadelta') ? 1.0 : 0.1;
      assertHistory(run(make()), runRef(ref, 3, () => lr), label);
    });
  }

  it('amsgrad changes the result (the case above exercises v_hat)', () => {
    const plain = runRef(adamRef(0.9, 0.5, 1e-7, false));
    const ams = runRef(adamRef(0.9, 0.5, 1e-7, true));
    assert.notDeepEqual(plain[2], ams[2]);
  });

  it('AdamW: Adam after decoupled weight decay (default 0.004)', () => {
    const opt = new optimizers.AdamW({ learningRate: 0.1 });
    assert.equal(opt.weightDecay, 0.004);
    const adam = adamRef(0.9, 0.999, 1e-7, false);
    const ref: Ref<ReturnType<typeof adam.init>> = {
      init: adam.init,
      step(w, g, s, t, lr) {
        for (let i = 0; i < w.length; i++) w[i] -= w[i] * 0.004 * lr;
        adam.step(w, g, s, t, lr);
      },
    };
    assertHistory(run(opt), runRef(ref), 'AdamW');
  });

  it('works on float64 variables (slots and arithmetic in float64)', () => {
    const vars = [new strata.Variable(strata.tensor(new Float64Array(INIT[0]))), new strata.Variable(strata.tensor(new Float64Array(INIT[1]), [2, 2]))];
    const opt = new optimizers.Adam({ learningRate: 0.1 });
    const history = run(opt, 3, vars);
    assert.ok(opt.variables.slice(2).every((v) => v.dtype === 'float64'));
    // The learning rate lives in a float32 variable (as Keras), so the reference uses float32 0.1.
    assertHistory(history, runRef(adamRef(0.9, 0.999, 1e-7, false, (x) => x), 3, () => Math.fround(0.1)), 'Adam float64', { rtol: 1e-8, atol: 1e-9 });
  });
});

describe('optimizers: gradient processing', () => {
  const sgd = sgdRef(0, false);

  it('clipnorm clips each gradient to the L2 norm', () => {
    const clip = 0.5;
    const ref = runRef(sgd, 3, () => 0.1, (w, k) => {
      const g = gradOf(w, k);
      const norm = Math.sqrt(g.reduce((a, x) => a + x * x, 0));
      return g.map((x) => (x * clip) / Math.max(norm, clip));
    });
    assertHistory(run(new optimizers.SGD({ learningRate: 0.1, clipnorm: clip })), ref, 'clipnorm');
    // And it differs from unclipped SGD.
    assert.notDeepEqual(ref[2], runRef(sgd)[2]);
  });

  it('clipnorm leaves an all-zero gradient at zero (no NaN)', () => {
    const vars = makeVars();
    new optimizers.SGD({ learningRate: 0.1, clipnorm: 1 }).apply(vars.map((v) => ops.zerosLike(v.value)), vars);
    assertClose(vars[0].value, INIT[0]);
  });

  it('clipvalue clips elementwise', () => {
    const clip = 0.4;
    const ref = runRef(sgd, 3, () => 0.1, (w, k) => gradOf(w, k).map((x) => Math.min(Math.max(x, -clip), clip)));
    assertHistory(run(new optimizers.SGD({ learningRate: 0.1, clipvalue: clip })), ref, 'clipvalue');
    assert.notDeepEqual(ref[2], runRef(sgd)[2]);
  });

  it('globalClipnorm scales all gradients by the global norm', () => {
    const clip = 1.0;
    const w = INIT.map((x) => [...x]);
    const expected: number[][][] = [];
    for (let t = 0; t < 3; t++) {
      const gs = w.map((_, k) => gradOf(w, k));
      const norm = Math.sqrt(gs.flat().reduce((a, x) => a + x * x, 0));
      const scale = clip / Math.max(norm, clip);
      w.forEach((x, k) => x.forEach((_, i) => (x[i] -= 0.1 * gs[k][i] * scale)));
      expected.push(w.map((x) => [...x]));
    }
    assertHistory(run(new optimizers.SGD({ learningRate: 0.1, globalClipnorm: clip })), expected, 'globalClipnorm');
    assert.notDeepEqual(expected[2], runRef(sgd)[2]);
  });

  it('lossScaleFactor divides the gradients; scaleLoss multiplies the loss', () => {
    const opt = new optimizers.SGD({ learningRate: 0.1, lossScaleFactor: 4 });
    const history = run(opt, 3, makeVars(), (vs) => gradTensors(vs).map((g) => ops.multiply(g, 4)));
    assertHistory(history, runRef(sgd), 'lossScaleFactor');
    assertClose(opt.scaleLoss(strata.tensor(2)), 8);
  });

  it('weightDecay: v -= v * wd * lr before the update, except excluded variables', () => {
    const wd = 0.5;
    const opt = new optimizers.SGD({ learningRate: 0.1, weightDecay: wd });
    opt.excludeFromWeightDecay({ varNames: ['bias'] });
    const vars = makeVars(['kernel_wd', 'bias_wd']);
    const history = run(opt, 3, vars);
    const ref: Ref<{ m: Vec; decay: boolean }> = {
      init: () => ({ m: [], decay: true }),
      step(w, g, s, _t, lr) {
        for (let i = 0; i < w.length; i++) {
          if (w.length === 3) w[i] -= w[i] * wd * lr; // the first variable ('kernel_wd') decays
          w[i] -= lr * g[i];
        }
      },
    };
    assertHistory(history, runRef(ref), 'weightDecay');
    assert.notDeepEqual(history[2][0], runRef(sgd)[2][0]);
    assertClose(history[2][1], runRef(sgd)[2][1], { rtol: 2e-5 }, 'excluded variable has no decay');
  });

  it('excludeFromWeightDecay by variable list', () => {
    const vars = makeVars();
    const opt = new optimizers.SGD({ learningRate: 0.1, weightDecay: 0.5 });
    opt.excludeFromWeightDecay({ varList: [vars[0]] });
    const history = run(opt, 1, vars);
    const plain = runRef(sgd, 1);
    assertClose(history[0][0], plain[0][0], { rtol: 2e-5 }, 'excluded');
    assert.notDeepEqual(history[0][1].map((x) => x.toFixed(5)), plain[0][1].map((x) => x.toFixed(5)));
  });

  it('a null gradient leaves its variable unchanged, with a warning', async () => {
    const vars = makeVars(['has_grad', 'no_grad']);
    const opt = new optimizers.Adam({ learningRate: 0.1 });
    const { warnings } = await captureWarnings(() => run(opt, 2, vars, (vs) => [gradTensors(vs)[0], null]));
    assertClose(vars[1].value, INIT[1]);
    assert.notDeepEqual([...vars[0].value.dataSync()], INIT[0]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /Gradients do not exist for variables \['no_grad'\]/);
    // Its slots are untouched too.
    const slots = opt.variables.filter((v) => v.name.startsWith('no_grad'));
    assert.equal(slots.length, 2);
    slots.forEach((s) => assertClose(s.value, [0, 0, 0, 0]));
    assertClose(opt.iterations.value, 2);
  });

  it('applies variable constraints after the update', () => {
    const vars = makeVars();
    vars.forEach((v) => (v.constraint = new NonNeg()));
    run(new optimizers.SGD({ learningRate: 0.1 }), 1, vars);
    const ref = runRef(sgd, 1)[0];
    vars.forEach((v, k) => assertClose(v.value, ref[k].map((x) => Math.max(x, 0)), { rtol: 2e-5 }));
  });

  it('a LearningRateSchedule is evaluated at iterations (before the increment)', () => {
    const schedule = new schedules.ExponentialDecay({ initialLearningRate: 0.2, decaySteps: 2, decayRate: 0.5 });
    const opt = new optimizers.SGD({ learningRate: schedule });
    const ref = runRef(sgd, 3, (t) => 0.2 * 0.5 ** ((t - 1) / 2));
    assertHistory(run(opt), ref, 'schedule');
    assertClose(opt.learningRate, 0.2 * 0.5 ** 1.5, { rtol: 1e-6 }, 'learningRate getter evaluates the schedule');
  });

  it('applyGradients takes [gradient, variable] pairs and returns iterations', () => {
    const vars = makeVars();
    const opt = new optimizers.SGD({ learningRate: 0.1 });
    const grads = gradTensors(vars);
    const it = opt.applyGradients(grads.map((g, i) => [g, vars[i]] as const));
    assert.equal(it, opt.iterations);
    assertClose(it.value, 1);
    assertClose(vars[0].value, runRef(sgd, 1)[0][0], { rtol: 2e-5 });
    // Later calls may omit the variables.
    opt.apply(gradTensors(vars));
    assertClose(vars[0].value, runRef(sgd, 2)[1][0], { rtol: 2e-5 });
  });
});

describe('optimizers: EMA', () => {
  it('keeps moving averages (the first step copies the variable) and finalizeVariableValues writes them', () => {
    const vars = makeVars();
    const opt = new optimizers.SGD({ learningRate: 0.1, useEma: true, emaMomentum: 0.8 });
    const history = run(opt, 3, vars);
    const ref = runRef(sgdRef(0, false));
    assertHistory(history, ref, 'EMA leaves the SGD path unchanged');
    // avg_1 = w_1; avg_t = 0.8 avg + 0.2 w_t.
    const avg = ref[0].map((x) => [...x]);
    for (let t = 1; t < 3; t++) avg.forEach((a, k) => a.forEach((_, i) => (a[i] = 0.8 * a[i] + 0.2 * ref[t][k][i])));
    const averages = opt.variables.filter((v) => v.name.endsWith('_average'));
    assert.equal(averages.length, 2);
    averages.forEach((a, k) => assertClose(a.value, avg[k], { rtol: 2e-5 }, `average ${k}`));
    opt.finalizeVariableValues();
    vars.forEach((v, k) => assertClose(v.value, avg[k], { rtol: 2e-5 }, `finalized ${k}`));
  });

  it('emaOverwriteFrequency overwrites the variables with their averages every N steps', () => {
    const vars = makeVars();
    const opt = new optimizers.SGD({ learningRate: 0.1, useEma: true, emaMomentum: 0.5, emaOverwriteFrequency: 2 });
    const history = run(opt, 3, vars);
    const w = INIT.map((x) => [...x]);
    const avg = INIT.map((x) => x.map(() => 0));
    const expected: number[][][] = [];
    for (let it = 0; it < 3; it++) {
      const gs = w.map((_, k) => gradOf(w, k));
      w.forEach((x, k) => x.forEach((_, i) => (x[i] -= 0.1 * gs[k][i])));
      const m = it === 0 ? 0 : 0.5;
      avg.forEach((a, k) => a.forEach((_, i) => (a[i] = m * a[i] + (1 - m) * w[k][i])));
      if ((it + 1) % 2 === 0) w.forEach((x, k) => x.forEach((_, i) => (x[i] = avg[k][i])));
      expected.push(w.map((x) => [...x]));
    }
    assertHistory(history, expected, 'EMA overwrite');
    // Step 2 was overwritten: the variables equal the averages then.
    assertClose(history[1][0], expected[1][0], { rtol: 2e-5 });
  });

  it('finalizeVariableValues does nothing without EMA', () => {
    const vars = makeVars();
    const opt = new optimizers.SGD({ learningRate: 0.1 });
    run(opt, 1, vars);
    const before = [...vars[0].value.dataSync()];
    opt.finalizeVariableValues();
    assert.deepEqual([...vars[0].value.dataSync()], before);
  });
});

describe('optimizers: gradient accumulation', () => {
  it('SGD with momentum updates every N steps with the mean gradient', () => {
    const steps = 3;
    const vars = makeVars();
    const opt = new optimizers.SGD({ learningRate: 0.1, momentum: 0.5, gradientAccumulationSteps: steps });
    const history = run(opt, 7, vars);
    const w = INIT.map((x) => [...x]);
    const acc = INIT.map((x) => x.map(() => 0));
    const mom = INIT.map((x) => x.map(() => 0));
    const expected: number[][][] = [];
    for (let it = 0; it < 7; it++) {
      const gs = w.map((_, k) => gradOf(w, k));
      if ((it + 1) % steps === 0) {
        w.forEach((x, k) =>
          x.forEach((_, i) => {
            const g = (gs[k][i] + acc[k][i]) / steps;
            mom[k][i] = 0.5 * mom[k][i] - 0.1 * g;
            x[i] += mom[k][i];
            acc[k][i] = 0;
          }),
        );
      } else acc.forEach((a, k) => a.forEach((_, i) => (a[i] += gs[k][i])));
      expected.push(w.map((x) => [...x]));
    }
    assertHistory(history, expected, 'accumulation');
    // Nothing moves on the first two steps.
    assertClose(history[1][0], INIT[0]);
    assert.notDeepEqual(history[2][0], INIT[0]);
    // The accumulators hold the gradient of step 7 (step 6 was an update).
    const accs = opt.variables.filter((v) => v.name.endsWith('_gradient_accumulator'));
    assertClose(accs[0].value, acc[0], { rtol: 2e-5 });
    assertClose(opt.iterations.value, 7);
  });

  it('Adam counts update steps (iterations // N) for its bias correction', () => {
    const steps = 2;
    const opt = new optimizers.Adam({ learningRate: 0.1, gradientAccumulationSteps: steps });
    const history = run(opt, 6);
    const adam = adamRef(0.9, 0.999, 1e-7, false);
    const w = INIT.map((x) => [...x]);
    const states = w.map((x) => adam.init(x.length));
    const acc = INIT.map((x) => x.map(() => 0));
    const expected: number[][][] = [];
    for (let it = 0; it < 6; it++) {
      const gs = w.map((_, k) => gradOf(w, k));
      if ((it + 1) % steps === 0) {
        const t = Math.floor(it / steps) + 1;
        w.forEach((x, k) => adam.step(x, gs[k].map((g, i) => (g + acc[k][i]) / steps), states[k], t, 0.1));
        acc.forEach((a) => a.fill(0));
      } else acc.forEach((a, k) => a.forEach((_, i) => (a[i] += gs[k][i])));
      expected.push(w.map((x) => [...x]));
    }
    assertHistory(history, expected, 'Adam accumulation');
  });

  it('Nadam accumulates too (its shared u_product only changes on update steps)', () => {
    const opt = new optimizers.Nadam({ learningRate: 0.1, gradientAccumulationSteps: 2 });
    run(opt, 3);
    const u = opt.variables[opt.variables.length - 1];
    assert.equal(u.name, 'u_product');
    assertClose(u.value, 0.9 * (1 - 0.5 * 0.96), { rtol: 1e-6 });
  });
});

describe('optimizers.schedules: values', () => {
  const at = (s: optimizers.LearningRateSchedule, step: number) => s.call(step).item();
  const close = (a: number, b: number, label: string) => assertClose(a, b, { rtol: 1e-5, atol: 1e-8 }, label);

  it('ExponentialDecay (continuous and staircase)', () => {
    const s = new schedules.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 });
    const st = new schedules.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true });
    for (const step of [0, 5, 10, 25]) {
      close(at(s, step), 0.1 * 0.5 ** (step / 10), `exp ${step}`);
      close(at(st, step), 0.1 * 0.5 ** Math.floor(step / 10), `staircase ${step}`);
    }
  });

  it('PiecewiseConstantDecay (boundaries are inclusive on the left interval)', () => {
    const s = new schedules.PiecewiseConstantDecay({ boundaries: [3, 6], values: [1.0, 0.5, 0.1] });
    const expected = (step: number) => (step <= 3 ? 1.0 : step <= 6 ? 0.5 : 0.1);
    for (const step of [0, 3, 4, 6, 7, 100]) close(at(s, step), expected(step), `piecewise ${step}`);
    // An int32 step tensor (as iterations) works the same.
    close(s.call(strata.scalar(5, 'int32')).item(), 0.5, 'int32 step');
  });

  it('PolynomialDecay (clamped and cycling)', () => {
    const s = new schedules.PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 0.01, power: 0.5 });
    const c = new schedules.PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 0.01, power: 2, cycle: true });
    for (const step of [0, 4, 10, 15]) {
      const p = Math.min(step, 10) / 10;
      close(at(s, step), (0.1 - 0.01) * (1 - p) ** 0.5 + 0.01, `poly ${step}`);
      const ds = 10 * (step === 0 ? 1 : Math.ceil(step / 10));
      close(at(c, step), (0.1 - 0.01) * (1 - step / ds) ** 2 + 0.01, `cycle ${step}`);
    }
  });

  it('InverseTimeDecay', () => {
    const s = new schedules.InverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 4, decayRate: 0.5 });
    const st = new schedules.InverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 4, decayRate: 0.5, staircase: true });
    for (const step of [0, 3, 8, 13]) {
      close(at(s, step), 0.1 / (1 + (0.5 * step) / 4), `inverse ${step}`);
      close(at(st, step), 0.1 / (1 + 0.5 * Math.floor(step / 4)), `inverse staircase ${step}`);
    }
  });

  it('CosineDecay, with and without warmup', () => {
    const cosine = (step: number, steps: number, from: number, alpha: number) => from * ((1 - alpha) * 0.5 * (1 + Math.cos((Math.PI * Math.min(step, steps)) / steps)) + alpha);
    const s = new schedules.CosineDecay({ initialLearningRate: 0.1, decaySteps: 10, alpha: 0.1 });
    for (const step of [0, 5, 10, 20]) close(at(s, step), cosine(step, 10, 0.1, 0.1), `cosine ${step}`);
    const w = new schedules.CosineDecay({ initialLearningRate: 0.0, decaySteps: 10, warmupTarget: 0.2, warmupSteps: 4 });
    for (const step of [0, 2, 4, 9, 14, 30]) {
      const expected = step < 4 ? (0.2 * step) / 4 : cosine(Math.min(step, 14) - 4, 10, 0.2, 0);
      close(at(w, step), expected, `warmup ${step}`);
    }
  });

  it('CosineDecayRestarts (t_mul 1 and geometric periods)', () => {
    const ref = (step: number, first: number, tMul: number, mMul: number, alpha: number) => {
      let frac = step / first;
      let i: number;
      if (tMul === 1) {
        i = Math.floor(frac);
        frac -= i;
      } else {
        i = Math.floor(Math.log(1 - frac * (1 - tMul)) / Math.log(tMul));
        const sum = (1 - tMul ** i) / (1 - tMul);
        frac = (frac - sum) / tMul ** i;
      }
      return 0.1 * ((1 - alpha) * 0.5 * mMul ** i * (1 + Math.cos(Math.PI * frac)) + alpha);
    };
    const a = new schedules.CosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 4, tMul: 1, mMul: 0.5 });
    const b = new schedules.CosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 4, alpha: 0.05 });
    for (const step of [0, 2, 5, 9, 13, 27]) {
      close(at(a, step), ref(step, 4, 1, 0.5, 0), `restarts t_mul=1 ${step}`);
      close(at(b, step), ref(step, 4, 2, 1, 0.05), `restarts t_mul=2 ${step}`);
    }
  });

  it('schedules give the same values inside strata.fn', async () => {
    const all = [
      new schedules.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 3, decayRate: 0.7, staircase: true }),
      new schedules.PiecewiseConstantDecay({ boundaries: [2, 5], values: [0.3, 0.2, 0.1] }),
      new schedules.PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 5, cycle: true }),
      new schedules.InverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 2, decayRate: 1 }),
      new schedules.CosineDecay({ initialLearningRate: 0.01, decaySteps: 6, warmupTarget: 0.1, warmupSteps: 3 }),
      new schedules.CosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 3 }),
    ];
    const f = strata.fn((step: Tensor) => all.map((s) => s.call(step)), { name: 'schedules' });
    for (const step of [0, 4, 11]) {
      const graph = await f(strata.scalar(step, 'int32'));
      graph.forEach((g, i) => assertClose(g, all[i].call(step), { rtol: 1e-6 }, `${all[i].constructor.name} at ${step}`));
    }
    assert.equal(f.traceCount, 1);
  });
});
