// commands/convert.ts: `mae-cuda convert SRC --to hf|mae-cuda --out DST`: a checkpoint of ours, an
// official MAE .pth or a Hugging Face folder (detected) written as a Hugging Face folder
// (ViTMAEForPreTraining, or ViTForImageClassification: the encoder and any head) or as a mae-cuda
// checkpoint. An existing DST is replaced only with --overwrite. Exit 2 for input it cannot use.
import { existsSync, readdirSync, statSync } from 'node:fs';
import {
  checkpointFormat,
  defaultHfArch,
  HF_ARCHS,
  type HfArch,
  loadCheckpoint,
  saveCheckpoint,
  writeHfFolder,
} from '@mae-cuda/mae';
import { z } from 'zod';
import { defineCommand } from '../command.js';
import { refusingBadInput } from '../eval/options.js';

const TARGETS = ['hf', 'mae-cuda'] as const;

export const options = z.strictObject({
  src: z
    .string({ message: 'give the checkpoint to convert: mae-cuda convert SRC --to hf|mae-cuda --out DST' })
    .describe('a mae-cuda checkpoint, an official MAE .pth or a Hugging Face folder'),
  to: z.enum(TARGETS, { message: `give --to ${TARGETS.join(' or ')}` }),
  out: z.string({ message: 'give where to write: --out DST' }),
  arch: z
    .enum(HF_ARCHS, { message: `must be ${HF_ARCHS.join(' or ')}` })
    .optional()
    .describe('the HF architecture (default: ViTMAEForPreTraining when there is a decoder)'),
  overwrite: z.boolean().default(false).describe('replace an existing --out'),
});

/** Why `out` must not be written, or undefined. */
function occupied(out: string, overwrite: boolean): string | undefined {
  if (!existsSync(out) || overwrite) return undefined;
  if (statSync(out).isDirectory() && readdirSync(out).length === 0) return undefined;
  return `${out} exists; give --overwrite to replace it`;
}

export const convertCommand = defineCommand({
  name: 'convert',
  summary: 'convert a checkpoint (ours, an official .pth, a Hugging Face folder) to Hugging Face or mae-cuda',
  usage: `mae-cuda convert SRC --to ${TARGETS.join('|')} --out DST [--arch ${HF_ARCHS.join('|')}] [--overwrite]
  SRC is detected: a mae-cuda checkpoint (.safetensors), an official MAE .pth (torch.save), or a Hugging
  Face folder (config.json + model.safetensors). --to hf writes such a folder (optimiser state is not
  kept; a classifier keeps the encoder and any head); --to mae-cuda writes our checkpoint.`,
  options,
  positionals: ['src'],
  run: (o) =>
    refusingBadInput('convert', async () => {
      const busy = occupied(o.out, o.overwrite);
      if (busy) throw new Error(busy);
      if (o.arch && o.to !== 'hf') throw new Error('--arch is for --to hf');
      const from = checkpointFormat(o.src);
      const ck = await loadCheckpoint(o.src);
      const tensors = Object.keys(ck.model).length;
      if (o.to === 'hf') {
        const arch: HfArch = o.arch ?? defaultHfArch(ck.model);
        await writeHfFolder(o.out, ck, arch);
        const dropped = Object.keys(ck.optimizer).length ? ' (optimiser state not kept)' : '';
        console.log(`${o.src} (${from}, ${tensors} tensors) -> ${o.out} (Hugging Face ${arch})${dropped}`);
      } else {
        await saveCheckpoint(o.out, ck);
        console.log(`${o.src} (${from}, ${tensors} tensors) -> ${o.out} (mae-cuda checkpoint)`);
      }
      return 0;
    }),
});
