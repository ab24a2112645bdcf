// The compiled package (npm run build) as a user of `npm install strata` meets it:
// plain JavaScript on Node without a TypeScript loader, and TypeScript projects
// type-checking against dist/*.d.ts with ordinary compiler settings.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'strata-package-'));
const pkg = join(work, 'strata');
const app = join(work, 'app');

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 240_000 });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

describe('the compiled package', () => {
  before(() => {
    // The package as npm would install it: package.json and dist/, its dependencies beside it.
    const build = run([join(root, 'scripts', 'build.mjs'), '--out', join(pkg, 'dist')], root);
    assert.equal(build.status, 0, `npm run build failed:\n${build.output}`);
    writeFileSync(join(pkg, 'package.json'), readFileSync(join(root, 'package.json')));
    symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    symlinkSync(pkg, join(app, 'node_modules', 'strata'), 'dir');
  });

  it('runs from plain JavaScript without a TypeScript loader: eager ops, strata.fn, worker maps, saving', () => {
    writeFileSync(
      join(app, 'app.mjs'),
      `import * as strata from 'strata';
const { ops, layers, data } = strata;
const t = strata.tensor([[1, 2], [3, 4]]);
const eager = ops.tanh(ops.matmul(t, t));
const compiled = await strata.fn((a) => ops.tanh(ops.matmul(a, a)))(t);   // the ONNX Runtime worker
const doubled = await data.Dataset.range(4).map(data.workerFunction((x, s) => s.ops.multiply(x, 2)), { numParallelCalls: 2 }).toArray();
const m = new strata.Sequential([strata.Input({ shape: [3] }), new layers.Dense(2)]);
m.compile({ optimizer: 'adam', loss: 'mse' });
await m.fit(strata.ones([8, 3]), strata.zeros([8, 2]), { epochs: 1, verbose: 0 });
await m.save('m.h5');                                                         // the HDF5 worker
const again = await strata.saving.loadModel('m.h5');
const probe = strata.ones([2, 3]);
const same = ops.max(ops.abs(ops.subtract(await m.predictOnBatch(probe), await again.predictOnBatch(probe)))).item();
console.log(JSON.stringify({ eager: Array.from(eager.dataSync()), compiled: Array.from(compiled.dataSync()), doubled: doubled.map((v) => v.item()), same }));
`,
    );
    const r = run(['app.mjs'], app);
    assert.equal(r.status, 0, r.output);
    const result = JSON.parse(r.output.trim().split('\n').find((l) => l.startsWith('{'))!);
    result.eager.forEach((v: number, i: number) => assert.ok(Math.abs(v - result.compiled[i]) < 1e-6, `compiled ${result.compiled} vs eager ${result.eager}`));
    assert.deepEqual(result.doubled, [0, 2, 4, 6]);
    assert.ok(result.same < 1e-6, `the reloaded .h5 model predicts the same (max diff ${result.same})`);
  });

  it('npm pack puts dist/ in the tarball (.gitignore lists dist/; without "files" npm would leave it out), and everything exports and bin name', () => {
    // A copy of the packaging files with stand-ins for the sources: what npm pack selects.
    const packDir = mkdtempSync(join(tmpdir(), 'strata-pack-'));
    for (const file of ['package.json', '.gitignore']) writeFileSync(join(packDir, file), readFileSync(join(root, file)));
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, Record<string, string>>; bin: Record<string, string> };
    const named = [...Object.values(manifest.exports).flatMap((e) => Object.values(e)), ...Object.values(manifest.bin), './src/cli/main.ts'].map((p) => p.replace(/^\.\//, ''));
    for (const p of named) {
      mkdirSync(dirname(join(packDir, p)), { recursive: true });
      writeFileSync(join(packDir, p), '');
    }
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: packDir, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `${r.error ?? ''}\n${r.stdout}\n${r.stderr}`);
    const packed = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    for (const p of named) assert.ok(packed.includes(p), `${p} is in the tarball (it has ${packed.join(', ')})`);
  });

  it("type-checks a TypeScript user's code against dist/*.d.ts with default strict settings", () => {
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true } }));
    writeFileSync(
      join(app, 'main.ts'),
      `import * as strata from 'strata';
const { ops, layers } = strata;
const t: strata.Tensor = ops.softmax(strata.tensor([[1, 2], [3, 4]]));
const m = new strata.Sequential([strata.Input({ shape: [3] }), new layers.Dense(2)]);
m.compile({ optimizer: 'adam', loss: 'mse', metrics: [new strata.metrics.MeanSquaredError()] });
export const history: Promise<strata.callbacks.History> = m.fit(strata.ones([8, 3]), strata.zeros([8, 2]), { epochs: 1 });
// @ts-expect-error: the types are real (epochs is a number), not any
m.fit(t, t, { epochs: 'one' });
`,
    );
    const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
    const r = run([tsc, '-p', app], app);
    assert.equal(r.status, 0, r.output);
  });
});
