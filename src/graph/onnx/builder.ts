/**
 * Builds ONNX graphs: the OnnxEmitter that op lowerings write to. Value
 * names are generated from one counter per model (`v12_matmul`), so they are
 * unique across the graph and its subgraphs, as ONNX requires.
 */
import type { TypedArray } from '../../tensor/dtype.ts';
import { ONNX_TYPE, type OnnxAttrs, type OnnxElementType, type OnnxEmitter, type OnnxGraphAttr } from '../../engine/onnx-types.ts';
import { ATTR_TYPE, OPSET, type AttributeProtoObject, type NodeProtoObject, type TensorProtoObject } from './proto.ts';

export class NameSource {
  private next = 0;
  fresh(hint: string): string {
    return `v${this.next++}_${hint.replace(/[^A-Za-z0-9_]/g, '_')}`;
  }
}

const textEncoder = new TextEncoder();

/** Little-endian bytes of `values` stored as ONNX element type `dtype`. */
export function rawBytes(values: ArrayLike<number> | ArrayLike<bigint>, dtype: OnnxElementType): Uint8Array {
  const n = values.length;
  let arr: ArrayBufferView;
  switch (dtype) {
    case 'float32': arr = Float32Array.from(values as ArrayLike<number>); break;
    case 'float64': arr = Float64Array.from(values as ArrayLike<number>); break;
    case 'int32': arr = Int32Array.from(values as ArrayLike<number>); break;
    case 'uint32': arr = Uint32Array.from(values as ArrayLike<number>); break;
    case 'uint8':
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(values[i]) ? (dtype === 'bool' ? 1 : Number(values[i])) : 0;
      arr = out;
      break;
    }
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(values[i] as number | bigint);
      arr = out;
      break;
    }
  }
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}

export function tensorProto(name: string, values: ArrayLike<number> | ArrayLike<bigint>, shape: readonly number[], dtype: OnnxElementType): TensorProtoObject {
  return { name, dims: [...shape], dataType: ONNX_TYPE[dtype], rawData: rawBytes(values, dtype) };
}

function encodeAttrs(attrs: OnnxAttrs | undefined): AttributeProtoObject[] {
  const out: AttributeProtoObject[] = [];
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined) continue;
    if (typeof value === 'number') out.push({ name, type: ATTR_TYPE.INT, i: value });
    else if (typeof value === 'string') out.push({ name, type: ATTR_TYPE.STRING, s: textEncoder.encode(value) });
    else if (Array.isArray(value)) {
      if (value.every((v) => typeof v === 'string')) out.push({ name, type: ATTR_TYPE.STRINGS, strings: (value as string[]).map((s) => textEncoder.encode(s)) });
      else out.push({ name, type: ATTR_TYPE.INTS, ints: [...(value as number[])] });
    } else {
      const v = value as Exclude<typeof value, number | string | readonly unknown[]>;
      switch (v.kind) {
        case 'float': out.push({ name, type: ATTR_TYPE.FLOAT, f: v.value }); break;
        case 'floats': out.push({ name, type: ATTR_TYPE.FLOATS, floats: [...v.value] }); break;
        case 'tensor': out.push({ name, type: ATTR_TYPE.TENSOR, t: tensorProto(name, v.values, v.shape, v.dtype) }); break;
        case 'graph': out.push({ name, type: ATTR_TYPE.GRAPH, g: v.graph as never }); break;
      }
    }
  }
  return out;
}

export class OnnxGraphBuilder implements OnnxEmitter {
  readonly opset = OPSET;
  readonly nodes: NodeProtoObject[] = [];
  readonly initializers: TensorProtoObject[] = [];
  /** Small constants are shared: the same (dtype, shape, values) gives the same name. */
  private constants = new Map<string, string>();
  /** Text attached to the next nodes (the Strata op and layer that produced them). */
  docString = '';

  constructor(
    readonly names: NameSource = new NameSource(),
    private readonly lowerSubgraph?: (graph: unknown, inputNames: readonly string[], leadingInputs: readonly { name: string; dtype: OnnxElementType }[]) => OnnxGraphAttr,
  ) {}

  subgraph(graph: unknown, inputNames: readonly string[], leadingInputs: readonly { name: string; dtype: OnnxElementType }[] = []): OnnxGraphAttr {
    if (!this.lowerSubgraph) throw new Error('Internal error: this ONNX builder cannot lower subgraphs.');
    return this.lowerSubgraph(graph, inputNames, leadingInputs);
  }

  node(opType: string, inputs: readonly string[], attrs?: OnnxAttrs, options: { outputs?: number; domain?: string } = {}): string[] {
    const outputs = Array.from({ length: options.outputs ?? 1 }, () => this.names.fresh(opType));
    this.nodes.push({
      input: [...inputs],
      output: outputs,
      name: outputs[0],
      opType,
      domain: options.domain ?? '',
      attribute: encodeAttrs(attrs),
      docString: this.docString,
    });
    return outputs;
  }

  fresh(hint: string): string {
    return this.names.fresh(hint);
  }

  op(opType: string, inputs: readonly string[], attrs?: OnnxAttrs): string {
    return this.node(opType, inputs, attrs)[0];
  }

  constant(values: TypedArray | readonly number[], shape: readonly number[], dtype: OnnxElementType): string {
    const small = values.length <= 16;
    const key = small ? `${dtype}|${shape.join(',')}|${Array.from(values).join(',')}` : '';
    if (small) {
      const hit = this.constants.get(key);
      if (hit) return hit;
    }
    const name = this.names.fresh('const');
    this.initializers.push(tensorProto(name, values as ArrayLike<number>, shape, dtype));
    if (small) this.constants.set(key, name);
    return name;
  }

  int64s(values: readonly number[]): string {
    return this.constant(values, [values.length], 'int64');
  }

  scalar(value: number, dtype: OnnxElementType): string {
    return this.constant([value], [], dtype);
  }
}
