/**
 * Functional models: a graph of layer calls from Input KerasTensors to
 * outputs. Construction walks the KerasTensor history back from the outputs
 * (checking that every path reaches a declared input); calling the model runs
 * the recorded layer calls in topological order on real tensors.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { formatShape } from '../tensor/shape.ts';
import { registerBuiltin, type Config } from '../serialization/registry.ts';
import { KerasTensor } from '../layers/keras-tensor.ts';
import { type CallOptions, type Layer, leaves, getMask } from '../layers/layer.ts';
import type { LayerNode } from '../layers/node.ts';
import { InputLayer } from '../layers/core/input-layer.ts';
import { type FunctionalArgs, Model, setFunctionalFactory } from './model.ts';

const isKeras = (v: unknown): v is KerasTensor => v instanceof KerasTensor;

/** Flattens a structure of KerasTensors as Keras's `tree.flatten` does (dict keys sorted). */
function kerasFlatten(x: unknown, out: KerasTensor[] = []): KerasTensor[] {
  if (x instanceof KerasTensor) out.push(x);
  else if (Array.isArray(x)) for (const v of x) kerasFlatten(v, out);
  else if (x && typeof x === 'object') for (const k of Object.keys(x).sort()) kerasFlatten((x as Record<string, unknown>)[k], out);
  return out;
}

/**
 * Keras's order of a functional model's layers (`model.layers`), which
 * weight files, optimizer slots and legacy `.h5` files follow: by decreasing
 * depth (the longest path to an output), ties broken by the order a
 * depth-first walk from the outputs first meets them. Inputs are therefore
 * not always first. `nodes` is the post-order of that walk.
 */
function kerasLayerOrder(nodes: readonly LayerNode[], inputs: readonly KerasTensor[], outputs: readonly KerasTensor[]): Layer[] {
  const inGraph = new Set(nodes);
  const producer = (k: KerasTensor): LayerNode | undefined => (k.history ? k.history.layer.inboundNodes[k.history.nodeIndex] : undefined);
  // First traversal index of each layer (pre-order of the walk from the outputs).
  const firstSeen = new Map<Layer, number>();
  const seen = new Set<LayerNode>();
  const walk = (k: KerasTensor): void => {
    const node = producer(k);
    if (!node || seen.has(node)) return;
    seen.add(node);
    if (!firstSeen.has(node.layer)) firstSeen.set(node.layer, firstSeen.size);
    if (!(node.layer instanceof InputLayer)) for (const t of leaves(node.inputs, isKeras)) walk(t);
  };
  for (const k of outputs) walk(k);
  // Depths: output nodes are 0; a node's parents are at least one deeper; a layer takes its deepest node.
  const nodeDepth = new Map<LayerNode, number>();
  const layerDepth = new Map<Layer, number>();
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    const depth = Math.max(nodeDepth.get(node) ?? 0, layerDepth.get(node.layer) ?? 0);
    layerDepth.set(node.layer, depth);
    nodeDepth.set(node, depth);
    if (node.layer instanceof InputLayer) continue;
    for (const t of leaves(node.inputs, isKeras)) {
      const parent = producer(t);
      if (parent && inGraph.has(parent)) nodeDepth.set(parent, Math.max(depth + 1, nodeDepth.get(parent) ?? 0));
    }
  }
  // Inputs connected to no output come at depth 0, first among their depth.
  for (const k of inputs) {
    const layer = k.history!.layer;
    if (!layerDepth.has(layer)) {
      layerDepth.set(layer, 0);
      firstSeen.set(layer, -1);
    }
  }
  return [...layerDepth.keys()].sort((a, b) => layerDepth.get(b)! - layerDepth.get(a)! || firstSeen.get(a)! - firstSeen.get(b)!);
}

function rebuildWith(structure: unknown, map: (k: KerasTensor) => unknown): unknown {
  if (structure instanceof KerasTensor) return map(structure);
  if (Array.isArray(structure)) return structure.map((s) => rebuildWith(s, map));
  if (structure && typeof structure === 'object') return Object.fromEntries(Object.entries(structure).map(([k, v]) => [k, rebuildWith(v, map)]));
  return structure;
}

function nodeOf(k: KerasTensor): LayerNode {
  const h = k.history!;
  return h.layer.inboundNodes[h.nodeIndex];
}

export class Functional extends Model {
  static override readonly className = 'Functional';
  readonly inputs: FunctionalArgs['inputs'];
  readonly outputs: FunctionalArgs['outputs'];
  /** Layer calls in execution order (InputLayer nodes excluded). */
  readonly nodes: readonly LayerNode[];
  /** Layers in topological order, InputLayers included (Keras's `functional.layers`). */
  readonly #layers: readonly Layer[];
  readonly #inputTensors: KerasTensor[];

  constructor(args: FunctionalArgs) {
    super({ name: args.name, trainable: args.trainable });
    this.autocastInputs = false;
    this.inputs = args.inputs;
    this.outputs = args.outputs;
    this.#inputTensors = leaves(args.inputs, isKeras);
    const outputTensors = leaves(args.outputs, isKeras);
    if (this.#inputTensors.length === 0) throw new TypeError(`Model '${this.name}': inputs must be KerasTensors from strata.Input(...).`);
    if (outputTensors.length === 0) throw new TypeError(`Model '${this.name}': outputs must be KerasTensors produced by calling layers on the inputs.`);
    for (const k of this.#inputTensors) {
      if (!(k.history?.layer instanceof InputLayer)) {
        throw new TypeError(`Model '${this.name}': every input must come from strata.Input(...). Received ${k}.`);
      }
    }

    // Depth-first from the outputs; post-order gives a topological order of nodes.
    const order: LayerNode[] = [];
    const visited = new Set<LayerNode>();
    const visiting = new Set<LayerNode>();
    const reachedLayers: string[] = [];
    const visit = (k: KerasTensor): void => {
      if (!k.history) throw new Error(`Model '${this.name}': ${k} was not produced by a layer.`);
      const node = nodeOf(k);
      if (visited.has(node)) return;
      if (node.layer instanceof InputLayer && !this.#inputTensors.includes(k)) {
        throw new Error(
          `Graph disconnected in model '${this.name}': cannot obtain value for ${k} (input '${node.layer.name}'), which is not among the model's inputs. ` +
            `The following previous layers were accessed without issue: [${reachedLayers.map((n) => `'${n}'`).join(', ')}]. Add it to the inputs.`,
        );
      }
      if (visiting.has(node)) throw new Error(`Model '${this.name}': the layer graph has a cycle through layer '${node.layer.name}'.`);
      visiting.add(node);
      for (const input of [...leaves(node.inputs, isKeras), ...leaves(node.callOptions.mask, isKeras)]) visit(input);
      visiting.delete(node);
      visited.add(node);
      reachedLayers.push(node.layer.name);
      order.push(node);
    };
    for (const k of outputTensors) visit(k);
    for (const k of this.#inputTensors) if (!visited.has(nodeOf(k))) order.unshift(nodeOf(k));

    const layers: Layer[] = [];
    for (const node of order) if (!layers.includes(node.layer)) layers.push(node.layer);
    const names = new Map<string, Layer>();
    for (const l of layers) {
      const other = names.get(l.name);
      if (other && other !== l) {
        throw new Error(`Model '${this.name}': all layer names should be unique, but the name '${l.name}' is used by two layers (${other.constructor.name} and ${l.constructor.name}). Give them distinct names.`);
      }
      names.set(l.name, l);
    }
    this.#layers = kerasLayerOrder(order, this.#inputTensors, kerasFlatten(args.outputs));
    this.nodes = order.filter((n) => !(n.layer instanceof InputLayer));
    this.built = true;
  }

  override get layers(): Layer[] {
    return [...this.#layers];
  }

  /** Input KerasTensors, flattened. */
  get inputTensors(): KerasTensor[] {
    return [...this.#inputTensors];
  }

  get outputTensors(): KerasTensor[] {
    return leaves(this.outputs, isKeras);
  }

  override call(inputs: unknown, options: CallOptions): unknown {
    const values = new Map<KerasTensor, Tensor>();
    this.bindInputs(inputs).forEach((t, i) => values.set(this.#inputTensors[i], t));
    for (const node of this.nodes) {
      const args = rebuildWith(node.inputs, (k) => {
        const v = values.get(k);
        if (!v) throw new Error(`Internal error: model '${this.name}' has no value for ${k} when calling layer '${node.layer.name}'.`);
        return v;
      });
      // An explicit mask recorded with the call (a KerasTensor), else the masks attached to the inputs.
      let mask: Tensor | null | (Tensor | null)[] | undefined;
      if (leaves(node.callOptions.mask, isKeras).length > 0) {
        mask = rebuildWith(node.callOptions.mask, (k) => values.get(k)!) as Tensor | (Tensor | null)[];
      } else {
        const inputMasks = leaves(args, (x): x is Tensor => typeof x === 'object' && x !== null && 'dtype' in x).map(getMask);
        mask = inputMasks.every((m) => m === null) ? undefined : inputMasks.length === 1 ? inputMasks[0] : inputMasks;
      }
      const out = node.layer.apply(args, { ...node.callOptions, training: options.training, mask });
      const outKeras = leaves(node.outputs, isKeras);
      const outTensors = leaves(out, (x): x is Tensor => typeof x === 'object' && x !== null && 'dtype' in x);
      outKeras.forEach((k, i) => values.set(k, outTensors[i]));
    }
    return rebuildWith(this.outputs, (k) => values.get(k)!);
  }

  /** Matches call inputs (a tensor, a list, or an object keyed by input names) to the model's inputs. */
  private bindInputs(inputs: unknown): Tensor[] {
    const expected = this.#inputTensors;
    let list: unknown[];
    if (expected.length === 1 && !Array.isArray(inputs) && !(inputs && typeof inputs === 'object' && Object.getPrototypeOf(inputs) === Object.prototype)) {
      list = [inputs];
    } else if (Array.isArray(inputs)) {
      list = inputs;
    } else if (inputs && typeof inputs === 'object') {
      const byName = inputs as Record<string, unknown>;
      const keyed = !Array.isArray(this.inputs) && !(this.inputs instanceof KerasTensor) ? (this.inputs as Record<string, KerasTensor>) : null;
      list = expected.map((k) => {
        const key = keyed ? Object.keys(keyed).find((n) => keyed[n] === k)! : k.history!.layer.name;
        if (!(key in byName)) throw new Error(`Model '${this.name}' expects an input named '${key}'. Received keys: ${Object.keys(byName).join(', ')}.`);
        return byName[key];
      });
    } else {
      list = [inputs];
    }
    if (list.length !== expected.length) {
      throw new Error(`Model '${this.name}' expects ${expected.length} inputs (${expected.map((k) => formatShape(k.shape)).join(', ')}), but it was called with ${list.length}.`);
    }
    return list.map((x, i) => {
      const t = x as Tensor;
      const k = expected[i];
      const rankOk = t && t.shape && t.shape.length === k.shape.length;
      if (!rankOk || k.shape.some((d, a) => d !== null && t.shape[a] !== null && t.shape[a] !== d)) {
        throw new Error(
          `Input ${i} of model '${this.name}' (input layer '${k.history!.layer.name}') is incompatible: expected shape ${formatShape(k.shape)}, received ${t?.shape ? formatShape(t.shape) : String(x)}.`,
        );
      }
      return t;
    });
  }

  override getConfig(): Config {
    // The full Keras config (layers, inbound_nodes, input_layers, output_layers) is written by saving/.
    return { name: this.name, trainable: this.trainable };
  }
}
registerBuiltin('keras.src.models.functional', Functional);

setFunctionalFactory((args) => new Functional(args));
