/**
 * Readable text of a graph: inputs, captured variables, one line per node
 * with its op, attributes, output shapes and dtypes and layer path, then the
 * outputs and the variable updates.
 */
import { formatShape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { type Graph, Value, subgraphsOf } from './ir.ts';

function typeText(v: Value): string {
  return `${v.type.dtype}${formatShape(v.type.shape).replace(/^\(/, '[').replace(/,?\)$/, ']')}`;
}

function valueName(v: Value): string {
  switch (v.kind) {
    case 'input': return `%${v.name}`;
    case 'variable': return `%${v.name}`;
    case 'constant': {
      const c = v.constant!;
      const size = c.size ?? 0;
      if (size <= 4) return `const(${Array.from(c.dataSync()).map((x) => (c.dtype === 'bool' ? String(!!x) : String(x))).join(', ')})`;
      return `const<${typeText(v)}>`;
    }
    default: return `%${v.id}`;
  }
}

function attrText(attrs: unknown): string {
  if (!attrs || typeof attrs !== 'object') return '';
  const parts: string[] = [];
  for (const [k, val] of Object.entries(attrs as Record<string, unknown>)) {
    if (k === 'subgraphs' || typeof val === 'function' || val === undefined) continue;
    parts.push(`${k}=${JSON.stringify(val, (_key, x) => (x instanceof Tensor ? `<tensor ${formatShape(x.shape)}>` : x instanceof Value ? `%${x.id}` : x))}`);
  }
  return parts.length ? ` {${parts.join(', ')}}` : '';
}

export function printGraph(graph: Graph, indent = ''): string {
  const lines: string[] = [];
  const args = graph.inputs.map((v) => `${valueName(v)}: ${typeText(v)}`).join(', ');
  lines.push(`${indent}graph ${graph.name}(${args}) {`);
  for (const v of graph.captures) lines.push(`${indent}  capture ${valueName(v)}: ${typeText(v)}  # variable`);
  for (const v of graph.outerCaptures) lines.push(`${indent}  capture %${v.id}: ${typeText(v)} = outer ${valueName(v.outer!)}`);
  for (const n of graph.nodes) {
    const outs = n.outputs.map((o) => `%${o.id}: ${typeText(o)}`).join(', ');
    const ins = n.inputs.map(valueName).join(', ');
    const scope = n.scope ? `  # ${n.scope}` : '';
    lines.push(`${indent}  ${outs} = ${n.def.name}(${ins})${attrText(n.attrs)}${scope}`);
    for (const sub of subgraphsOf(n)) lines.push(printGraph(sub, `${indent}    `));
  }
  lines.push(`${indent}  return ${graph.outputs.map(valueName).join(', ')}`);
  for (const u of graph.updates) lines.push(`${indent}  update ${u.variable.path} <- ${valueName(u.value)}`);
  lines.push(`${indent}}`);
  return lines.join('\n');
}
