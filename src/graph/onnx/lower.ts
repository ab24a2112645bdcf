/**
 * Lowers a Graph to an ONNX model: graph inputs (arguments, then captured
 * variables unless they are frozen into initializers), one or more ONNX nodes
 * per Strata node (each op's `toOnnx`), outputs (results, then variable
 * updates). Subgraphs (If/Loop bodies) read outer values by name.
 */
import { ONNX_TYPE, type OnnxElementType, type OnnxGraphAttr } from '../../engine/onnx-types.ts';
import type { Shape } from '../../tensor/shape.ts';
import type { DType } from '../../tensor/dtype.ts';
import type { Graph, Value } from '../ir.ts';
import { NameSource, OnnxGraphBuilder, tensorProto } from './builder.ts';
import { encodeModel, type GraphProtoObject, type ValueInfoProtoObject } from './proto.ts';

export function valueInfo(name: string, shape: Shape, dtype: DType): ValueInfoProtoObject {
  return onnxValueInfo(name, shape, ONNX_TYPE[dtype]);
}

function onnxValueInfo(name: string, shape: Shape, elemType: number): ValueInfoProtoObject {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d, i) => (d === null ? { dimParam: `${name}_d${i}` } : { dimValue: d })) },
      },
    },
  };
}

/** The op whose lowering failed, so callers can fall back to the interpreter and say why. */
export class LoweringError extends Error {
  constructor(
    readonly op: string,
    readonly scope: string,
    cause: Error,
  ) {
    super(`op '${op}'${scope ? ` (in layer '${scope}')` : ''} cannot be lowered to ONNX: ${cause.message}`);
    this.name = 'LoweringError';
  }
}

type Env = Map<Value, string>;

function lowerNodes(graph: Graph, b: OnnxGraphBuilder, env: Env): void {
  const nameOf = (v: Value): string => {
    const known = env.get(v);
    if (known) return known;
    if (v.kind === 'constant') {
      const c = v.constant!;
      const name = b.constant(c._values!, c.shape as number[], c.dtype);
      env.set(v, name);
      return name;
    }
    throw new Error(`Internal error: value %${v.id} has no ONNX name.`);
  };
  for (const node of graph.nodes) {
    const inputs = node.inputs.map(nameOf);
    b.docString = node.scope ? `${node.def.name} in ${node.scope}` : node.def.name;
    let outputs: string[];
    try {
      outputs = node.def.toOnnx(b, inputs, node.attrs, {
        inputs: node.inputs.map((v) => v.type),
        outputs: node.outputs.map((v) => v.type),
      });
    } catch (e) {
      if (e instanceof LoweringError) throw e;
      throw new LoweringError(node.def.name, node.scope, e as Error);
    }
    node.outputs.forEach((o, i) => env.set(o, outputs[i]));
  }
}

function makeBuilder(names: NameSource, env: Env): OnnxGraphBuilder {
  const builder: OnnxGraphBuilder = new OnnxGraphBuilder(names, (sub, inputNames, leading) => lowerSubgraph(sub as Graph, inputNames, leading, names, env));
  return builder;
}

/** Emits `source` under the output name `name` (ONNX outputs must be distinct node outputs). */
function exposeOutput(b: OnnxGraphBuilder, source: string, name: string): string {
  b.nodes.push({ input: [source], output: [name], name, opType: 'Identity', attribute: [] });
  return name;
}

function lowerSubgraph(
  graph: Graph,
  inputNames: readonly string[],
  leadingInputs: readonly { name: string; dtype: OnnxElementType }[],
  names: NameSource,
  parentEnv: Env,
): OnnxGraphAttr {
  const env: Env = new Map(parentEnv);
  for (const v of graph.outerCaptures) env.set(v, parentEnv.get(v.outer!)!);
  graph.inputs.forEach((v, i) => env.set(v, inputNames[i]));
  const b = makeBuilder(names, env);
  lowerNodes(graph, b, env);
  const outputs = graph.outputs.map((v, i) => exposeOutput(b, env.get(v) ?? constantName(b, v, env), names.fresh(`${graph.name}_out${i}`)));
  const proto: GraphProtoObject = {
    name: names.fresh(graph.name),
    node: b.nodes,
    initializer: b.initializers,
    input: [
      ...leadingInputs.map((l) => onnxValueInfo(l.name, [], ONNX_TYPE[l.dtype])),
      ...graph.inputs.map((v, i) => valueInfo(inputNames[i], v.type.shape, v.type.dtype)),
    ],
    output: graph.outputs.map((v, i) => valueInfo(outputs[i], v.type.shape, v.type.dtype)),
  };
  return { kind: 'graph', graph: proto };
}

function constantName(b: OnnxGraphBuilder, v: Value, env: Env): string {
  if (v.kind !== 'constant') throw new Error(`Internal error: output value %${v.id} has no ONNX name.`);
  const c = v.constant!;
  const name = b.constant(c._values!, c.shape as number[], c.dtype);
  env.set(v, name);
  return name;
}

export interface LoweredModel {
  readonly bytes: Uint8Array;
  /** Feed names: arguments, then captured variables (unless frozen). */
  readonly inputNames: string[];
  /** Fetch names: outputs, then variable updates. */
  readonly outputNames: string[];
}

export interface LowerOptions {
  /** Store captured variables' current values as initializers (inference graphs, ONNX export). */
  freezeVariables?: boolean;
  /** Give inputs and outputs these names (ONNX export); default generated. */
  inputNames?: string[];
  outputNames?: string[];
}

export function lowerGraph(graph: Graph, options: LowerOptions = {}): LoweredModel {
  const names = new NameSource();
  const env: Env = new Map();
  const b = makeBuilder(names, env);
  const inputInfos: ValueInfoProtoObject[] = [];
  const inputNames: string[] = [];
  graph.inputs.forEach((v, i) => {
    const name = options.inputNames?.[i] ?? names.fresh(v.name || `input${i}`);
    env.set(v, name);
    inputNames.push(name);
    inputInfos.push(valueInfo(name, v.type.shape, v.type.dtype));
  });
  for (const v of graph.captures) {
    const name = names.fresh(v.variable!.path);
    env.set(v, name);
    if (options.freezeVariables) {
      const t = v.variable!._value;
      b.initializers.push(tensorProto(name, t._values!, t.shape as number[], t.dtype));
    } else {
      inputNames.push(name);
      inputInfos.push(valueInfo(name, v.type.shape, v.type.dtype));
    }
  }
  lowerNodes(graph, b, env);
  const source = (v: Value) => env.get(v) ?? constantName(b, v, env);
  const results = graph.outputs.map((v, i) => exposeOutput(b, source(v), options.outputNames?.[i] ?? names.fresh(`output${i}`)));
  const updates = options.freezeVariables ? [] : graph.updates.map((u) => exposeOutput(b, source(u.value), names.fresh(`update_${u.variable.path}`)));
  const outputNames = [...results, ...updates];
  const outputTypes = [...graph.outputs.map((v) => v.type), ...(options.freezeVariables ? [] : graph.updates.map((u) => u.value.type))];
  const bytes = encodeModel(
    {
      name: graph.name,
      node: b.nodes,
      initializer: b.initializers,
      input: inputInfos,
      output: outputNames.map((n, i) => valueInfo(n, outputTypes[i].shape, outputTypes[i].dtype)),
    },
    b.opset,
    `Strata function '${graph.name}'`,
  );
  return { bytes, inputNames, outputNames };
}
