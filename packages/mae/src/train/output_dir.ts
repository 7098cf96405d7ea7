// output_dir.ts: what a run may do with its output folder. A folder that holds another run's
// checkpoint is never replaced silently: without --resume the run is refused (naming --resume,
// --resume auto and --overwrite); `--resume auto` continues the folder's own checkpoint-last when
// there is one; resuming a checkpoint from elsewhere into a folder that holds a run of its own is
// refused too. Also: temp files left by a killed writer (`<name>.tmp-<pid>-<hex>`, see
// writeFileAtomic) are removed when their process is gone.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  realpathSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { readCheckpointInfo } from '../io/checkpoint.js';
import { PretrainSetupError } from './run_plan.js';

export const CHECKPOINT_FILE = 'checkpoint-last.safetensors';
/** checkpoint-<step>.safetensors, the numbered snapshots (as the official checkpoint-%d.pth) */
export const NUMBERED_CHECKPOINT = /^checkpoint-(\d+)\.safetensors$/;

/** The settings the folder decision depends on. */
export interface OutputDirSettings {
  output_dir: string;
  resume?: string | undefined;
  overwrite: boolean;
}

export interface OutputDirPlan {
  /** the checkpoint to continue from (none: a new run) */
  resume?: string;
  /** what was decided, for the user (e.g. what `--resume auto` chose) */
  message?: string;
}

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();
const realDir = (p: string) => (existsSync(p) ? realpathSync(p) : p);

/** The checkpoints the folder holds: checkpoint-last and the numbered ones. */
export function checkpointsIn(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .filter((f) => f === CHECKPOINT_FILE || NUMBERED_CHECKPOINT.test(f))
    .sort()
    .map((f) => join(dir, f));
}

async function describe(path: string): Promise<string> {
  try {
    const { step, epoch } = await readCheckpointInfo(path);
    return `${path} (step ${step}, epoch ${epoch})`;
  } catch {
    return `${path} (unreadable)`;
  }
}

/**
 * Where a run starts from, given its output folder; throws a PretrainSetupError (naming the flag)
 * rather than replace a checkpoint the user did not ask to replace. Reads headers only.
 */
export async function planOutputDir(s: OutputDirSettings): Promise<OutputDirPlan> {
  const out = s.output_dir;
  if (existsSync(out) && !statSync(out).isDirectory())
    throw new PretrainSetupError('output_dir', `${out} exists and is not a folder`);
  const last = join(out, CHECKPOINT_FILE);
  const held = checkpointsIn(out);
  if (s.resume === 'auto') {
    if (isFile(last)) return { resume: last, message: `--resume auto: continuing ${await describe(last)}` };
    if (held.length === 0 || s.overwrite)
      return { message: `--resume auto: no checkpoint in ${out}; starting a new run` };
    throw new PretrainSetupError(
      'resume',
      `auto: ${out} holds ${held.join(', ')} but no ${CHECKPOINT_FILE}; resume one of them by name, or --overwrite`,
    );
  }
  if (held.length === 0 || s.overwrite) return s.resume === undefined ? {} : { resume: s.resume };
  if (s.resume !== undefined) {
    if (realDir(dirname(s.resume)) === realDir(out)) return { resume: s.resume };
    throw new PretrainSetupError(
      'output_dir',
      `${out} holds another run's checkpoint, ${await describe(held.includes(last) ? last : held.at(-1)!)}; ` +
        `resuming ${s.resume} there would replace it. Give another --output-dir, or --overwrite to replace it`,
    );
  }
  const which = held.includes(last) ? last : held.at(-1)!;
  throw new PretrainSetupError(
    'output_dir',
    `${out} already holds ${await describe(which)}; continue that run with --resume ${which} ` +
      `(or --resume auto), or start over with --overwrite (which replaces it and its log.jsonl)`,
  );
}

/** Creates the folder if need be and proves a file can be written in it (refused, naming why, if not). */
export function ensureWritable(dir: string): void {
  const probe = join(dir, `.write-probe.tmp-${process.pid}-0`);
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, 'probe');
    } finally {
      closeSync(fd);
    }
    unlinkSync(probe);
  } catch (e) {
    throw new PretrainSetupError('output_dir', `${dir} is not writable: ${(e as Error).message}`);
  }
}

/**
 * Readies the folder for a run about to write: writable (else refused), killed writers' temp files
 * removed, and with --overwrite on a new run the old checkpoints (and `also`, e.g. a fine-tune's
 * checkpoint-best) removed; says what it removed.
 */
export function prepareOutputDir(
  dir: string,
  o: { resume?: string | undefined; overwrite: boolean; also?: readonly string[] },
  log: (m: string) => void,
): void {
  ensureWritable(dir);
  const removed = removeStaleTemps(dir);
  if (removed.length) log(`removed ${removed.length} temp file(s) of a killed run: ${removed.join(', ')}`);
  if (o.resume || !o.overwrite) return;
  const old = [...checkpointsIn(dir), ...(o.also ?? []).map((f) => join(dir, f)).filter(isFile)];
  for (const f of old) unlinkSync(f);
  if (old.length) log(`--overwrite: removed ${old.join(', ')}`);
}

const TEMP_FILE = /\.tmp-(\d+)-[0-9a-f]+$/;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temp files of writers that no longer run (a killed run's half-written checkpoint). */
export function removeStaleTemps(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const f of readdirSync(dir)) {
    const m = TEMP_FILE.exec(f);
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    try {
      unlinkSync(join(dir, f));
      removed.push(f);
    } catch {
      // gone already, or not ours to remove: leave it
    }
  }
  return removed;
}
