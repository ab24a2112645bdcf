import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import { Tensor, TensorSpec } from '../../src/tensor/tensor.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';
import { withExecutor } from '../helpers/graph.ts';

const { ops } = strata;

for (const executor of ['onnxruntime', 'interpreter'] as const) {
  describe(`ops.cond and ops.whileLoop traced (${executor})`, () => {
    it('cond picks the branch from the run-time predicate, with one trace', async () => {
      await withExecutor(executor, async () => {
        const f = strata.fn((x: Tensor) => ops.cond(ops.greater(ops.sum(x), 0), () => ops.multiply(x, 2), () => ops.negative(x)), {
          inputSignature: [new TensorSpec([null])],
          name: `cond_${executor}`,
        });
        assert.deepEqual([...(await f(strata.tensor([1, 2]))).dataSync()], [2, 4]);
        assert.deepEqual([...(await f(strata.tensor([-1, -2, -3]))).dataSync()], [1, 2, 3]);
        assert.equal(f.traceCount, 1);
        assert.match(f.graph(strata.tensor([1])), /= cond\(/);
      });
    });

    it('cond branches may read variables and outer values and return structures', async () => {
      await withExecutor(executor, async () => {
        const v = new strata.Variable(strata.tensor([10, 20]), { name: 'cv' });
        const f = strata.fn((x: Tensor, flag: Tensor) => {
          const shifted = ops.add(x, 1);
          return ops.cond(flag, () => ({ a: ops.add(shifted, v.value), b: shifted }), () => ({ a: ops.subtract(shifted, v.value), b: x }));
        });
        const r1 = (await f(strata.tensor([1, 2]), strata.tensor(true))) as { a: Tensor; b: Tensor };
        assert.deepEqual([...r1.a.dataSync(), ...r1.b.dataSync()], [12, 23, 2, 3]);
        const r2 = (await f(strata.tensor([1, 2]), strata.tensor(false))) as { a: Tensor; b: Tensor };
        assert.deepEqual([...r2.a.dataSync(), ...r2.b.dataSync()], [-8, -17, 1, 2]);
      });
    });

    it('the gradient through a traced cond equals the eager gradient, for both branches', async () => {
      await withExecutor(executor, async () => {
        const w = new strata.Variable(randomTensor([3], 1, -1, 1, 'float64'), { name: 'cw' });
        const lossFn = (x: Tensor) => {
          const h = ops.multiply(x, w);
          const y = ops.cond(ops.greater(ops.sum(x), 0), () => ops.sin(h), () => ops.square(ops.multiply(h, 3)));
          return ops.sum(y);
        };
        const gradStep = (x: Tensor) => {
          const tape = new strata.GradientTape();
          const loss = tape.record(() => lossFn(x));
          return tape.gradient(loss, [w, x]) as Tensor[];
        };
        const compiled = strata.fn(gradStep, { name: `cond_grad_${executor}` });
        for (const x of [randomTensor([3], 2, 0.1, 1, 'float64'), randomTensor([3], 3, -1, -0.1, 'float64')]) {
          const [gw, gx] = gradStep(x);
          const [cw, cx] = await compiled(x);
          assertClose(cw, gw, { rtol: 1e-10 }, 'grad w');
          assertClose(cx, gx, { rtol: 1e-10 }, 'grad x');
        }
        assert.equal(compiled.traceCount, 1);
      });
    });

    it('whileLoop runs until the condition fails, with loop-carried state', async () => {
      await withExecutor(executor, async () => {
        // Collatz steps of n, counted in a loop whose trip count depends on the data.
        const collatz = (n: Tensor) =>
          ops.whileLoop(
            (k: Tensor) => ops.greater(k, 1),
            (k: Tensor, steps: Tensor) => [ops.where(ops.equal(ops.mod(k, 2), 0), ops.floorDivide(k, 2), ops.add(ops.multiply(k, 3), 1)), ops.add(steps, 1)],
            [n, strata.tensor(0, [], 'int32')],
          )[1];
        const f = strata.fn(collatz, { name: `collatz_${executor}` });
        for (const n of [1, 6, 27]) {
          const eager = collatz(strata.tensor(n, [], 'int32')).item();
          assert.equal((await f(strata.tensor(n, [], 'int32'))).item(), eager);
        }
        assert.equal(collatz(strata.tensor(27, [], 'int32')).item(), 111);
        assert.equal(f.traceCount, 1);
      });
    });

    it('whileLoop respects maximumIterations', async () => {
      await withExecutor(executor, async () => {
        const f = strata.fn((x: Tensor) => ops.whileLoop(() => strata.tensor(true), (v: Tensor) => [ops.multiply(v, 2)], [x], { maximumIterations: 5 })[0]);
        assert.equal((await f(strata.tensor(1))).item(), 32);
      });
    });
  });
}

describe('control flow errors', () => {
  it('branches with different dtypes are rejected with both types named', async () => {
    const f = strata.fn((x: Tensor) => ops.cond(strata.tensor(true), () => x, () => ops.cast(x, 'int32')));
    await assert.rejects(f(strata.tensor([1])), /ops\.cond: output 0 is float32\(1,\) in one branch and int32\(1,\) in the other/);
  });
  it('eager cond needs a one-element predicate', () => {
    assert.throws(() => ops.cond(strata.tensor([true, false]), () => 1, () => 2), /ops\.cond: the predicate must have exactly one element/);
  });
  it('assigning a variable inside a branch is refused with the workaround', async () => {
    const v = new strata.Variable(strata.tensor(0), { name: 'branch_assign' });
    const f = strata.fn((x: Tensor) => ops.cond(ops.greater(x, 0), () => { v.assign(x); return x; }, () => x));
    await assert.rejects(f(strata.tensor(1)), /assigned inside a branch of ops\.cond.*return the new value from the branch/s);
  });
});
