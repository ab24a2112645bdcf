/**
 * `strata doctor MODEL DATA`: runs the diagnostics on a saved model and a data
 * file and prints what it finds, with the fix for each finding:
 * the gradient-flow report, a few training steps with numerics checks, the
 * eager/graph comparison, and the determinism check.
 */
import { readFile } from 'node:fs/promises';
import * as strata from '../index.ts';
import type { Tensor } from '../tensor/tensor.ts';

const HELP = `Usage: strata doctor MODEL DATA [options]

Diagnoses a model that trains badly: gradient flow per weight (missing, zero,
vanishing, exploding, and why), NaN/Inf during training (which op, which
layer), eager vs compiled mode (first diverging op), and determinism.

  MODEL               a .keras file (a compiled model, or pass --loss)
  DATA                a .json file {"x": [[...]], "y": [...]} or a .csv file (numbers;
                      the label is the last column unless --label is given; a header row is allowed)
Options:
  --loss NAME         loss to use if the model was saved without compile config (e.g. mse)
  --label COLUMN      CSV label column, by name or 0-based index
  --samples N         samples to use (default 256)
  -h, --help          show this help
`;

interface Data {
  x: Tensor;
  y: Tensor;
}

export async function loadTableData(path: string, label?: string, limit = Infinity): Promise<Data> {
  const text = await readFile(path, 'utf8');
  if (path.endsWith('.json')) {
    const json = JSON.parse(text) as { x?: unknown; y?: unknown };
    if (!Array.isArray(json.x) || !Array.isArray(json.y)) throw new Error(`${path}: expected {"x": [...], "y": [...]}.`);
    const n = Math.min(json.x.length, limit);
    return { x: strata.tensor((json.x as number[][]).slice(0, n)), y: strata.tensor((json.y as number[]).slice(0, n)) };
  }
  const rows = text.split(/\r?\n/).filter((l) => l.trim() !== '').map((l) => l.split(','));
  if (rows.length === 0) throw new Error(`${path}: the file is empty.`);
  const hasHeader = rows[0].some((c) => c.trim() !== '' && Number.isNaN(Number(c)));
  const header = hasHeader ? rows.shift()!.map((c) => c.trim()) : [];
  const width = rows[0]?.length ?? 0;
  let labelIndex = width - 1;
  if (label !== undefined) {
    labelIndex = /^\d+$/.test(label) ? Number(label) : header.indexOf(label);
    if (labelIndex < 0 || labelIndex >= width) throw new Error(`${path}: no label column '${label}' (columns: ${header.join(', ') || `0..${width - 1}`}).`);
  }
  const x: number[][] = [];
  const y: number[] = [];
  rows.slice(0, limit).forEach((row, i) => {
    if (row.length !== width) throw new Error(`${path}:${i + 1 + (hasHeader ? 1 : 0)}: expected ${width} values, found ${row.length}.`);
    const values = row.map((c, k) => {
      const v = Number(c);
      if (c.trim() === '' || Number.isNaN(v)) throw new Error(`${path}:${i + 1 + (hasHeader ? 1 : 0)}: column ${header[k] ?? k} is not a number ('${c}').`);
      return v;
    });
    y.push(values[labelIndex]);
    x.push(values.filter((_, k) => k !== labelIndex));
  });
  return { x: strata.tensor(x), y: strata.tensor(y) };
}

export async function doctorCommand(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help') || argv.length < 2) {
    process.stdout.write(HELP);
    return argv.length < 2 && !argv.includes('-h') && !argv.includes('--help') ? 1 : 0;
  }
  const [modelPath, dataPath, ...rest] = argv;
  const flag = (name: string) => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const samples = Number(flag('--samples') ?? 256);
  const model = (await strata.saving.loadModel(modelPath)) as strata.Model;
  const loss = flag('--loss');
  if (!model.compiled) {
    if (!loss) throw new Error(`strata doctor: ${modelPath} has no compile config; pass --loss (e.g. --loss mse).`);
    model.compile({ optimizer: 'adam', loss });
  }
  const { x, y: rawY } = await loadTableData(dataPath, flag('--label'), samples);
  // Integer labels for classification losses, float targets otherwise.
  const lossName = JSON.stringify(model.compileOptions?.loss ?? loss ?? '');
  const y = /sparse/i.test(lossName) ? strata.ops.cast(rawY, 'int32') : rawY.rank === 1 && /mse|mae|mean|huber|binary/i.test(lossName) ? strata.ops.expandDims(rawY, -1) : rawY;
  const out: string[] = [`strata doctor: model '${model.name}' (${modelPath}), ${x.shape[0]} samples from ${dataPath}`, ''];
  let problems = 0;

  out.push('1. Gradient flow');
  const report = await strata.debugging.gradientReport(model, x, y);
  problems += report.problems.length;
  out.push(...String(report).split('\n').map((l) => `   ${l}`), '');

  out.push('2. NaN / Inf during training (numerics checks on, 2 training steps)');
  const snapshot = model.getWeights();
  strata.debugging.enableCheckNumerics();
  try {
    await model.fit(x, y, { epochs: 1, verbose: 0, stepsPerEpoch: 2, shuffle: false });
    out.push('   ✓ no op produced NaN or Inf.', '');
  } catch (e) {
    problems++;
    out.push(`   ✗ ${(e as Error).message}`, '   Fix: guard the op (e.g. log(x + eps), divide by a clipped value), lower the learning rate, or clip gradients.', '');
  } finally {
    strata.debugging.disableCheckNumerics();
    model.setWeights(snapshot);
  }

  out.push('3. Eager vs compiled mode');
  const parity = await strata.debugging.compareEagerAndGraph(model, strata.ops.slice(x, [0, 0], [Math.min(8, x.shape[0] as number), x.shape[1] as number]));
  if (!parity.identical) problems++;
  out.push(...String(parity).split('\n').map((l) => `   ${parity.identical ? '✓ ' : ''}${l}`), '');

  out.push('4. Determinism (3 training steps, twice)');
  const det = await strata.debugging.checkDeterminism(model, x, y, { steps: 3 });
  if (!det.deterministic) problems++;
  out.push(`   ${det.deterministic ? '✓' : '✗'} ${det}`, '');
  out.push(problems === 0 ? 'No problems found.' : `${problems} finding(s) above.`);
  process.stdout.write(out.join('\n') + '\n');
  return problems === 0 ? 0 : 2;
}
