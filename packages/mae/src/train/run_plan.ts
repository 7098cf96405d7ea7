// run_plan.ts: how a pretraining run divides its images: steps per epoch (drop_last batches,
// rounded down to whole accumulation windows, over the data-parallel world), the lr schedule
// (lr = blr x effective batch / 256 unless given) and the total steps; and the error that names
// the setting that makes a run impossible.
import { effectiveBatch, type LrSchedule, resolveLr } from '../schedule/lr.js';
import type { PretrainConfig } from './config.js';

/** A run that cannot start as configured (e.g. too few images for one step); names the field. */
export class PretrainSetupError extends Error {
  override name = 'PretrainSetupError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Steps per epoch and the lr schedule of a run over n images on `world` data-parallel ranks. */
export function runPlan(c: PretrainConfig, n: number, world = 1) {
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`image count must be a non-negative integer, got ${n}`);
  const itersPerEpoch = Math.floor(n / (c.batch_size * world));
  const stepsPerEpoch = Math.floor(itersPerEpoch / c.accum_iter);
  if (stepsPerEpoch < 1)
    throw new PretrainSetupError(
      'batch_size',
      `the dataset has ${n} images, too few for one step of batch_size ${c.batch_size} x accum_iter ${c.accum_iter}` +
        (world > 1 ? ` x ${world} ranks` : ''),
    );
  const lr = resolveLr(c.lr, c.blr, effectiveBatch(c.batch_size, c.accum_iter, world));
  if (c.min_lr > lr)
    throw new PretrainSetupError(
      'min_lr',
      `min_lr ${c.min_lr} is above the peak lr ${lr} (` +
        (c.lr === undefined
          ? `blr ${c.blr} x effective batch ${effectiveBatch(c.batch_size, c.accum_iter, world)} / 256`
          : 'given by --lr') +
        '); the cosine decay would raise the lr',
    );
  const schedule: LrSchedule = {
    lr,
    min_lr: c.min_lr,
    warmup_epochs: c.warmup_epochs,
    epochs: c.epochs,
  };
  const totalSteps = Math.min(c.epochs * stepsPerEpoch, c.steps ?? Number.POSITIVE_INFINITY);
  return { stepsPerEpoch, itersUsed: stepsPerEpoch * c.accum_iter, schedule, totalSteps };
}
