// pretrain_helpers.ts: what the pretrain tests share: the CLI's path, a fresh folder, a small model
// (runs take a second or two), a small pretrained checkpoint for the evaluation commands' tests, a generated folder of JPEGs, the check that two runs' checkpoints hold the same weights, and a size-limited or read-only tmpfs where this process may mount
// one (root with CAP_SYS_ADMIN; the callers fall back to RLIMIT_FSIZE or permissions otherwise).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '@mae-cuda/mae';
import sharp from 'sharp';

export const bin = fileURLToPath(new URL('../bin/mae-cuda.js', import.meta.url));
export const tmp = () => mkdtempSync(join(tmpdir(), 'mae-pretrain-'));
/** a small model so that runs take a second or two */
export const SMALL = ['--embed-dim', '16', '--depth', '1', '--num-heads', '2', '--decoder-embed-dim', '16'];

/**
 * Pretrains the default model for 2 steps of 16 on 64 digits (no evaluation, no preview) into
 * `dir`/run, the checkpoint the evaluation commands' tests start from; returns its checkpoint-last.
 */
export function smallPretrain(dir: string): string {
  const flags = ['--steps', '2', '--batch-size', '16', '--limit', '64', '--eval', 'none', '--preview', '0'];
  const r = spawnSync(process.execPath, [bin, 'pretrain', ...flags, '--output-dir', join(dir, 'run')], {
    encoding: 'utf8',
    timeout: 300000,
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return join(dir, 'run', 'checkpoint-last.safetensors');
}

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

/**
 * Asserts that the checkpoints in folders a and b hold the same model weights, each tensor within a
 * relative norm of 1e-4 (data-parallel sums round differently); returns b's checkpoint.
 */
export async function assertSameWeights(a: string, b: string) {
  const [x, y] = [
    await loadCheckpoint(join(a, 'checkpoint-last.safetensors')),
    await loadCheckpoint(join(b, 'checkpoint-last.safetensors')),
  ];
  for (const [name, t] of Object.entries(x.model)) {
    if (name.endsWith('attn.qkv.bias')) continue; // the zero-gradient key slice: rounding noise
    const [p, q] = [
      Float64Array.from(t.data as Float32Array),
      Float64Array.from(y.model[name]!.data as Float32Array),
    ];
    let d = 0;
    let n = 0;
    for (let i = 0; i < p.length; i++) {
      d += (p[i]! - q[i]!) ** 2;
      n += p[i]! ** 2;
    }
    assert.ok(Math.sqrt(d) <= 1e-4 * Math.sqrt(n) + 1e-7, `${name}: ${Math.sqrt(d / (n + 1e-30))}`);
  }
  return y;
}

/** n JPEGs of assorted sizes (about 60x50 to 112x116) with stripes, in two class folders. */
export async function jpegFolder(dir: string, n: number): Promise<void> {
  for (const c of ['cat', 'dog']) mkdirSync(join(dir, c), { recursive: true });
  for (let i = 0; i < n; i++) {
    const [w, h] = [60 + (i % 5) * 13, 50 + (i % 7) * 11];
    const raw = Buffer.alloc(w * h * 3);
    for (let p = 0; p < raw.length; p++)
      raw[p] = (Math.sin((p % (w * 3)) * 0.02 * ((i % 3) + 1) + p / (w * 90)) * 127 + 128) | 0;
    const jpg = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 85 })
      .toBuffer();
    writeFileSync(join(dir, i % 2 ? 'cat' : 'dog', `${String(i).padStart(4, '0')}.jpg`), jpg);
  }
}
