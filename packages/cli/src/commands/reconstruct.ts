// commands/reconstruct.ts: `mae-cuda reconstruct --checkpoint C IMAGES... --out grid.png`: the
// paper's figure for any image files (centre-cropped to the model's input): original, masked,
// reconstruction, reconstruction with the visible patches pasted back, one row per image, as
// reconstructions.png; --mask-ratio and --seed choose the masking. Exit 2 for input it cannot use.
import { imageFiles, modelFromCheckpoint, reconstructionPng, writeFileAtomic } from '@mae-cuda/mae';
import type { DeviceSpec } from '@mae-cuda/native';
import { z } from 'zod';
import { defineCommand } from '../command.js';
import { checkpointOption, deviceOption, refusingBadInput } from '../eval/options.js';
import { intOption, numberOption } from '../numbers.js';

export const options = z.strictObject({
  checkpoint: checkpointOption,
  images: z.array(z.string()).min(1, { message: 'give at least one image file' }),
  out: z.string({ message: 'give the file to write: --out grid.png' }),
  maskRatio: numberOption({ min: 0, max: 0.99 }).optional().describe("the checkpoint's when not given"),
  seed: intOption({ min: 0, max: 2 ** 32 - 1 })
    .default(0)
    .describe('the masking noise'),
  device: deviceOption,
});

export const reconstructCommand = defineCommand({
  name: 'reconstruct',
  summary: 'draw original / masked / reconstruction / pasted rows for image files',
  usage: `mae-cuda reconstruct --checkpoint C IMAGE... --out grid.png [--mask-ratio 0.75] [--seed 0]
    [--device cpu|cuda[:N]]
  C needs a decoder (an encoder-only checkpoint cannot reconstruct). Images (PNG, JPEG, PPM/PGM, ...)
  are centre-cropped and resized to the model's input.`,
  options,
  rest: 'images',
  run: (o) =>
    refusingBadInput('reconstruct', async () => {
      const device = o.device as DeviceSpec;
      const overrides = o.maskRatio === undefined ? {} : { mask_ratio: o.maskRatio };
      const { model, config } = await modelFromCheckpoint(o.checkpoint, { device, decoder: true, overrides });
      const images = await imageFiles(o.images, config);
      await writeFileAtomic(o.out, await reconstructionPng(model, config, images, o.seed, device));
      console.log(`${o.out}: ${images.length} images, mask ratio ${config.mask_ratio}, seed ${o.seed}`);
      return 0;
    }),
});
