/**
 * A node records one call of a layer on KerasTensors: its inputs (in the
 * structure they were passed), its outputs, and the call options. Functional
 * models are graphs of nodes; the Keras 3 config's `inbound_nodes` lists them.
 */
import type { KerasTensor } from './keras-tensor.ts';
import type { CallOptions, Layer } from './layer.ts';

export interface LayerNode {
  readonly layer: Layer;
  /** The call's inputs: a KerasTensor or a structure (array/object) of them. */
  readonly inputs: unknown;
  readonly outputs: unknown;
  readonly callOptions: CallOptions;
}

export function recordNode(layer: Layer, inputs: unknown, outputs: unknown, callOptions: CallOptions): LayerNode {
  return { layer, inputs, outputs, callOptions: { ...callOptions } };
}

/** KerasTensors in a node's inputs, in order. */
export function nodeInputTensors(node: LayerNode): KerasTensor[] {
  const out: KerasTensor[] = [];
  const walk = (x: unknown) => {
    if (x && typeof x === 'object' && 'history' in (x as object) && 'shape' in (x as object)) out.push(x as KerasTensor);
    else if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') Object.values(x).forEach(walk);
  };
  walk(node.inputs);
  return out;
}
