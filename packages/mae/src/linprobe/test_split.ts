// test_split.ts: the test split that sits beside a training split in the same folder, the held-out
// set main_linprobe.py would evaluate on: an MNIST/Fashion-MNIST idx folder's t10k files (when it
// also has train files, which the source reads), CIFAR-10's test_batch.bin beside its data_batch_N,
// CIFAR-100's test.bin beside train.bin. Other sources have none.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { detectFormat, hasBraces, IDX_IMAGES, type SourceFormat } from '../data/sources/index.js';
import { isMnistJson } from '../train/data.js';

/** The path of the test split beside `data`'s training split, or undefined. */
export async function testSplitOf(data: string, format?: SourceFormat): Promise<string | undefined> {
  if (isMnistJson(data) || hasBraces(data) || !statSync(data, { throwIfNoEntry: false })?.isDirectory())
    return undefined;
  const fmt = format ?? (await detectFormat(data));
  const names = readdirSync(data);
  const pick = (want: (n: string) => boolean, beside: (n: string) => boolean) => {
    const test = names.find(want);
    return test !== undefined && names.some(beside) ? join(data, test) : undefined;
  };
  if (fmt === 'idx')
    return pick(
      (n) => IDX_IMAGES.test(n) && n.startsWith('t10k'),
      (n) => IDX_IMAGES.test(n) && n.startsWith('train'),
    );
  if (fmt === 'cifar')
    return (
      pick(
        (n) => n === 'test_batch.bin',
        (n) => /^data_batch_\d+\.bin$/.test(n),
      ) ??
      pick(
        (n) => n === 'test.bin',
        (n) => n === 'train.bin',
      )
    );
  return undefined;
}
