// version.ts: the version of the command, which is its package's (the packages share one version:
// scripts/set-version.mjs), read without loading the native addon.
import { createRequire } from 'node:module';

export const VERSION: string = createRequire(import.meta.url)('@mae-cuda/cli/package.json').version;

/** Whether argv asks for the version only (`mae-cuda --version`). */
export const asksVersion = (argv: readonly string[]) =>
  argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V');
