#!/usr/bin/env node
// mae-cuda: the command-line entry point; registers tsx so the TypeScript sources run directly.
import { register } from 'tsx/esm/api';

// a closed pipe (`mae-cuda ... | head`) ends the command quietly rather than with a stack trace
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
register();
await import('../src/main.ts');
