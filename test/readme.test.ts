// The README's tour is the first code a user copies: run it as written.
// The tour leaves its data (x, y, xTest, the TFRecord file, toXY, features) to the
// reader; a small prelude supplies them, and an epilogue checks what the tour claims.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The ```ts block that follows the "## A tour" heading. */
function tourCode(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A tour'));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'README.md has a ```ts block under "## A tour"');
  return block[1];
}

const PRELUDE = `
// --- prelude (test/readme.test.ts): the data the tour assumes ---
const xAll = strata.random.uniform([48, 28, 28, 1], { seed: 1 });
const x = strata.ops.slice(xAll, [0, 0, 0, 0], [40, 28, 28, 1]);
const xTest = strata.ops.slice(xAll, [40, 0, 0, 0], [8, 28, 28, 1]);
const y = strata.ops.cast(strata.ops.argmax(strata.ops.reshape(strata.ops.slice(x, [0, 0, 0, 0], [40, 10, 1, 1]), [40, 10]), -1), 'int32');
const features = { image: new strata.data.FixedLenFeature([784], 'float32'), label: new strata.data.FixedLenFeature([], 'int64') };
const toXY = (e: Record<string, strata.Tensor>) => [strata.ops.reshape(e.image, [28, 28, 1]), e.label];
await strata.data.writeTFRecords('train.tfrecord', Array.from({ length: 40 }, (_, i) =>
  strata.data.serializeExample({
    image: { floatList: strata.ops.reshape(strata.ops.slice(x, [i, 0, 0, 0], [1, 28, 28, 1]), [784]).dataSync() as Float32Array },
    label: { int64List: [y.dataSync()[i]] },
  })));
// --- the README tour ---
`;

const EPILOGUE = `
// --- epilogue (test/readme.test.ts): what the tour claims ---
const fs = await import('node:fs');
const check = (ok: boolean, what: string) => { if (!ok) throw new Error('README tour: ' + what); };
strata.debugging.disableCheckNumerics();
// (tape.gradient was called once by the tour; a second call would throw on a non-persistent tape.)
check(/stopGradient/.test(tape.whyNull(w)?.message ?? ''), 'whyNull names stopGradient');
const p1 = (await model.predict(xTest, { verbose: 0 })) as strata.Tensor;
// (The tour trains on after loading \`again\`, so only its architecture still matches.)
check(again.countParams() === model.countParams() && again.layers.length === model.layers.length, 'model.keras loads back as the same architecture');
const p3 = (await serve(xTest)) as strata.Tensor;
check(p1.dataSync().every((v, i) => Math.abs(v - p3.dataSync()[i]) < 1e-5), 'the compiled function agrees with predict');
check(fs.existsSync('model.onnx') && fs.statSync('model.onnx').size > 1000, 'model.onnx was written');
console.log('README_TOUR_OK');
`;

describe('README', () => {
  it('the tour runs as written (with its data supplied) and does what it says', () => {
    const code = tourCode();
    const lines = code.split('\n');
    const imports = lines.filter((l) => l.startsWith('import '));
    assert.ok(imports.some((l) => /from 'strata'/.test(l)), "the tour imports 'strata'");
    const rest = lines.filter((l) => !l.startsWith('import ')).join('\n');
    const indexUrl = pathToFileURL(join(root, 'src', 'index.ts')).href;
    const script = [...imports.map((l) => l.replace(/'strata'/, `'${indexUrl}'`)), PRELUDE, rest, EPILOGUE].join('\n');

    const dir = mkdtempSync(join(tmpdir(), 'strata-readme-'));
    const file = join(dir, 'tour.mts'); // an ES module: the tour awaits at top level
    writeFileSync(file, script);
    const tsx = import.meta.resolve('tsx');
    const run = spawnSync(process.execPath, ['--import', tsx, file], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
    const output = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 0, `the tour failed:\n${output.slice(-4000)}`);
    assert.match(run.stdout, /README_TOUR_OK/);
    assert.match(run.stdout, /Total params/, 'model.summary() printed');
    assert.ok(existsSync(join(dir, 'model.keras')));
    assert.ok(readdirSync(join(dir, 'logs')).length > 0, 'the profiler and TensorBoard wrote under logs/');
  });
});
