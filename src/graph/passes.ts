/**
 * Graph passes: dead-code elimination, common-subexpression elimination,
 * constant folding (with the eager kernels) and a few algebraic rewrites.
 * Each pass edits the graph in place and returns whether it changed it.
 */
import type { ConcreteShape } from '../tensor/shape.ts';
import { shapesEqual, sizeOf } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { type Graph, type Node, type Value, subgraphsOf } from './ir.ts';

/** Replaces every use of `from` by `to` in the graph (and in subgraphs reading it). */
export function replaceAllUses(graph: Graph, from: Value, to: Value): void {
  for (const node of graph.nodes) {
    node.inputs = node.inputs.map((v) => (v === from ? to : v));
    for (const sub of subgraphsOf(node)) {
      for (const c of sub.outerCaptures) if (c.outer === from) c.outer = to;
    }
  }
  graph.outputs = graph.outputs.map((v) => (v === from ? to : v));
  for (const u of graph.updates) if (u.value === from) u.value = to;
}

function isPure(node: Node): boolean {
  return !node.def.stateful && subgraphsOf(node).length === 0;
}

export function eliminateDeadCode(graph: Graph): boolean {
  const live = new Set<Value>([...graph.outputs, ...graph.updates.map((u) => u.value)]);
  const kept: Node[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    if (node.def.stateful || node.outputs.some((o) => live.has(o))) {
      kept.push(node);
      for (const v of node.inputs) live.add(v);
    }
  }
  kept.reverse();
  const changed = kept.length !== graph.nodes.length;
  graph.nodes = kept;
  // Variables no node reads need not be fed.
  const usedCaptures = graph.captures.filter((v) => live.has(v));
  if (usedCaptures.length !== graph.captures.length) {
    graph.captures.splice(0, graph.captures.length, ...usedCaptures);
    return true;
  }
  for (const node of graph.nodes) for (const sub of subgraphsOf(node)) if (eliminateDeadCode(sub)) return true;
  return changed;
}

function attrKey(attrs: unknown): string {
  return JSON.stringify(attrs, (_k, v) => (v instanceof Tensor ? `tensor#${v.id}` : v));
}

export function eliminateCommonSubexpressions(graph: Graph): boolean {
  const seen = new Map<string, Node>();
  let changed = false;
  const constantKey = (v: Value): string => {
    const c = v.constant!;
    return (c.size ?? 0) <= 16 ? `c:${c.dtype}:${c.shape.join('x')}:${Array.from(c.dataSync()).join(',')}` : `c#${v.id}`;
  };
  const inputKey = (v: Value) => (v.kind === 'constant' ? constantKey(v) : `%${v.id}`);
  for (const node of [...graph.nodes]) {
    if (!isPure(node)) continue;
    const key = `${node.def.name}|${attrKey(node.attrs)}|${node.inputs.map(inputKey).join(',')}`;
    const prior = seen.get(key);
    if (!prior) {
      seen.set(key, node);
      continue;
    }
    node.outputs.forEach((o, i) => replaceAllUses(graph, o, prior.outputs[i]));
    graph.nodes = graph.nodes.filter((n) => n !== node);
    changed = true;
  }
  return changed;
}

/** Outputs larger than this are left to be computed at run time instead of stored in the model. */
const MAX_FOLDED_ELEMENTS = 1 << 20;

export function foldConstants(graph: Graph): boolean {
  let changed = false;
  for (const node of [...graph.nodes]) {
    if (!isPure(node) || !node.inputs.every((v) => v.kind === 'constant')) continue;
    if (node.outputs.some((o) => (sizeOf(o.type.shape) ?? Infinity) > MAX_FOLDED_ELEMENTS)) continue;
    const inputs = node.inputs.map((v) => {
      const t = v.constant!;
      return { values: t._values!, shape: t.shape as ConcreteShape, dtype: t.dtype };
    });
    const types = node.outputs.map((o) => ({ shape: o.type.shape as ConcreteShape, dtype: o.type.dtype }));
    const results = node.def.kernel(inputs, node.attrs, types);
    node.outputs.forEach((o, i) => {
      const c = graph.newValue(o.type, 'constant');
      c.constant = new Tensor(types[i].shape, types[i].dtype, results[i]);
      replaceAllUses(graph, o, c);
    });
    graph.nodes = graph.nodes.filter((n) => n !== node);
    changed = true;
  }
  return changed;
}

function constantEquals(v: Value, scalar: number): boolean {
  if (v.kind !== 'constant') return false;
  const values = v.constant!._values!;
  for (let i = 0; i < values.length; i++) if (values[i] !== scalar) return false;
  return values.length > 0;
}

const sameType = (a: Value, b: Value) => a.type.dtype === b.type.dtype && shapesEqual(a.type.shape, b.type.shape);

/**
 * Local rewrites that keep values bit-identical: x + 0, x - 0, x * 1, x / 1,
 * -(-x), reshape of a reshape, transpose of a transpose, shape ops that do
 * nothing, and stopGradient (which only matters while differentiating).
 */
export function simplifyAlgebra(graph: Graph): boolean {
  let changed = false;
  const replace = (node: Node, by: Value) => {
    replaceAllUses(graph, node.outputs[0], by);
    changed = true;
  };
  for (const node of graph.nodes) {
    const [a, b] = node.inputs;
    const out = node.outputs[0];
    switch (node.def.name) {
      case 'add':
        if (constantEquals(b, 0) && sameType(a, out)) replace(node, a);
        else if (constantEquals(a, 0) && sameType(b, out)) replace(node, b);
        break;
      case 'subtract':
        if (constantEquals(b, 0) && sameType(a, out)) replace(node, a);
        break;
      case 'multiply':
        if (constantEquals(b, 1) && sameType(a, out)) replace(node, a);
        else if (constantEquals(a, 1) && sameType(b, out)) replace(node, b);
        break;
      case 'divide':
        if (constantEquals(b, 1) && sameType(a, out)) replace(node, a);
        break;
      case 'negative':
        if (a.producer?.def.name === 'negative') replace(node, a.producer.inputs[0]);
        break;
      case 'stopGradient':
        replace(node, a);
        break;
      case 'reshape':
      case 'reshapeLike':
      case 'broadcastLike':
      case 'broadcastTo':
        if (sameType(a, out) && !out.type.shape.includes(null)) replace(node, a);
        else if (node.def.name === 'reshape' && a.producer?.def.name === 'reshape') {
          node.inputs = [a.producer.inputs[0]];
          changed = true;
        }
        break;
      case 'transpose': {
        const perm = (node.attrs as { perm: number[] }).perm;
        if (a.producer?.def.name === 'transpose') {
          const inner = (a.producer.attrs as { perm: number[] }).perm;
          const composed = perm.map((p) => inner[p]);
          if (composed.every((p, i) => p === i)) replace(node, a.producer.inputs[0]);
          else {
            node.inputs = [a.producer.inputs[0]];
            node.attrs = { perm: composed };
            changed = true;
          }
        }
        break;
      }
    }
  }
  return changed;
}

export interface PassOptions {
  /** Called after each pass that changed the graph (the tests run the checker here). */
  afterPass?: (name: string, graph: Graph) => void;
}

/** Runs the passes to a fixed point. */
export function optimizeGraph(graph: Graph, options: PassOptions = {}): Graph {
  const passes: [string, (g: Graph) => boolean][] = [
    ['simplifyAlgebra', simplifyAlgebra],
    ['foldConstants', foldConstants],
    ['eliminateCommonSubexpressions', eliminateCommonSubexpressions],
    ['eliminateDeadCode', eliminateDeadCode],
  ];
  for (let round = 0; round < 10; round++) {
    let any = false;
    for (const [name, pass] of passes) {
      if (pass(graph)) {
        any = true;
        options.afterPass?.(name, graph);
      }
    }
    if (!any) break;
  }
  return graph;
}
