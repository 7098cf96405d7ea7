// commands/embed.ts: `mae-cuda embed --checkpoint C --data SRC --out features.safetensors`: the
// encoder's features of a source's images (centre-cropped to the model's input), for other tools:
// `cls` [N, D] (the cls token's) and `mean` [N, D] (the patch tokens' mean) F32, `labels` [N] I64,
// and the checkpoint, data and model configuration in the metadata. Exit 2 for input it cannot use.
import {
  encoderFeatures,
  modelFromCheckpoint,
  openImages,
  type StTensor,
  writeSafetensorsAtomic,
} from '@mae-cuda/mae';
import type { DeviceSpec } from '@mae-cuda/native';
import { z } from 'zod';
import { defineCommand } from '../command.js';
import {
  batchOption,
  checkpointOption,
  dataFormatOption,
  deviceOption,
  refusingBadInput,
} from '../eval/options.js';
import { intOption } from '../numbers.js';

export const options = z.strictObject({
  checkpoint: checkpointOption,
  data: z.string({ message: 'give the images: --data mnist|<image source>' }),
  dataFormat: dataFormatOption,
  out: z.string({ message: 'give the file to write: --out features.safetensors' }),
  limit: intOption({ min: 1, max: Number.MAX_SAFE_INTEGER }).optional().describe('the first N images only'),
  device: deviceOption,
  batchSize: batchOption,
});

export const embedCommand = defineCommand({
  name: 'embed',
  summary:
    'write the encoder features (cls token and mean-pooled) and labels of images to a safetensors file',
  usage: `mae-cuda embed --checkpoint C --data mnist|<image source> --out features.safetensors [--limit N]
    [--data-format F] [--device cpu|cuda[:N]] [--batch-size 128]
  Writes cls [N, D] and mean [N, D] (F32) and labels [N] (I64), in the source's order.`,
  options,
  run: (o) =>
    refusingBadInput('embed', async () => {
      const device = o.device as DeviceSpec;
      const { model, config } = await modelFromCheckpoint(o.checkpoint, { device });
      const set = await openImages(o.data, config, {
        ...(o.limit ? { limit: o.limit } : {}),
        ...(o.dataFormat ? { format: o.dataFormat } : {}),
      });
      const f = await encoderFeatures(model, set.images, o.batchSize, device);
      const tensors: Record<string, StTensor> = {
        cls: { dtype: 'F32', shape: [f.count, f.dim], data: f.cls },
        mean: { dtype: 'F32', shape: [f.count, f.dim], data: f.mean },
        labels: { dtype: 'I64', shape: [f.count], data: BigInt64Array.from(set.labels, BigInt) },
      };
      await writeSafetensorsAtomic(o.out, tensors, {
        checkpoint: o.checkpoint,
        data: o.data,
        classes: `${set.classes}`,
        model: JSON.stringify(config),
      });
      console.log(
        `${o.out}: ${f.count} images, cls and mean features of ${f.dim}, labels (${set.classes} classes)`,
      );
      return 0;
    }),
});
