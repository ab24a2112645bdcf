/**
 * Executes a Graph with the eager kernels, node by node. It runs the same IR
 * ONNX Runtime does, so it serves platforms without ONNX Runtime, functions
 * with an op that cannot be lowered, and tests of the lowerings.
 */
import type { ConcreteShape } from '../../tensor/shape.ts';
import { Tensor } from '../../tensor/tensor.ts';
import type { Graph, Node, Value } from '../ir.ts';

/** How a control-flow node (cond, whileLoop) runs its subgraphs. */
export type NodeInterpreter = (node: Node, inputs: Tensor[], runSubgraph: (g: Graph, inputs: Tensor[], outer: Map<Value, Tensor>) => Tensor[], env: Map<Value, Tensor>) => Tensor[];

const special = new Map<string, NodeInterpreter>();

export function registerNodeInterpreter(opName: string, run: NodeInterpreter): void {
  special.set(opName, run);
}

/**
 * Runs `graph` on `feeds` (arguments, then captured variables) and returns
 * its outputs followed by the variables' updated values.
 */
export function interpret(graph: Graph, feeds: readonly Tensor[], outer: Map<Value, Tensor> = new Map(), afterNode?: (node: Node, inputs: Tensor[], outputs: Tensor[]) => void): Tensor[] {
  const env = new Map<Value, Tensor>(outer);
  const inputs = [...graph.inputs, ...graph.captures];
  if (feeds.length !== inputs.length) throw new Error(`Internal error: graph '${graph.name}' expects ${inputs.length} feeds, got ${feeds.length}.`);
  inputs.forEach((v, i) => env.set(v, feeds[i]));
  for (const v of graph.outerCaptures) env.set(v, outer.get(v.outer!)!);
  const get = (v: Value): Tensor => {
    if (v.kind === 'constant') return v.constant!;
    const t = env.get(v);
    if (!t) throw new Error(`Internal error: value %${v.id} is used before it is computed.`);
    return t;
  };
  const runSubgraph = (g: Graph, subInputs: Tensor[], outerEnv: Map<Value, Tensor>) => interpret(g, subInputs, outerEnv, afterNode);
  for (const node of graph.nodes) {
    const args = node.inputs.map(get);
    const custom = special.get(node.def.name);
    let outputs: Tensor[];
    if (custom) {
      outputs = custom(node, args, runSubgraph, env);
    } else {
      const kernelInputs = args.map((t) => ({ values: t._values!, shape: t.shape as ConcreteShape, dtype: t.dtype }));
      // Unknown dims are known now: infer again from the concrete inputs.
      const types = node.def.infer(args, node.attrs) as { shape: ConcreteShape; dtype: Tensor['dtype'] }[];
      const results = node.def.kernel(kernelInputs, node.attrs, types);
      outputs = results.map((values, i) => new Tensor(types[i].shape, types[i].dtype, values));
    }
    afterNode?.(node, args, outputs);
    node.outputs.forEach((o, i) => env.set(o, outputs[i]));
  }
  return [...graph.outputs.map(get), ...graph.updates.map((u) => get(u.value))];
}
