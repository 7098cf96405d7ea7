// resume_helpers.ts: what the linprobe and finetune resume tests share: the CLI run in a child
// process, a run killed (SIGKILL) as soon as it has
// printed epoch 0 (so its checkpoint-last is epoch 0's and it dies inside epoch 1), a copy of a
// checkpoint with its recorded settings changed, a refused run, and the comparison of two runs' outputs: every
// tensor of checkpoint-last and checkpoint-best byte for byte, the step, epochs and best epoch, and
// log.jsonl, apart from the timings (images_per_sec, seconds), of a run and the same run killed and
// resumed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, readSafetensors, saveCheckpoint } from '@mae-cuda/mae';
import { bin } from './pretrain_helpers.js';

export const mae = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 300000 });

/** Runs `args`, killing the process once it has printed epoch 0's line; its log's lines then. */
export async function killedAfterEpoch0(args: string[], out: string): Promise<number> {
  const child = spawn(process.execPath, [bin, ...args, '--output-dir', out], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let text = '';
  child.stdout.on('data', (d: Buffer) => {
    text += d.toString();
    if (/^epoch 0:/m.test(text)) child.kill('SIGKILL');
  });
  const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
    child.once('exit', (c, s) => r([c, s])),
  );
  assert.equal(signal, 'SIGKILL', `the run ended by itself (${code}): ${text}`);
  return logOf(out).length;
}

const TIMINGS = new Set(['images_per_sec', 'seconds']);
const untimed = (e: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(e).filter(([k]) => !TIMINGS.has(k)));

/** log.jsonl's records without their timings. */
export function logOf(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, 'log.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => untimed(JSON.parse(l)));
}

/** The same tensors, byte for byte, and the same counters and accuracies in the metadata. */
async function assertSameCheckpoint(a: string, b: string): Promise<void> {
  const [x, y] = [await readSafetensors(a), await readSafetensors(b)];
  assert.deepEqual([...x.tensors.keys()].sort(), [...y.tensors.keys()].sort(), `${b}: tensor names`);
  for (const [name, t] of x.tensors) {
    const same = Buffer.from(t.data.buffer).equals(Buffer.from(y.tensors.get(name)!.data.buffer));
    assert.ok(same, `${b}: ${name} differs from ${a}'s`);
  }
  const meta = (m: Record<string, string>) => ({
    ...Object.fromEntries(['step', 'epoch', 'top1', 'top5'].map((k) => [k, m[k]])),
    best: m.best ? untimed(JSON.parse(m.best)) : undefined,
  });
  assert.deepEqual(meta(y.metadata), meta(x.metadata), `${b}: the counters and accuracies`);
}

/** Two runs' folders hold the same checkpoints (tensors, counters) and log. */
export async function assertSameRun(a: string, b: string): Promise<void> {
  for (const f of ['checkpoint-last.safetensors', 'checkpoint-best.safetensors'])
    await assertSameCheckpoint(join(a, f), join(b, f));
  assert.deepEqual(logOf(b), logOf(a), 'log.jsonl');
}

/**
 * Runs `flags` whole into dir/whole, and into dir/cut killed in epoch 1 then resumed with --resume
 * auto (at step `step`, epoch 1); asserts the two end the same; the checkpoint-last's path.
 */
export async function assertResumesExactly(flags: string[], dir: string, step: number): Promise<string> {
  const [whole, cut] = [join(dir, 'whole'), join(dir, 'cut')];
  const r = mae(...flags, '--output-dir', whole);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(await killedAfterEpoch0(flags, cut), 1, 'killed after epoch 0 was logged');
  const again = mae(...flags, '--output-dir', cut, '--resume', 'auto');
  assert.equal(again.status, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /--resume auto: continuing .*checkpoint-last\.safetensors/);
  assert.match(again.stdout, new RegExp(`resumed from .* at step ${step} \\(epoch 1\\)`));
  assert.doesNotMatch(again.stdout, /warning/);
  await assertSameRun(whole, cut);
  assert.deepEqual(
    readdirSync(cut).filter((f) => f.includes('.tmp')),
    [],
    'no temporary files left',
  );
  return join(whole, 'checkpoint-last.safetensors');
}

/** `args` into `out` exit 2 with stderr matching `pattern`, before any training. */
export function assertRefused(args: string[], out: string, pattern: RegExp): void {
  const r = mae(...args, '--output-dir', out);
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, pattern);
  assert.ok(!existsSync(join(out, 'log.jsonl')), 'no training started');
}

/** A copy of checkpoint `src` at `dst` with `change` made to its recorded settings. */
export async function withRecord(src: string, dst: string, change: (c: Record<string, unknown>) => void) {
  const c = await loadCheckpoint(src);
  const config = c.config as Record<string, unknown>;
  change(config);
  await saveCheckpoint(dst, { ...c, config });
  return dst;
}
