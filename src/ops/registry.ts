/**
 * Every primitive op definition, by name. The graph layer and the tests
 * enumerate it (every op must have a gradient test and a lowering test).
 */
import type { OpDef } from '../engine/op.ts';
import { elementwiseOps } from './defs/elementwise.ts';
import { reduceOps } from './defs/reduce.ts';
import { shapeOps } from './defs/shape.ts';
import { indexingOps } from './defs/indexing.ts';
import { linalgOps } from './defs/linalg.ts';
import { nnOps } from './defs/nn.ts';
import { randomOps } from './defs/random.ts';

export const opFamilies = { elementwiseOps, reduceOps, shapeOps, indexingOps, linalgOps, nnOps, randomOps } as const;

export function allOpDefs(): Map<string, OpDef<any>> {
  const out = new Map<string, OpDef<any>>();
  for (const [family, table] of Object.entries(opFamilies)) {
    for (const def of Object.values(table) as OpDef<any>[]) {
      if (out.has(def.name)) throw new Error(`Two op definitions are named '${def.name}' (second in ${family}).`);
      out.set(def.name, def);
    }
  }
  return out;
}
