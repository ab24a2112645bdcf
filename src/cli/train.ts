/**
 * `strata train` (`npm start`): trains a small CNN (Keras's MNIST convnet with
 * a 128-unit hidden Dense layer, which reaches 97% in 5 epochs on this smaller
 * data set more reliably) on the 10,000
 * digits of the `mnist` package (8,000 to train, 2,000 to test), with
 * Keras-style progress, then reports test accuracy, the compiled vs eager
 * time per training step, and saves the model.
 */
import * as strata from '../index.ts';
import { loadData } from '../datasets/mnist.ts';

const HELP = `Usage: strata train [options]

Trains a small CNN (two 3x3 convolutions with max-pooling, dropout, Dense 128,
Dense 10) on the MNIST digits shipped by the
'mnist' package: 8,000 images to train, 2,000 to test.

Options:
  --epochs N         epochs (default 5)
  --batch-size N     batch size (default 32)
  --eager            run training steps eagerly instead of as compiled graphs
  --output PATH      where to save the trained model (default mnist_cnn.keras; '' to skip)
  --train-samples N  use only N training images (default 8000)
  --seed N           random seed (default 42)
  -h, --help         show this help
`;

interface TrainArgs {
  epochs: number;
  batchSize: number;
  eager: boolean;
  output: string;
  trainSamples: number;
  seed: number;
}

function parseArgs(args: string[]): TrainArgs | null {
  const out: TrainArgs = { epochs: 5, batchSize: 32, eager: false, output: 'mnist_cnn.keras', trainSamples: 8000, seed: 42 };
  const intFlag = (name: string, value: string | undefined): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`strata train: ${name} expects a positive integer, got '${value ?? ''}'. See strata train --help.`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case '-h':
      case '--help':
        return null;
      case '--epochs': out.epochs = intFlag(a, args[++i]); break;
      case '--batch-size': out.batchSize = intFlag(a, args[++i]); break;
      case '--train-samples': out.trainSamples = intFlag(a, args[++i]); break;
      case '--seed': out.seed = intFlag(a, args[++i]); break;
      case '--eager': out.eager = true; break;
      case '--output': out.output = args[++i] ?? ''; break;
      default: throw new Error(`strata train: unknown option '${a}'. See strata train --help.`);
    }
  }
  return out;
}

export function buildMnistModel(): strata.Sequential {
  const { layers } = strata;
  return new strata.Sequential(
    [
      strata.Input({ shape: [28, 28, 1] }),
      new layers.Conv2D(32, 3, { activation: 'relu' }),
      new layers.MaxPooling2D(2),
      new layers.Conv2D(64, 3, { activation: 'relu' }),
      new layers.MaxPooling2D(2),
      new layers.Flatten(),
      new layers.Dropout(0.5),
      new layers.Dense(128, { activation: 'relu' }),
      new layers.Dense(10, { activation: 'softmax' }),
    ],
    { name: 'mnist_cnn' },
  );
}

/** Median time of `steps` training steps of a fresh copy of the model (compiled or eager). */
async function timeSteps(runEagerly: boolean, x: strata.Tensor, y: strata.Tensor, batchSize: number, steps: number): Promise<number> {
  const model = buildMnistModel();
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', runEagerly });
  const xb = strata.ops.slice(x, [0, 0, 0, 0], [batchSize, 28, 28, 1]);
  const yb = strata.ops.slice(y, [0], [batchSize]);
  await model.trainOnBatch(xb, yb); // warm-up (and tracing, when compiled)
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await model.trainOnBatch(xb, yb);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

export async function trainCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (!args) {
    process.stdout.write(HELP);
    return 0;
  }
  strata.random.setRandomSeed(args.seed);
  const { train, test } = loadData({ trainCount: 8000, testCount: 2000 });
  const n = Math.min(args.trainSamples, 8000);
  const x = n < 8000 ? strata.ops.slice(train.images, [0, 0, 0, 0], [n, 28, 28, 1]) : train.images;
  const y = n < 8000 ? strata.ops.slice(train.labels, [0], [n]) : train.labels;
  console.log(`MNIST: ${n} training images, ${test.labels.shape[0]} test images (from the 'mnist' package).`);

  const model = buildMnistModel();
  model.summary();
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'], runEagerly: args.eager });
  console.log(`Training ${args.eager ? 'eagerly (op by op)' : 'with compiled steps (ONNX Runtime)'}: ${args.epochs} epochs, batch size ${args.batchSize}.`);
  const start = performance.now();
  // All 8,000 images train; the held-out 2,000 are shown as validation after each epoch (as in Keras's examples).
  await model.fit(x, y, { epochs: args.epochs, batchSize: args.batchSize, validationData: [test.images, test.labels] });
  const seconds = (performance.now() - start) / 1000;

  const result = (await model.evaluate(test.images, test.labels, { verbose: 0, returnDict: true })) as Record<string, number>;
  console.log(`\nTest accuracy on ${test.labels.shape[0]} held-out digits: ${(result.accuracy * 100).toFixed(2)}% (loss ${result.loss.toFixed(4)}); training took ${seconds.toFixed(1)} s.`);

  const compiledMs = await timeSteps(false, x, y, args.batchSize, 10);
  const eagerMs = await timeSteps(true, x, y, args.batchSize, 3);
  console.log(`Time per training step (batch ${args.batchSize}): compiled ${compiledMs.toFixed(1)} ms, eager ${eagerMs.toFixed(1)} ms (${(eagerMs / compiledMs).toFixed(1)}x faster compiled).`);

  if (args.output) {
    await model.save(args.output);
    console.log(`Saved the trained model to ${args.output} (Keras 3 format: Python Keras loads it with keras.saving.load_model).`);
  }
  return 0;
}
