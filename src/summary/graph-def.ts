/**
 * Strata's graph IR as a TensorFlow GraphDef, for TensorBoard's graph
 * dashboard. Node names carry the layer path as a prefix
 * (`sequential/dense/matmul`), so TensorBoard groups the ops of a layer
 * into one box; op types are Strata's op names. Each node has the `T`
 * (dtype) and `_output_shapes` attributes TensorBoard shows on edges, plus
 * the op's own attributes (numbers, strings, booleans and lists of them;
 * anything else as JSON text).
 *
 * Arguments become `Placeholder` nodes, variables read become `VarHandleOp`
 * nodes named by the variable's path, constants `Const` nodes, outputs
 * `Identity` nodes and variable updates `AssignVariableOp` nodes. The bodies
 * of cond / whileLoop are nested under their node's name.
 */
import type { DType } from '../tensor/dtype.ts';
import type { Shape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { type Graph, type Node, Value, subgraphsOf } from '../graph/ir.ts';
import { type AttrValueObject, DT, type GraphDefObject, type NodeDefObject, type TensorProtoObject, type TensorShapeObject } from './proto.ts';

const DTYPE: Record<DType, number> = { float32: DT.FLOAT, float64: DT.DOUBLE, int32: DT.INT32, bool: DT.BOOL };
/** Constants up to this many elements keep their values in the GraphDef. */
const MAX_CONST_VALUES = 16;
/** TensorFlow's producer version for GraphDef.versions (TensorBoard only displays it). */
const GRAPH_PRODUCER = 1994;

function shapeProto(shape: Shape): TensorShapeObject {
  return { dim: shape.map((d) => ({ size: d ?? -1 })) };
}

/** A TensorFlow node name: [A-Za-z0-9.][A-Za-z0-9_./-]*. */
function cleanName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_./-]+/g, '_').replace(/\/+/g, '/').replace(/^\/+|\/+$/g, '');
  return s === '' ? 'node' : /^[A-Za-z0-9.]/.test(s) ? s : `n${s}`;
}

export function tensorProto(t: Tensor): TensorProtoObject {
  const values = t.valuesOrThrow('graph summary');
  const proto: TensorProtoObject = { dtype: DTYPE[t.dtype], tensorShape: shapeProto(t.shape) };
  const list = Array.from(values);
  if (t.dtype === 'float32') proto.floatVal = list;
  else if (t.dtype === 'float64') proto.doubleVal = list;
  else if (t.dtype === 'int32') proto.intVal = list;
  else proto.boolVal = list.map((v) => v !== 0);
  return proto;
}

function attrValue(value: unknown): AttrValueObject | null {
  const text = (s: string) => new TextEncoder().encode(s);
  if (value === undefined || value === null || typeof value === 'function') return null;
  if (typeof value === 'number') return Number.isInteger(value) ? { i: value } : { f: value };
  if (typeof value === 'boolean') return { b: value };
  if (typeof value === 'string') return { s: text(value) };
  if (value instanceof Tensor) return value.isSymbolic ? null : { tensor: tensorProto(value) };
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'number' && Number.isInteger(v))) return { list: { i: value as number[] } };
    if (value.every((v) => typeof v === 'number')) return { list: { f: value as number[] } };
    if (value.every((v) => typeof v === 'string')) return { list: { s: (value as string[]).map(text) } };
    if (value.every((v) => typeof v === 'boolean')) return { list: { b: value as boolean[] } };
  }
  try {
    const json = JSON.stringify(value, (_k, x) => (x instanceof Tensor ? `<tensor ${x.dtype}[${x.shape.join(',')}]>` : x instanceof Value ? `%${x.id}` : typeof x === 'bigint' ? String(x) : x));
    return json === undefined ? null : { s: text(json) };
  } catch {
    return null;
  }
}

class Builder {
  readonly nodes: NodeDefObject[] = [];
  private readonly used = new Set<string>();
  /** The NodeDef input string of each value (`name` or `name:k`). */
  private readonly refs = new Map<Value, string>();

  unique(name: string): string {
    const base = cleanName(name);
    if (!this.used.has(base)) {
      this.used.add(base);
      return base;
    }
    for (let k = 1; ; k++) {
      const candidate = `${base}_${k}`;
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        return candidate;
      }
    }
  }

  private add(name: string, op: string, input: string[], outputs: readonly Value[], extra: Record<string, AttrValueObject> = {}): string {
    const unique = this.unique(name);
    const attr: Record<string, AttrValueObject> = { ...extra };
    if (outputs.length > 0) {
      attr.T ??= { type: DTYPE[outputs[0].type.dtype] };
      attr._output_shapes = { list: { shape: outputs.map((o) => shapeProto(o.type.shape)) } };
    }
    this.nodes.push({ name: unique, op, input, attr });
    outputs.forEach((v, i) => this.refs.set(v, i === 0 ? unique : `${unique}:${i}`));
    return unique;
  }

  /** The input reference of a value, creating Const nodes for constants on first use. */
  ref(v: Value, consumerScope: string): string {
    const known = this.refs.get(v);
    if (known) return known;
    if (v.kind === 'constant') {
      const c = v.constant!;
      const attrs: Record<string, AttrValueObject> = { dtype: { type: DTYPE[c.dtype] } };
      if ((c.size ?? 0) <= MAX_CONST_VALUES) attrs.value = { tensor: tensorProto(c) };
      this.add(consumerScope ? `${consumerScope}/Const` : 'Const', 'Const', [], [v], attrs);
      return this.refs.get(v)!;
    }
    if (v.kind === 'outer' && v.outer) {
      const r = this.ref(v.outer, consumerScope);
      this.refs.set(v, r);
      return r;
    }
    throw new Error(`Internal error: graph summary met value %${v.id} (${v.kind}) before its producer.`);
  }

  graph(graph: Graph, prefix: string): void {
    const at = (name: string) => (prefix ? `${prefix}/${name}` : name);
    graph.inputs.forEach((v, i) => this.add(at(v.name || `input_${i}`), 'Placeholder', [], [v], { dtype: { type: DTYPE[v.type.dtype] }, shape: { shape: shapeProto(v.type.shape) } }));
    for (const v of graph.captures) {
      const variable = v.variable;
      this.add(at(variable ? variable.path : v.name || `variable_${v.id}`), 'VarHandleOp', [], [v], { dtype: { type: DTYPE[v.type.dtype] }, shape: { shape: shapeProto(v.type.shape) } });
    }
    for (const node of graph.nodes) this.node(node, prefix);
    graph.outputs.forEach((v, i) => this.add(at(`output_${i}`), 'Identity', [this.ref(v, prefix)], [v]));
    for (const u of graph.updates) {
      const target = graph.captures.find((c) => c.variable === u.variable);
      const inputs = [...(target ? [this.ref(target, prefix)] : []), this.ref(u.value, prefix)];
      this.add(at(`${u.variable.path}/Assign`), 'AssignVariableOp', inputs, [], { dtype: { type: DTYPE[u.value.type.dtype] } });
    }
  }

  private node(node: Node, prefix: string): void {
    const scope = [prefix, node.scope].filter(Boolean).join('/');
    const attrs: Record<string, AttrValueObject> = {};
    if (node.attrs && typeof node.attrs === 'object') {
      for (const [k, v] of Object.entries(node.attrs as Record<string, unknown>)) {
        if (k === 'subgraphs' || k === 'T' || k.startsWith('_')) continue;
        const a = attrValue(v);
        if (a) attrs[k] = a;
      }
    }
    const inputs = node.inputs.map((v) => this.ref(v, scope));
    const name = this.add(scope ? `${scope}/${node.def.name}` : node.def.name, node.def.name, inputs, node.outputs, attrs);
    subgraphsOf(node).forEach((sub, i) => this.graph(sub, `${name}/${sub.name ? cleanName(sub.name) : 'body'}_${i}`));
  }
}

/** The GraphDef of a traced graph (see the module comment for the mapping). */
export function graphToGraphDef(graph: Graph): GraphDefObject {
  const b = new Builder();
  b.graph(graph, '');
  return { node: b.nodes, versions: { producer: GRAPH_PRODUCER } };
}
