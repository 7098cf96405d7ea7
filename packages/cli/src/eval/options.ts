// eval/options.ts: the options `knn`, `embed` and `reconstruct` share (the checkpoint, the device,
// the batch, the data format), and how they report input they cannot use: one line naming the
// command and the problem, exit 2.
import { SOURCE_FORMATS, type SourceFormat } from '@mae-cuda/mae';
import { z } from 'zod';
import { intOption, MAX_BATCH } from '../numbers.js';

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
