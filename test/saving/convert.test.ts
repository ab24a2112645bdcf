/**
 * `strata convert` end to end (the CLI spawned through tsx) and
 * `saving.validateExport`.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as strata from '../../src/index.ts';
import { convertCommand } from '../../src/cli/convert.ts';
import { assertClose } from '../helpers/close.ts';
import { branchedInputs, branchedModel, floats, functionalInputs, functionalModel, predict, sequentialModel, train } from './models.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const FIXTURES = join(ROOT, 'test/fixtures/legacy');

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-convert-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs the convert command in this process, capturing what it prints. */
async function inProcess(command: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  assert.equal(command, 'convert');
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    const code = await convertCommand(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

describe('strata convert', () => {
  it('converts .h5 (tf.keras 2 layout) -> TF.js -> .keras through the CLI, checking each result', async () => {
    const tfjsDir = join(dir, 'k2_tfjs');
    const keras = join(dir, 'sub', 'k2.keras');
    const first = await cli('convert', join(FIXTURES, 'keras2_functional.h5'), tfjsDir, '--check');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Converted .*keras2_functional\.h5 \(legacy Keras HDF5 \(\.h5\)\) to .*k2_tfjs \(TensorFlow\.js layers\)/);
    assert.match(first.stdout, /tfjs +\S+k2_tfjs +ok/);
    assert.ok(existsSync(join(tfjsDir, 'model.json')) && existsSync(join(tfjsDir, 'group1-shard1of1.bin')));
    const second = await cli('convert', tfjsDir, keras, '--check');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /keras +\S+k2\.keras +ok +0/);
    // The .keras file holds the same model as the original .h5.
    const a = await strata.saving.loadModel(keras);
    const b = await strata.saving.loadModel(join(FIXTURES, 'keras2_functional.h5'));
    const x = branchedInputs(2, 3);
    predict(a, x).forEach((t, i) => assertClose(t, predict(b, x)[i], { rtol: 0, atol: 0 }));
  });

  it('exports ONNX and reports bad arguments (in process)', async () => {
    const onnx = join(dir, 'k2.onnx');
    const ok = await inProcess('convert', join(FIXTURES, 'keras2_functional.h5'), onnx, '--check');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /onnx +\S+k2\.onnx +ok/);
    const missing = await inProcess('convert', join(dir, 'nope.keras'), join(dir, 'x.h5'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /strata convert: .*nope\.keras: no such file or folder/);
    const onnxIn = await inProcess('convert', onnx, join(dir, 'x.h5'));
    assert.equal(onnxIn.code, 1);
    assert.match(onnxIn.stderr, /ONNX is an output format only/);
    const usage = await inProcess('convert', 'only-one.keras');
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /expected an input and an output path, got 1 path/);
    const flag = await inProcess('convert', 'a.keras', 'b.h5', '--h5-config', 'keras4');
    assert.equal(flag.code, 1);
    assert.match(flag.stderr, /--h5-config expects keras3 or keras2/);
    const help = await inProcess('convert', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: strata convert IN OUT/);
  });
});

describe('saving.validateExport', () => {
  it('saves, reloads and compares a model in every format', async () => {
    const model = functionalModel('validated');
    await train(model, functionalInputs(8, 1), [floats([8, 2], 2), floats([8, 1], 3), floats([8, 2], 4)], new strata.optimizers.Adam({ learningRate: 0.01 }));
    const keep = join(dir, 'validate');
    const report = await strata.saving.validateExport(model, functionalInputs(2, 5), { dir: keep });
    assert.deepEqual(report.rows.map((r) => r.format), ['keras', 'h5', 'tfjs', 'onnx']);
    for (const row of report.rows) {
      assert.ok(row.ok, `${row.format}: ${row.error}`);
      assert.ok(row.maxAbsDiff !== null && row.maxAbsDiff < 1e-5, `${row.format}: ${row.maxAbsDiff}`);
    }
    assert.ok(report.ok);
    const table = report.toString();
    assert.match(table, /^format +file +result +max \|diff\| +error/);
    assert.match(table, /onnx +\S+validated\.onnx +ok/);
    assert.deepEqual(readdirSync(keep).sort(), ['validated.h5', 'validated.keras', 'validated.onnx', 'validated_tfjs']);
  });

  it('reports a failing format in its row instead of throwing, and cleans up its temporary folder', async () => {
    class Scale extends strata.layers.Layer {
      static override readonly className = 'ValidateScale';
      override call(x: unknown): unknown {
        return strata.ops.multiply(x as strata.Tensor, 2);
      }
    }
    const input = strata.Input({ shape: [3] });
    const model = new strata.Model({ inputs: input, outputs: new Scale().apply(new strata.layers.Dense(2).apply(input)) });
    const report = await strata.saving.validateExport(model, floats([2, 3], 1), { formats: ['h5', 'onnx'] });
    assert.equal(report.rows[0].ok, false);
    assert.match(report.rows[0].error!, /load\/predict: .*classes Strata does not know/);
    assert.equal(report.rows[1].ok, true, report.rows[1].error ?? '');
    assert.equal(report.ok, false);
    assert.match(report.toString(), /h5 +\S+ +FAILED +- +load\/predict/);
    assert.ok(!existsSync(report.rows[0].file), 'the temporary folder is removed');
  });

  it('a sequential model and a branched one pass (formats chosen)', async () => {
    const seq = sequentialModel('vseq');
    const r1 = await strata.saving.validateExport(seq, floats([3, 4], 2), { formats: ['h5', 'tfjs'] });
    assert.ok(r1.ok, r1.toString());
    const branched = branchedModel('vbranch');
    const r2 = await strata.saving.validateExport(branched, branchedInputs(2, 3), { formats: ['keras', 'tfjs'] });
    assert.ok(r2.ok, r2.toString());
  });
});
