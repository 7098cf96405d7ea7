// eval/options.ts: the options `knn`, `embed` and `reconstruct` share (the checkpoint, the device,
// the batch, the data format), those of `linprobe` and `finetune` (labelled data, --resume,
// --overwrite, --accum-iter, and the output folder decided as pretrain's), and how they report
// input they cannot use: one line naming the command and the problem, exit 2.
import { existsSync, statSync } from 'node:fs';
import {
  BEST_FILE,
  changedSettings,
  type EvalEpoch,
  type OutputDirPlan,
  PretrainSetupError,
  type ProbeDataOptions,
  ProgressBar,
  planOutputDir,
  prepareOutputDir,
  type Resumed,
  SOURCE_FORMATS,
  type SourceFormat,
} from '@mae-cuda/mae';
import { z } from 'zod';
import { intOption, MAX_BATCH, numberOption } from '../numbers.js';

export const checkpointOption = z
  .string({ message: 'give the checkpoint: --checkpoint FILE (ours, an official .pth, or an HF folder)' })
  .describe('a mae-cuda checkpoint, an official MAE .pth or a Hugging Face folder');

export const deviceOption = z
  .string()
  .regex(/^(cpu|cuda|cuda:\d+)$/, { message: "must be 'cpu', 'cuda' or 'cuda:N'" })
  .default('cpu');

export const batchOption = intOption({ min: 1, max: MAX_BATCH }).default(128).describe('images per forward');

export const dataFormatOption = z
  .enum(SOURCE_FORMATS as [SourceFormat, ...SourceFormat[]], {
    message: `must be one of ${SOURCE_FORMATS.join(', ')}`,
  })
  .optional()
  .describe('the source format (detected when not given)');

const count = intOption({ min: 1, max: Number.MAX_SAFE_INTEGER });

/** The labelled images `linprobe` and `finetune` train and evaluate on. */
export const labelledDataOptions = {
  data: z
    .string()
    .default('mnist')
    .describe('mnist, an image folder, tar shards, idx or CIFAR files (labelled)'),
  dataFormat: dataFormatOption,
  valData: z
    .string()
    .optional()
    .describe('the held-out images (e.g. the test split); else a holdout of --data'),
  valFraction: numberOption({ positive: true, max: 0.99 })
    .default(0.1)
    .describe('held out of --data without --val-data'),
  train: count.optional().describe('at most N training images (MNIST: 5000)'),
  test: count.optional().describe('at most M held-out images (MNIST: 1000)'),
};

/** How `linprobe` and `finetune` continue a run, and their accumulation. */
export const resumeOptions = {
  resume: z
    .string()
    .optional()
    .describe("a run's checkpoint-last to continue, or auto: the output dir's, when it has one"),
  overwrite: z
    .boolean()
    .default(false)
    .describe('start over in an output dir that holds a checkpoint (replacing it)'),
  accumIter: intOption({ min: 1, max: 65536 })
    .default(1)
    .describe('iterations per optimiser step (effective batch = batch x accum)'),
};

interface ResumeFlags {
  resume?: string | undefined;
  overwrite: boolean;
  outputDir: string;
}

/** pretrain's folder errors as flag-named ones. */
const flagged = (e: unknown): unknown =>
  e instanceof PretrainSetupError ? new Error(`--${e.field.replace(/_/g, '-')}: ${e.message}`) : e;

/**
 * What the run does with its output folder, before any work: the checkpoint to continue, if any
 * (a folder holding another run's checkpoint is refused unless --resume auto or --overwrite).
 */
export async function planResume(o: ResumeFlags): Promise<OutputDirPlan> {
  if (o.resume !== undefined && o.resume !== 'auto' && !(existsSync(o.resume) && statSync(o.resume).isFile()))
    throw new Error(`--resume: ${o.resume} is not a file`);
  const settings = { output_dir: o.outputDir, resume: o.resume, overwrite: o.overwrite };
  try {
    return await planOutputDir(settings);
  } catch (e) {
    throw flagged(e);
  }
}

/** Readies the folder just before training (writable; with --overwrite, the old checkpoints gone). */
export function prepareOutput(o: ResumeFlags, plan: OutputDirPlan, log: (m: string) => void): void {
  const settings = { resume: plan.resume, overwrite: o.overwrite, also: [BEST_FILE] };
  try {
    prepareOutputDir(o.outputDir, settings, log);
  } catch (e) {
    throw flagged(e);
  }
}

/** Flags that may change on resume without changing the results. */
const RESUME_NEUTRAL = ['resume', 'overwrite', 'outputDir', 'device'];

/**
 * Says where a resumed run continues, and warns of settings that differ from the checkpoint's run
 * (`was`) other than the neutral ones and those `uncompared` names (e.g. refused before).
 */
export function reportResume(
  r: Resumed,
  was: unknown,
  now: Record<string, unknown> & { epochs: number },
  uncompared: readonly string[],
): void {
  const ignored = [...RESUME_NEUTRAL, ...uncompared];
  const changed = changedSettings(was as Record<string, unknown> | undefined, now, ignored);
  if (changed.length)
    console.log(
      `warning: ${changed.join(', ')} differ from the checkpoint's run; the results will not match an uninterrupted run`,
    );
  console.log(
    r.start.epoch >= now.epochs
      ? `nothing to do: ${r.path} is at epoch ${r.start.epoch} of ${now.epochs}`
      : `resumed from ${r.path} at step ${r.read.step} (epoch ${r.start.epoch})`,
  );
}

type LabelledData = z.infer<z.ZodObject<typeof labelledDataOptions>>;

/** openProbeData's options from those flags. */
export function labelledDataSettings(o: LabelledData, seed: number): ProbeDataOptions {
  return {
    ...(o.valData !== undefined ? { valData: o.valData } : {}),
    valFraction: o.valFraction,
    ...(o.train ? { train: o.train } : {}),
    ...(o.test ? { test: o.test } : {}),
    seed,
    ...(o.dataFormat ? { format: o.dataFormat } : {}),
  };
}

const pct = (x: number) => `${x.toFixed(2)}%`;

/** The progress line (stderr) and a line per epoch (stdout) of `linprobe` and `finetune`. */
export function epochReport() {
  const bar = new ProgressBar(process.stderr);
  return {
    onStep: (u: Parameters<ProgressBar['update']>[0]) => bar.update(u),
    onEpoch: (e: EvalEpoch) => {
      bar.break();
      console.log(
        `epoch ${e.epoch}: loss ${e.loss.toFixed(4)} top-1 ${pct(e.top1)} top-5 ${pct(e.top5)} (${e.seconds.toFixed(1)} s)`,
      );
    },
    best: (b: EvalEpoch) =>
      console.log(`best top-1 ${pct(b.top1)} (top-5 ${pct(b.top5)}) at epoch ${b.epoch}`),
  };
}

/**
 * Runs `work`; an Error it throws (a checkpoint or data that cannot be used) is printed as one
 * line naming the command, exit 2.
 */
export async function refusingBadInput(command: string, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    console.error(`mae-cuda ${command}: ${e.message}`);
    return 2;
  }
}
