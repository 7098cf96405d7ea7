// cli.ts: `pnpm codegen`: writes every generated source into the output folder (default
// packages/native/generated), deterministically, rewriting only files whose bytes changed.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateAll } from './generate.js';

const args = process.argv.slice(2);
const i = args.indexOf('--out');
const out = resolve(
  i >= 0 && args[i + 1] ? args[i + 1]! : new URL('../../native/generated', import.meta.url).pathname,
);
mkdirSync(out, { recursive: true });
let changed = 0;
const files = generateAll();
for (const [name, text] of Object.entries(files)) {
  const path = join(out, name);
  let old: string | undefined;
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    old = undefined;
  }
  if (old !== text) {
    writeFileSync(path, text);
    changed++;
  }
}
console.log(`codegen: ${Object.keys(files).length} files in ${out} (${changed} changed)`);
