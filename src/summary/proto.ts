/**
 * The subset of TensorFlow's protobuf schema that TensorBoard event files
 * use, as a protobufjs reflection root (as src/graph/onnx/proto.ts does for
 * ONNX). Field numbers follow tensorflow/core/util/event.proto,
 * core/framework/summary.proto, tensor.proto, tensor_shape.proto,
 * graph.proto, node_def.proto, attr_value.proto, versions.proto and
 * core/protobuf/config.proto (RunMetadata). Enums are written as int32 (the
 * same varint on the wire).
 */
import protobuf from 'protobufjs';

const packed = { packed: true };

const schema = {
  nested: {
    tensorflow: {
      nested: {
        Event: {
          oneofs: { what: { oneof: ['fileVersion', 'graphDef', 'summary', 'taggedRunMetadata', 'metaGraphDef'] } },
          fields: {
            wallTime: { type: 'double', id: 1 },
            step: { type: 'int64', id: 2 },
            fileVersion: { type: 'string', id: 3 },
            graphDef: { type: 'bytes', id: 4 },
            summary: { type: 'Summary', id: 5 },
            taggedRunMetadata: { type: 'TaggedRunMetadata', id: 8 },
            metaGraphDef: { type: 'bytes', id: 9 },
          },
        },
        TaggedRunMetadata: {
          fields: {
            tag: { type: 'string', id: 1 },
            runMetadata: { type: 'bytes', id: 2 },
          },
        },
        Summary: {
          fields: {
            value: { rule: 'repeated', type: 'Value', id: 1 },
          },
          nested: {
            Image: {
              fields: {
                height: { type: 'int32', id: 1 },
                width: { type: 'int32', id: 2 },
                colorspace: { type: 'int32', id: 3 },
                encodedImageString: { type: 'bytes', id: 4 },
              },
            },
            Value: {
              oneofs: { value: { oneof: ['simpleValue', 'image', 'histo', 'tensor'] } },
              fields: {
                nodeName: { type: 'string', id: 7 },
                tag: { type: 'string', id: 1 },
                metadata: { type: 'SummaryMetadata', id: 9 },
                simpleValue: { type: 'float', id: 2 },
                image: { type: 'Image', id: 4 },
                histo: { type: 'HistogramProto', id: 5 },
                tensor: { type: 'TensorProto', id: 8 },
              },
            },
          },
        },
        SummaryMetadata: {
          fields: {
            pluginData: { type: 'PluginData', id: 1 },
            displayName: { type: 'string', id: 2 },
            summaryDescription: { type: 'string', id: 3 },
            dataClass: { type: 'int32', id: 4 },
          },
          nested: {
            PluginData: {
              fields: {
                pluginName: { type: 'string', id: 1 },
                content: { type: 'bytes', id: 2 },
              },
            },
          },
        },
        HistogramProto: {
          fields: {
            min: { type: 'double', id: 1 },
            max: { type: 'double', id: 2 },
            num: { type: 'double', id: 3 },
            sum: { type: 'double', id: 4 },
            sumSquares: { type: 'double', id: 5 },
            bucketLimit: { rule: 'repeated', type: 'double', id: 6, options: packed },
            bucket: { rule: 'repeated', type: 'double', id: 7, options: packed },
          },
        },
        TensorShapeProto: {
          fields: {
            dim: { rule: 'repeated', type: 'Dim', id: 2 },
            unknownRank: { type: 'bool', id: 3 },
          },
          nested: {
            Dim: {
              fields: {
                size: { type: 'int64', id: 1 },
                name: { type: 'string', id: 2 },
              },
            },
          },
        },
        TensorProto: {
          fields: {
            dtype: { type: 'int32', id: 1 },
            tensorShape: { type: 'TensorShapeProto', id: 2 },
            versionNumber: { type: 'int32', id: 3 },
            tensorContent: { type: 'bytes', id: 4 },
            floatVal: { rule: 'repeated', type: 'float', id: 5, options: packed },
            doubleVal: { rule: 'repeated', type: 'double', id: 6, options: packed },
            intVal: { rule: 'repeated', type: 'int32', id: 7, options: packed },
            stringVal: { rule: 'repeated', type: 'bytes', id: 8 },
            int64Val: { rule: 'repeated', type: 'int64', id: 10, options: packed },
            boolVal: { rule: 'repeated', type: 'bool', id: 11, options: packed },
          },
        },
        AttrValue: {
          oneofs: { value: { oneof: ['list', 's', 'i', 'f', 'b', 'type', 'shape', 'tensor', 'placeholder'] } },
          fields: {
            list: { type: 'ListValue', id: 1 },
            s: { type: 'bytes', id: 2 },
            i: { type: 'int64', id: 3 },
            f: { type: 'float', id: 4 },
            b: { type: 'bool', id: 5 },
            type: { type: 'int32', id: 6 },
            shape: { type: 'TensorShapeProto', id: 7 },
            tensor: { type: 'TensorProto', id: 8 },
            placeholder: { type: 'string', id: 9 },
          },
          nested: {
            ListValue: {
              fields: {
                s: { rule: 'repeated', type: 'bytes', id: 2 },
                i: { rule: 'repeated', type: 'int64', id: 3, options: packed },
                f: { rule: 'repeated', type: 'float', id: 4, options: packed },
                b: { rule: 'repeated', type: 'bool', id: 5, options: packed },
                type: { rule: 'repeated', type: 'int32', id: 6, options: packed },
                shape: { rule: 'repeated', type: 'TensorShapeProto', id: 7 },
                tensor: { rule: 'repeated', type: 'TensorProto', id: 8 },
              },
            },
          },
        },
        NodeDef: {
          fields: {
            name: { type: 'string', id: 1 },
            op: { type: 'string', id: 2 },
            input: { rule: 'repeated', type: 'string', id: 3 },
            device: { type: 'string', id: 4 },
            attr: { keyType: 'string', type: 'AttrValue', id: 5 },
          },
        },
        VersionDef: {
          fields: {
            producer: { type: 'int32', id: 1 },
            minConsumer: { type: 'int32', id: 2 },
            badConsumers: { rule: 'repeated', type: 'int32', id: 3, options: packed },
          },
        },
        GraphDef: {
          fields: {
            node: { rule: 'repeated', type: 'NodeDef', id: 1 },
            versions: { type: 'VersionDef', id: 4 },
          },
        },
        RunMetadata: {
          fields: {
            functionGraphs: { rule: 'repeated', type: 'FunctionGraphs', id: 4 },
          },
          nested: {
            FunctionGraphs: {
              fields: {
                partitionGraphs: { rule: 'repeated', type: 'GraphDef', id: 1 },
                preOptimizationGraph: { type: 'GraphDef', id: 2 },
                postOptimizationGraph: { type: 'GraphDef', id: 3 },
              },
            },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(schema);
export const EventProto = root.lookupType('tensorflow.Event');
export const SummaryProto = root.lookupType('tensorflow.Summary');
export const GraphDefProto = root.lookupType('tensorflow.GraphDef');
export const RunMetadataProto = root.lookupType('tensorflow.RunMetadata');
export const TensorProtoType = root.lookupType('tensorflow.TensorProto');

/** tensorflow.DataType numbers. */
export const DT = { FLOAT: 1, DOUBLE: 2, INT32: 3, UINT8: 4, STRING: 7, INT64: 9, BOOL: 10 } as const;
/** tensorflow.DataClass numbers (SummaryMetadata.data_class). */
export const DATA_CLASS = { UNKNOWN: 0, SCALAR: 1, TENSOR: 2, BLOB_SEQUENCE: 3 } as const;

// Plain-object forms (protobufjs fromObject / toObject with longs as numbers and bytes as Uint8Array).

export interface TensorShapeObject {
  dim?: { size: number; name?: string }[];
  unknownRank?: boolean;
}
export interface TensorProtoObject {
  dtype: number;
  tensorShape?: TensorShapeObject;
  tensorContent?: Uint8Array;
  floatVal?: number[];
  doubleVal?: number[];
  intVal?: number[];
  stringVal?: Uint8Array[];
  int64Val?: number[];
  boolVal?: boolean[];
}
export interface HistogramObject {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}
export interface ImageObject {
  height: number;
  width: number;
  colorspace: number;
  encodedImageString: Uint8Array;
}
export interface SummaryMetadataObject {
  pluginData?: { pluginName: string; content?: Uint8Array };
  displayName?: string;
  summaryDescription?: string;
  dataClass?: number;
}
export interface SummaryValueObject {
  tag: string;
  metadata?: SummaryMetadataObject;
  simpleValue?: number;
  image?: ImageObject;
  histo?: HistogramObject;
  tensor?: TensorProtoObject;
}
export interface AttrValueObject {
  list?: { s?: Uint8Array[]; i?: number[]; f?: number[]; b?: boolean[]; type?: number[]; shape?: TensorShapeObject[]; tensor?: TensorProtoObject[] };
  s?: Uint8Array;
  i?: number;
  f?: number;
  b?: boolean;
  type?: number;
  shape?: TensorShapeObject;
  tensor?: TensorProtoObject;
}
export interface NodeDefObject {
  name: string;
  op: string;
  input: string[];
  device?: string;
  attr: Record<string, AttrValueObject>;
}
export interface GraphDefObject {
  node: NodeDefObject[];
  versions?: { producer: number; minConsumer?: number };
}
export interface EventObject {
  wallTime: number;
  step: number;
  fileVersion?: string;
  graphDef?: Uint8Array;
  summary?: { value: SummaryValueObject[] };
  taggedRunMetadata?: { tag: string; runMetadata: Uint8Array };
}

const toObjectOptions = { longs: Number, bytes: Uint8Array, defaults: false, arrays: true, objects: true, oneofs: false } as const;

export function encodeEvent(event: EventObject): Uint8Array {
  return EventProto.encode(EventProto.fromObject(event)).finish();
}

export function decodeEvent(bytes: Uint8Array): EventObject {
  const o = EventProto.toObject(EventProto.decode(bytes), toObjectOptions) as EventObject;
  // Fields equal to their default are not on the wire; fill them in so the plain objects match their types.
  o.wallTime ??= 0;
  o.step ??= 0;
  for (const v of o.summary?.value ?? []) {
    if (v.histo) {
      const h = v.histo;
      h.min ??= 0;
      h.max ??= 0;
      h.num ??= 0;
      h.sum ??= 0;
      h.sumSquares ??= 0;
      h.bucketLimit ??= [];
      h.bucket ??= [];
    }
    if (v.image) {
      v.image.height ??= 0;
      v.image.width ??= 0;
      v.image.colorspace ??= 0;
    }
  }
  return o;
}

export function encodeGraphDef(graph: GraphDefObject): Uint8Array {
  return GraphDefProto.encode(GraphDefProto.fromObject(graph)).finish();
}

export function decodeGraphDef(bytes: Uint8Array): GraphDefObject {
  return GraphDefProto.toObject(GraphDefProto.decode(bytes), toObjectOptions) as GraphDefObject;
}

export function encodeRunMetadata(graphs: GraphDefObject[]): Uint8Array {
  return RunMetadataProto.encode(RunMetadataProto.fromObject({ functionGraphs: graphs.map((g) => ({ preOptimizationGraph: g })) })).finish();
}

export function decodeRunMetadata(bytes: Uint8Array): { functionGraphs: { preOptimizationGraph?: GraphDefObject }[] } {
  return RunMetadataProto.toObject(RunMetadataProto.decode(bytes), toObjectOptions) as { functionGraphs: { preOptimizationGraph?: GraphDefObject }[] };
}
