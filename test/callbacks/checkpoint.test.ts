import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as strata from '../../src/index.ts';
import { formatFilepath } from '../../src/callbacks/checkpoint.ts';
import { randomTensor, assertClose } from '../helpers/close.ts';

const { layers, callbacks } = strata;

function smallModel(seed: number) {
  strata.random.setRandomSeed(seed);
  const model = new strata.Sequential([strata.Input({ shape: [3] }), new layers.Dense(4, { activation: 'relu' }), new layers.Dense(1)]);
  model.compile({ optimizer: 'adam', loss: 'mse' });
  return model;
}

describe('ModelCheckpoint', () => {
  it('formats Python-style templates', () => {
    assert.equal(formatFilepath('ckpt/{epoch:02d}-{val_loss:.2f}.keras', { epoch: 3, val_loss: 0.12345 }), 'ckpt/03-0.12.keras');
    assert.equal(formatFilepath('w{epoch}.weights.h5', { epoch: 12 }), 'w12.weights.h5');
    assert.throws(() => formatFilepath('{nope}.keras', { epoch: 1 }), /uses '\{nope\}', but the logs have no 'nope'/);
  });

  it('writes the files its template names, every epoch, and they load back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-ckpt-'));
    const model = smallModel(1);
    const x = randomTensor([32, 3], 1, -1, 1, 'float32');
    const y = randomTensor([32, 1], 2, -1, 1, 'float32');
    const cb = new callbacks.ModelCheckpoint(join(dir, 'm-{epoch:02d}-{loss:.3f}.keras'), { monitor: 'loss' });
    const h = await model.fit(x, y, { epochs: 3, verbose: 0, callbacks: [cb] });
    const expected = h.history.loss.map((l, i) => `m-${String(i + 1).padStart(2, '0')}-${l.toFixed(3)}.keras`);
    assert.deepEqual(readdirSync(dir).sort(), expected.sort());
    const reloaded = (await strata.saving.loadModel(join(dir, expected[2]))) as strata.Sequential;
    assertClose(reloaded.apply(x), model.apply(x));
  });

  it('saveBestOnly writes only improvements; saveWeightsOnly writes weights files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-best-'));
    const model = smallModel(2);
    const x = randomTensor([16, 3], 3, -1, 1, 'float32');
    const cb = new callbacks.ModelCheckpoint(join(dir, 'best-{epoch}.weights.h5'), { monitor: 'loss', saveBestOnly: true, saveWeightsOnly: true });
    // Zero learning rate and no shuffling: every epoch has the same loss, so only epoch 1 improves.
    model.compile({ optimizer: new strata.optimizers.SGD({ learningRate: 0 }), loss: 'mse' });
    await model.fit(x, strata.zeros([16, 1]), { epochs: 3, verbose: 0, shuffle: false, callbacks: [cb] });
    assert.deepEqual(readdirSync(dir), ['best-1.weights.h5']);
    const other = smallModel(99);
    await other.loadWeights(join(dir, 'best-1.weights.h5'));
    assertClose(other.apply(x), model.apply(x));
  });
});

describe('BackupAndRestore', () => {
  it('an interrupted fit (child process killed mid-training) resumes and ends with the same weights', () => {
    const script = new URL('./fixtures/backup-train.ts', import.meta.url).pathname;
    const run = (dir: string, out: string, mode: string) => spawnSync(process.execPath, ['--import', 'tsx', script, dir, out, mode], { encoding: 'utf8' });
    const base = mkdtempSync(join(tmpdir(), 'strata-backup-'));
    const whole = join(base, 'whole.json');
    const r1 = run(join(base, 'a'), whole, 'normal');
    assert.equal(r1.status, 0, r1.stderr);
    const resumed = join(base, 'resumed.json');
    const killed = run(join(base, 'b'), resumed, 'kill');
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok(existsSync(join(base, 'b', 'training_metadata.json')), 'the backup survived the kill');
    const r2 = run(join(base, 'b'), resumed, 'normal');
    assert.equal(r2.status, 0, r2.stderr);
    const a = JSON.parse(readFileSync(whole, 'utf8'));
    const b = JSON.parse(readFileSync(resumed, 'utf8'));
    assert.deepEqual(a.ran, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(b.ran, [3, 4, 5], 'the second run resumed after the last finished epoch');
    assert.deepEqual(b.weights, a.weights, 'identical final weights');
    assert.ok(!existsSync(join(base, 'b')), 'the backup is deleted when training finishes');
  });
});
