/**
 * `strata train`: until the layers and training issues land, a small eager
 * demo: fit y = 3x - 2 + noise with two variables, GradientTape and SGD
 * written with ops, printing the loss as it falls.
 */
import * as strata from '../index.ts';

const HELP = `Usage: strata train [--epochs N] [--lr RATE]

Trains a tiny eager model (linear regression with GradientTape) and prints its loss.
  --epochs N   number of epochs (default 20)
  --lr RATE    learning rate (default 0.5)
`;

function parseFlag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`strata train: ${name} expects a positive number, got '${args[i + 1]}'.`);
  return value;
}

export function trainCommand(args: string[]): number {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const epochs = parseFlag(args, '--epochs', 20);
  const lr = parseFlag(args, '--lr', 0.5);
  const { ops } = strata;

  // Synthetic data: 256 points on a line with a little deterministic noise.
  const n = 256;
  const xs = new Float32Array(n);
  const ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = (i / n) * 2 - 1;
    ys[i] = 3 * xs[i] - 2 + 0.05 * Math.sin(i * 12.9898);
  }
  const x = strata.tensor(xs);
  const y = strata.tensor(ys);
  const w = new strata.Variable(strata.tensor(0), { name: 'w' });
  const b = new strata.Variable(strata.tensor(0), { name: 'b' });

  console.log(`Training y = w*x + b on ${n} points, ${epochs} epochs, SGD lr=${lr} (eager)`);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const tape = new strata.GradientTape();
    const loss = tape.record(() => ops.mean(ops.square(ops.subtract(ops.add(ops.multiply(x, w), b), y))));
    const [gw, gb] = tape.gradient(loss, [w, b]);
    w.assignSub(ops.multiply(gw!, lr));
    b.assignSub(ops.multiply(gb!, lr));
    console.log(`Epoch ${String(epoch).padStart(3)}/${epochs}  loss ${loss.item().toFixed(6)}`);
  }
  console.log(`Learned w=${w.value.item().toFixed(4)} b=${b.value.item().toFixed(4)} (true: w=3, b=-2)`);
  return 0;
}
