// torch.ts: runs the PyTorch reference benchmark (bench/pytorch/mae_step.py) for one row of
// `mae-cuda bench` with the same preset, batch, device, steps, warm-up and precision, in a child
// process, and reads its JSON.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult, Spread } from '@mae-cuda/mae';

export const DEFAULT_SCRIPT = fileURLToPath(
  new URL('../../../../bench/pytorch/mae_step.py', import.meta.url),
);

/** The fields of the script's JSON that the command reads. */
export interface TorchResult {
  readonly images_per_s: number;
  readonly step_ms: Spread;
  readonly torch_version: string;
  readonly compile: boolean;
  readonly threads?: number;
  readonly device_name?: string;
  readonly peak_memory_bytes?: number;
  readonly peak_memory_kind?: string;
}

export interface TorchRun {
  readonly python: string;
  readonly script: string;
  readonly steps: number;
  readonly warmup: number;
  readonly compile: boolean;
  /** CPU threads to give PyTorch (the same number our CPU backend uses) */
  readonly threads: number;
}

/** Runs the PyTorch reference for one row; throws with its stderr when it fails. */
export function runTorch(run: TorchRun, r: BenchResult): TorchResult {
  const dir = mkdtempSync(join(tmpdir(), 'mae-bench-torch-'));
  const out = join(dir, 'r.json');
  const args = [
    run.script,
    '--model',
    r.model,
    '--batch',
    String(r.batch),
    '--device',
    r.device,
    '--steps',
    String(run.steps),
    '--warmup',
    String(run.warmup),
    '--precision',
    r.precision === 'bf16' ? 'bf16' : 'fp32',
    '--json',
    out,
  ];
  if (r.device === 'cpu') args.push('--threads', String(run.threads));
  if (run.compile) args.push('--compile');
  try {
    const p = spawnSync(run.python, args, { encoding: 'utf8', timeout: 3_600_000 });
    if (p.status !== 0)
      throw new Error(
        `the PyTorch reference failed (${run.python} ${args.join(' ')}):\n${p.stderr || p.error?.message}`,
      );
    return JSON.parse(readFileSync(out, 'utf8')) as TorchResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
