import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as strata from '../../src/index.ts';
import { parseOptions } from '../../src/cli/options.ts';

const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8' });

describe('strata command line', () => {
  it('strata train --help lists the options', () => {
    const r = cli('train', '--help');
    assert.equal(r.status, 0);
    for (const option of ['--epochs', '--batch-size', '--eager', '--output']) assert.ok(r.stdout.includes(option), option);
  });

  it('an unknown command or option is a clear error', () => {
    const r = cli('fly');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unknown command 'fly'/);
    const t = cli('train', '--epoch', '3');
    assert.notEqual(t.status, 0);
    assert.match(t.stderr, /unknown option '--epoch'/);
  });

  it('strata doctor reports a dead-ReLU model with the fix, and a healthy one as clean', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-doctor-'));
    const csv = join(dir, 'data.csv');
    writeFileSync(csv, 'a,b,c,target\n' + Array.from({ length: 32 }, (_, i) => `${(i % 5) / 5},${((i * 7) % 5) / 5},${i / 32},${(i % 3) / 2}`).join('\n'));
    const make = async (name: string, bias: number) => {
      strata.random.setRandomSeed(1);
      const m = new strata.Sequential([strata.Input({ shape: [3] }), new strata.layers.Dense(6, { activation: 'relu', biasInitializer: new strata.initializers.Constant({ value: bias }), name: 'hidden' }), new strata.layers.Dense(1)]);
      m.compile({ optimizer: 'adam', loss: 'mse' });
      const path = join(dir, `${name}.keras`);
      await m.save(path);
      return path;
    };
    const sick = cli('doctor', await make('sick', -50), csv);
    assert.equal(sick.status, 2, sick.stderr);
    assert.match(sick.stdout, /1\. Gradient flow/);
    assert.match(sick.stdout, /hidden\/kernel .* zero .*100% of the ReLU units of layer '.*hidden' are dead/);
    assert.match(sick.stdout, /Dead ReLUs: lower the learning rate, initialise biases at 0/);
    assert.match(sick.stdout, /4\. Determinism/);
    const well = cli('doctor', await make('well', 0.1), csv);
    assert.equal(well.status, 0, well.stdout + well.stderr);
    assert.match(well.stdout, /No problems found\./);
  });

  it('strata summary and strata predict work on a saved model; predict reads TF Serving request JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-cli-'));
    strata.random.setRandomSeed(4);
    const m = new strata.Sequential([strata.Input({ shape: [3] }), new strata.layers.Dense(2, { name: 'probs', activation: 'softmax' })], { name: 'tiny' });
    const path = join(dir, 'tiny.keras');
    await m.save(path);
    const summary = cli('summary', path);
    assert.equal(summary.status, 0, summary.stderr);
    assert.match(summary.stdout, /Model: "tiny"/);
    assert.match(summary.stdout, /probs \(Dense\)/);
    const x = [[1, 2, 3], [-1, 0, 1]];
    const expected = ((await m.predict(strata.tensor(x), { verbose: 0 })) as strata.Tensor).arraySync() as number[][];
    const input = join(dir, 'input.json');
    for (const body of [{ instances: x }, x]) {
      writeFileSync(input, JSON.stringify(body));
      const r = cli('predict', path, input);
      assert.equal(r.status, 0, r.stderr);
      const got = JSON.parse(r.stdout) as { predictions: number[][] };
      got.predictions.flat().forEach((v, i) => assert.ok(Math.abs(v - expected.flat()[i]) < 1e-6, `${v} vs ${expected.flat()[i]}`));
    }
    // TF Serving's JSON takes and gives NaN / Infinity tokens (JSON.stringify would write null).
    writeFileSync(input, '{"instances": [[NaN, 1, 2], [Infinity, 0, 0]]}');
    const nonFinite = cli('predict', path, input);
    assert.equal(nonFinite.status, 0, nonFinite.stderr);
    assert.equal(nonFinite.stdout.trim(), '{"predictions":[[NaN,NaN],[NaN,NaN]]}');
    writeFileSync(input, JSON.stringify({ instances: [[1, 2]] }));
    const bad = cli('predict', path, input);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /input\.json: instances\[0\]: expected an example of shape \(3,\), got \(2,\)/);
  });

  it('options: --flag value and --flag=value; bad values name the command and the flag', () => {
    const flags = { '--port': 'int', '--name': 'string', '--quiet': 'boolean' } as const;
    assert.deepEqual(parseOptions('strata x', ['m.keras', '--port', '80', '--name=a=b', '--quiet'], flags, 1, ''), { positional: ['m.keras'], options: { '--port': 80, '--name': 'a=b', '--quiet': true } });
    assert.deepEqual(parseOptions('strata x', ['--port=0', 'm.keras'], flags, 1, ''), { positional: ['m.keras'], options: { '--port': 0 } });
    assert.throws(() => parseOptions('strata x', ['m', '--port='], flags, 1, ''), /strata x: --port needs a value/);
    assert.throws(() => parseOptions('strata x', ['m', '--port=8.5'], flags, 1, ''), /strata x: --port expects a non-negative integer, got '8\.5'/);
    assert.throws(() => parseOptions('strata x', ['m', '--quiet=yes'], flags, 1, ''), /strata x: --quiet takes no value/);
    assert.throws(() => parseOptions('strata x', ['m', '--prot', '1'], flags, 1, ''), /unknown option '--prot'/);
    const missing = cli('predict', 'no-such-model.keras', 'no-such-input.json');
    assert.notEqual(missing.status, 0);
    assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');
  });

  it('strata serve answers predict requests until stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-serve-'));
    strata.random.setRandomSeed(5);
    const m = new strata.Sequential([strata.Input({ shape: [2] }), new strata.layers.Dense(1)], { name: 'line' });
    const path = join(dir, 'line.keras');
    await m.save(path);
    const child = spawn(process.execPath, ['--import', 'tsx', main, 'serve', path, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        const found = /(http:\/\/\S+\/v1\/models\/line)\s/.exec(stdout);
        if (found) resolve(found[1]);
      });
      void exited.then(() => reject(new Error(`strata serve exited early:\n${stdout}\n${stderr}`)));
    });
    try {
      const r = await fetch(`${url}:predict`, { method: 'POST', body: JSON.stringify({ instances: [[1, 2]] }) });
      assert.equal(r.status, 200);
      const got = ((await r.json()) as { predictions: number[][] }).predictions[0][0];
      const want = ((await m.predict(strata.tensor([[1, 2]]), { verbose: 0 })) as strata.Tensor).item();
      assert.ok(Math.abs(got - want) < 1e-6, `${got} vs ${want}`);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
  });
});
