// commands/parity.ts: `mae-cuda parity <dir>`: runs a fixture of the official implementation on the
// CPU backend, prints each quantity's error against it and exits 1 if any is over its tolerance.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isFixtureDir, runParity } from '@mae-cuda/mae';
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

export const parityCommand = defineCommand({
  name: 'parity',
  summary: 'compare forward, backward and AdamW steps with a fixture of the official implementation',
  usage: 'mae-cuda parity <dir> [--all] [--json]',
  options,
  positionals: ['dir'],
  async run(o) {
    if (!existsSync(o.dir)) {
      console.error(`mae-cuda parity: ${o.dir} does not exist`);
      return 2;
    }
    const dirs = isFixtureDir(o.dir)
      ? [o.dir]
      : readdirSync(o.dir, { withFileTypes: true })
          .filter((e) => e.isDirectory() && isFixtureDir(join(o.dir, e.name)))
          .map((e) => join(o.dir, e.name))
          .sort();
    if (dirs.length === 0) {
      console.error(
        `mae-cuda parity: ${o.dir} holds no fixture (a folder with config.json and the safetensors files)`,
      );
      return 2;
    }
    let failed = 0;
    for (const dir of dirs) {
      const r = await runParity(dir);
      if (o.json) {
        console.log(JSON.stringify(r));
      } else {
        console.log(
          `${dir}: ${r.checks.length} checks, ${r.checks.filter((c) => !c.ok).length} over tolerance`,
        );
        for (const c of r.checks)
          if (o.all || !c.ok || (!c.quantity.startsWith('grad.') && !c.quantity.startsWith('after.')))
            console.log(
              `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.quantity.padEnd(44)} ${c.measure.padEnd(10)} ${fmt(c.error).padStart(9)}  (<= ${fmt(c.tolerance)})`,
            );
        const worst = (p: string) =>
          Math.max(
            ...r.checks.filter((c) => c.quantity.startsWith(p)).map((c) => c.error / (c.tolerance || 1)),
          );
        console.log(
          `  worst gradient ${fmt(worst('grad.'))}x tolerance, worst parameter after the steps ${fmt(worst('after.'))}x`,
        );
      }
      if (!r.ok) failed++;
    }
    return failed ? 1 : 0;
  },
});
