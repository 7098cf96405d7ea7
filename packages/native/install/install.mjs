// install.mjs: the install script of @mae-cuda/native (npm runs it once the package is unpacked).
// It uses the prebuilt addon of the per-platform package (@mae-cuda/native-linux-x64, an optional
// dependency) when that package is installed and its addon loads here; otherwise it builds the
// addon from the shipped sources and generated kernels with cmake-js: CUDA and CPU kernels when nvcc
// is found, CPU kernels only when not. Without CMake or a C++ compiler it stops, naming what is
// missing. In the repository it does nothing (`pnpm build` builds the addon there).
//   --dry-run               say what would be done, build nothing
//   --build-from-source     skip the prebuilt addon (also npm's `npm install --build-from-source`)
// MAE_CUDA=ON|OFF|AUTO: the CUDA kernels of a source build (AUTO, the default: when nvcc is found).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const say = (line) => console.log(`@mae-cuda/native: ${line}`);

/** The first line of `command --version`, or undefined when the command is not there. */
function version(command) {
  const r = spawnSync(command, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : undefined;
}

/** Whether the addon at `file` loads in a fresh Node process, and dlopen's message when not. */
function loads(file) {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { encoding: 'utf8' });
  if (r.status === 0) return { ok: true };
  const why = (r.stderr ?? '').split('\n').find((l) => /Error/.test(l)) ?? `exit code ${r.status}`;
  return { ok: false, why: why.trim() };
}

/** The prebuilt addon to use, or undefined (and why not) when the addon must be built. */
async function prebuilt(fromSource) {
  if (fromSource) return { why: 'building from source as asked (--build-from-source)' };
  const { prebuiltAddon, prebuiltPackage } = await import('../dist/src/addon_path.js');
  const file = prebuiltAddon('mae_native');
  if (file === undefined)
    return {
      why: `no prebuilt addon for ${process.platform}-${process.arch} (${prebuiltPackage} is not installed)`,
    };
  const r = loads(file);
  return r.ok ? { file } : { why: `the prebuilt addon ${file} does not load here (${r.why})` };
}

/** What the source build needs that this machine lacks, as one message, or undefined. */
function missingTools() {
  const missing = [];
  if (!version(process.env.CMAKE ?? 'cmake')) missing.push('CMake (3.25 or newer)');
  const compilers = process.env.CXX ? [process.env.CXX] : ['c++', 'g++', 'clang++'];
  if (!compilers.some((c) => version(c)))
    missing.push(`a C++17 compiler (${compilers.join(', ')}; or set CXX)`);
  if (missing.length === 0) return undefined;
  return (
    `cannot build the addon from source: ${missing.join(' and ')} not found. Install them ` +
    '(Debian/Ubuntu: apt-get install cmake g++) and reinstall, or install on linux-x64 where the ' +
    'prebuilt addon (@mae-cuda/native-linux-x64) is used'
  );
}

/** Whether to build the CUDA kernels: MAE_CUDA=ON or OFF, else (AUTO) when nvcc is found. */
function wantCuda(mode = 'AUTO') {
  if (!['AUTO', 'ON', 'OFF'].includes(mode.toUpperCase()))
    throw new Error(`@mae-cuda/native: MAE_CUDA must be AUTO, ON or OFF, not '${mode}'`);
  if (mode.toUpperCase() !== 'AUTO') return mode.toUpperCase() === 'ON';
  return version(process.env.CUDACXX ?? 'nvcc') !== undefined;
}

const cudaWhyNot = (mode) =>
  mode?.toUpperCase() === 'OFF' ? 'MAE_CUDA=OFF' : 'no nvcc on PATH, nor CUDACXX';

/** The cmake-js command line of the source build (nvcc: CUDA kernels too). */
function buildCommand(cuda) {
  const cmakeJs = createRequire(join(pkgDir, 'package.json')).resolve('cmake-js/bin/cmake-js');
  const defs = ['MAE_BUILD_NODE_ADDON=ON', 'MAE_BUILD_EXAMPLES=OFF', 'MAE_CUDA_EMULATOR=OFF'];
  defs.push(`MAE_CUDA=${cuda ? 'ON' : 'OFF'}`);
  const jobs = String(Math.max(1, availableParallelism()));
  return [cmakeJs, 'compile', '-O', 'build', '-p', jobs, ...defs.map((d) => `--CD${d}`)];
}

async function main(args) {
  const dryRun = args.includes('--dry-run');
  if (existsSync(join(pkgDir, '..', '..', 'pnpm-workspace.yaml'))) {
    say('in the repository: `pnpm build` builds the addon');
    return 0;
  }
  const fromSource =
    args.includes('--build-from-source') || process.env.npm_config_build_from_source === 'true';
  const pick = await prebuilt(fromSource);
  if (pick.file) {
    say(`using the prebuilt addon ${pick.file}`);
    return 0;
  }
  say(`${pick.why}: building it from source`);
  const missing = missingTools();
  if (missing) {
    console.error(`@mae-cuda/native: ${missing}`);
    return 1;
  }
  const cuda = wantCuda(process.env.MAE_CUDA);
  say(cuda ? 'CUDA and CPU kernels' : `CPU kernels only (${cudaWhyNot(process.env.MAE_CUDA)})`);
  const command = buildCommand(cuda);
  say(`${dryRun ? 'would run' : 'running'}: node ${command.join(' ')}`);
  if (dryRun) return 0;
  const r = spawnSync(process.execPath, command, { cwd: pkgDir, stdio: 'inherit' });
  if (r.status !== 0) console.error('@mae-cuda/native: the source build failed (its output is above)');
  return r.status ?? 1;
}

process.exitCode = await main(process.argv.slice(2));
