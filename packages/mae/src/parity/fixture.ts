// fixture.ts: what a parity fixture folder holds (format in shared/fixtures/mae-parity/README.md),
// the check that a folder is one before any work, and FixtureError, the error of a fixture that
// cannot be used (a missing or unreadable file, bad JSON, a bad field, a missing tensor). Its
// message names the file (and the field or tensor), e.g.
// "fixtures/a/config.json: field img_size: expected number, received string".
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';

export const FIXTURE_FILES = [
  'config.json',
  'weights.safetensors',
  'inputs.safetensors',
  'expected.safetensors',
  'after_steps.safetensors',
] as const;

export class FixtureError extends Error {}

const kind = (path: string): 'file' | 'folder' | 'missing' | 'other' => {
  try {
    const s = statSync(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'folder' : 'other';
  } catch {
    return 'missing';
  }
};

/** Why dir is not a usable fixture folder (it is missing, not a folder, or lacks files), if so. */
export function fixtureProblem(dir: string): string | undefined {
  const k = kind(dir);
  if (k === 'missing') return `${dir} does not exist`;
  if (k !== 'folder') return `${dir} is not a folder (give a fixture folder, or a folder of them)`;
  const lacking = FIXTURE_FILES.filter((f) => kind(join(dir, f)) !== 'file');
  if (lacking.length === 0) return undefined;
  return `${dir} lacks ${lacking.join(', ')} (a fixture holds ${FIXTURE_FILES.join(', ')})`;
}

/** A zod issue of a JSON file as "field a.b[1]: what is wrong". */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`))
    .join('');
  const missing = issue.code === 'invalid_type' && /received undefined$/.test(issue.message);
  const what = missing
    ? `is missing (${issue.expected} expected)`
    : `: ${issue.message.replace(/^Invalid input: /, '')}`;
  return field ? `field ${field}${missing ? ' ' : ''}${what}` : what.replace(/^: /, '');
}
