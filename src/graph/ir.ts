/**
 * The graph IR that `strata.fn` records. A Graph holds typed Values (static
 * shape with unknown dims as null, dtype) and Nodes (an op definition, its
 * input and output values, attributes, and the layer path it ran in), in
 * topological order. Shape inference comes from the op definitions.
 */
import type { OpDef, TensorType } from '../engine/op.ts';
import type { SymbolicValue, Tensor } from '../tensor/tensor.ts';
import type { Variable } from '../engine/variable.ts';

export type ValueKind = 'input' | 'variable' | 'constant' | 'node' | 'outer';

export class Value implements SymbolicValue {
  /** The node that produces it (kind 'node'). */
  producer: Node | null = null;
  outputIndex = 0;
  /** Eager value (kind 'constant'). */
  constant: Tensor | null = null;
  /** Captured variable (kind 'variable'). */
  variable: Variable | null = null;
  /** For kind 'outer': the value of an enclosing graph this subgraph reads. */
  outer: Value | null = null;
  /** Argument name (kind 'input'). */
  name = '';

  constructor(
    readonly id: number,
    readonly type: TensorType,
    readonly kind: ValueKind,
    readonly graph: Graph,
  ) {}

  get traceName(): string {
    return this.graph.name;
  }

  get producerName(): string {
    switch (this.kind) {
      case 'node': return this.producer!.def.name;
      case 'input': return `input '${this.name}'`;
      case 'variable': return `variable '${this.variable!.path}'`;
      case 'constant': return 'constant';
      case 'outer': return 'captured outer value';
    }
  }
}

export class Node {
  constructor(
    readonly id: number,
    readonly def: OpDef<any>,
    public inputs: Value[],
    readonly outputs: Value[],
    public attrs: unknown,
    readonly scope: string,
  ) {}
}

export interface VariableUpdate {
  readonly variable: Variable;
  value: Value;
}

export class Graph {
  /** Function arguments, in flattened order. */
  readonly inputs: Value[] = [];
  /** Variables read by the function, fed with their current values at each run. */
  readonly captures: Value[] = [];
  /** For subgraphs: values of enclosing graphs read inside. */
  readonly outerCaptures: Value[] = [];
  nodes: Node[] = [];
  outputs: Value[] = [];
  /** Final values of assigned variables, written back after each run in this order. */
  updates: VariableUpdate[] = [];
  private nextId = 0;

  constructor(
    readonly name: string,
    readonly parent: Graph | null = null,
  ) {}

  newValue(type: TensorType, kind: ValueKind): Value {
    const root = this.root();
    return new Value(root.nextId++, type, kind, this);
  }

  newNodeId(): number {
    return this.root().nextId++;
  }

  root(): Graph {
    let g: Graph = this;
    while (g.parent) g = g.parent;
    return g;
  }

  /** All values a node or output may use: inputs, captures, constants and node outputs. */
  *values(): Iterable<Value> {
    yield* this.inputs;
    yield* this.captures;
    yield* this.outerCaptures;
    for (const n of this.nodes) {
      for (const v of n.inputs) if (v.kind === 'constant') yield v;
      yield* n.outputs;
    }
  }
}

/** Attribute values that hold subgraphs (cond / whileLoop) expose them through this interface. */
export interface HasSubgraphs {
  readonly subgraphs: readonly Graph[];
}

export function subgraphsOf(node: Node): readonly Graph[] {
  const attrs = node.attrs as Partial<HasSubgraphs> | null;
  return attrs && Array.isArray(attrs.subgraphs) ? attrs.subgraphs : [];
}
