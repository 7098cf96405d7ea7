// torch.ts: runs the PyTorch reference benchmark (bench/pytorch/mae_step.py) for one row of
// `mae-cuda bench` with the same preset, batch, device, steps, warm-up and precision, in a child
// process, and reads its JSON. Every failure says what was run and what went wrong: an executable
// that does not exist or cannot run, its exit code or signal with the last lines of its stderr,
// no JSON written, invalid JSON, or JSON without the fields read. checkPython refuses, before any
// benchmark, a --pytorch that is not a Python with torch.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult, Spread } from '@mae-cuda/mae';
import { z } from 'zod';

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

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const TorchResultSchema = z.looseObject({
  images_per_s: finite,
  step_ms: z.looseObject({ median: finite, min: finite, max: finite, p25: finite, p75: finite }),
  torch_version: z.string(),
  compile: z.boolean(),
});

export interface TorchRun {
  readonly python: string;
  readonly script: string;
  readonly steps: number;
  readonly warmup: number;
  readonly compile: boolean;
  /** CPU threads to give PyTorch (the same number our CPU backend uses) */
  readonly threads: number;
}

/** Stderr lines kept in a failure message. */
const TAIL_LINES = 12;

/** A command line as it could be pasted into a shell. */
export function commandLine(cmd: string, args: readonly string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return [cmd, ...args].map(quote).join(' ');
}

/** The last lines of a child's stderr, indented, or a note that it printed nothing. */
function stderrTail(stderr: string | null | undefined): string {
  const lines = (stderr ?? '').split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return 'it printed nothing on stderr';
  const shown = lines.slice(-TAIL_LINES).map((l) => `\n    ${l}`);
  return `the last lines of its stderr:${shown.join('')}`;
}

/** Why a finished child failed (undefined when it exited with 0). */
export function childFailure(p: SpawnSyncReturns<string>, cmd: string): string | undefined {
  const err = p.error as NodeJS.ErrnoException | undefined;
  if (err?.code === 'ENOENT') return `${cmd} does not exist (not a file, nor a command on PATH)`;
  if (err?.code === 'EACCES') return `${cmd} cannot be run (not an executable file)`;
  if (err?.code === 'ETIMEDOUT') return `it ran past its time limit and was stopped; ${stderrTail(p.stderr)}`;
  if (err) return `it could not be run: ${err.message}`;
  if (p.signal) return `it was killed by ${p.signal}; ${stderrTail(p.stderr)}`;
  if (p.status !== 0) return `it exited with code ${p.status}; ${stderrTail(p.stderr)}`;
  return undefined;
}

const PROBE = 'import torch; print("torch", torch.__version__)';

/** Why `python` is not a Python with torch (a --pytorch refusal), or undefined when it is. */
export function checkPython(python: string): string | undefined {
  const p = spawnSync(python, ['-c', PROBE], { encoding: 'utf8', timeout: 120_000 });
  const run = commandLine(python, ['-c', PROBE]);
  const failure = childFailure(p, python);
  if (failure) return `--pytorch: ${run} failed: ${failure}; give a Python with torch (e.g. python3)`;
  if (!/^torch \S+/m.test(p.stdout ?? ''))
    return `--pytorch: ${python} is not a Python with torch (${run} exited 0 without printing the torch version)`;
  return undefined;
}

/** The script's JSON from `out`, checked; throws naming the command when it is missing or bad. */
function readResult(out: string, run: string): TorchResult {
  let text: string;
  try {
    text = readFileSync(out, 'utf8');
  } catch {
    throw new Error(`the PyTorch reference (${run}) exited with 0 but wrote no JSON to ${out}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // the parser's message quotes the text with its newlines; the start of it, escaped, says as much
    const start = JSON.stringify(text.slice(0, 80));
    throw new Error(`the PyTorch reference (${run}) wrote invalid JSON, beginning ${start}`);
  }
  const r = TorchResultSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`the PyTorch reference (${run}) wrote JSON without what is read: ${issues}`);
  }
  return r.data as TorchResult;
}

/** The script's arguments for the row of r. */
function scriptArgs(run: TorchRun, r: BenchResult, out: string): string[] {
  const args = [
    run.script,
    ...['--model', r.model, '--batch', String(r.batch), '--device', r.device],
    ...['--steps', String(run.steps), '--warmup', String(run.warmup)],
    ...['--precision', r.precision === 'bf16' ? 'bf16' : 'fp32', '--json', out],
  ];
  if (r.device === 'cpu') args.push('--threads', String(run.threads));
  if (run.compile) args.push('--compile');
  return args;
}

/** Runs the PyTorch reference for one row; throws saying what was run and how it failed. */
export function runTorch(run: TorchRun, r: BenchResult): TorchResult {
  const dir = mkdtempSync(join(tmpdir(), 'mae-bench-torch-'));
  const out = join(dir, 'r.json');
  const args = scriptArgs(run, r, out);
  const line = commandLine(run.python, args);
  try {
    const p = spawnSync(run.python, args, { encoding: 'utf8', timeout: 3_600_000 });
    const failure = childFailure(p, run.python);
    if (failure) throw new Error(`the PyTorch reference failed: ${line}: ${failure}`);
    return readResult(out, line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
