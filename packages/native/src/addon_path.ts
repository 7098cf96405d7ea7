// addon_path.ts: where the native addon is loaded from, in this order: MAE_NATIVE_ADDON (a file,
// e.g. the GPU bundle's), this package's own build (build/Release: `pnpm build` in the repository,
// or the source build of an installed package), then the prebuilt addon of the per-platform
// package (@mae-cuda/native-linux-x64, an optional dependency; README "Installing"). The package
// folder is found from this module's place: the sources run from src/, the built JavaScript from
// dist/src/.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest folder at or above `from` that holds a package.json. */
export function findPackageDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json in ${from} or any folder above it`);
  }
}

/** The folder of @mae-cuda/native (packages/native, or node_modules/@mae-cuda/native). */
export const packageDir = findPackageDir(dirname(fileURLToPath(import.meta.url)));

/** The folder this package's own build leaves its libraries and addons in. */
export const buildDir = join(packageDir, 'build', 'Release');

/** The per-platform package that may hold a prebuilt addon for this machine. */
export const prebuiltPackage = `@mae-cuda/native-${process.platform}-${process.arch}`;

/** `name`.node of the installed per-platform package, or undefined when it is not installed. */
export function prebuiltAddon(name: string): string | undefined {
  let manifest: string;
  try {
    manifest = createRequire(join(packageDir, 'package.json')).resolve(`${prebuiltPackage}/package.json`);
  } catch {
    return undefined;
  }
  const file = join(dirname(manifest), `${name}.node`);
  return existsSync(file) ? file : undefined;
}

/** The addon file to load (`name`: mae_native, or mae_native_emu), or undefined, with the places looked in. */
export function locateAddon(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): { path?: string; searched: string[] } {
  if (env.MAE_NATIVE_ADDON) return { path: env.MAE_NATIVE_ADDON, searched: [env.MAE_NATIVE_ADDON] };
  const own = join(buildDir, `${name}.node`);
  if (existsSync(own)) return { path: own, searched: [own] };
  const prebuilt = prebuiltAddon(name);
  return prebuilt
    ? { path: prebuilt, searched: [own, prebuilt] }
    : { searched: [own, `${prebuiltPackage}/${name}.node`] };
}
