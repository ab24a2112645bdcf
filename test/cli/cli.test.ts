import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as strata from '../../src/index.ts';

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
});
