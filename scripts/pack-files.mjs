// pack-files.mjs: the prepack and postpack steps of the packages that are packed (`pnpm pack` runs
// them in the package's folder): prepack builds the JavaScript and declarations (tsc -b) and copies
// in the files that live elsewhere in the repository (the licence; @mae-cuda/native's CMakeLists.txt
// is the root one; the per-platform package's addon is the one `pnpm build` made); postpack removes
// the copies again.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
/** Files copied into a package for its tarball: [from (repository root), to (package folder)]. */
const COPIES = {
  '@mae-cuda/native': [['CMakeLists.txt', 'CMakeLists.txt']],
  '@mae-cuda/native-linux-x64': [['packages/native/build/Release/mae_native.node', 'mae_native.node']],
};

const pkgDir = process.cwd();
const { name } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const copies = [['LICENSE', 'LICENSE'], ...(COPIES[name] ?? [])];

function prepack() {
  if (existsSync(join(pkgDir, 'tsconfig.build.json'))) {
    const r = spawnSync('npx', ['tsc', '-b', 'tsconfig.build.json'], { cwd: pkgDir, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${name}: tsc -b tsconfig.build.json failed`);
  }
  for (const [from, to] of copies) {
    const src = join(root, from);
    if (!existsSync(src))
      throw new Error(
        `${name}: ${from} is missing${from.includes('build/') ? '; run `pnpm build` first' : ''}`,
      );
    copyFileSync(src, join(pkgDir, to));
  }
}

function postpack() {
  for (const [, to] of copies) rmSync(join(pkgDir, to), { force: true });
}

const step = process.argv[2];
if (step === 'prepack') prepack();
else if (step === 'postpack') postpack();
else throw new Error(`pack-files.mjs: give prepack or postpack, not ${step}`);
