#!/usr/bin/env node
// bin.ts: the `mae-cuda` command: checks the environment (preflight.ts) before the command's
// modules, and the native addon with them, load. The installed package runs it built
// (dist/src/bin.js); in the repository bin/mae-cuda.js runs it from the TypeScript sources.
import { preflight } from './preflight.js';
import { asksVersion, VERSION } from './version.js';

// `--version` is answered before any of that (it needs no addon).
// (a closed pipe, `mae-cuda ... | head`, is handled in closed_pipe.ts: the command runs on and the
// process exits with its own code, never 0 for a failure)
if (asksVersion(process.argv.slice(2))) console.log(`mae-cuda ${VERSION}`);
else {
  const code = await preflight();
  if (code === undefined) await import('./main.js');
  else process.exitCode = code;
}
