/**
 * The order Keras gives a functional model's layers (`model.layers`), which
 * legacy `.h5` files follow (`layer_names`, and loading by order): layers
 * sorted by decreasing depth (the longest path to an output), ties broken by
 * the order a depth-first walk from the outputs first meets them
 * (`map_graph` / `_build_map` in keras/src/ops/function.py; tf.keras 2's
 * `_map_graph_network` is the same). Inputs are not necessarily first: an
 * input with a longer path to the outputs comes before the others.
 *
 * Strata's `Functional.layers` lists inputs first, then layers in post-order
 * of a depth-first walk, which can differ for branched graphs; the legacy
 * reader and writer use this order so that files pair with Keras's.
 */
import { InputLayer } from '../layers/core/input-layer.ts';
import type { KerasTensor } from '../layers/keras-tensor.ts';
import type { Layer } from '../layers/layer.ts';
import type { Variable } from '../engine/variable.ts';
import { type LayerNode, nodeInputTensors } from '../layers/node.ts';
import { Functional } from '../models/functional.ts';

/** Flattens a structure of KerasTensors as Keras's `tree.flatten` does (dict keys sorted). */
function flatten(x: unknown, out: KerasTensor[] = []): KerasTensor[] {
  if (Array.isArray(x)) for (const v of x) flatten(v, out);
  else if (x && typeof x === 'object' && 'history' in (x as object) && 'shape' in (x as object)) out.push(x as KerasTensor);
  else if (x && typeof x === 'object') for (const k of Object.keys(x).sort()) flatten((x as Record<string, unknown>)[k], out);
  return out;
}

/** Keras's `model.layers` order for `model` (its own `layers` for anything but a functional model). */
export function kerasLayerOrder(model: Layer): Layer[] {
  if (!(model instanceof Functional)) return model.layers;
  const inputs = new Set<KerasTensor>(model.inputTensors);
  const nodeOf = (k: KerasTensor): LayerNode | undefined => (k.history ? k.history.layer.inboundNodes[k.history.nodeIndex] : undefined);
  const isInputNode = (node: LayerNode) => node.layer instanceof InputLayer;

  // _build_map: nodes from inputs to outputs, and each layer's first traversal index.
  const finished = new Set<LayerNode>();
  const inProgress = new Set<LayerNode>();
  const ordered: LayerNode[] = [];
  const indices = new Map<Layer, number>();
  const visit = (tensor: KerasTensor): void => {
    const node = nodeOf(tensor);
    if (!node || finished.has(node)) return;
    if (!isInputNode(node) && inputs.has(tensor)) {
      finished.add(node);
      return;
    }
    if (inProgress.has(node)) throw new Error(`model '${model.name}': the layer graph has a cycle through layer '${node.layer.name}'.`);
    if (!indices.has(node.layer)) indices.set(node.layer, indices.size);
    inProgress.add(node);
    if (!isInputNode(node)) for (const t of nodeInputTensors(node)) visit(t);
    finished.add(node);
    inProgress.delete(node);
    ordered.push(node);
  };
  for (const out of flatten(model.outputs)) visit(out);

  // Depths: an output node is 0, a node's parents are at least one deeper; a layer takes its deepest node.
  const inGraph = new Set(ordered);
  const nodeDepth = new Map<LayerNode, number>();
  const layerDepth = new Map<Layer, number>();
  for (let i = ordered.length - 1; i >= 0; i--) {
    const node = ordered[i];
    if (!nodeDepth.has(node)) nodeDepth.set(node, 0);
    const depth = Math.max(nodeDepth.get(node)!, layerDepth.get(node.layer) ?? 0);
    layerDepth.set(node.layer, depth);
    nodeDepth.set(node, depth);
    if (isInputNode(node)) continue;
    for (const t of nodeInputTensors(node)) {
      const parent = nodeOf(t);
      if (!parent || !inGraph.has(parent)) continue;
      nodeDepth.set(parent, Math.max(depth + 1, nodeDepth.get(parent) ?? 0));
    }
  }
  // Inputs not connected to any output come at depth 0, first among their depth.
  for (const k of model.inputTensors) {
    const layer = k.history?.layer;
    if (layer && !layerDepth.has(layer)) {
      layerDepth.set(layer, 0);
      indices.set(layer, -1);
    }
  }
  const layers = [...layerDepth.keys()];
  layers.sort((a, b) => layerDepth.get(b)! - layerDepth.get(a)! || indices.get(a)! - indices.get(b)!);
  // Anything Strata lists that the walk missed (should not happen) keeps its place at the end.
  for (const l of model.layers) if (!layers.includes(l)) layers.push(l);
  return layers;
}

/** Every variable of `layer` in Keras's order: its own, then each sublayer's (sublayers in Keras's order). */
export function kerasVariables(layer: Layer): Variable[] {
  const out: Variable[] = [];
  const seen = new Set<Variable>();
  const add = (v: Variable) => {
    if (!seen.has(v)) {
      seen.add(v);
      out.push(v);
    }
  };
  const visit = (l: Layer, depth: number): void => {
    if (depth > 1000) throw new Error(`layer '${layer.name}': layers are nested too deeply.`);
    l.ownVariables.forEach(add);
    for (const sub of kerasLayerOrder(l)) visit(sub, depth + 1);
  };
  visit(layer, 0);
  // Anything else Strata tracks keeps Strata's order.
  layer.weights.forEach(add);
  return out;
}

/** Keras's `trainable_weights` order. */
export function kerasTrainableWeights(layer: Layer): Variable[] {
  return layer.trainable ? kerasVariables(layer).filter((v) => v.trainable) : [];
}

/** Keras's legacy weight order (`_legacy_weights`): trainable weights, then non-trainable ones, each in Keras's order. */
export function kerasLegacyWeights(layer: Layer): Variable[] {
  const all = kerasVariables(layer);
  return layer.trainable ? [...all.filter((v) => v.trainable), ...all.filter((v) => !v.trainable)] : all;
}
