/**
 * The Tracer that records a Graph while a function runs with symbolic
 * tensors. Eager tensors it meets become constants, variables it reads
 * become captured inputs, and variable assignments become updates (graph
 * outputs written back after each run).
 */
import type { OpDef, TensorType } from '../engine/op.ts';
import type { Tracer } from '../engine/tracing.ts';
import type { Variable } from '../engine/variable.ts';
import { formatShape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { Graph, Node, Value } from './ir.ts';

export function symbolicTensor(value: Value): Tensor {
  return new Tensor(value.type.shape, value.type.dtype, null, value);
}

export class GraphTracer implements Tracer {
  readonly graph: Graph;
  /** Eager tensors already lifted to constants, by tensor id. */
  private constants = new Map<number, Value>();
  /** Current value of each variable in this trace (its capture, or the last assignment). */
  private variableValues = new Map<Variable, Value>();
  /** Variables constructed while tracing (strata.fn refuses them after the first trace). */
  readonly createdVariables: Variable[] = [];
  /** For subgraphs: the enclosing graph's tensor object first seen for each outer capture (tapes know those objects). */
  readonly outerTensors = new Map<Value, Tensor>();

  constructor(
    name: string,
    readonly parent: GraphTracer | null = null,
  ) {
    this.graph = new Graph(name, parent?.graph ?? null);
  }

  get name(): string {
    return this.graph.root().name;
  }

  /** Adds an argument of the traced function. */
  addInput(type: TensorType, name: string): Tensor {
    const v = this.graph.newValue(type, 'input');
    v.name = name;
    this.graph.inputs.push(v);
    return symbolicTensor(v);
  }

  /** The graph value for a tensor used as an op input. */
  lift(t: Tensor): Value {
    const sym = t._symbol;
    if (sym) {
      if (!(sym instanceof Value)) throw new Error('Internal error: a symbolic tensor without a graph value.');
      if (sym.graph === this.graph) return sym;
      if (this.encloses(sym.graph)) {
        const captured = this.captureOuter(sym);
        if (!this.outerTensors.has(captured)) this.outerTensors.set(captured, t);
        return captured;
      }
      throw new Error(
        `Function '${this.name}' received a symbolic tensor from the trace of function '${sym.traceName}' (produced by ${sym.producerName}). ` +
          'Symbolic tensors exist only while their own function is traced; pass values between compiled functions as return values and arguments.',
      );
    }
    let v = this.constants.get(t.id);
    if (!v) {
      v = this.graph.newValue({ shape: t.shape, dtype: t.dtype }, 'constant');
      v.constant = t;
      this.constants.set(t.id, v);
    }
    return v;
  }

  private encloses(g: Graph): boolean {
    for (let p = this.graph.parent; p; p = p.parent) if (p === g) return true;
    return false;
  }

  /** A value of an enclosing graph read inside this subgraph (ONNX If/Loop bodies may read outer values). */
  private captureOuter(outer: Value): Value {
    const existing = this.graph.outerCaptures.find((v) => v.outer === outer);
    if (existing) return existing;
    // Make sure every graph in between captures it too.
    const via = this.parent && this.parent.graph !== outer.graph ? this.parent.captureOuterPublic(outer) : outer;
    const v = this.graph.newValue(outer.type, 'outer');
    v.outer = via;
    this.graph.outerCaptures.push(v);
    return v;
  }

  /** @internal */
  captureOuterPublic(outer: Value): Value {
    return this.captureOuter(outer);
  }

  recordOp(def: OpDef<any>, inputs: readonly Tensor[], attrs: unknown, outputTypes: readonly TensorType[], scope: string): Tensor[] {
    const node = new Node(this.graph.newNodeId(), def, inputs.map((t) => this.lift(t)), [], attrs, scope);
    outputTypes.forEach((type, i) => {
      const v = this.graph.newValue(type, 'node');
      v.producer = node;
      v.outputIndex = i;
      node.outputs.push(v);
    });
    this.graph.nodes.push(node);
    return node.outputs.map(symbolicTensor);
  }

  readVariable(variable: Variable): Tensor {
    return symbolicTensor(this.variableValue(variable));
  }

  private variableValue(variable: Variable): Value {
    let v = this.variableValues.get(variable);
    if (v) return v;
    if (this.parent) {
      v = this.captureOuter(this.parent.variableValue(variable));
    } else {
      v = this.graph.newValue({ shape: variable.shape, dtype: variable.dtype }, 'variable');
      v.variable = variable;
      v.name = variable.path;
      this.graph.captures.push(v);
    }
    this.variableValues.set(variable, v);
    return v;
  }

  assignVariable(variable: Variable, value: Tensor): void {
    if (this.parent) {
      throw new Error(
        `Variable '${variable.path}' is assigned inside a branch of ops.cond or the body of ops.whileLoop in function '${this.name}'. ` +
          'Assignments inside control flow are not supported: return the new value from the branch and assign it after the cond.',
      );
    }
    const v = this.lift(value);
    if (v.type.dtype !== variable.dtype || v.type.shape.length !== variable.shape.length) {
      throw new Error(`Variable '${variable.path}'.assign in function '${this.name}': a value of shape ${formatShape(v.type.shape)} and dtype ${v.type.dtype} cannot be assigned to a variable of shape ${formatShape(variable.shape)} and dtype ${variable.dtype}.`);
    }
    this.variableValues.set(variable, v);
    const existing = this.graph.updates.find((u) => u.variable === variable);
    if (existing) {
      // Keep program order of first assignment; the final value wins.
      existing.value = v;
    } else {
      this.graph.updates.push({ variable, value: v });
    }
  }

  variableCreated(variable: Variable): void {
    this.createdVariables.push(variable);
  }
}
