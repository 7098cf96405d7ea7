// lr.ts: the official learning-rate rule. main_pretrain.py: when no absolute lr is given,
// lr = blr * eff_batch / 256 with eff_batch = batch_size * accum_iter * world_size.
// util/lr_sched.py adjust_learning_rate, called per iteration with the fractional epoch
// e = data_iter_step / iters_per_epoch + epoch (only when data_iter_step % accum_iter == 0):
//   e <  warmup: lr * e / warmup                                           (linear warmup from 0)
//   e >= warmup: min_lr + (lr - min_lr) * 0.5 * (1 + cos(pi * (e - warmup) / (epochs - warmup)))
// The double operations are done in python's order so the values match it.
import { z } from 'zod';

export const LrScheduleSchema = z
  .strictObject({
    /** the absolute peak lr */
    lr: z.number().nonnegative(),
    min_lr: z.number().nonnegative().default(0),
    warmup_epochs: z.number().nonnegative(),
    epochs: z.number().positive(),
  })
  .refine((s) => s.epochs > s.warmup_epochs, {
    message: 'epochs must be greater than warmup_epochs (the cosine phase divides by their difference)',
    path: ['epochs'],
  });

export type LrSchedule = z.infer<typeof LrScheduleSchema>;

/** eff_batch = batch_size * accum_iter * world_size. */
export function effectiveBatch(batchSize: number, accumIter = 1, worldSize = 1): number {
  return batchSize * accumIter * worldSize;
}

/** The absolute lr from the base lr: blr * effectiveBatch / 256. */
export function effectiveLr(blr: number, effectiveBatchSize: number): number {
  return (blr * effectiveBatchSize) / 256;
}

/** The given absolute lr, or else effectiveLr(blr, effectiveBatchSize). */
export function resolveLr(lr: number | undefined | null, blr: number, effectiveBatchSize: number): number {
  return lr ?? effectiveLr(blr, effectiveBatchSize);
}

/** The fractional epoch of an iteration: dataIterStep / itersPerEpoch + epoch. */
export function fractionalEpoch(dataIterStep: number, itersPerEpoch: number, epoch: number): number {
  return dataIterStep / itersPerEpoch + epoch;
}

/** adjust_learning_rate's value at fractional epoch e. */
export function lrAt(s: LrSchedule, e: number): number {
  if (e < s.warmup_epochs) return (s.lr * e) / s.warmup_epochs;
  return (
    s.min_lr +
    (s.lr - s.min_lr) * 0.5 * (1 + Math.cos((Math.PI * (e - s.warmup_epochs)) / (s.epochs - s.warmup_epochs)))
  );
}

/**
 * The lr in force at iteration dataIterStep of an epoch: the official loop sets it only when
 * dataIterStep % accumIter == 0, so later iterations of an accumulation window keep that value.
 */
export function lrForIteration(
  s: LrSchedule,
  epoch: number,
  dataIterStep: number,
  itersPerEpoch: number,
  accumIter = 1,
): number {
  const setAt = dataIterStep - (dataIterStep % accumIter);
  return lrAt(s, fractionalEpoch(setAt, itersPerEpoch, epoch));
}
