#!/usr/bin/env node
// mae-cuda: the command-line entry point; registers tsx so the TypeScript sources run directly.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
