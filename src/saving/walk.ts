/**
 * Where each object's variables live in a Keras weights file. Keras walks the
 * object tree: a Sequential or Functional model first yields its `layers`
 * (a container: members named by their snake_case class, `dense`,
 * `dense_1`, ...; never by layer name), then other attributes in sorted
 * order (`optimizer`, a subclassed model's fields). Each object stores its
 * own variables (trainable first) under `<path>/vars`.
 */
import type { Variable } from '../engine/variable.ts';
import { toSnakeCase } from '../serialization/keras-object.ts';
import { Layer, classNameOf } from '../layers/layer.ts';
import { Functional } from '../models/functional.ts';
import { Sequential } from '../models/sequential.ts';
import { Model } from '../models/model.ts';
import { Optimizer } from '../optimizers/optimizer.ts';

export interface SaveableNode {
  /** Path without the trailing `/vars` ('' for the root). */
  readonly path: string;
  /** Written as the group's `name` attribute. */
  readonly name: string;
  readonly variables: readonly Variable[];
  readonly kind: 'layer' | 'optimizer';
  /** For optimizers: how many of `variables` are its own scalars (iteration, learning rate) before the slots. */
  readonly ownCount?: number;
}

type Saveable = Layer | Optimizer;

function join(...parts: string[]): string {
  return parts.filter(Boolean).join('/');
}

/** Attributes of a layer that hold saveables (layers, optimizers, arrays or plain objects of them), Keras's order. */
function childAttributes(layer: Layer): [string, Saveable | Saveable[]][] {
  const out: [string, Saveable | Saveable[]][] = [];
  if (layer instanceof Functional || layer instanceof Sequential) out.push(['layers', layer.layers]);
  else {
    const keys = Object.keys(layer).sort((a, b) => (a.startsWith('_') === b.startsWith('_') ? (a < b ? -1 : a > b ? 1 : 0) : a.startsWith('_') ? 1 : -1));
    for (const key of keys) {
      const value = (layer as unknown as Record<string, unknown>)[key];
      if (value instanceof Layer || value instanceof Optimizer) out.push([key, value]);
      else if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Layer || v instanceof Optimizer)) out.push([key, value as Saveable[]]);
      else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
        const members = Object.values(value).filter((v) => v instanceof Layer || v instanceof Optimizer) as Saveable[];
        if (members.length > 0) out.push([key, members]);
      }
    }
  }
  if (layer instanceof Model && layer.optimizer) out.push(['optimizer', layer.optimizer]);
  return out;
}

/** Every object with a `vars` group, in Keras's walk order. */
export function collectSaveables(root: Layer, options: { includeOptimizer?: boolean } = {}): SaveableNode[] {
  const includeOptimizer = options.includeOptimizer ?? true;
  const nodes: SaveableNode[] = [];
  const visited = new Set<Saveable>();
  const visit = (obj: Saveable, path: string): void => {
    if (visited.has(obj)) return;
    visited.add(obj);
    if (obj instanceof Optimizer) {
      if (includeOptimizer) nodes.push({ path, name: obj.name, variables: obj.variables, kind: 'optimizer', ownCount: obj.learningRateVariable ? 2 : 1 });
      return;
    }
    nodes.push({ path, name: obj.name, variables: obj.ownVariables, kind: 'layer' });
    for (const [attr, child] of childAttributes(obj)) {
      if (Array.isArray(child)) {
        const used = new Map<string, number>();
        for (const member of child) {
          const base = toSnakeCase(member instanceof Optimizer ? member.constructor.name : classNameOf(member.constructor as typeof Layer));
          const n = used.get(base) ?? 0;
          used.set(base, n + 1);
          // A shared object is written once, but still takes its name index.
          visit(member, join(path, attr, n === 0 ? base : `${base}_${n}`));
        }
      } else {
        if (child instanceof Optimizer && !includeOptimizer) continue;
        visit(child, join(path, attr));
      }
    }
  };
  visit(root, '');
  return nodes;
}
