import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as strata from '../../src/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import type { Layer } from '../../src/layers/layer.ts';
import type { Config } from '../../src/serialization/registry.ts';
import { loadKerasBytes, kerasFileBytes } from '../../src/saving/keras-file.ts';
import { collectSaveables } from '../../src/saving/walk.ts';
import { runLayerTest } from '../helpers/layer-test.ts';
import { assertClose, randomTensor, testRandom } from '../helpers/close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';

const { layers, ops } = strata;

const DTYPE = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const INIT = (className: string, config: Config) => ({ module: 'keras.initializers', class_name: className, config, registered_name: null });

/** A test-only block: Embedding(maskZero) then a recurrent layer, so the harness runs the RNN on a real mask. */
class MaskedBlock extends layers.Layer {
  static override readonly className = 'MaskedBlock';
  readonly kind: 'SimpleRNN' | 'LSTM' | 'GRU';
  readonly returnSequences: boolean;
  readonly embed: InstanceType<typeof layers.Embedding>;
  readonly rnn: Layer;
  constructor(options: { kind: 'SimpleRNN' | 'LSTM' | 'GRU'; returnSequences?: boolean; name?: string }) {
    super({ name: options.name });
    this.kind = options.kind;
    this.returnSequences = options.returnSequences ?? false;
    this.embed = new layers.Embedding(10, 3, { maskZero: true });
    this.rnn = new layers[this.kind](2, { returnSequences: this.returnSequences });
  }
  override call(x: Tensor): Tensor {
    return this.rnn.apply(this.embed.apply(x)) as Tensor;
  }
  override getConfig(): Config {
    return { ...super.getConfig(), kind: this.kind, return_sequences: this.returnSequences };
  }
  static override fromConfig(config: Config): MaskedBlock {
    return new MaskedBlock({ kind: config.kind as 'LSTM', returnSequences: config.return_sequences as boolean });
  }
}

const tokens = () => strata.tensor([[3, 1, 4, 0, 0], [0, 2, 7, 1, 8]], undefined, 'int32');

describe('layer test harness: recurrent layers', () => {
  const cases: Parameters<typeof runLayerTest>[0][] = [
    { name: 'SimpleRNN', make: () => new layers.SimpleRNN(3), inputShape: [2, 4, 5], expectedOutputShape: [2, 3], expectedWeightShapes: [[5, 3], [3, 3], [3]] },
    { name: 'SimpleRNNSeq', make: () => new layers.SimpleRNN(3, { returnSequences: true, activation: 'relu' }), inputShape: [2, 4, 5], expectedOutputShape: [2, 4, 3] },
    { name: 'LSTM', make: () => new layers.LSTM(3), inputShape: [2, 4, 5], expectedOutputShape: [2, 3], expectedTrainableWeights: 3, expectedWeightShapes: [[5, 12], [3, 12], [12]] },
    { name: 'LSTMSeq', make: () => new layers.LSTM(3, { returnSequences: true }), inputShape: [2, 4, 5], expectedOutputShape: [2, 4, 3] },
    { name: 'LSTMState', make: () => new layers.LSTM(3, { returnSequences: true, returnState: true }), inputShape: [2, 4, 5], expectedOutputShape: [[2, 4, 3], [2, 3], [2, 3]] },
    { name: 'LSTMBackwards', make: () => new layers.LSTM(2, { goBackwards: true, returnState: true, unitForgetBias: false }), inputShape: [2, 3, 2], expectedOutputShape: [[2, 2], [2, 2], [2, 2]] },
    { name: 'GRU', make: () => new layers.GRU(3), inputShape: [2, 4, 5], expectedOutputShape: [2, 3], expectedWeightShapes: [[5, 9], [3, 9], [2, 9]] },
    { name: 'GRUResetBefore', make: () => new layers.GRU(3, { resetAfter: false, returnState: true, returnSequences: true }), inputShape: [2, 4, 5], expectedOutputShape: [[2, 4, 3], [2, 3]], expectedWeightShapes: [[5, 9], [3, 9], [9]] },
    { name: 'GRUNoBias', make: () => new layers.GRU(2, { useBias: false, goBackwards: true }), inputShape: [2, 3, 2], expectedOutputShape: [2, 2], expectedWeightShapes: [[2, 6], [2, 6]] },
    { name: 'LSTMDropout', make: () => new layers.LSTM(3, { dropout: 0.3, recurrentDropout: 0.2, seed: 4 }), inputShape: [2, 4, 5], expectedOutputShape: [2, 3], randomInTraining: true },
    { name: 'GRUDropout', make: () => new layers.GRU(3, { dropout: 0.3, recurrentDropout: 0.2, seed: 5, resetAfter: false }), inputShape: [2, 4, 5], expectedOutputShape: [2, 3], randomInTraining: true },
    {
      name: 'EmbeddingMaskLSTM',
      make: () => new MaskedBlock({ kind: 'LSTM', returnSequences: true }),
      inputShape: [2, 5],
      input: tokens,
      expectedOutputShape: [2, 5, 2],
    },
    { name: 'EmbeddingMaskGRU', make: () => new MaskedBlock({ kind: 'GRU' }), inputShape: [2, 5], input: tokens, expectedOutputShape: [2, 2] },
    { name: 'EmbeddingMaskSimpleRNN', make: () => new MaskedBlock({ kind: 'SimpleRNN', returnSequences: true }), inputShape: [2, 5], input: tokens, expectedOutputShape: [2, 5, 2] },
    { name: 'BidirectionalConcat', make: () => new layers.Bidirectional(new layers.LSTM(2, { returnSequences: true })), inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4], expectedTrainableWeights: 6 },
    { name: 'BidirectionalSumState', make: () => new layers.Bidirectional(new layers.GRU(2, { returnState: true }), { mergeMode: 'sum' }), inputShape: [2, 3, 4], expectedOutputShape: [[2, 2], [2, 2], [2, 2]] },
    { name: 'BidirectionalNoMerge', make: () => new layers.Bidirectional(new layers.SimpleRNN(2), { mergeMode: null }), inputShape: [2, 3, 4], expectedOutputShape: [[2, 2], [2, 2]] },
    { name: 'LSTMCell', make: () => new layers.LSTMCell(3), inputShape: [[2, 4], [2, 3], [2, 3]], expectedOutputShape: [[2, 3], [2, 3], [2, 3]], expectedWeightShapes: [[4, 12], [3, 12], [12]] },
    { name: 'GRUCell', make: () => new layers.GRUCell(3), inputShape: [[2, 4], [2, 3]], expectedOutputShape: [[2, 3], [2, 3]] },
    { name: 'SimpleRNNCell', make: () => new layers.SimpleRNNCell(3), inputShape: [[2, 4], [2, 3]], expectedOutputShape: [[2, 3], [2, 3]] },
  ];
  for (const c of cases) it(c.name, () => runLayerTest(c));
});

// ---------------------------------------------------------------------------
// An independent step-by-step reference with plain JavaScript arrays.

type Vec = number[];
type Mat = number[][];
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const vecMat = (v: Vec, m: Mat, from = 0, to = m[0].length): Vec => Array.from({ length: to - from }, (_, j) => v.reduce((s, vk, k) => s + vk * m[k][from + j], 0));
const add = (...vs: Vec[]) => vs[0].map((_, i) => vs.reduce((s, v) => s + v[i], 0));
const mul = (a: Vec, b: Vec) => a.map((x, i) => x * b[i]);
const range = (v: Vec, from: number, to: number) => v.slice(from, to);

interface RefOptions {
  kind: 'SimpleRNN' | 'LSTM' | 'GRU' | 'GRUBefore';
  units: number;
  kernel: Mat;
  recurrent: Mat;
  bias: Vec | Mat;
  goBackwards?: boolean;
  mask?: boolean[][];
  zeroOutputForMask?: boolean;
  initial?: Vec[][];
}

/** Runs the recurrence sample by sample; returns the output sequence (processing order) and the final states. */
function reference(x: number[][][], o: RefOptions): { outputs: number[][][]; states: number[][][] } {
  const u = o.units;
  const nStates = o.kind === 'LSTM' ? 2 : 1;
  const outputs: number[][][] = [];
  const finals: number[][][] = Array.from({ length: nStates }, () => []);
  x.forEach((seq, b) => {
    let states: Vec[] = o.initial ? o.initial.map((s) => s[b]) : Array.from({ length: nStates }, () => new Array(u).fill(0));
    let prevOut: Vec = new Array(u).fill(0);
    const outs: Vec[] = [];
    const order = seq.map((_, t) => (o.goBackwards ? seq.length - 1 - t : t));
    for (const t of order) {
      const xt = seq[t];
      let out: Vec;
      let next: Vec[];
      if (o.kind === 'SimpleRNN') {
        out = add(vecMat(xt, o.kernel), o.bias as Vec, vecMat(states[0], o.recurrent)).map(Math.tanh);
        next = [out];
      } else if (o.kind === 'LSTM') {
        const z = add(vecMat(xt, o.kernel), vecMat(states[0], o.recurrent), o.bias as Vec);
        const i = range(z, 0, u).map(sigmoid), f = range(z, u, 2 * u).map(sigmoid), g = range(z, 2 * u, 3 * u).map(Math.tanh), og = range(z, 3 * u, 4 * u).map(sigmoid);
        const c = add(mul(f, states[1]), mul(i, g));
        out = mul(og, c.map(Math.tanh));
        next = [out, c];
      } else {
        const h = states[0];
        const after = o.kind === 'GRU';
        const bi = after ? (o.bias as Mat)[0] : (o.bias as Vec), br = after ? (o.bias as Mat)[1] : new Array(3 * u).fill(0);
        const xp = add(vecMat(xt, o.kernel), bi);
        const zg = add(range(xp, 0, u), vecMat(h, o.recurrent, 0, u), range(br, 0, u)).map(sigmoid);
        const r = add(range(xp, u, 2 * u), vecMat(h, o.recurrent, u, 2 * u), range(br, u, 2 * u)).map(sigmoid);
        const rh = after ? mul(r, add(vecMat(h, o.recurrent, 2 * u, 3 * u), range(br, 2 * u, 3 * u))) : vecMat(mul(r, h), o.recurrent, 2 * u, 3 * u);
        const hh = add(range(xp, 2 * u, 3 * u), rh).map(Math.tanh);
        out = add(mul(zg, h), mul(zg.map((v) => 1 - v), hh));
        next = [out];
      }
      if (o.mask && !o.mask[b][t]) {
        out = o.zeroOutputForMask ? new Array(u).fill(0) : prevOut;
        next = states;
      }
      prevOut = out;
      states = next;
      outs.push(out);
    }
    outputs.push(outs);
    states.forEach((s, i) => finals[i].push(s));
  });
  return { outputs, states: finals };
}

function matrix(rows: number, cols: number, seed: number): Mat {
  const rand = testRandom(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.round((rand() * 1.6 - 0.8) * 1000) / 1000));
}

const X = [
  [[0.5, -0.2], [0.1, 0.9], [-0.7, 0.3]],
  [[-0.4, 0.8], [0.6, -0.5], [0.2, 0.2]],
];
const MASK = [[true, true, false], [false, true, true]];

describe('forward values match a step-by-step computation (units 2, timesteps 3)', () => {
  const u = 2;
  const variants: { label: string; kind: RefOptions['kind']; make: (opts: Record<string, unknown>) => Layer; gates: number; biasShape: 'flat' | 'gru' }[] = [
    { label: 'SimpleRNN', kind: 'SimpleRNN', make: (o) => new layers.SimpleRNN(u, o), gates: 1, biasShape: 'flat' },
    { label: 'LSTM', kind: 'LSTM', make: (o) => new layers.LSTM(u, o), gates: 4, biasShape: 'flat' },
    { label: 'GRU (resetAfter)', kind: 'GRU', make: (o) => new layers.GRU(u, o), gates: 3, biasShape: 'gru' },
    { label: 'GRU (resetAfter false)', kind: 'GRUBefore', make: (o) => new layers.GRU(u, { ...o, resetAfter: false }), gates: 3, biasShape: 'flat' },
  ];
  const settings: { label: string; goBackwards?: boolean; mask?: boolean; zeroOutputForMask?: boolean; initial?: boolean }[] = [
    { label: 'forwards' },
    { label: 'goBackwards', goBackwards: true },
    { label: 'masked', mask: true },
    { label: 'masked, zeroOutputForMask', mask: true, zeroOutputForMask: true },
    { label: 'masked, goBackwards, initial state', mask: true, goBackwards: true, initial: true },
  ];
  variants.forEach((v, vi) => {
    for (const s of settings) {
      it(`${v.label}, ${s.label}`, () => {
        const kernel = matrix(2, v.gates * u, 10 + vi);
        const recurrent = matrix(u, v.gates * u, 20 + vi);
        const bias = v.biasShape === 'gru' ? matrix(2, 3 * u, 30 + vi) : matrix(1, v.gates * u, 30 + vi)[0];
        const nStates = v.kind === 'LSTM' ? 2 : 1;
        const initial = s.initial ? Array.from({ length: nStates }, (_, i) => matrix(2, u, 40 + i)) : undefined;
        const layer = v.make({ returnSequences: true, returnState: true, goBackwards: s.goBackwards, zeroOutputForMask: s.zeroOutputForMask });
        layer.buildFromShape([2, 3, 2]);
        layer.setWeights([kernel, recurrent, bias]);
        const mask = s.mask ? strata.tensor(MASK.map((r) => r.map(Number)), undefined, 'bool') : undefined;
        const initialState = initial?.map((m) => strata.tensor(m));
        const out = layer.apply(strata.tensor(X), { mask, initialState } as never) as unknown as Tensor[];
        const ref = reference(X, { kind: v.kind, units: u, kernel, recurrent, bias, goBackwards: s.goBackwards, mask: s.mask ? MASK : undefined, zeroOutputForMask: s.zeroOutputForMask, initial });
        assertClose(out[0], ref.outputs.flat(2), { rtol: 1e-5, atol: 1e-6 }, 'sequence');
        ref.states.forEach((st, i) => assertClose(out[1 + i], st.flat(), { rtol: 1e-5, atol: 1e-6 }, `state ${i}`));
        // The last output is the last element of the returned sequence.
        const last = v.make({ goBackwards: s.goBackwards, zeroOutputForMask: s.zeroOutputForMask });
        last.buildFromShape([2, 3, 2]);
        last.setWeights([kernel, recurrent, bias]);
        assertClose(last.apply(strata.tensor(X), { mask, initialState } as never) as Tensor, ref.outputs.map((seq) => seq[2]).flat(), { rtol: 1e-5, atol: 1e-6 }, 'last output');
      });
    }
  });

  it('LSTMCell, GRUCell and SimpleRNNCell compute one step of the same recurrence', () => {
    const x = [X[0][0], X[1][0]];
    const h = [[0.3, -0.1], [0.2, 0.4]];
    const c = [[-0.5, 0.6], [0.1, 0.0]];
    const run = (cell: Layer, states: number[][][], kind: RefOptions['kind'], weights: (Mat | Vec)[]) => {
      cell.buildFromShape([2, 2]);
      cell.setWeights(weights);
      const out = cell.apply([strata.tensor(x), ...states.map((s) => strata.tensor(s))]) as unknown as Tensor[];
      const ref = reference(x.map((r) => [r]), { kind, units: 2, kernel: weights[0] as Mat, recurrent: weights[1] as Mat, bias: weights[2], initial: states.map((s) => s) });
      assertClose(out[0], ref.outputs.flat(2), { rtol: 1e-5, atol: 1e-6 });
      ref.states.forEach((st, i) => assertClose(out[1 + i], st.flat(), { rtol: 1e-5, atol: 1e-6 }));
    };
    run(new layers.LSTMCell(2), [h, c], 'LSTM', [matrix(2, 8, 1), matrix(2, 8, 2), matrix(1, 8, 3)[0]]);
    run(new layers.GRUCell(2), [h], 'GRU', [matrix(2, 6, 4), matrix(2, 6, 5), matrix(2, 6, 6)]);
    run(new layers.GRUCell(2, { resetAfter: false }), [h], 'GRUBefore', [matrix(2, 6, 4), matrix(2, 6, 5), matrix(1, 6, 6)[0]]);
    run(new layers.SimpleRNNCell(2), [h], 'SimpleRNN', [matrix(2, 2, 7), matrix(2, 2, 8), matrix(1, 2, 9)[0]]);
  });

  it('LSTM starts the forget-gate bias at 1 (unitForgetBias) and otherwise uses the bias initializer', () => {
    const a = new layers.LSTM(2);
    a.buildFromShape([1, 3, 2]);
    assert.deepEqual([...a.cell.bias!.value.dataSync()], [0, 0, 1, 1, 0, 0, 0, 0]);
    const b = new layers.LSTM(2, { unitForgetBias: false, biasInitializer: 'ones' });
    b.buildFromShape([1, 3, 2]);
    assert.deepEqual([...b.cell.bias!.value.dataSync()], [1, 1, 1, 1, 1, 1, 1, 1]);
  });
});

// ---------------------------------------------------------------------------

/** Tape gradients of every trainable weight against central differences (weights perturbed with assign). */
function checkWeightGradients(layer: Layer, run: () => Tensor | Tensor[], label: string): void {
  const outs = () => {
    const o = run();
    return Array.isArray(o) ? o : [o];
  };
  const weights = outs().map((o, i) => randomTensor(o.shape as number[], 500 + i, 0.5, 1.5));
  const loss = () => outs().reduce((acc: Tensor, o, i) => ops.add(acc, ops.sum(ops.multiply(o, weights[i]))), strata.tensor(0, [], 'float64'));
  const tape = new strata.GradientTape();
  const value = tape.record(loss);
  const vars = layer.trainableWeights;
  const grads = tape.gradient(value, vars);
  const eps = 1e-6;
  vars.forEach((v, k) => {
    const g = grads[k];
    assert.ok(g, `${label}: no gradient for ${v.path}`);
    const gv = g.dataSync();
    const base = Float64Array.from(v.value.dataSync());
    for (let i = 0; i < base.length; i++) {
      const at = (d: number) => {
        const p = Float64Array.from(base);
        p[i] += d;
        v.assign(new Tensor(v.shape as number[], 'float64', p));
        return loss().item();
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      v.assign(new Tensor(v.shape as number[], 'float64', base));
      assert.ok(Math.abs(gv[i] - numeric) <= 1e-7 + 1e-5 * Math.abs(numeric), `${label}: d/d${v.path}[${i}] analytic ${gv[i]} vs numeric ${numeric}`);
    }
  });
}

describe('gradients (float64, finite differences)', () => {
  const x = randomTensor([2, 3, 2], 61);
  const mask = strata.tensor(MASK.map((r) => r.map(Number)), undefined, 'bool');
  const makers: [string, () => Layer][] = [
    ['SimpleRNN', () => new layers.SimpleRNN(2, { dtype: 'float64', returnSequences: true, returnState: true })],
    ['LSTM', () => new layers.LSTM(2, { dtype: 'float64', returnSequences: true, returnState: true })],
    ['GRU', () => new layers.GRU(2, { dtype: 'float64', returnSequences: true, returnState: true })],
    ['GRU resetAfter false, backwards', () => new layers.GRU(2, { dtype: 'float64', resetAfter: false, goBackwards: true, returnState: true })],
  ];
  for (const [label, make] of makers) {
    it(`${label}: inputs, initial states and weights, with and without a mask`, () => {
      const layer = make() as InstanceType<typeof layers.RNN>;
      layer.buildFromShape([2, 3, 2]);
      layer.setWeights(layer.weights.map((w, i) => randomTensor(w.shape as number[], 70 + i, -0.8, 0.8)));
      const states = layer.stateSize.map((s, i) => randomTensor([2, s], 80 + i));
      checkGradients((xs, ...ss) => layer.apply([xs, ...ss]) as unknown as Tensor[], [x, ...states], {}, `${label} (inputs)`);
      checkGradients((xs, ...ss) => layer.apply([xs, ...ss], { mask }) as unknown as Tensor[], [x, ...states], {}, `${label} (inputs, masked)`);
      checkWeightGradients(layer, () => layer.apply(x, { mask }) as unknown as Tensor[], label);
    });
  }

  it('Bidirectional LSTM: weights of both directions', () => {
    const layer = new layers.Bidirectional(new layers.LSTM(2, { dtype: 'float64', returnSequences: true }), { dtype: 'float64' });
    layer.buildFromShape([2, 3, 2]);
    layer.setWeights(layer.weights.map((w, i) => randomTensor(w.shape as number[], 90 + i, -0.8, 0.8)));
    checkGradients((xs) => layer.apply(xs, { mask }), [x], {}, 'Bidirectional (inputs)');
    checkWeightGradients(layer, () => layer.apply(x, { mask }), 'Bidirectional');
  });
});

describe('graph mode (strata.fn) with an unknown batch size', () => {
  const spec = new strata.TensorSpec([null, 4, 3]);
  const x = randomTensor([2, 4, 3], 7, -1, 1, 'float32');
  const makers: [string, () => Layer][] = [
    ['SimpleRNN', () => new layers.SimpleRNN(3, { returnSequences: true, returnState: true })],
    ['LSTM', () => new layers.LSTM(3, { returnSequences: true, returnState: true, goBackwards: true })],
    ['GRU', () => new layers.GRU(3, { returnState: true })],
    ['GRU resetAfter false', () => new layers.GRU(3, { returnState: true, resetAfter: false })],
    ['Bidirectional', () => new layers.Bidirectional(new layers.LSTM(3, { returnSequences: true, returnState: true }), { mergeMode: 'ave' })],
  ];
  for (const [label, make] of makers) {
    it(`${label}: same outputs as eager, with and without a mask and initial states`, async () => {
      const layer = make();
      const eager = layer.apply(x) as unknown as Tensor[];
      const traced = strata.fn((t: Tensor) => layer.apply(t) as unknown as Tensor[], { inputSignature: [spec], name: `rnn_${label.replace(/\W/g, '_')}` });
      const graph = (await traced(x)) as Tensor[];
      eager.forEach((e, i) => assertClose(graph[i], e, { rtol: 1e-5, atol: 1e-6 }, `${label} output ${i}`));

      const mask = strata.tensor([[1, 1, 0, 0], [0, 1, 1, 1]], undefined, 'bool');
      const maskedEager = layer.apply(x, { mask }) as unknown as Tensor[];
      const maskedFn = strata.fn((t: Tensor, m: Tensor) => layer.apply(t, { mask: m }) as unknown as Tensor[], {
        inputSignature: [spec, new strata.TensorSpec([null, 4], 'bool')],
        name: `rnn_masked_${label.replace(/\W/g, '_')}`,
      });
      const maskedGraph = (await maskedFn(x, mask)) as Tensor[];
      maskedEager.forEach((e, i) => assertClose(maskedGraph[i], e, { rtol: 1e-5, atol: 1e-6 }, `${label} masked output ${i}`));
    });
  }

  it('initial states with an unknown batch size', async () => {
    const layer = new layers.LSTM(3, { returnState: true });
    const h = randomTensor([2, 3], 8, -1, 1, 'float32');
    const c = randomTensor([2, 3], 9, -1, 1, 'float32');
    const eager = layer.apply(x, { initialState: [h, c] }) as unknown as Tensor[];
    const s = new strata.TensorSpec([null, 3]);
    const traced = strata.fn((t: Tensor, a: Tensor, b: Tensor) => layer.apply([t, a, b]) as unknown as Tensor[], { inputSignature: [spec, s, s], name: 'lstm_initial' });
    ((await traced(x, h, c)) as Tensor[]).forEach((g, i) => assertClose(g, eager[i], { rtol: 1e-5, atol: 1e-6 }));
  });
});

describe('models', () => {
  it('a functional model with initial states given as inputs', () => {
    const seq = strata.Input({ shape: [4, 3] });
    const h0 = strata.Input({ shape: [2] });
    const c0 = strata.Input({ shape: [2] });
    const [out, h, c] = new layers.LSTM(2, { returnState: true }).apply([seq, h0, c0]) as unknown as strata.layers.KerasTensor[];
    assert.deepEqual([out.shape, h.shape, c.shape], [[null, 2], [null, 2], [null, 2]]);
    const model = new strata.Model({ inputs: [seq, h0, c0], outputs: [out, c] });
    const ys = model.apply([strata.ones([5, 4, 3]), strata.zeros([5, 2]), strata.ones([5, 2])]) as unknown as Tensor[];
    assert.deepEqual(ys.map((y) => y.shape), [[5, 2], [5, 2]]);
  });

  it('stacked recurrent layers pass the Embedding mask on (returnSequences) and stop it at the last one', () => {
    const input = strata.Input({ shape: [5], dtype: 'int32' });
    const emb = new layers.Embedding(10, 3, { maskZero: true }).apply(input);
    const seq = new layers.GRU(4, { returnSequences: true }).apply(emb);
    assert.deepEqual(seq.mask?.shape, [null, 5]);
    const last = new layers.LSTM(2).apply(seq);
    assert.equal(last.mask ?? null, null);
  });

  it('training a tiny sequence model with fit makes its loss fall (compiled steps, with dropout)', async () => {
    strata.random.setRandomSeed(11);
    const n = 64;
    const x = randomTensor([n, 5, 2], 12, -1, 1, 'float32');
    // Target: the sum of the first feature over time.
    const y = ops.sum(ops.slice(x, [0, 0, 0], [n, 5, 1]), [1]);
    const model = new strata.Sequential([strata.Input({ shape: [5, 2] }), new layers.LSTM(6, { dropout: 0.1, recurrentDropout: 0.1 }), new layers.Dense(1)]);
    model.compile({ optimizer: new strata.optimizers.Adam({ learningRate: 0.03 }), loss: 'mse' });
    const h = await model.fit(x, y, { epochs: 8, batchSize: 16, verbose: 0 });
    const losses = h.history.loss;
    assert.ok(losses.every(Number.isFinite), JSON.stringify(losses));
    assert.ok(losses.at(-1)! < 0.5 * losses[0], `loss falls: ${JSON.stringify(losses)}`);
  });

  it('saves to .keras and loads back with the same predictions; weights sit at Keras paths', async () => {
    strata.random.setRandomSeed(5);
    const input = strata.Input({ shape: [5], dtype: 'int32' });
    let t = new layers.Embedding(10, 3, { maskZero: true }).apply(input);
    t = new layers.Bidirectional(new layers.LSTM(2, { returnSequences: true })).apply(t);
    t = new layers.GRU(3, { returnSequences: true, resetAfter: false }).apply(t);
    t = new layers.SimpleRNN(2).apply(t);
    const model = new strata.Model({ inputs: input, outputs: t });
    const paths = collectSaveables(model).map((node) => `${node.path}:${node.variables.map((v) => v.shape.join('x')).join(',')}`);
    assert.deepEqual(paths.filter((p) => /lstm|gru|rnn|bidirectional/.test(p)), [
      'layers/bidirectional:',
      'layers/bidirectional/backward_layer:',
      'layers/bidirectional/backward_layer/cell:3x8,2x8,8',
      'layers/bidirectional/forward_layer:',
      'layers/bidirectional/forward_layer/cell:3x8,2x8,8',
      'layers/gru:',
      'layers/gru/cell:4x9,3x9,9',
      'layers/simple_rnn:',
      'layers/simple_rnn/cell:3x2,2x2,2',
    ]);
    const ids = tokens();
    const before = model.apply(ids) as unknown as Tensor;
    const loaded = (await loadKerasBytes(await kerasFileBytes(model), 'rnn.keras')) as strata.Model;
    assertClose(loaded.apply(ids) as unknown as Tensor, before, { rtol: 1e-6, atol: 1e-7 });
  });

  it('loads the Keras-written embedding_lstm.keras fixture and predicts what Keras predicted', async () => {
    const dir = new URL('../fixtures/keras/', import.meta.url);
    const ref = JSON.parse(readFileSync(new URL('embedding_lstm.json', dir), 'utf8')) as { input: number[][]; expected: number[][] };
    const model = (await loadKerasBytes(new Uint8Array(readFileSync(new URL('embedding_lstm.keras', dir))), 'embedding_lstm.keras')) as strata.Model;
    assertClose(model.apply(strata.tensor(ref.input, undefined, 'int32')) as unknown as Tensor, ref.expected.flat(), { rtol: 1e-5, atol: 1e-6 });
  });
});

// ---------------------------------------------------------------------------

interface KerasCase {
  name: string;
  class_name: 'SimpleRNN' | 'LSTM' | 'GRU';
  kwargs: Record<string, unknown>;
  bidirectional: { merge_mode: string } | null;
  config: { module: string; class_name: string; config: Config; registered_name: null; build_config?: Config };
  weights: unknown[];
  input: number[][][];
  mask: boolean[][] | null;
  initial_state: number[][][] | null;
  outputs: unknown[];
}

/**
 * Keras 3.15 writes `input_axes: null, output_axes: null` in GlorotUniform
 * configs; Strata's initializers leave null axes out on purpose (older Keras
 * 3 releases reject the keys), so they are dropped before comparing.
 */
function withoutNullAxes<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), function (this: Record<string, unknown>, key, v) {
    return (key === 'input_axes' || key === 'output_axes') && v === null ? undefined : v;
  }) as T;
}

describe('Keras 3 compatibility (reference outputs from test/fixtures/rnn/make_fixtures.py)', () => {
  const ref = JSON.parse(readFileSync(new URL('../fixtures/rnn/rnn_reference.json', import.meta.url), 'utf8')) as { keras_version: string; cases: KerasCase[] };
  const camel = (k: string) => k.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());

  for (const c of ref.cases) {
    it(`${c.name} (Keras ${ref.keras_version})`, () => {
      // 1. Built from constructor options.
      const options: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(c.kwargs)) if (k !== 'units') options[camel(k)] = v;
      let layer: Layer = new layers[c.class_name](c.kwargs.units as number, options);
      if (c.bidirectional) layer = new layers.Bidirectional(layer as InstanceType<typeof layers.RNN>, { mergeMode: c.bidirectional.merge_mode as 'concat' });
      // 2. Built from Keras's own config (what a .keras file holds).
      const fromKeras = strata.saving.deserialize(c.config as never);
      assert.ok(fromKeras.built, 'built from the build_config');
      const x = strata.tensor(c.input);
      const mask = c.mask ? strata.tensor(c.mask.map((r) => r.map(Number)), undefined, 'bool') : undefined;
      const initialState = c.initial_state?.map((s) => strata.tensor(s));
      for (const l of [layer, fromKeras]) {
        l.buildFromShape(x.shape);
        l.setWeights(c.weights as never);
        const out = l.apply(x, { mask, initialState } as never) as unknown as Tensor | Tensor[];
        const outs = Array.isArray(out) ? out : [out];
        assert.equal(outs.length, c.outputs.length, 'number of outputs');
        outs.forEach((o, i) => assertClose(o, strata.tensor(c.outputs[i] as number[][]), { rtol: 1e-5, atol: 1e-6 }, `${c.name} output ${i}`));
      }
      // 3. Strata writes the config Keras wrote.
      const written = strata.saving.serialize(fromKeras);
      assert.deepEqual(written, withoutNullAxes(c.config));
      assert.deepEqual(Object.keys(written.config), Object.keys(c.config.config), 'keys in the order Keras writes them');
    });
  }
});

describe('configs', () => {
  it('LSTM writes the Keras 3 keys and defaults', () => {
    const config = new layers.LSTM(4, { name: 'lstm_cfg' }).getConfig();
    assert.deepEqual(config, {
      name: 'lstm_cfg',
      trainable: true,
      dtype: DTYPE,
      return_sequences: false,
      return_state: false,
      go_backwards: false,
      stateful: false,
      unroll: false,
      zero_output_for_mask: false,
      units: 4,
      activation: 'tanh',
      recurrent_activation: 'sigmoid',
      use_bias: true,
      kernel_initializer: INIT('GlorotUniform', { seed: null }),
      recurrent_initializer: INIT('Orthogonal', { seed: null, gain: 1 }),
      bias_initializer: INIT('Zeros', {}),
      unit_forget_bias: true,
      kernel_regularizer: null,
      recurrent_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      recurrent_constraint: null,
      bias_constraint: null,
      dropout: 0,
      recurrent_dropout: 0,
      seed: null,
    });
  });

  it('cells and the generic RNN round-trip; the RNN config nests its cell', () => {
    const cell = new layers.GRUCell(3, { resetAfter: false, dropout: 0.25, seed: 3, name: 'my_cell' });
    const config = cell.getConfig();
    assert.equal(config.reset_after, false);
    assert.equal(config.dropout, 0.25);
    assert.deepEqual(layers.GRUCell.fromConfig(JSON.parse(JSON.stringify(config))).getConfig(), config);
    const rnn = new layers.RNN(new layers.LSTMCell(2), { returnSequences: true, name: 'generic' });
    const rc = rnn.getConfig();
    assert.equal((rc.cell as { class_name: string }).class_name, 'LSTMCell');
    const clone = layers.RNN.fromConfig(JSON.parse(JSON.stringify(rc)));
    assert.ok(clone.cell instanceof layers.LSTMCell);
    assert.deepEqual(clone.getConfig(), rc);
    const x = randomTensor([2, 3, 4], 3, -1, 1, 'float32');
    rnn.apply(x);
    clone.apply(x);
    clone.setWeights(rnn.getWeights());
    assertClose(clone.apply(x), rnn.apply(x));
  });

  it('SimpleRNN, like Keras, writes no seed of its own; Bidirectional nests both layers', () => {
    assert.equal('seed' in new layers.SimpleRNN(2, { seed: 1 }).getConfig(), false);
    const bi = new layers.Bidirectional(new layers.GRU(2, { name: 'g' }), { mergeMode: 'mul' });
    assert.equal(bi.forwardLayer.name, 'forward_g');
    assert.equal(bi.backwardLayer.name, 'backward_g');
    assert.equal(bi.backwardLayer.goBackwards, true);
    const config = bi.getConfig();
    assert.equal(config.merge_mode, 'mul');
    assert.equal((config.backward_layer as { config: Config }).config.go_backwards, true);
  });
});

/** Keras's documentation example: a minimal cell written by the user, run by the generic RNN. */
class MinimalRNNCell extends layers.Layer {
  static override readonly className = 'MinimalRNNCell';
  readonly units: number;
  readonly stateSize: number;
  kernel!: strata.Variable;
  recurrentKernel!: strata.Variable;
  constructor(units: number, options: strata.layers.LayerOptions = {}) {
    super(options);
    this.units = units;
    this.stateSize = units;
  }
  override build(shape: strata.Shape | strata.Shape[]) {
    const inputShape = (Array.isArray(shape[0]) ? shape[0] : shape) as strata.Shape;
    this.kernel = this.addWeight({ name: 'kernel', shape: [inputShape.at(-1) as number, this.units], initializer: 'uniform' });
    this.recurrentKernel = this.addWeight({ name: 'recurrent_kernel', shape: [this.units, this.units], initializer: 'uniform' });
  }
  override call([x, prev]: Tensor[]): Tensor[] {
    const output = ops.add(ops.matmul(x, this.kernel), ops.matmul(prev, this.recurrentKernel));
    return [output, output];
  }
}

describe('the generic RNN and shapes', () => {
  it('runs a user-written cell, also in strata.fn with an unknown batch', async () => {
    const layer = new layers.RNN(new MinimalRNNCell(3), { returnSequences: true });
    const x = randomTensor([2, 4, 5], 41, -1, 1, 'float32');
    const y = layer.apply(x);
    const [k, r] = layer.getWeights();
    // Unrolled by hand: h_t = x_t K + h_{t-1} R.
    let h = strata.zeros([2, 3]);
    const expected: Tensor[] = [];
    for (const xt of ops.unstack(x, { axis: 1 })) {
      h = ops.add(ops.matmul(xt, k), ops.matmul(h, r));
      expected.push(h);
    }
    assertClose(y, ops.stack(expected, 1));
    const traced = strata.fn((t: Tensor) => layer.apply(t), { inputSignature: [new strata.TensorSpec([null, 4, 5])], name: 'minimal_rnn' });
    assertClose((await traced(x)) as Tensor, y, { rtol: 1e-5, atol: 1e-6 });
  });

  it('computeOutputShape, countParams and a Bidirectional layer with initial states for both directions', () => {
    assert.deepEqual(new layers.LSTM(3, { returnState: true, returnSequences: true }).computeOutputShape([null, 4, 5]), [[null, 4, 3], [null, 3], [null, 3]]);
    assert.deepEqual(new layers.Bidirectional(new layers.GRU(3)).computeOutputShape([null, 4, 5]), [null, 6]);
    const lstm = new layers.LSTM(6);
    lstm.buildFromShape([null, 5, 2]);
    assert.equal(lstm.countParams(), 4 * 6 * (2 + 6 + 1));
    const gru = new layers.GRU(6);
    gru.buildFromShape([null, 5, 2]);
    assert.equal(gru.countParams(), 3 * 6 * (2 + 6 + 2));

    const bi = new layers.Bidirectional(new layers.LSTM(2, { returnState: true }));
    const x = randomTensor([2, 3, 4], 42, -1, 1, 'float32');
    const states = [43, 44, 45, 46].map((seed) => randomTensor([2, 2], seed, -1, 1, 'float32'));
    const [out, fh, fc, bh, bc] = bi.apply(x, { initialState: states }) as unknown as Tensor[];
    const fwd = bi.forwardLayer.apply(x, { initialState: states.slice(0, 2) }) as unknown as Tensor[];
    const bwd = bi.backwardLayer.apply(x, { initialState: states.slice(2) }) as unknown as Tensor[];
    assertClose(out, ops.concatenate([fwd[0], bwd[0]], -1));
    [fh, fc, bh, bc].forEach((s, i) => assertClose(s, [...fwd.slice(1), ...bwd.slice(1)][i]));
  });
});

describe('dropout and recurrent dropout', () => {
  it('in training, one input mask is shared by every timestep; inference is deterministic', () => {
    // kernel = identity, recurrent kernel = 0, linear: each output is x_t * mask / keep.
    const layer = new layers.SimpleRNN(4, { dropout: 0.5, activation: 'linear', useBias: false, returnSequences: true, seed: 1 });
    layer.buildFromShape([3, 5, 4]);
    layer.setWeights([strata.eye(4), strata.zeros([4, 4])]);
    const x = strata.ones([3, 5, 4]);
    const y = layer.apply(x, { training: true }).dataSync();
    for (let b = 0; b < 3; b++) {
      for (let k = 0; k < 4; k++) {
        const first = y[b * 20 + k];
        assert.ok(first === 0 || Math.abs(first - 2) < 1e-6, `kept values are scaled by 1/keep: ${first}`);
        for (let t = 1; t < 5; t++) assert.equal(y[b * 20 + t * 4 + k], first, 'same mask at every timestep');
      }
    }
    assert.ok(y.some((v) => v === 0) && y.some((v) => v !== 0), 'some inputs dropped, some kept');
    assertClose(layer.apply(x, { training: false }), x);
  });

  it('the recurrent mask is fixed across timesteps too', () => {
    // kernel = 0, recurrent kernel = identity, linear, initial state 1: h_t = mask^t.
    const layer = new layers.SimpleRNN(6, { recurrentDropout: 0.5, activation: 'linear', useBias: false, returnSequences: true, seed: 2 });
    layer.buildFromShape([2, 3, 1]);
    layer.setWeights([strata.zeros([1, 6]), strata.eye(6)]);
    const y = layer.apply(strata.ones([2, 3, 1]), { training: true, initialState: strata.ones([2, 6]) }).dataSync();
    for (let i = 0; i < 12; i++) {
      const [b, k] = [Math.floor(i / 6), i % 6];
      const m = y[b * 18 + k];
      assert.ok(m === 0 || Math.abs(m - 2) < 1e-6);
      assertClose([y[b * 18 + 6 + k], y[b * 18 + 12 + k]], [m * m, m * m * m]);
    }
  });
});

describe('stateful layers', () => {
  it('carry their final states into the next call until resetState', async () => {
    const layer = new layers.LSTM(2, { stateful: true, returnState: true });
    const x = randomTensor([2, 3, 2], 31, -1, 1, 'float32');
    const [y1, h1, c1] = layer.apply(x) as unknown as Tensor[];
    const [y2] = layer.apply(x) as unknown as Tensor[];
    const plain = new layers.LSTM(2, { returnState: true });
    plain.buildFromShape([2, 3, 2]);
    plain.setWeights(layer.getWeights());
    const expected = plain.apply(x, { initialState: [h1, c1] }) as unknown as Tensor[];
    assertClose(y2, expected[0]);
    assert.equal(layer.weights.length, 3, 'state variables are not weights');
    layer.resetState();
    assertClose((layer.apply(x) as unknown as Tensor[])[0], y1);
    // Compiled calls carry the states the same way.
    layer.resetState();
    const traced = strata.fn((t: Tensor) => (layer.apply(t) as unknown as Tensor[])[0], { name: 'stateful_lstm' });
    assertClose((await traced(x)) as Tensor, y1, { rtol: 1e-5, atol: 1e-6 });
    assertClose((await traced(x)) as Tensor, y2, { rtol: 1e-5, atol: 1e-6 });
    assertClose(layer.states![1], expected[2], { rtol: 1e-5, atol: 1e-6 });
  });
});

describe('errors', () => {
  it('inputs that are not 3D', () => {
    const layer = new layers.LSTM(2, { name: 'lstm_rank' });
    assert.throws(() => layer.apply(strata.ones([2, 3])), /Input 0 of layer '[^']*lstm_rank' is incompatible with the layer: expected ndim=3, found ndim=2/);
    assert.throws(() => new layers.GRU(2, { name: 'gru_rank' }).apply(strata.ones([1, 2, 3, 4])), /layer '[^']*gru_rank' .*expected ndim=3, found ndim=4/);
  });

  it('an unknown number of timesteps names the layer and suggests a fixed sequence length', async () => {
    const input = strata.Input({ shape: [null, 4] });
    assert.throws(() => new layers.LSTM(2, { name: 'lstm_len' }).apply(input), /LSTM 'lstm_len': the number of timesteps must be known.*Received input shape \(None, None, 4\).*fixed length/s);
    const layer = new layers.SimpleRNN(2, { name: 'rnn_len' });
    const traced = strata.fn((t: Tensor) => layer.apply(t), { inputSignature: [new strata.TensorSpec([null, null, 4])], name: 'rnn_len' });
    await assert.rejects(async () => traced(strata.ones([2, 3, 4])), /SimpleRNN 'rnn_len': the number of timesteps must be known/);
  });

  it('initial states of the wrong number or shape', () => {
    const x = strata.ones([2, 3, 4]);
    const lstm = new layers.LSTM(2, { name: 'lstm_init' });
    assert.throws(() => lstm.apply(x, { initialState: [strata.zeros([2, 2])] }), /LSTM 'lstm_init': expected initial state to be 2 tensor\(s\) of shape \(2, 2\), \(2, 2\)\. Received: 1 state\(s\) of shape \(2, 2\)/);
    assert.throws(() => lstm.apply(x, { initialState: [strata.zeros([2, 3]), strata.zeros([2, 2])] }), /LSTM 'lstm_init': expected initial state .* \(state 0 does not fit\)/);
    assert.throws(() => new layers.GRU(2, { name: 'gru_init' }).apply(x, { initialState: strata.zeros([3, 2]) }), /GRU 'gru_init': expected initial state to be 1 tensor\(s\) of shape \(2, 2\)/);
    assert.throws(() => lstm.apply([x, strata.zeros([2, 2]), strata.zeros([2, 2])], { initialState: [strata.zeros([2, 2])] }), /either in the inputs list .* or as initialState, not both/);
  });

  it('bad constructor arguments and stateful layers without a fixed batch size', () => {
    assert.throws(() => new layers.LSTM(0, { name: 'l0' }), /LSTMCell 'lstm_cell': units must be a positive integer. Received: units=0/);
    assert.throws(() => new layers.GRU(2, { name: 'g1', dropout: Number.NaN }), /dropout must be a number in \[0, 1\]/);
    assert.throws(() => new layers.SimpleRNN(2, { name: 's1', returnSequences: 'yes' as never }), /SimpleRNN 's1': returnSequences must be a boolean/);
    assert.throws(() => new layers.Bidirectional(new layers.LSTM(2), { mergeMode: 'max' as never, name: 'bi' }), /Bidirectional 'bi': invalid mergeMode. Received: "max"/);
    assert.throws(() => new layers.Bidirectional(new layers.Dense(2) as never, { name: 'bi2' }), /Bidirectional 'bi2': the wrapped layer must be a recurrent layer .* Received: Dense/);
    assert.throws(() => new layers.LSTM(2, { stateful: true, name: 'st' }).apply(strata.Input({ shape: [3, 2] })), /LSTM 'st': when using stateful: true, the batch size must be static/);
    assert.throws(() => new layers.RNN(new layers.Dense(2) as never, { name: 'r' }), /RNN 'r': the cell 'dense[^']*' must have a stateSize property/);
  });
});
