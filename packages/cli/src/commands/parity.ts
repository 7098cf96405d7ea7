// commands/parity.ts: `mae-cuda parity <dir>`: runs a fixture of the official implementation on the
// CPU backend, prints each quantity's error against it and exits 1 if any is over its tolerance.
// A folder that is missing, not a folder or holds no fixture, and a fixture that cannot be used (a
// file missing or unreadable, bad JSON or a bad field in config.json), are refused on stderr with
// the file named, and exit 2 (the other fixtures of a folder are still run).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE_FILES, FixtureError, type ParityReport, runParity } from '@mae-cuda/mae';
import { z } from 'zod';
import { defineCommand } from '../command.js';

export const options = z.strictObject({
  dir: z
    .string({ message: 'give the fixture folder: mae-cuda parity <dir>' })
    .describe('a fixture folder, or a folder of them'),
  json: z.boolean().default(false).describe('print the checks as JSON'),
  all: z.boolean().default(false).describe('print every check, not only the summary lines and failures'),
});

const fmt = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : String(x));

/** A folder given as a fixture is meant as one when it holds any of a fixture's files. */
const looksLikeFixture = (dir: string) => FIXTURE_FILES.some((f) => existsSync(join(dir, f)));
/** In a folder of fixtures, a subfolder is one when it holds any of their safetensors files (a
 * config.json alone is too common: training outputs have one). */
const holdsFixture = (dir: string) =>
  FIXTURE_FILES.some((f) => f.endsWith('.safetensors') && existsSync(join(dir, f)));

/** The fixture folders of dir (itself, or its subfolders), or why there are none. */
export function fixtureDirs(dir: string): string[] | string {
  if (!existsSync(dir)) return `${dir} does not exist`;
  if (!statSync(dir).isDirectory())
    return `${dir} is not a folder (give a fixture folder, or a folder of them)`;
  if (looksLikeFixture(dir)) return [dir];
  const dirs = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && holdsFixture(join(dir, e.name)))
    .map((e) => join(dir, e.name))
    .sort();
  if (dirs.length > 0) return dirs;
  return `${dir} holds no fixture (a folder with ${FIXTURE_FILES.join(', ')}, or a folder of them)`;
}

/** The summary line, the failures (every check with --all) and the worst errors of a fixture. */
function printReport(dir: string, r: ParityReport, all: boolean): void {
  console.log(`${dir}: ${r.checks.length} checks, ${r.checks.filter((c) => !c.ok).length} over tolerance`);
  for (const c of r.checks)
    if (all || !c.ok || (!c.quantity.startsWith('grad.') && !c.quantity.startsWith('after.')))
      console.log(
        `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.quantity.padEnd(44)} ${c.measure.padEnd(10)} ${fmt(c.error).padStart(9)}  (<= ${fmt(c.tolerance)})`,
      );
  const worst = (p: string) =>
    Math.max(...r.checks.filter((c) => c.quantity.startsWith(p)).map((c) => c.error / (c.tolerance || 1)));
  console.log(
    `  worst gradient ${fmt(worst('grad.'))}x tolerance, worst parameter after the steps ${fmt(worst('after.'))}x`,
  );
}

export const parityCommand = defineCommand({
  name: 'parity',
  summary: 'compare forward, backward and AdamW steps with a fixture of the official implementation',
  usage: 'mae-cuda parity <dir> [--all] [--json]',
  options,
  positionals: ['dir'],
  async run(o) {
    const dirs = fixtureDirs(o.dir);
    if (typeof dirs === 'string') {
      console.error(`mae-cuda parity: ${dirs}`);
      return 2;
    }
    let failed = 0;
    let unusable = 0;
    for (const dir of dirs) {
      let r: ParityReport;
      try {
        r = await runParity(dir);
      } catch (e) {
        if (!(e instanceof FixtureError)) throw e;
        console.error(`mae-cuda parity: ${e.message}`);
        unusable++;
        continue;
      }
      if (o.json) console.log(JSON.stringify(r));
      else printReport(dir, r, o.all);
      if (!r.ok) failed++;
    }
    return unusable ? 2 : failed ? 1 : 0;
  },
});
