import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as strata from '../../src/index.ts';
import { Tensor, TensorSpec } from '../../src/tensor/tensor.ts';
import { captureWarnings } from '../../src/engine/warnings.ts';
import { createSession, fromOrtTensor, loadOrt, toOrtTensor } from '../../src/graph/executors/ort.ts';
import { graphWorker } from '../../src/graph/executors/worker-client.ts';
import v8 from 'node:v8';
import vm from 'node:vm';
import { assertClose, randomTensor } from '../helpers/close.ts';
import { withExecutor } from '../helpers/graph.ts';
import { defineOps } from '../../src/engine/op.ts';
import { dispatch1 } from '../../src/engine/dispatch.ts';

const { ops } = strata;

afterEach(() => strata.config.runFunctionsEagerly(false));

/** A small MLP with weights in variables: forward, loss, backward and an update, all with ops. */
function makeModel(dtype: 'float32' | 'float64', seed: number) {
  const w1 = new strata.Variable(randomTensor([4, 8], seed, -0.5, 0.5, dtype), { name: 'w1' });
  const b1 = new strata.Variable(randomTensor([8], seed + 1, -0.1, 0.1, dtype), { name: 'b1' });
  const w2 = new strata.Variable(randomTensor([8, 3], seed + 2, -0.5, 0.5, dtype), { name: 'w2' });
  const vars = [w1, b1, w2];
  const forward = (x: Tensor) => {
    // matmul is written as broadcast multiply + sum so this test does not depend on the linalg family.
    const mm = (a: Tensor, w: strata.Variable) => ops.sum(ops.multiply(ops.expandDims(a, -1), w), 1);
    return mm(ops.tanh(ops.add(mm(x, w1), b1)), w2);
  };
  const loss = (x: Tensor, y: Tensor) => ops.mean(ops.square(ops.subtract(forward(x), y)));
  const sgd = (x: Tensor, y: Tensor) => {
    const tape = new strata.GradientTape();
    const l = tape.record(() => loss(x, y));
    const grads = tape.gradient(l, vars);
    vars.forEach((v, i) => v.assignSub(ops.multiply(grads[i]!, 0.1)));
    return l;
  };
  // Adam with its state in variables, as an optimizer would keep it.
  const m = vars.map((v) => new strata.Variable(ops.zerosLike(v.value), { name: `m_${v.name}` }));
  const s = vars.map((v) => new strata.Variable(ops.zerosLike(v.value), { name: `v_${v.name}` }));
  const t = new strata.Variable(strata.tensor(0, [], dtype), { name: 'adam_t' });
  const adam = (x: Tensor, y: Tensor) => {
    const tape = new strata.GradientTape();
    const l = tape.record(() => loss(x, y));
    const grads = tape.gradient(l, vars);
    t.assignAdd(1);
    const step = t.value;
    const c1 = ops.subtract(1, ops.power(0.9, step));
    const c2 = ops.subtract(1, ops.power(0.999, step));
    vars.forEach((v, i) => {
      const g = grads[i]!;
      m[i].assign(ops.add(ops.multiply(m[i].value, 0.9), ops.multiply(g, 0.1)));
      s[i].assign(ops.add(ops.multiply(s[i].value, 0.999), ops.multiply(ops.square(g), 0.001)));
      const mh = ops.divide(m[i].value, c1);
      const vh = ops.divide(s[i].value, c2);
      v.assignSub(ops.divide(ops.multiply(mh, 0.01), ops.add(ops.sqrt(vh), 1e-7)));
    });
    return l;
  };
  return { vars, forward, sgd, adam, state: [...m, ...s, t] };
}

describe('strata.fn: graph mode matches eager mode', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const executor of ['onnxruntime', 'interpreter'] as const) {
      for (const optimizer of ['sgd', 'adam'] as const) {
        it(`${optimizer} training steps (${dtype}, ${executor}): same losses and variables after 10 steps`, async () => {
          const eager = makeModel(dtype, 11);
          const graph = makeModel(dtype, 11);
          const x = randomTensor([6, 4], 3, -1, 1, dtype);
          const y = randomTensor([6, 3], 4, -1, 1, dtype);
          const step = strata.fn(graph[optimizer], { name: `${optimizer}_step`, checkPasses: true });
          const tol = dtype === 'float32' ? { rtol: 1e-5, atol: 1e-6 } : { rtol: 1e-10, atol: 1e-12 };
          await withExecutor(executor, async () => {
            for (let i = 0; i < 10; i++) {
              const le = eager[optimizer](x, y);
              const lg = await step(x, y);
              assertClose(lg, le, tol, `loss at step ${i}`);
            }
          });
          assert.equal(step.traceCount, 1);
          [...eager.vars, ...eager.state].forEach((v, i) => assertClose([...graph.vars, ...graph.state][i].value, v.value, tol, v.name));
        });
      }
    }
  }

  it('gradients of broadcasts between dims unknown when traced follow the run-time shapes (1 against 4 is summed)', async () => {
    const spec = new TensorSpec([null, 3], 'float32');
    const grads = strata.fn(
      (x: Tensor, y: Tensor) => {
        const tape = new strata.GradientTape();
        const loss = tape.record(() => strata.ops.sum(strata.ops.multiply(strata.ops.add(x, y), y)));
        return tape.gradient(loss, [x, y]) as Tensor[];
      },
      { inputSignature: [spec, spec] },
    );
    for (const executor of ['onnxruntime', 'interpreter'] as const) {
      await withExecutor(executor, async () => {
        for (const [nx, ny] of [[1, 4], [4, 1], [4, 4]]) {
          const x = randomTensor([nx, 3], 5, -1, 1, 'float32');
          const y = randomTensor([ny, 3], 6, -1, 1, 'float32');
          const eager = (() => {
            const tape = new strata.GradientTape();
            const loss = tape.record(() => strata.ops.sum(strata.ops.multiply(strata.ops.add(x, y), y)));
            return tape.gradient(loss, [x, y]) as Tensor[];
          })();
          const [gx, gy] = await grads(x, y);
          assert.deepEqual([gx.shape, gy.shape], [[nx, 3], [ny, 3]], `${executor}: x batch ${nx}, y batch ${ny}`);
          assertClose(gx, eager[0], { rtol: 1e-5, atol: 1e-6 }, `${executor}: dx`);
          assertClose(gy, eager[1], { rtol: 1e-5, atol: 1e-6 }, `${executor}: dy`);
        }
      });
    }
    assert.equal(grads.traceCount, 1);
  });

  it('runs a whole training step as one graph with variable updates as outputs', () => {
    const model = makeModel('float32', 5);
    const step = strata.fn(model.sgd, { name: 'sgd_step' });
    const text = step.graph(randomTensor([2, 4], 1, -1, 1, 'float32'), randomTensor([2, 3], 2, -1, 1, 'float32'));
    assert.match(text, /^graph sgd_step\(%argument_0: float32\[2, 4\], %argument_1: float32\[2, 3\]\)/);
    assert.match(text, /capture %w1(_\d+)?: float32\[4, 8\]/);
    assert.match(text, /= tanh\(/);
    assert.match(text, /update w1(_\d+)? <- %\d+/);
    assert.match(text, /update w2(_\d+)? <- %\d+/);
  });
});

describe('strata.fn: signatures and retracing', () => {
  it('a signature with null dims serves every batch size with one trace', async () => {
    const f = strata.fn((x: Tensor) => ops.sum(ops.multiply(x, 2), 1), { inputSignature: [new TensorSpec([null, 3])] });
    for (const n of [1, 4, 7]) {
      const x = randomTensor([n, 3], n, -1, 1, 'float32');
      assertClose(await f(x), ops.sum(ops.multiply(x, 2), 1));
    }
    assert.equal(f.traceCount, 1);
  });

  it('a new dtype, a new shape and a new non-tensor value each trace again', async () => {
    const f = strata.fn((x: Tensor, k: number) => ops.multiply(x, k));
    await f(strata.tensor([1, 2]), 3);
    await f(strata.tensor([1, 2]), 3);
    assert.equal(f.traceCount, 1);
    await f(strata.tensor(new Float64Array([1, 2])), 3);
    assert.equal(f.traceCount, 2);
    await f(strata.tensor([1, 2, 3]), 3);
    assert.equal(f.traceCount, 3);
    const y = await f(strata.tensor([1, 2, 3]), 4);
    assert.equal(f.traceCount, 4);
    assert.deepEqual([...y.dataSync()], [4, 8, 12]);
  });

  it('warns once when retracing too often, naming what varied and how to fix it', async () => {
    const f = strata.fn((x: Tensor) => ops.add(x, 1), { name: 'often' });
    const { warnings } = await captureWarnings(async () => {
      for (let n = 1; n <= 9; n++) await f(strata.zeros([n]));
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /strata\.fn 'often' was traced 6 times in its last 6 calls/);
    assert.match(warnings[0], /the shape of tensor argument 0 changed \(float32\(5,\) -> float32\(6,\)\)/);
    assert.match(warnings[0], /inputSignature with null/);
    assert.match(warnings[0], /reduceRetracing/);
  });

  it('names a changing non-tensor argument as the cause', async () => {
    const f = strata.fn((x: Tensor, k: number) => ops.multiply(x, k), { name: 'scalar_arg' });
    const { warnings } = await captureWarnings(async () => {
      for (let k = 1; k <= 7; k++) await f(strata.tensor([1]), k);
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /a non-tensor argument changed value/);
  });

  it('reduceRetracing generalizes a changing dimension to null', async () => {
    const f = strata.fn((x: Tensor) => ops.sum(x, 0), { reduceRetracing: true });
    await f(strata.zeros([2, 3]));
    await f(strata.zeros([5, 3]));
    await f(strata.zeros([9, 3]));
    assert.equal(f.traceCount, 2);
    assert.deepEqual(f.concreteFunctions()[1].signature[0].shape, [null, 3]);
  });

  it('bad input to a compiled function names the argument and the signature', async () => {
    const f = strata.fn((x: Tensor) => ops.add(x, 1), { inputSignature: [new TensorSpec([null, 4], 'float32', 'features')], name: 'serve' });
    await assert.rejects(f(strata.zeros([2, 5])), /strata\.fn 'serve': argument\[0\] has float32\(2, 5\), which does not match the signature the function was traced for: TensorSpec\(shape=\(None, 4\), dtype=float32, name=features\)\. A fixed dimension differs/);
    await assert.rejects(f(strata.zeros([4])), /does not match the signature.*The rank differs/);
    await assert.rejects(f(strata.zeros([2, 4], 'int32')), /does not match the signature.*The dtype differs/);
  });
});

describe('strata.fn: deferred errors made visible', () => {
  it('reading a symbolic value names the function and op and points to runFunctionsEagerly', async () => {
    const f = strata.fn((x: Tensor) => {
      const y = ops.exp(x);
      console.log(y.dataSync());
      return y;
    }, { name: 'peek' });
    await assert.rejects(f(strata.tensor([1])), (e: Error) => {
      assert.match(e.message, /Cannot read the value of a symbolic tensor \(Tensor\.dataSync\) while tracing function 'peek'/);
      assert.match(e.message, /output of op 'exp'/);
      assert.match(e.message, /strata\.config\.runFunctionsEagerly\(true\)/);
      return true;
    });
  });

  it('a JavaScript if on a tensor value during tracing raises the same error', async () => {
    const f = strata.fn((x: Tensor) => (ops.sum(x).item() > 0 ? x : ops.negative(x)), { name: 'branchy' });
    await assert.rejects(f(strata.tensor([1, 2])), /Tensor\.item\) while tracing function 'branchy'.*ops\.cond/s);
  });

  it('runFunctionsEagerly(true) runs the function eagerly, so values can be read', async () => {
    strata.config.runFunctionsEagerly(true);
    const f = strata.fn((x: Tensor) => (ops.sum(x).item() > 0 ? x : ops.negative(x)));
    const y = await f(strata.tensor([-1, -2]));
    assert.deepEqual([...y.dataSync()], [1, 2]);
    assert.equal(f.traceCount, 0);
  });

  it('a shape error at trace time names the op, the function and the line of user code', async () => {
    const f = strata.fn((x: Tensor) => ops.add(x, strata.zeros([5])), { name: 'badshape' });
    await assert.rejects(f(strata.zeros([2, 3])), (e: Error) => {
      assert.match(e.message, /ops\.add: shapes \(2, 3\) and \(5,\) cannot be broadcast/);
      assert.match(e.message, /called at .*function\.test\.ts:\d+/);
      assert.match(e.message, /while tracing strata\.fn 'badshape'/);
      return true;
    });
  });

  it('creating variables on a later trace is an error, as in TensorFlow', async () => {
    const f = strata.fn((x: Tensor) => ops.add(x, new strata.Variable(strata.zeros([x.shape[0] as number]), { name: 'fresh' }).value), { name: 'makes_vars' });
    await f(strata.zeros([2]));
    await assert.rejects(f(strata.zeros([3])), /strata\.fn 'makes_vars' created variable 'fresh' while being traced again/);
  });
});

describe('strata.fn: variables and side effects', () => {
  it('two functions sharing a variable see each other\'s updates, in call order', async () => {
    const v = new strata.Variable(strata.tensor([1, 2]), { name: 'shared' });
    const inc = strata.fn(() => {
      v.assignAdd(strata.tensor([1, 1]));
      return v.value;
    });
    const double = strata.fn(() => {
      v.assign(ops.multiply(v.value, 2));
      return v.value;
    });
    // Not awaited in between: runs are still serialized in call order.
    const [a, b, c] = await Promise.all([inc(), double(), inc()]);
    assert.deepEqual([...a.dataSync()], [2, 3]);
    assert.deepEqual([...b.dataSync()], [4, 6]);
    assert.deepEqual([...c.dataSync()], [5, 7]);
    assert.deepEqual([...v.value.dataSync()], [5, 7]);
  });

  it('reads see earlier assignments in program order inside one function', async () => {
    const v = new strata.Variable(strata.tensor(1), { name: 'ordered' });
    const f = strata.fn(() => {
      const before = v.value;
      v.assign(ops.add(v.value, 10));
      const after = v.value;
      v.assign(ops.multiply(v.value, 2));
      return [before, after, v.value];
    });
    const [before, after, last] = await f();
    assert.deepEqual([before.item(), after.item(), last.item()], [1, 11, 22]);
    assert.equal(v.value.item(), 22);
  });
});

describe('strata.fn: export and fallback', () => {
  it('exportOnnx writes a standalone model that a fresh onnxruntime session runs with the same outputs', async () => {
    const w = new strata.Variable(randomTensor([3, 2], 9, -1, 1, 'float32'), { name: 'w' });
    const f = strata.fn((x: Tensor) => ops.tanh(ops.sum(ops.multiply(ops.expandDims(x, -1), w), 1)), {
      inputSignature: [new TensorSpec([null, 3], 'float32', 'features')],
      name: 'serve',
    });
    const dir = mkdtempSync(join(tmpdir(), 'strata-export-'));
    const path = join(dir, 'serve.onnx');
    await f.exportOnnx(path);
    const ort = await loadOrt();
    const session = await createSession(new Uint8Array(readFileSync(path)));
    assert.deepEqual(session.inputNames, ['features']);
    assert.deepEqual(session.outputNames, ['output_0']);
    const x = randomTensor([5, 3], 10, -1, 1, 'float32');
    const out = await session.run({ features: toOrtTensor(ort, x.dataSync(), [5, 3], 'float32') });
    assertClose(fromOrtTensor(out.output_0), await f(x), { rtol: 1e-6 });
  });

  it('an op whose lowering fails runs the function on the interpreter, with one warning naming the op', async () => {
    const table = defineOps<{ oddOp: Record<string, never> }>()({
      oddOp: {
        name: 'oddOp',
        infer: ([x]) => [x],
        kernel: ([x]) => [Float32Array.from(x.values, (v) => v * 3)],
        grad: ({ dys: [dy] }) => [ops.multiply(dy, 3)],
        toOnnx: () => {
          throw new Error('no ONNX equivalent');
        },
      },
    });
    const f = strata.fn((x: Tensor) => ops.add(dispatch1(table.oddOp, [x], {}), 1), { name: 'odd' });
    const { result, warnings } = await captureWarnings(() => f(strata.tensor([1, 2])));
    assert.deepEqual([...result.dataSync()], [4, 7]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /strata\.fn 'odd': op 'oddOp' cannot be lowered to ONNX: no ONNX equivalent\. The function runs on the TypeScript interpreter/);
    assert.equal(await f.concreteFunctions()[0].executorKind(), 'interpreter');
  });

  it('returns nested structures of tensors and passes static values through', async () => {
    const f = strata.fn((inputs: { a: Tensor; b: Tensor[] }) => ({ sum: ops.add(inputs.a, inputs.b[0]), pair: [inputs.b[1], 7] }));
    const out = (await f({ a: strata.tensor([1]), b: [strata.tensor([2]), strata.tensor([3])] })) as { sum: Tensor; pair: [Tensor, number] };
    assert.equal(out.sum.item(), 3);
    assert.equal(out.pair[0].item(), 3);
    assert.equal(out.pair[1], 7);
  });
});

describe('strata.fn: frozen variables (inference)', () => {
  it('freezes weights into the graph and rebuilds it when a weight changes', async () => {
    const w = new strata.Variable(strata.tensor([1, 2, 3]), { name: 'frozen_w' });
    const f = strata.fn((x: Tensor) => ops.multiply(x, w), { freezeVariables: true, name: 'predict' });
    assert.deepEqual([...(await f(strata.tensor([1, 1, 1]))).dataSync()], [1, 2, 3]);
    assert.deepEqual([...(await f(strata.tensor([2, 2, 2]))).dataSync()], [2, 4, 6]);
    w.assign(strata.tensor([10, 20, 30]));
    assert.deepEqual([...(await f(strata.tensor([1, 1, 1]))).dataSync()], [10, 20, 30]);
    assert.equal(f.traceCount, 1);
  });

  it('sees updates made by a compiled training step (kept in the graph worker)', async () => {
    const w = new strata.Variable(strata.tensor([1, 1]), { name: 'trained_w' });
    const train = strata.fn(() => { w.assignAdd(strata.tensor([1, 2])); return w.value; });
    const predict = strata.fn((x: Tensor) => ops.multiply(x, w), { freezeVariables: true });
    assert.deepEqual([...(await predict(strata.tensor([1, 1]))).dataSync()], [1, 1]);
    await train();
    assert.deepEqual([...(await predict(strata.tensor([1, 1]))).dataSync()], [2, 3]);
  });

  it('frees the ONNX Runtime session of a frozen graph it rebuilds, and of functions nobody holds any more', async () => {
    const worker = graphWorker();
    const w = new strata.Variable(strata.tensor([1, 2, 3]), { name: 'rebuilt_w' });
    const f = strata.fn((x: Tensor) => ops.multiply(x, w), { freezeVariables: true, name: 'rebuilt' });
    await f(strata.tensor([1, 1, 1]));
    const before = (await worker.stats()).sessions;
    for (let i = 0; i < 5; i++) {
      w.assign(strata.tensor([i, i, i]));
      assert.deepEqual([...(await f(strata.tensor([1, 1, 1]))).dataSync()], [i, i, i]);
    }
    // Five rebuilds, each freeing the session it replaced (the release is queued behind the runs).
    assert.equal((await worker.stats()).sessions, before);

    // A dropped function: its session goes when the garbage collector finalizes it.
    v8.setFlagsFromString('--expose_gc');
    const gc = vm.runInNewContext('gc') as () => void;
    let dropped: ((x: Tensor) => Promise<Tensor>) | null = strata.fn((x: Tensor) => ops.add(x, 1), { name: 'dropped' });
    await dropped(strata.tensor([1]));
    const withDropped = (await worker.stats()).sessions;
    dropped = null;
    let now = withDropped;
    for (let attempt = 0; attempt < 20 && now >= withDropped; attempt++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
      now = (await worker.stats()).sessions;
    }
    assert.ok(now < withDropped, `sessions ${withDropped} -> ${now} after collecting a dropped function`);
  });

  it('refuses a frozen function that assigns variables', async () => {
    const w = new strata.Variable(strata.tensor(1), { name: 'assigned_frozen' });
    const f = strata.fn(() => w.assignAdd(1).value, { freezeVariables: true, name: 'bad_frozen' });
    await assert.rejects(f(), /strata\.fn 'bad_frozen' assigns variable 'assigned_frozen(_\d+)?', but was created with freezeVariables/);
  });
});
