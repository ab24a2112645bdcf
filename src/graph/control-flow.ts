/**
 * Data-dependent control flow: `ops.cond` and `ops.whileLoop`. Eagerly they
 * are plain JavaScript `if` and `while` on the predicate's value. While
 * tracing, each branch or body is traced once into a subgraph and the node
 * lowers to ONNX `If` / `Loop`. `cond` has a gradient (the gradient of the
 * branch that was taken); `whileLoop` does not.
 */
import { isFloat } from '../tensor/dtype.ts';
import { type Dim, formatShape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { dispatch } from '../engine/dispatch.ts';
import { nonDifferentiable, OpError, type OpDef, type TensorType } from '../engine/op.ts';
import { recordingTapes, withTapesPaused } from '../engine/recording.ts';
import { currentScope } from '../engine/scope.ts';
import { currentTracer, withTracer } from '../engine/tracing.ts';
import { GradientTape } from '../autodiff/tape.ts';
import { type TensorLike, toTensor } from '../ops/convert.ts';
import { cast } from '../ops/api/math.ts';
import { zerosLike } from '../ops/api/array.ts';
import { type Graph, type Value, Node } from './ir.ts';
import { GraphTracer, symbolicTensor } from './tracer.ts';
import { flatten, rebuild, type Structure } from './structure.ts';
import { registerNodeInterpreter } from './executors/interpreter.ts';

interface CondAttrs {
  readonly subgraphs: readonly [Graph, Graph];
  /** The enclosing graph's values the branches read, in input order after the predicate. */
  readonly captures: readonly Value[];
  readonly outputTypes: readonly TensorType[];
}

interface WhileAttrs {
  /** [cond body, loop body]: the loop body's outputs are [continue?, ...new loop vars]. */
  readonly subgraphs: readonly [Graph];
  readonly captures: readonly Value[];
  readonly outputTypes: readonly TensorType[];
  readonly maximumIterations: number | null;
}

function mergeTypes(where: string, a: readonly Tensor[] | readonly TensorType[], b: readonly Tensor[] | readonly TensorType[]): TensorType[] {
  if (a.length !== b.length) throw new OpError(where, `the branches return different numbers of tensors (${a.length} and ${b.length}).`);
  return a.map((x, i) => {
    const y = b[i];
    if (x.dtype !== y.dtype || x.shape.length !== y.shape.length) {
      throw new OpError(where, `output ${i} is ${x.dtype}${formatShape(x.shape)} in one branch and ${y.dtype}${formatShape(y.shape)} in the other; dtypes and ranks must match.`);
    }
    return { dtype: x.dtype, shape: x.shape.map((d, k) => (d === y.shape[k] ? d : null)) as Dim[] };
  });
}

/** Traces `f` into a subgraph of the current trace, with tapes paused. */
function traceBranch(parent: GraphTracer, name: string, f: () => unknown, inputs: readonly TensorType[] = []): { tracer: GraphTracer; structure: Structure; outputs: Tensor[] } {
  const tracer = new GraphTracer(`${parent.graph.name}_${name}`, parent);
  const args = inputs.map((t, i) => tracer.addInput(t, `${name}_in${i}`));
  const result = withTapesPaused(() => withTracer(tracer, () => (args.length ? (f as (...xs: Tensor[]) => unknown)(...args) : f())));
  const flat = flatten(result, `${name} result`);
  tracer.graph.outputs = flat.tensors.map((t) => tracer.lift(t));
  return { tracer, structure: flat.structure, outputs: flat.tensors };
}

/** The enclosing graph's tensors for the values the branches captured, as tapes know them. */
function captureTensors(parent: GraphTracer, branches: GraphTracer[]): { values: Value[]; tensors: Tensor[] } {
  const values: Value[] = [];
  const tensors: Tensor[] = [];
  for (const b of branches) {
    for (const c of b.graph.outerCaptures) {
      const outer = c.outer!;
      if (values.includes(outer)) continue;
      values.push(outer);
      let t = b.outerTensors.get(c);
      if (!t) {
        t = symbolicTensor(outer);
        // A variable read only inside the branches: tell the tapes, so gradients reach the variable.
        if (outer.kind === 'variable') for (const tape of recordingTapes()) tape.recordVariableRead(outer.variable!, t);
      }
      tensors.push(t);
    }
  }
  void parent;
  return { values, tensors };
}

/** Re-runs a subgraph's nodes as ops on new inputs (used to differentiate a branch). */
function replay(graph: Graph, outerInputs: Map<Value, Tensor>): Tensor[] {
  const env = new Map<Value, Tensor>();
  for (const c of graph.outerCaptures) env.set(c, outerInputs.get(c.outer!)!);
  const get = (v: Value): Tensor => (v.kind === 'constant' ? v.constant! : env.get(v)!);
  for (const node of graph.nodes) {
    if (node.def === condDef || node.def === whileDef) {
      throw new Error('The gradient of an ops.cond whose branch contains another ops.cond or ops.whileLoop is not supported.');
    }
    const outs = dispatch(node.def, node.inputs.map(get), node.attrs);
    node.outputs.forEach((o, i) => env.set(o, outs[i]));
  }
  return graph.outputs.map(get);
}

const condDef: OpDef<CondAttrs> = {
  name: 'cond',
  infer: ([pred], { outputTypes }) => {
    if (pred.dtype !== 'bool' || pred.shape.length !== 0) throw new OpError('cond', `the predicate must be a scalar bool. Received: ${pred.dtype}${formatShape(pred.shape)}.`);
    return [...outputTypes];
  },
  kernel: () => {
    throw new Error('Internal error: cond nodes run through their subgraphs, not a kernel.');
  },
  // The gradient of the branch that runs: a cond over the two branches' gradients.
  grad: ({ inputs: [pred, ...captured], dys, attrs }) => {
    const outerInputs = new Map<Value, Tensor>(attrs.captures.map((v, i) => [v, captured[i]]));
    const branchGrad = (g: Graph) => () => {
      const tape = new GradientTape();
      const outs = tape.record(() => replay(g, outerInputs));
      const floatOuts = outs.map((o, i) => [o, dys[i]] as const).filter(([o]) => isFloat(o.dtype));
      const gs = tape.gradient(floatOuts.map(([o]) => o), captured, floatOuts.map(([, d]) => d));
      return gs.map((gr, i) => gr ?? zerosLike(captured[i]));
    };
    const needed = captured.filter((t) => isFloat(t.dtype));
    if (needed.length === 0) return [null, ...captured.map(() => null)];
    const grads = cond(pred, branchGrad(attrs.subgraphs[0]), branchGrad(attrs.subgraphs[1]));
    return [null, ...grads.map((g, i) => (isFloat(captured[i].dtype) ? g : null))];
  },
  toOnnx: (b, [pred], { subgraphs: [thenGraph, elseGraph], outputTypes }) =>
    b.node('If', [pred], { then_branch: b.subgraph(thenGraph, []), else_branch: b.subgraph(elseGraph, []) }, { outputs: outputTypes.length }),
  stateful: true,
};

const whileDef: OpDef<WhileAttrs> = {
  name: 'whileLoop',
  infer: ([keepGoing], { outputTypes }) => {
    if (keepGoing.dtype !== 'bool' || keepGoing.shape.length !== 0) throw new OpError('whileLoop', 'the condition must return a scalar bool.');
    return [...outputTypes];
  },
  kernel: () => {
    throw new Error('Internal error: whileLoop nodes run through their subgraphs, not a kernel.');
  },
  grad: nonDifferentiable('gradients through ops.whileLoop are not supported; use a JavaScript loop (unrolled when traced) if you need them'),
  toOnnx: (b, [keepGoing, ...rest], { subgraphs: [body], outputTypes, maximumIterations }) => {
    const initial = rest.slice(0, outputTypes.length);
    const names = outputTypes.map((_, i) => b.fresh(`loop_var_${i}`));
    const bodyAttr = b.subgraph(body, names, [
      { name: b.fresh('loop_iteration'), dtype: 'int64' },
      { name: b.fresh('loop_condition'), dtype: 'bool' },
    ]);
    const trip = maximumIterations === null ? '' : b.constant([maximumIterations], [], 'int64');
    return b.node('Loop', [trip, keepGoing, ...initial], { body: bodyAttr }, { outputs: outputTypes.length });
  },
  stateful: true,
};

function recordNode<A>(tracer: GraphTracer, def: OpDef<A>, inputs: Tensor[], attrs: A, outputTypes: readonly TensorType[]): Tensor[] {
  const graph = tracer.graph;
  const node = new Node(graph.newNodeId(), def, inputs.map((t) => tracer.lift(t)), [], attrs, currentScope());
  outputTypes.forEach((type, i) => {
    const v = graph.newValue(type, 'node');
    v.producer = node;
    v.outputIndex = i;
    node.outputs.push(v);
  });
  graph.nodes.push(node);
  const outputs = node.outputs.map(symbolicTensor);
  for (const tape of recordingTapes()) tape.recordOp({ def, inputs, outputs, attrs, scope: node.scope });
  return outputs;
}

function currentGraphTracer(op: string): GraphTracer | null {
  const tracer = currentTracer();
  if (!tracer) return null;
  if (!(tracer instanceof GraphTracer)) throw new Error(`ops.${op}: unsupported tracer.`);
  return tracer;
}

function truthy(pred: Tensor, op: string): boolean {
  if (pred.size !== 1) throw new OpError(op, `the predicate must have exactly one element. Received: shape ${formatShape(pred.shape)}.`);
  return pred.item() !== 0;
}

/**
 * `trueFn()` if `pred` is true, else `falseFn()`. Both must return the same
 * structure of tensors with the same dtypes and ranks. Use it instead of a
 * JavaScript `if` on a tensor's value inside a traced function.
 */
export function cond<T>(pred: TensorLike, trueFn: () => T, falseFn: () => T): T {
  const p = cast(toTensor(pred, 'cond'), 'bool');
  const tracer = currentGraphTracer('cond');
  if (!tracer) return truthy(p, 'cond') ? trueFn() : falseFn();
  if (p.shape.length !== 0) throw new OpError('cond', `the predicate must be a scalar. Received: shape ${formatShape(p.shape)}.`);
  const then = traceBranch(tracer, 'then', trueFn);
  const otherwise = traceBranch(tracer, 'else', falseFn);
  const outputTypes = mergeTypes('cond', then.outputs, otherwise.outputs);
  const { values, tensors } = captureTensors(tracer, [then.tracer, otherwise.tracer]);
  const attrs: CondAttrs = { subgraphs: [then.tracer.graph, otherwise.tracer.graph], captures: values, outputTypes };
  const outputs = recordNode(tracer, condDef, [p, ...tensors], attrs, outputTypes);
  return rebuild(then.structure, outputs) as T;
}

export interface WhileLoopOptions {
  /** Stop after this many iterations even if the condition still holds. */
  maximumIterations?: number;
}

/**
 * Repeats `loopVars = body(...loopVars)` while `condition(...loopVars)` is
 * true, and returns the final loop variables. Shapes may change between
 * iterations only in dimensions that become unknown in the traced graph.
 */
export function whileLoop(condition: (...vars: Tensor[]) => TensorLike, body: (...vars: Tensor[]) => Tensor[], loopVars: readonly TensorLike[], options: WhileLoopOptions = {}): Tensor[] {
  const vars = loopVars.map((v, i) => toTensor(v, `whileLoop loop variable ${i}`));
  const max = options.maximumIterations ?? null;
  if (max !== null && (!Number.isInteger(max) || max < 0)) throw new OpError('whileLoop', `Received: maximumIterations=${max}; expected a non-negative integer.`);
  const tracer = currentGraphTracer('whileLoop');
  if (!tracer) {
    let current = vars;
    for (let i = 0; (max === null || i < max) && truthy(cast(toTensor(condition(...current), 'whileLoop'), 'bool'), 'whileLoop'); i++) {
      const next = body(...current);
      mergeTypes('whileLoop', current, next);
      current = next;
    }
    return current;
  }
  const keepGoing = cast(toTensor(condition(...vars), 'whileLoop'), 'bool');
  const loopBody = traceBranch(tracer, 'body', (...xs: Tensor[]) => {
    const next = body(...xs);
    if (!Array.isArray(next)) throw new OpError('whileLoop', 'the body must return an array of tensors (the new loop variables).');
    const stillGoing = cast(toTensor(condition(...next), 'whileLoop'), 'bool');
    return [stillGoing, ...next];
  }, vars.map((v) => ({ shape: v.shape, dtype: v.dtype })));
  const [, ...newVars] = loopBody.outputs;
  const outputTypes = mergeTypes('whileLoop', vars, newVars);
  outputTypes.forEach((t, i) => {
    if (formatShape(t.shape) !== formatShape(vars[i].shape)) {
      throw new OpError('whileLoop', `loop variable ${i} has shape ${formatShape(vars[i].shape)} before the loop and ${formatShape(newVars[i].shape)} after the body; loop variables must keep their shape.`);
    }
  });
  const { values, tensors } = captureTensors(tracer, [loopBody.tracer]);
  const attrs: WhileAttrs = { subgraphs: [loopBody.tracer.graph], captures: values, outputTypes, maximumIterations: max };
  return recordNode(tracer, whileDef, [keepGoing, ...vars, ...tensors], attrs, outputTypes);
}

registerNodeInterpreter('cond', (node, [pred], runSubgraph, env) => {
  const { subgraphs } = node.attrs as CondAttrs;
  return runSubgraph(pred._values![0] ? subgraphs[0] : subgraphs[1], [], env);
});

registerNodeInterpreter('whileLoop', (node, [keepGoing, ...rest], runSubgraph, env) => {
  const { subgraphs: [body], outputTypes, maximumIterations } = node.attrs as WhileAttrs;
  let vars = rest.slice(0, outputTypes.length);
  let go = keepGoing._values![0] !== 0;
  for (let i = 0; go && (maximumIterations === null || i < maximumIterations); i++) {
    const [next, ...nextVars] = runSubgraph(body, vars, env);
    go = next._values![0] !== 0;
    vars = nextVars;
  }
  return vars;
});
