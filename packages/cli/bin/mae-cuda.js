#!/usr/bin/env node
// mae-cuda: the command-line entry point; registers tsx so the TypeScript sources run directly,
// then checks the environment (src/preflight.ts) before the command's modules load.
import { register } from 'tsx/esm/api';

// (a closed pipe, `mae-cuda ... | head`, is handled in src/closed_pipe.ts: the command runs on
// and the process exits with its own code, never 0 for a failure)
register();
const { preflight } = await import('../src/preflight.ts');
const code = await preflight();
if (code === undefined) await import('../src/main.ts');
else process.exitCode = code;
