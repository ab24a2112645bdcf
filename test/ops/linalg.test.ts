import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ops from '../../src/ops/index.ts';
import { tensor } from '../../src/tensor/create.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { dispatch1 } from '../../src/engine/dispatch.ts';
import { type Tracer, withTracer } from '../../src/engine/tracing.ts';
import { GradientTape } from '../../src/autodiff/tape.ts';
import type { Shape } from '../../src/tensor/shape.ts';
import { linalgOps } from '../../src/ops/defs/linalg.ts';
import { assertClose, randomTensor } from '../helpers/close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { runLowered } from '../helpers/onnx.ts';
import { assertGraphMatchesEager } from '../helpers/graph.ts';

/**
 * Naive einsum reference: loops over every assignment of every label and
 * accumulates the product into the output (no broadcasting, no ellipsis).
 */
function refEinsum(spec: string, ...xs: Tensor[]): { shape: number[]; values: number[] } {
  const [lhs, out] = spec.split('->');
  const terms = lhs.split(',');
  const size = new Map<string, number>();
  terms.forEach((t, i) => [...t].forEach((l, k) => size.set(l, xs[i].shape[k] as number)));
  const labels = [...size.keys()];
  const outShape = [...out].map((l) => size.get(l)!);
  const values = new Array<number>(outShape.reduce((p, d) => p * d, 1)).fill(0);
  const data = xs.map((x) => x.dataSync());
  const offset = (ls: string, shape: number[], at: Map<string, number>) => [...ls].reduce((o, l, k) => o * shape[k] + at.get(l)!, 0);
  const at = new Map<string, number>(labels.map((l) => [l, 0]));
  const total = labels.reduce((p, l) => p * size.get(l)!, 1);
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    for (let i = labels.length - 1; i >= 0; i--) {
      at.set(labels[i], rest % size.get(labels[i])!);
      rest = Math.floor(rest / size.get(labels[i])!);
    }
    let p = 1;
    terms.forEach((t, i) => (p *= data[i][offset(t, xs[i].shape as number[], at)]));
    values[offset(out, outShape, at)] += p;
  }
  return { shape: outShape, values };
}

function assertMatches(actual: Tensor, expected: { shape: number[]; values: number[] }, tol = 1e-10, label = ''): void {
  assert.deepEqual(actual.shape, expected.shape, `${label} shape`);
  assertClose(actual, expected.values, { rtol: tol, atol: tol }, label);
}

const f64 = (shape: number[], seed: number) => randomTensor(shape, seed, -1, 1, 'float64');
const f32 = (shape: number[], seed: number) => randomTensor(shape, seed, -1, 1, 'float32');

/** A label string for a tensor of rank r (letters from `from`). */
const L = (from: string, r: number) => from.slice(0, r);

interface MatmulCase {
  a: number[];
  b: number[];
  /** The same product as an einsum reference spec (batch dims broadcast by the test below). */
  label: string;
}

// Shapes that exercise the small path, the blocked path with ragged edges, K slices (K > 256),
// batch broadcasting on either side and the tall-product shortcut.
const matmulCases: MatmulCase[] = [
  { a: [3, 4], b: [4, 5], label: 'small 2-D' },
  { a: [37, 70], b: [70, 45], label: 'blocked, ragged edges' },
  { a: [9, 300], b: [300, 21], label: 'two K slices' },
  { a: [70, 33], b: [33, 3], label: 'thin N' },
  { a: [1, 50], b: [50, 40], label: 'single row' },
  { a: [2, 3, 20, 17], b: [17, 19], label: 'batched x shared matrix' },
  { a: [2, 1, 6, 5], b: [3, 5, 7], label: 'batch broadcast both sides' },
  { a: [6, 5], b: [4, 5, 9], label: 'shared first operand' },
];

/** Reference matmul with broadcasting batch dims, via refEinsum on each batch pair. */
function refMatmul(a: Tensor, b: Tensor): { shape: number[]; values: number[] } {
  const as = a.shape as number[], bs = b.shape as number[];
  const batchA = as.slice(0, -2), batchB = bs.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const pad = (s: number[]) => [...new Array(rank - s.length).fill(1), ...s];
  const [pa, pb] = [pad(batchA), pad(batchB)];
  const batch = pa.map((d, i) => Math.max(d, pb[i]));
  const [M, K, N] = [as[as.length - 2], as[as.length - 1], bs[bs.length - 1]];
  const av = a.dataSync(), bv = b.dataSync();
  const values: number[] = [];
  const count = batch.reduce((p, d) => p * d, 1);
  for (let t = 0; t < count; t++) {
    const idx: number[] = [];
    let rest = t;
    for (let i = rank - 1; i >= 0; i--) { idx.unshift(rest % batch[i]); rest = Math.floor(rest / batch[i]); }
    const off = (s: number[]) => s.reduce((o, d, i) => o * d + (d === 1 ? 0 : idx[i]), 0);
    const ao = off(pa) * M * K, bo = off(pb) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += av[ao + i * K + k] * bv[bo + k * N + j];
        values.push(s);
      }
    }
  }
  return { shape: [...batch, M, N], values };
}

describe('matmul: forward values against naive loops', () => {
  for (const c of matmulCases) {
    it(`${c.label}: ${JSON.stringify(c.a)} @ ${JSON.stringify(c.b)}`, () => {
      const a = f64(c.a, 1), b = f64(c.b, 2);
      assertMatches(ops.matmul(a, b), refMatmul(a, b), 1e-12, c.label);
      // float32 takes the same path with float32 storage.
      const a32 = ops.cast(a, 'float32'), b32 = ops.cast(b, 'float32');
      const y32 = ops.matmul(a32, b32);
      assert.equal(y32.dtype, 'float32');
      assertMatches(y32, refMatmul(a32, b32), 1e-4, c.label);
    });
  }
  it('transposed operands (the primitive flags) in every combination and batch layout', () => {
    for (const [as, bs] of [[[2, 40, 30], [30, 50]], [[5, 3], [3, 4]], [[3, 1, 9, 12], [2, 12, 10]]]) {
      const a = f64(as, 3), b = f64(bs, 4);
      const expected = refMatmul(a, b);
      const swap = (t: Tensor) => ops.transpose(t, [...Array(t.rank - 2).keys(), t.rank - 1, t.rank - 2]);
      for (const [tA, tB] of [[false, true], [true, false], [true, true]]) {
        const y = dispatch1(linalgOps.matmul, [tA ? swap(a) : a, tB ? swap(b) : b], { transposeA: tA, transposeB: tB });
        assertMatches(y, expected, 1e-12, `transposeA=${tA} transposeB=${tB}`);
      }
    }
  });
  it('1-D operands follow NumPy (vector-matrix, matrix-vector, inner product, batched)', () => {
    const v = f64([4], 5), m = f64([4, 3], 6), m2 = f64([2, 4], 7), s = f64([5, 3, 4], 8), w = f64([3], 9);
    assertMatches(ops.matmul(v, m), refEinsum('i,ij->j', v, m));
    assertMatches(ops.matmul(m2, v), refEinsum('ij,j->i', m2, v));
    assertMatches(ops.matmul(v, v), refEinsum('i,i->', v, v));
    assertMatches(ops.matmul(s, v), refEinsum('bij,j->bi', s, v));
    assertMatches(ops.matmul(w, s), refEinsum('j,bji->bi', w, s));
  });
  it('int32 products are exact and stay int32', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]], undefined, 'int32');
    const b = tensor([[7, 8], [9, 10], [11, 12]], undefined, 'int32');
    const y = ops.matmul(a, b);
    assert.equal(y.dtype, 'int32');
    assert.deepEqual([...y.dataSync()], [58, 64, 139, 154]);
    const seq = (n: number) => Int32Array.from({ length: n }, (_, i) => (i * 7919) % 1000 - 500);
    const big = ops.matmul(tensor(seq(600), [20, 30]), tensor(seq(900), [30, 30]));
    const ref = refMatmul(tensor(Float64Array.from(seq(600)), [20, 30]), tensor(Float64Array.from(seq(900)), [30, 30]));
    assert.deepEqual([...big.dataSync()], ref.values);
  });
  it('booleans are counted as int32, mixed dtypes promote', () => {
    const y = ops.matmul(tensor([[true, false], [true, true]]), tensor([[true], [true]]));
    assert.equal(y.dtype, 'int32');
    assert.deepEqual([...y.dataSync()], [1, 2]);
    assert.equal(ops.matmul(f64([2, 2], 1), tensor([[1, 2], [3, 4]])).dtype, 'float64');
  });
  it('NaN and Inf propagate', () => {
    const y = ops.matmul(tensor([[0, 1], [1, 1]]), tensor([[NaN, 1], [Infinity, 2]])).dataSync();
    assert.ok(Number.isNaN(y[0]));
    assert.equal(y[1], 2);
  });
  it('empty operands', () => {
    assert.deepEqual(ops.matmul(f64([0, 3], 1), f64([3, 4], 2)).shape, [0, 4]);
    const z = ops.matmul(f64([2, 0], 1), f64([0, 3], 2));
    assert.deepEqual(z.shape, [2, 3]);
    assert.deepEqual([...z.dataSync()], [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(ops.matmul(f64([0, 2, 3], 1), f64([3, 5], 2)).shape, [0, 2, 5]);
  });
});

describe('dot, tensordot, einsum: forward values against a naive einsum', () => {
  it('dot follows NumPy for every rank combination', () => {
    const s = tensor(new Float64Array([2]), []);
    const v = f64([3], 1), v2 = f64([3], 2), m = f64([2, 3], 3), m2 = f64([3, 4], 4), t = f64([2, 2, 3], 5), t2 = f64([2, 3, 4], 6);
    assertMatches(ops.dot(s, m), { shape: [2, 3], values: [...m.dataSync()].map((x) => 2 * x) });
    assertMatches(ops.dot(v, v2), refEinsum('i,i->', v, v2));
    assertMatches(ops.dot(m, v), refEinsum('ij,j->i', m, v));
    assertMatches(ops.dot(v, m2), refEinsum('i,ij->j', v, m2));
    assertMatches(ops.dot(m, m2), refEinsum('ij,jk->ik', m, m2));
    assertMatches(ops.dot(t, v), refEinsum('abk,k->ab', t, v));
    assertMatches(ops.dot(t, t2), refEinsum('abk,ckd->abcd', t, t2));
    assertMatches(ops.dot(v, t2), refEinsum('k,ckd->cd', v, t2));
  });
  it('tensordot with integer and explicit axes', () => {
    const a = f64([2, 3, 4], 1), b = f64([3, 4, 5], 2), c = f64([4, 3, 2], 3);
    assertMatches(ops.tensordot(a, b), refEinsum('ijk,jkl->il', a, b));
    assertMatches(ops.tensordot(a, b, 2), refEinsum('ijk,jkl->il', a, b));
    assertMatches(ops.tensordot(a, c, 0), refEinsum('ijk,lmn->ijklmn', a, c));
    assertMatches(ops.tensordot(a, c, [[1, 2], [1, 0]]), refEinsum('ijk,kjl->il', a, c));
    assertMatches(ops.tensordot(a, c, [0, 2]), refEinsum('ijk,lmi->jklm', a, c));
    assertMatches(ops.tensordot(a, c, [[-1], [0]]), refEinsum('ijk,klm->ijlm', a, c));
  });
  const einsumCases: [string, number[][]][] = [
    ['ij->ji', [[3, 4]]],
    ['ij->i', [[3, 4]]],
    ['ijk->', [[2, 3, 4]]],
    ['ijk->kij', [[2, 3, 4]]],
    ['ij,jk->ik', [[3, 4], [4, 5]]],
    ['ij,kj->ik', [[3, 4], [5, 4]]],
    ['ji,jk->ik', [[4, 3], [4, 5]]],
    ['ij,jk->ki', [[3, 4], [4, 5]]],
    ['i,i->', [[5], [5]]],
    ['i,j->ij', [[3], [4]]],
    ['ij,ij->ij', [[3, 4], [3, 4]]],
    ['ij,ij->', [[3, 4], [3, 4]]],
    ['ij,ij->j', [[3, 4], [3, 4]]],
    ['bij,bjk->bik', [[2, 3, 4], [2, 4, 5]]],
    ['bij,jk->bik', [[2, 3, 4], [4, 5]]],
    ['bhqd,bhkd->bhqk', [[2, 2, 3, 4], [2, 2, 5, 4]]],
    ['ibj,jb->ib', [[3, 2, 4], [4, 2]]],
    ['ij,kl->ijkl', [[2, 3], [2, 2]]],
    ['ijk,k->ij', [[2, 3, 4], [4]]],
    ['ij,jk,kl->il', [[2, 3], [3, 4], [4, 2]]],
    ['ab,bc,ca->', [[2, 3], [3, 4], [4, 2]]],
    ['i,ij->', [[3], [3, 4]]],
    ['ij,k->', [[2, 3], [4]]],
  ];
  for (const [spec, shapes] of einsumCases) {
    it(`einsum '${spec}'`, () => {
      const xs = shapes.map((s, i) => f64(s, 11 + i));
      assertMatches(ops.einsum(spec, ...xs), refEinsum(spec, ...xs), 1e-12, spec);
    });
  }
  it('einsum implicit output, spaces and ellipsis broadcasting', () => {
    const a = f64([3, 4], 1), b = f64([4, 5], 2);
    assertMatches(ops.einsum('ij,jk', a, b), refEinsum('ij,jk->ik', a, b));
    assertMatches(ops.einsum('ba', a), refEinsum('ba->ab', a));
    assertMatches(ops.einsum(' ij , jk -> ik ', a, b), refEinsum('ij,jk->ik', a, b));
    const x = f64([2, 3, 4], 3), y = f64([4, 5], 4);
    assertMatches(ops.einsum('...ij,jk->...ik', x, y), refEinsum('bij,jk->bik', x, y));
    assertMatches(ops.einsum('...j,j...', x, f64([4], 5)), refEinsum('abj,j->ab', x, f64([4], 5)));
    // '...' dims broadcast: (2, 1) against (3,) on the left of the matrices.
    const p = f64([2, 1, 3, 4], 6), q = f64([3, 4, 5], 7);
    const expected = refMatmul(p, q);
    assertMatches(ops.einsum('...ij,...jk->...ik', p, q), expected);
  });
  it('einsum of int32 operands stays int32', () => {
    const y = ops.einsum('i,i->', tensor([1, 2, 3], undefined, 'int32'), tensor([4, 5, 6], undefined, 'int32'));
    assert.equal(y.dtype, 'int32');
    assert.equal(y.item(), 32);
  });
});

describe('linalg: gradients against finite differences (float64)', () => {
  for (const c of matmulCases.filter((c) => c.a.reduce((p, d) => p * d, 1) <= 400)) {
    it(`matmul ${c.label}`, () => checkGradients(ops.matmul, [f64(c.a, 1), f64(c.b, 2)], {}, c.label));
  }
  it('matmul with 1-D operands', () => {
    checkGradients(ops.matmul, [f64([4], 1), f64([4, 3], 2)], {}, 'vector @ matrix');
    checkGradients(ops.matmul, [f64([2, 3, 4], 1), f64([4], 2)], {}, 'batch @ vector');
    checkGradients(ops.matmul, [f64([4], 1), f64([4], 2)], {}, 'vector @ vector');
  });
  it('matmul primitive with transpose flags (batch-broadcast)', () => {
    for (const [tA, tB] of [[false, true], [true, false], [true, true]]) {
      const a = f64(tA ? [2, 1, 4, 3] : [2, 1, 3, 4], 1);
      const b = f64(tB ? [3, 5, 4] : [3, 4, 5], 2);
      checkGradients((x, y) => dispatch1(linalgOps.matmul, [x, y], { transposeA: tA, transposeB: tB }), [a, b], {}, `tA=${tA} tB=${tB}`);
    }
  });
  it('dot', () => {
    checkGradients(ops.dot, [f64([2, 2, 3], 1), f64([2, 3, 2], 2)], {}, 'N-D . M-D');
    checkGradients(ops.dot, [f64([3], 1), f64([3], 2)], {}, 'inner');
    checkGradients(ops.dot, [tensor(new Float64Array([1.5]), []), f64([2, 3], 2)], {}, 'scalar');
  });
  it('tensordot', () => {
    checkGradients((a, b) => ops.tensordot(a, b, [[1, 2], [1, 0]]), [f64([2, 3, 4], 1), f64([4, 3, 2], 2)]);
    checkGradients((a, b) => ops.tensordot(a, b, 0), [f64([2, 2], 1), f64([3], 2)]);
  });
  for (const spec of ['ij->ji', 'ij->i', 'ij,kj->ik', 'ji,jk->ik', 'bij,bjk->bik', 'ibj,jb->ib', 'i,j->ij', 'ij,ij->j', 'ij,jk,kl->il', 'i,ij->']) {
    it(`einsum '${spec}'`, () => {
      const shapes = refShapes(spec);
      checkGradients((...xs) => ops.einsum(spec, ...xs), shapes.map((s, i) => f64(s, 21 + i)), {}, spec);
    });
  }
  it("einsum '...ij,...jk->...ik' with broadcast batch dims", () => {
    checkGradients((p, q) => ops.einsum('...ij,...jk->...ik', p, q), [f64([2, 1, 2, 3], 1), f64([3, 3, 2], 2)]);
  });
});

/** Small shapes for an einsum spec: label sizes 2, 3, 4, ... in order of appearance. */
function refShapes(spec: string): number[][] {
  const sizes = new Map<string, number>();
  for (const ch of spec.split('->')[0]) if (/[a-z]/.test(ch) && !sizes.has(ch)) sizes.set(ch, 2 + sizes.size);
  return spec.split('->')[0].split(',').map((t) => [...t].map((l) => sizes.get(l)!));
}

describe('matmul: ONNX lowering matches the eager kernel', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false],
    [[2, 3, 5, 7], [7, 4], false, false],
    [[2, 1, 7, 5], [3, 4, 7], true, true],
    [[5, 7], [3, 7], false, true],
    [[4, 7, 5], [7, 3], true, false],
  ];
  for (const [as, bs, tA, tB] of cases) {
    it(`${JSON.stringify(as)} x ${JSON.stringify(bs)} transposeA=${tA} transposeB=${tB}`, async () => {
      const a = f32(as, 1), b = f32(bs, 2);
      const attrs = { transposeA: tA, transposeB: tB };
      const [graph] = await runLowered(linalgOps.matmul, [a, b], attrs);
      assertClose(graph, dispatch1(linalgOps.matmul, [a, b], attrs), { rtol: 1e-5, atol: 1e-5 });
    });
  }
  it('int32 and float64', async () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]], undefined, 'int32'), b = tensor([[1, 0], [2, 1], [0, 3]], undefined, 'int32');
    const attrs = { transposeA: false, transposeB: false };
    const [gi] = await runLowered(linalgOps.matmul, [a, b], attrs);
    assert.deepEqual([...gi.dataSync()], [...ops.matmul(a, b).dataSync()]);
    const [gd] = await runLowered(linalgOps.matmul, [f64([3, 4], 1), f64([4, 2], 2)], attrs);
    assertClose(gd, ops.matmul(f64([3, 4], 1), f64([4, 2], 2)), { rtol: 1e-12, atol: 1e-12 });
  });
});

describe('linalg: compiled functions match eager mode', () => {
  it('matmul, einsum, tensordot and dot with their gradients (ONNX Runtime and the interpreter)', async () => {
    const f = (a: Tensor, b: Tensor, v: Tensor) => {
      const tape = new GradientTape();
      const loss = tape.record(() => {
        const h = ops.einsum('bij,jk->bik', a, b);
        const t = ops.tensordot(h, v, [[2], [0]]);
        return ops.add(ops.sum(ops.multiply(t, ops.matmul(h, ops.dot(b, v)))), ops.sum(ops.matmul(a, v)));
      });
      return [loss, ...(tape.gradient(loss, [a, b, v]) as Tensor[])];
    };
    await assertGraphMatchesEager(f, [f32([2, 3, 4], 1), f32([4, 4], 2), f32([4], 3)], { rtol: 1e-4, atol: 1e-4 }, 'linalg');
  });
});

describe('linalg: shapes with unknown dims and bad input', () => {
  it('matmul infer propagates unknown batch and matrix dims', () => {
    const infer = (a: (number | null)[], b: (number | null)[], tA = false, tB = false) =>
      linalgOps.matmul.infer([{ shape: a, dtype: 'float32' }, { shape: b, dtype: 'float32' }], { transposeA: tA, transposeB: tB })[0].shape;
    assert.deepEqual(infer([null, 3, 4], [4, 5]), [null, 3, 5]);
    assert.deepEqual(infer([null, 4], [4, null]), [null, null]);
    assert.deepEqual(infer([2, null, 4, 3], [null, 4, 5], true), [2, null, 3, 5]);
    assert.deepEqual(infer([3, null], [5, 4], false, true), [3, 5]);
  });
  it('composites propagate an unknown batch dim while tracing, gradients included', () => {
    const fake: Tracer = {
      name: 'test',
      recordOp: (def, _inputs, _attrs, types) => types.map((t) => new Tensor(t.shape, t.dtype, null, { traceName: 'test', producerName: def.name })),
      readVariable: () => { throw new Error('no variables'); },
      assignVariable: () => { throw new Error('no variables'); },
      variableCreated: () => {},
    };
    const sym = (shape: Shape) => new Tensor(shape, 'float32', null, { traceName: 'test', producerName: 'input' });
    withTracer(fake, () => {
      const x = sym([null, 3, 4]);
      assert.deepEqual(ops.einsum('bij,jk->bik', x, sym([4, 5])).shape, [null, 3, 5]);
      assert.deepEqual(ops.einsum('bij,bkj->bik', x, sym([null, 6, 4])).shape, [null, 3, 6]);
      assert.deepEqual(ops.einsum('bij->jb', x).shape, [4, null]);
      assert.deepEqual(ops.matmul(x, sym([4])).shape, [null, 3]);
      assert.deepEqual(ops.tensordot(x, sym([4, 2]), 1).shape, [null, 3, 2]);
      assert.deepEqual(ops.dot(sym([null, 4]), sym([4, 7])).shape, [null, 7]);
      const a = sym([null, 8]), w = sym([8, 3]);
      const tape = new GradientTape();
      const loss = tape.record(() => ops.sum(ops.matmul(a, w)));
      const [ga, gw] = tape.gradient(loss, [a, w]);
      assert.deepEqual(ga?.shape, [null, 8]);
      assert.deepEqual(gw?.shape, [8, 3]);
    });
  });
  it('errors name the op, the argument and the shapes', () => {
    assert.throws(() => ops.matmul(f64([2, 3], 1), f64([4, 5], 2)), /ops\.matmul: Received: x1 of shape \(2, 3\) and x2 of shape \(4, 5\); the last dimension of x1 \(3\) must equal the second-to-last dimension of x2 \(4\)/);
    assert.throws(() => ops.matmul(f64([3], 1), f64([4], 2)), /ops\.matmul: .*the last dimension of x1 \(3\) must equal the length of x2 \(4\)/);
    assert.throws(() => ops.matmul(f64([2, 2, 3], 1), f64([3, 3, 4], 2)), /ops\.matmul: .*batch dimensions \(2,\) and \(3,\) cannot be broadcast/);
    assert.throws(() => ops.matmul(tensor(1), f64([3], 2)), /ops\.matmul: .*does not accept scalars/);
    assert.throws(() => dispatch1(linalgOps.matmul, [f64([2, 3], 1), f64([3], 2)], { transposeA: false, transposeB: false }), /rank >= 2/);
    assert.throws(() => dispatch1(linalgOps.matmul, [f64([2, 3], 1), f32([3, 2], 2)], { transposeA: false, transposeB: false }), /same dtype/);
    assert.throws(() => ops.tensordot(f64([2, 3], 1), f64([2, 3], 2), 1), /ops\.tensordot: .*contracted dimensions 3 \(axis 1 of x1\) and 2 \(axis 0 of x2\) differ/);
    assert.throws(() => ops.tensordot(f64([2, 3], 1), f64([2, 3], 2), 3), /ops\.tensordot: Received: axes=3/);
    assert.throws(() => ops.tensordot(f64([2, 3], 1), f64([2, 3], 2), [[0, 1], [0]]), /same number of axes/);
    assert.throws(() => ops.einsum('ii->i', f64([3, 3], 1)), /ops\.einsum: .*label 'i' is repeated within operand 0\. Traces and diagonals are not supported/);
    assert.throws(() => ops.einsum('ij,jk->ik', f64([2, 3], 1)), /ops\.einsum: .*2 operand\(s\) and 1 operand\(s\)/);
    assert.throws(() => ops.einsum('ij->k', f64([2, 3], 1)), /output label 'k' does not appear/);
    assert.throws(() => ops.einsum('ijk->i', f64([2, 3], 1)), /operand 0 has rank 2 .* name 3 axes/);
    assert.throws(() => ops.einsum('ij,jk->ik', f64([2, 3], 1), f64([4, 5], 2)), /label 'j' has sizes 3 and 4/);
    assert.throws(() => ops.einsum('i1->i', f64([2], 1)), /unexpected character "1"/);
  });
});
