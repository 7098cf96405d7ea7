// commands/data.ts: `mae-cuda data SRC [--data-format F] [--check N|all] [--json FILE]`: what an
// image source holds, before anyone trains on it: its format, samples per class, and a scan of the
// checked samples (image headers only, no decode; raw pixels for idx and cifar): the formats,
// short sides and channel kinds seen, and each sample that cannot be read or has a bad header
// (the first 10 named). Progress on stderr for long scans. Exit 0 when every checked sample is
// readable, 1 when some are not (after the report), 2 for bad arguments or a source that cannot
// be opened (its DataError, one line) or a --json file that cannot be written.
import { writeFileSync } from 'node:fs';
import { DataError, type ImageSource, openSource, SOURCE_FORMATS, type SourceFormat } from '@mae-cuda/mae';
import { z } from 'zod';
import { defineCommand } from '../command.js';
import { ScanProgress } from '../data/progress.js';
import { DEFAULT_CHECK, formatReport, scanSource } from '../data/scan.js';
import { intOption } from '../numbers.js';

const count = intOption({ min: 0, max: Number.MAX_SAFE_INTEGER });

/** --check: 'all', or how many samples (the first N) to check. */
const checkOption = z.unknown().transform((v, ctx): number | 'all' => {
  if (v === 'all') return 'all';
  const r = count.safeParse(v);
  if (r.success) return r.data;
  ctx.addIssue({ code: 'custom', message: `${r.error.issues[0]?.message ?? 'bad value'} (or 'all')` });
  return z.NEVER;
});

export const options = z.strictObject({
  src: z
    .string({ message: 'give the source: mae-cuda data <path>' })
    .describe('an image folder, tar shards (a file, a folder or a brace pattern), an idx or a CIFAR folder'),
  dataFormat: z
    .enum(SOURCE_FORMATS as [SourceFormat, ...SourceFormat[]], {
      message: `must be one of ${SOURCE_FORMATS.join(', ')}`,
    })
    .optional()
    .describe('the source format (detected when not given)'),
  check: checkOption
    .optional()
    .describe(
      `samples to check: all, or the first N (default all up to ${DEFAULT_CHECK}, else that many spread evenly)`,
    ),
  json: z
    .string({ message: 'give the file to write: --json FILE' })
    .optional()
    .describe('also write the report as JSON'),
});

export const dataCommand = defineCommand({
  name: 'data',
  summary: 'show what an image source holds and check its images are readable',
  usage: `mae-cuda data <path> [--data-format ${SOURCE_FORMATS.join('|')}] [--check N|all] [--json FILE]`,
  options,
  positionals: ['src'],
  async run(o) {
    let source: ImageSource;
    try {
      source = await openSource(o.src, o.dataFormat);
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      console.error(`mae-cuda data: ${e.message.split('\n')[0]}`);
      return 2;
    }
    const progress = new ScanProgress(process.stderr);
    let report: Awaited<ReturnType<typeof scanSource>>;
    try {
      report = await scanSource(source, {
        check: o.check,
        detected: o.dataFormat === undefined,
        progress: (done, total) => progress.update(done, total),
      });
    } finally {
      progress.end();
      await source.close();
    }
    console.log(formatReport(report));
    if (o.json !== undefined) {
      try {
        writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
      } catch (e) {
        console.error(`mae-cuda data: cannot write ${o.json}: ${(e as Error).message}`);
        return 2;
      }
    }
    return report.ok ? 0 : 1;
  },
});
