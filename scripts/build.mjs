// Compiles the package for JavaScript users: dist/**/*.js and *.d.ts (tsconfig.build.json),
// plus the plain-JavaScript worker entry points (*.mjs), which tsc does not copy.
// npm runs it as `prepare` (after `npm install` / `npm ci`, and when Strata is
// installed from git). Usage: node scripts/build.mjs [--out DIR]
import { cpSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outFlag = process.argv.indexOf('--out');
const out = outFlag >= 0 ? process.argv[outFlag + 1] : join(root, 'dist');

function filesUnder(dir, suffix) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, suffix);
    return name.endsWith(suffix) ? [path] : [];
  });
}

// A stale file from a renamed module must not survive in the package.
rmSync(out, { recursive: true, force: true });
// typescript's exports hide bin/tsc; its package.json is exported, and the bin sits beside it.
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit', cwd: root });
if (result.status !== 0) {
  console.error(`build: tsc failed (exit ${result.status}); nothing usable in ${out}.`);
  process.exit(result.status ?? 1);
}
const src = join(root, 'src');
for (const file of filesUnder(src, '.mjs')) {
  const target = join(out, relative(src, file));
  mkdirSync(dirname(target), { recursive: true });
  cpSync(file, target);
}
