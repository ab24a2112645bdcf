import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { GraphTracer } from '../../src/graph/tracer.ts';
import { withTracer } from '../../src/engine/tracing.ts';
import { checkGraph } from '../../src/graph/check.ts';
import { eliminateCommonSubexpressions, eliminateDeadCode, foldConstants, optimizeGraph, simplifyAlgebra } from '../../src/graph/passes.ts';
import { interpret } from '../../src/graph/executors/interpreter.ts';
import type { Graph } from '../../src/graph/ir.ts';
import { assertClose } from '../helpers/close.ts';

const { ops } = strata;

/** Traces `f` on inputs of the given shapes into a raw (unoptimized) graph. */
function trace(f: (...xs: Tensor[]) => Tensor | Tensor[], shapes: number[][]): Graph {
  const tracer = new GraphTracer('test');
  const inputs = shapes.map((s, i) => tracer.addInput({ shape: s, dtype: 'float32' }, `x${i}`));
  const out = withTracer(tracer, () => f(...inputs));
  tracer.graph.outputs = (Array.isArray(out) ? out : [out]).map((t) => tracer.lift(t));
  checkGraph(tracer.graph);
  return tracer.graph;
}

const opsIn = (g: Graph) => g.nodes.map((n) => n.def.name);

describe('graph passes', () => {
  it('dead-code elimination removes work that reaches no output', () => {
    const g = trace((x) => {
      ops.exp(ops.multiply(x, 3)); // unused
      return ops.add(x, 1);
    }, [[2]]);
    assert.deepEqual(opsIn(g), ['multiply', 'exp', 'add']);
    assert.ok(eliminateDeadCode(g));
    checkGraph(g);
    assert.deepEqual(opsIn(g), ['add']);
  });

  it('common-subexpression elimination merges identical nodes (also with equal constants)', () => {
    const g = trace((x) => ops.add(ops.exp(ops.multiply(x, 2)), ops.exp(ops.multiply(x, 2))), [[3]]);
    assert.equal(opsIn(g).filter((n) => n === 'exp').length, 2);
    assert.ok(eliminateCommonSubexpressions(g));
    eliminateDeadCode(g);
    checkGraph(g);
    assert.deepEqual(opsIn(g), ['multiply', 'exp', 'add']);
  });

  it('constant folding runs the eager kernels on constant subgraphs', () => {
    const g = trace((x) => ops.multiply(x, ops.exp(ops.add(strata.tensor([1, 2]), 1))), [[2]]);
    assert.ok(foldConstants(g));
    eliminateDeadCode(g);
    checkGraph(g);
    assert.deepEqual(opsIn(g), ['multiply']);
    const c = g.nodes[0].inputs[1].constant!;
    assertClose(c, [Math.exp(2), Math.exp(3)]);
  });

  it('algebraic rewrites drop x*1, x+0, double negation, transpose pairs and stopGradient', () => {
    const g = trace((x) => ops.stopGradient(ops.negative(ops.negative(ops.add(ops.multiply(ops.transpose(ops.transpose(x)), 1), 0)))), [[2, 3]]);
    assert.ok(simplifyAlgebra(g));
    eliminateDeadCode(g);
    checkGraph(g);
    assert.deepEqual(opsIn(g), []);
    assert.equal(g.outputs[0], g.inputs[0]);
  });

  it('x * 1 is kept when the 1 broadcasts x to a bigger shape', () => {
    const g = trace((x) => ops.multiply(x, strata.ones([4, 3])), [[3]]);
    simplifyAlgebra(g);
    assert.deepEqual(opsIn(g), ['multiply']);
  });

  it('optimized graphs compute the same values and type-check after every pass', () => {
    const f = (x: Tensor, y: Tensor) => {
      const a = ops.multiply(ops.add(x, 0), ops.exp(strata.tensor(0)));
      const b = ops.sum(ops.multiply(ops.transpose(ops.transpose(y)), a), 0);
      return [ops.add(b, ops.sum(ops.multiply(ops.transpose(ops.transpose(y)), a), 0)), ops.logsumexp(x, 1)];
    };
    const x = strata.tensor([[1, 2, 3], [4, 5, 6]]);
    const y = strata.tensor([[0.5, -1, 2], [3, 0, 1]]);
    const g = trace(f, [[2, 3], [2, 3]]);
    const before = g.nodes.length;
    const passes: string[] = [];
    optimizeGraph(g, { afterPass: (name, graph) => { passes.push(name); checkGraph(graph); } });
    assert.ok(g.nodes.length < before, `${g.nodes.length} nodes after, ${before} before`);
    assert.ok(passes.length >= 3);
    const [r0, r1] = interpret(g, [x, y]);
    const [e0, e1] = f(x, y);
    assertClose(r0, e0);
    assertClose(r1, e1);
  });
});

describe('graph checker', () => {
  it('reports a node whose recorded type disagrees with its op', () => {
    const g = trace((x) => ops.exp(x), [[2]]);
    (g.nodes[0].outputs[0] as { type: unknown }).type = { shape: [3], dtype: 'float32' };
    assert.throws(() => checkGraph(g), /Graph 'test' is malformed: output 0 of node exp \(#\d+\) is typed float32\(3,\) but its op infers float32\(2,\)/);
  });
  it('reports a value used before it is defined', () => {
    const g = trace((x) => ops.exp(ops.sin(x)), [[2]]);
    g.nodes.reverse();
    assert.throws(() => checkGraph(g), /used before it is defined/);
  });
  it('reports an undefined output', () => {
    const g = trace((x) => ops.exp(x), [[2]]);
    g.nodes = [];
    assert.throws(() => checkGraph(g), /output 0 \(%\d+\) is not defined/);
  });
});
