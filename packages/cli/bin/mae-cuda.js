#!/usr/bin/env node
// mae-cuda in the repository: registers tsx so the TypeScript sources run directly, then runs the
// command's entry (src/bin.ts; the installed package runs its built dist/src/bin.js instead).
import { register } from 'tsx/esm/api';

register();
await import('../src/bin.ts');
