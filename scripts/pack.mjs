// pack.mjs: `pnpm pack:all [--out DIR]`: the tarballs another project installs (README,
// "Installing"): @mae-cuda/native (JavaScript, declarations, and the sources and generated kernels
// for a source build), its prebuilt linux-x64 addon @mae-cuda/native-linux-x64 (from `pnpm build`),
// @mae-cuda/mae and @mae-cuda/cli. Prints one tarball path a line. Needs `pnpm build` first.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
/** The packed packages, by folder (packages/<folder>), in dependency order. */
export const PACKED = ['native', 'native-linux-x64', 'mae', 'cli'];
const PNPM = ['-y', 'pnpm@10.34.9'];

/** Packs every package into `out`; returns the tarballs' paths. */
export function packAll(out) {
  mkdirSync(out, { recursive: true });
  for (const folder of PACKED) {
    const r = spawnSync('npx', [...PNPM, 'pack', '--pack-destination', out], {
      cwd: join(root, 'packages', folder),
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`pnpm pack in packages/${folder} failed:\n${r.stdout}${r.stderr}`);
  }
  return readdirSync(out)
    .filter((f) => f.endsWith('.tgz'))
    .map((f) => join(out, f));
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const i = process.argv.indexOf('--out');
  const out = resolve(i > 0 ? process.argv[i + 1] : join(root, 'build', 'packs'));
  for (const file of packAll(out)) console.log(file);
}
