// emu-build.mjs: configures a CMake build directory of the emulator's programs only (no Node addon,
// no nvcc), for the scripts that build their own: emu-mutants.mjs (a program per mutant) and
// emu-check.mjs --sanitize (the ASan/UBSan build). Ninja when available.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Configures `dir` from `root` unless it already has a CMake cache; `extra` adds -D options.
 * Returns { ok, out } (out: CMake's output when `quiet`, else it went to the terminal).
 */
export function configureEmulatorBuild(root, dir, { buildType = 'Release', extra = [], quiet = true } = {}) {
  if (existsSync(join(dir, 'CMakeCache.txt'))) return { ok: true, out: '' };
  const gen = spawnSync('ninja', ['--version']).status === 0 ? 'Ninja' : 'Unix Makefiles';
  console.log(`configuring ${dir} (${gen})`);
  const r = spawnSync(
    'cmake',
    [
      '-S',
      root,
      '-B',
      dir,
      '-G',
      gen,
      `-DCMAKE_BUILD_TYPE=${buildType}`,
      '-DMAE_BUILD_NODE_ADDON=OFF',
      '-DMAE_CUDA=OFF',
      '-DMAE_CUDA_EMULATOR=ON',
      '-DMAE_BUILD_EXAMPLES=ON',
      ...extra,
    ],
    { cwd: root, encoding: 'utf8', stdio: quiet ? 'pipe' : 'inherit' },
  );
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
