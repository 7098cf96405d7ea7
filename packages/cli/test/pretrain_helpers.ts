// pretrain_helpers.ts: what the pretrain tests share: the CLI's path, a fresh folder, a small model
// (runs take a second or two), and a size-limited or read-only tmpfs where this process may mount
// one (root with CAP_SYS_ADMIN; the callers fall back to RLIMIT_FSIZE or permissions otherwise).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../bin/mae-cuda.js', import.meta.url));
export const tmp = () => mkdtempSync(join(tmpdir(), 'mae-pretrain-'));
/** a small model so that runs take a second or two */
export const SMALL = ['--embed-dim', '16', '--depth', '1', '--num-heads', '2', '--decoder-embed-dim', '16'];

/**
 * Mounts a tmpfs of `bytes` on dir (read-only when asked); false where mounting is not allowed,
 * in which case a read-only request makes dir unwritable by permissions instead.
 */
export function mountTmpfs(dir: string, bytes: number, readOnly = false): boolean {
  const opts = `size=${bytes}${readOnly ? ',ro' : ''}`;
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status === 0) return true;
  if (readOnly) chmodSync(dir, 0o555);
  return false;
}

export function unmount(dir: string): void {
  spawnSync('umount', [dir]);
}
