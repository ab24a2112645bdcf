/**
 * The graph type-checker. Run after every transformation in tests: each
 * value is defined before use and once, each node's output types are what
 * its op definition infers from its inputs, and outputs and updates exist
 * and fit their variables.
 */
import { shapesEqual, formatShape } from '../tensor/shape.ts';
import { type Graph, type Value, subgraphsOf } from './ir.ts';

export class GraphCheckError extends Error {
  constructor(graph: Graph, detail: string) {
    super(`Graph '${graph.name}' is malformed: ${detail}`);
    this.name = 'GraphCheckError';
  }
}

export function checkGraph(graph: Graph): void {
  const defined = new Set<Value>([...graph.inputs, ...graph.captures, ...graph.outerCaptures]);
  const isDefined = (v: Value) => v.kind === 'constant' || defined.has(v);
  for (const v of graph.outerCaptures) {
    if (!v.outer) throw new GraphCheckError(graph, `outer capture %${v.id} has no outer value.`);
  }
  for (const node of graph.nodes) {
    node.inputs.forEach((v, i) => {
      if (!isDefined(v)) throw new GraphCheckError(graph, `input ${i} of node ${node.def.name} (#${node.id}) is %${v.id}, which is used before it is defined.`);
      if (v.kind === 'constant' && !v.constant) throw new GraphCheckError(graph, `constant %${v.id} has no value.`);
    });
    let inferred;
    try {
      inferred = node.def.infer(node.inputs.map((v) => v.type), node.attrs);
    } catch (e) {
      throw new GraphCheckError(graph, `node ${node.def.name} (#${node.id}) no longer type-checks: ${(e as Error).message}`);
    }
    if (inferred.length !== node.outputs.length) {
      throw new GraphCheckError(graph, `node ${node.def.name} (#${node.id}) has ${node.outputs.length} outputs, its op infers ${inferred.length}.`);
    }
    node.outputs.forEach((o, i) => {
      if (defined.has(o)) throw new GraphCheckError(graph, `value %${o.id} is defined twice.`);
      if (o.producer !== node || o.outputIndex !== i) throw new GraphCheckError(graph, `value %${o.id} does not point back to node #${node.id}.`);
      const t = inferred[i];
      if (t.dtype !== o.type.dtype || !shapesEqual(t.shape, o.type.shape)) {
        throw new GraphCheckError(
          graph,
          `output ${i} of node ${node.def.name} (#${node.id}) is typed ${o.type.dtype}${formatShape(o.type.shape)} but its op infers ${t.dtype}${formatShape(t.shape)}.`,
        );
      }
      defined.add(o);
    });
    for (const sub of subgraphsOf(node)) checkGraph(sub);
  }
  graph.outputs.forEach((v, i) => {
    if (!isDefined(v)) throw new GraphCheckError(graph, `output ${i} (%${v.id}) is not defined.`);
  });
  for (const u of graph.updates) {
    if (!isDefined(u.value)) throw new GraphCheckError(graph, `the update of variable '${u.variable.path}' uses an undefined value %${u.value.id}.`);
    const t = u.value.type;
    const fits = t.dtype === u.variable.dtype && t.shape.length === u.variable.shape.length && t.shape.every((d, i) => d === null || d === u.variable.shape[i]);
    if (!fits) throw new GraphCheckError(graph, `the update of variable '${u.variable.path}' has type ${t.dtype}${formatShape(t.shape)}.`);
  }
}
