// commands/prepare.ts: `mae-cuda prepare SRC --out DIR [--short-side 256 | --keep-size]
// [--encoding jpeg|raw] [--quality 90] [--shard-size 1GiB] [--workers N] [--data-format F]
// [--overwrite]`: writes the training set as WebDataset tar shards of pre-resized images
// (DIR/train-000000.tar, ...; each sample `<key>.jpg`, or with --encoding raw the pixels as
// `<key>.ppm` / `.pgm`, which training reads without decoding, + `<key>.cls`) and DIR/index.json (the shards, classes, source, settings and
// the samples that could not be read), to train from at speed with `pretrain --data DIR`.
// Deterministic (the same bytes whatever --workers), resumable (a rerun with the same settings
// keeps the complete shards and goes on), progress on stderr. Exit 0 when done (skipped bad
// samples are reported), 2 for bad arguments, a source that cannot be opened, or a DIR holding
// another prepare (other source or settings) or other files, unless --overwrite.
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { DataError, type ImageSource, openSource, SOURCE_FORMATS, type SourceFormat } from '@mae-cuda/mae';
import sharp from 'sharp';
import { z } from 'zod';
import { defineCommand } from '../command.js';
import { intOption } from '../numbers.js';
import { ENCODINGS, type Encoding } from '../prepare/encode.js';
import { PrepareProgress } from '../prepare/progress.js';
import { clearDir, INDEX_FILE, type PrepareSettings, planDir, prepare } from '../prepare/run.js';
import { sizeOption } from '../prepare/size.js';

export const DEFAULT_SHORT_SIDE = 256;
export const DEFAULT_QUALITY = 90;
export const DEFAULT_SHARD_SIZE = 1024 ** 3;

export const options = z.strictObject({
  src: z
    .string({ message: 'give the source: mae-cuda prepare <path> --out DIR' })
    .describe('an image folder, tar shards (a file, a folder or a brace pattern), an idx or a CIFAR folder'),
  out: z
    .string({ message: 'give the output folder: --out DIR' })
    .describe('the folder to write the shards to'),
  shortSide: intOption({ min: 1, max: 65535 })
    .optional()
    .describe(`resize so the short side is this (never enlarged; default ${DEFAULT_SHORT_SIDE})`),
  keepSize: z.boolean().default(false).describe('keep the images at their size (no resize)'),
  encoding: z
    .enum(ENCODINGS as [Encoding, ...Encoding[]], { message: `must be one of ${ENCODINGS.join(', ')}` })
    .default('jpeg')
    .describe('jpeg, or raw: uncompressed PPM/PGM, several times larger, no decoding when training'),
  quality: intOption({ min: 1, max: 100 }).default(DEFAULT_QUALITY).describe('JPEG quality'),
  shardSize: sizeOption(1024)
    .optional()
    .describe('about this many bytes per shard (like 1GiB, 512MiB; default 1GiB)'),
  workers: intOption({ min: 1, max: 1024 })
    .optional()
    .describe('images encoded at once (default: the number of cores)'),
  dataFormat: z
    .enum(SOURCE_FORMATS as [SourceFormat, ...SourceFormat[]], {
      message: `must be one of ${SOURCE_FORMATS.join(', ')}`,
    })
    .optional()
    .describe('the source format (detected when not given)'),
  overwrite: z.boolean().default(false).describe('replace a prepare of other settings in DIR'),
});

export const prepareCommand = defineCommand({
  name: 'prepare',
  summary: 'write a source as tar shards of pre-resized images (JPEG or raw), to train from at speed',
  usage:
    `mae-cuda prepare <path> --out DIR [--short-side ${DEFAULT_SHORT_SIDE} | --keep-size] [--encoding jpeg|raw] [--quality ${DEFAULT_QUALITY}] ` +
    `[--shard-size 1GiB] [--workers N] [--data-format ${SOURCE_FORMATS.join('|')}] [--overwrite]`,
  options,
  positionals: ['src'],
  async run(o) {
    const fail = (message: string) => {
      console.error(`mae-cuda prepare: ${message}`);
      return 2;
    };
    if (o.keepSize && o.shortSide !== undefined) return fail('give --short-side or --keep-size, not both');
    const settings: PrepareSettings = {
      shortSide: o.keepSize ? null : (o.shortSide ?? DEFAULT_SHORT_SIDE),
      quality: o.quality,
      shardSize: o.shardSize ?? DEFAULT_SHARD_SIZE,
      encoding: o.encoding,
    };
    let source: ImageSource;
    try {
      source = await openSource(o.src, o.dataFormat);
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      return fail(e.message.split('\n')[0]!);
    }
    try {
      const sourceInfo = { path: resolve(o.src), format: source.format, samples: source.length };
      const dir = resolve(o.out);
      if (resolve(o.src) === dir) return fail('--out must not be the source');
      let plan = planDir(dir, sourceInfo, settings);
      if (plan.kind === 'refuse') {
        if (!o.overwrite) return fail(`${plan.why}; give --overwrite to replace it (or another --out)`);
        clearDir(dir);
        plan = planDir(dir, sourceInfo, settings);
        if (plan.kind === 'refuse')
          return fail(`${plan.why} (after --overwrite removed the shards and ${INDEX_FILE})`);
      }
      try {
        mkdirSync(dir, { recursive: true });
      } catch (e) {
        return fail(`cannot create ${dir}: ${(e as Error).message}`);
      }
      const resume = plan.kind === 'resume' ? plan.index : undefined;
      const workers = o.workers ?? availableParallelism();
      sharp.cache(false);
      const progress = new PrepareProgress(process.stderr, resume?.next ?? 0);
      let result: Awaited<ReturnType<typeof prepare>>;
      try {
        result = await prepare({
          dir,
          source,
          sourceInfo,
          settings,
          workers,
          ...(resume ? { resume } : {}),
          progress: (done, total, bytes) => progress.update(done, total, bytes),
        });
      } finally {
        progress.end();
      }
      const { index } = result;
      const bytes = index.shards.reduce((a, s) => a + s.bytes, 0);
      console.log(
        `prepared ${index.samples} of ${source.length} samples from ${source.format}:${o.src} into ${index.shards.length} shard(s) ` +
          `in ${dir} (${(bytes / 1e6).toFixed(1)} MB; ${
            settings.shortSide === null ? 'size kept' : `short side ${settings.shortSide}`
          }, ${settings.encoding === 'raw' ? 'raw pixels' : `JPEG quality ${settings.quality}`})` +
          (result.kept > 0
            ? `; resumed: ${result.kept} complete shard(s) kept, ${result.written} written`
            : ''),
      );
      if (index.skipped.length > 0) {
        console.log(`skipped ${index.skipped.length} sample(s) that could not be read:`);
        for (const s of index.skipped.slice(0, 10)) console.log(`  ${s.index} ${s.name}: ${s.reason}`);
        if (index.skipped.length > 10) console.log(`  ... (all in ${INDEX_FILE})`);
      }
      console.log(`train with: mae-cuda pretrain --data ${o.out}`);
      return 0;
    } finally {
      await source.close();
    }
  },
});
