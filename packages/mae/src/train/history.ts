// history.ts: a run's record across resumes. log.jsonl (one line per epoch) and loss.csv (step,
// loss, lr of every optimiser step) continue the run they resume: lines past the checkpoint's step
// (work that was lost with the process) are dropped, and a run resumed from another folder starts
// from that folder's record. A new run starts both afresh. Numbered snapshots
// checkpoint-<step>.safetensors are hard links to checkpoint-last (a copy where links fail), the
// newest `keep` kept.
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  linkSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../io/safetensors.js';
import { NUMBERED_CHECKPOINT } from './output_dir.js';

export const LOG_FILE = 'log.jsonl';
export const LOSS_FILE = 'loss.csv';
const LOSS_HEADER = 'step,loss,lr';

/** One optimiser step of the record: step counts from 1. */
export interface StepLoss {
  step: number;
  loss: number;
  lr: number;
}

/** The non-empty lines of a text file (none when it does not exist). */
export function readLines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean);
}

function logStep(line: string): number | undefined {
  try {
    const v = (JSON.parse(line) as { steps?: unknown }).steps;
    return typeof v === 'number' ? v : undefined;
  } catch {
    return undefined; // a line cut short by a kill
  }
}

function parseLoss(line: string): StepLoss | undefined {
  const [s, l, r] = line.split(',').map(Number);
  return Number.isInteger(s) && l !== undefined && r !== undefined && !Number.isNaN(r)
    ? { step: s!, loss: l, lr: r }
    : undefined;
}

export interface RunHistory {
  /** the loss of every step up to the resumed one (empty for a new run) */
  losses: StepLoss[];
}

/**
 * Sets up the record of a run in `out`: a new run (upTo undefined) starts it afresh; a resumed one
 * keeps the record of `from` (the folder of the resumed checkpoint) up to step `upTo`.
 */
export async function startHistory(out: string, upTo?: number, from = out): Promise<RunHistory> {
  const keepLog =
    upTo === undefined ? [] : readLines(join(from, LOG_FILE)).filter((l) => (logStep(l) ?? -1) <= upTo);
  const losses =
    upTo === undefined
      ? []
      : readLines(join(from, LOSS_FILE))
          .map(parseLoss)
          .filter((s): s is StepLoss => s !== undefined && s.step <= upTo);
  await writeFileAtomic(join(out, LOG_FILE), linesText(keepLog));
  await writeFileAtomic(join(out, LOSS_FILE), linesText([LOSS_HEADER, ...losses.map(lossLine)]));
  return { losses };
}

/** Lines as the bytes of a text file, each ended by a newline. */
export const linesText = (ls: readonly string[]) =>
  new TextEncoder().encode(ls.map((l) => `${l}\n`).join(''));
const lossLine = (s: StepLoss) => `${s.step},${s.loss},${s.lr}`;

/** Appends an epoch's line to log.jsonl and its steps to loss.csv. */
export function appendHistory(out: string, epochRecord: object, steps: readonly StepLoss[]): void {
  appendFileSync(join(out, LOSS_FILE), linesText(steps.map(lossLine)));
  appendFileSync(join(out, LOG_FILE), linesText([JSON.stringify(epochRecord)]));
}

/**
 * checkpoint-<step>.safetensors beside `last` (a hard link: no second write; a copy where the
 * folder cannot link), then removes all but the newest `keep` numbered ones (keep 0: none removed).
 */
export function snapshotCheckpoint(last: string, step: number, keep: number): string {
  const dir = dirname(last);
  const target = join(dir, `checkpoint-${step}.safetensors`);
  const tmp = `${target}.tmp-${process.pid}-${Date.now().toString(16)}`;
  try {
    linkSync(last, tmp);
  } catch {
    copyFileSync(last, tmp);
  }
  renameSync(tmp, target);
  if (keep > 0) {
    const numbered = readdirSync(dir)
      .map((f) => ({ f, m: NUMBERED_CHECKPOINT.exec(f) }))
      .filter((x) => x.m)
      .map((x) => ({ f: x.f, step: Number(x.m![1]) }))
      .sort((a, b) => b.step - a.step);
    for (const { f } of numbered.slice(keep)) unlinkSync(join(dir, f));
  }
  return target;
}
