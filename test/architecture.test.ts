// The layering rule of docs/architecture.md, checked: each directory of src/
// imports (at runtime; `import type` is free) only from directories listed
// above it. The order is read from the document's own list, so the document
// and the code cannot drift apart silently.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve('src');

/** Directory names in the order docs/architecture.md lists them (`src/name/` at the start of a line in its first code block). */
function documentedOrder(): string[] {
  const doc = readFileSync('docs/architecture.md', 'utf8');
  const block = doc.slice(doc.indexOf('```'), doc.indexOf('```', doc.indexOf('```') + 3));
  return [...block.matchAll(/src\/([a-z-]+)\//g)].map((m) => m[1]);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

const topDirectory = (path: string): string | null => {
  const parts = relative(SRC, path).split('/');
  return parts.length > 1 ? parts[0] : null; // null: a file at the root of src/ (index.ts, config.ts), free to import anything
};

describe('architecture', () => {
  const order = documentedOrder();

  it('lists every directory of src/', () => {
    const dirs = readdirSync(SRC).filter((d) => statSync(join(SRC, d)).isDirectory());
    assert.deepEqual(dirs.filter((d) => !order.includes(d)), []);
  });

  it('has no runtime import from a directory to one listed below it', () => {
    const upward: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const from = topDirectory(file);
      if (from === null) continue;
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^(?:import|export)(?!\s+type\b)[^;]*?from\s+'(\.[^']+)'/gms)) {
        const to = topDirectory(resolve(dirname(file), m[1]));
        if (to === null || to === from) continue;
        if (order.indexOf(to) > order.indexOf(from)) upward.push(`${relative(SRC, file)} imports ${m[1]} (${from} -> ${to})`);
      }
    }
    assert.deepEqual(upward, [], 'upward imports; add a seam in the lower layer instead');
  });
});
