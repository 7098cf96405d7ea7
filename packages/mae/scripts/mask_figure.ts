// mask_figure.ts: docs/ABLATIONS.md's picture of each mask sampling strategy on one image:
//   cd packages/mae && node --import tsx scripts/mask_figure.ts [--image PATH] [--out PATH]
//     [--size 224] [--patch 16] [--mask-ratio 0.75] [--seed 0]
// The image (default: skimage's chelsea.png, Debian's python3-skimage) is resized and centre
// cropped as the center-crop augmentation does; each strategy's mask is that of row 0 at step 0
// of the run's masking noise for --seed (src/masking/sampling.ts); the figure is the image, then
// random, block and grid (grid always at 0.75: the only ratio it has).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decodeAugment } from '../src/data/augment/augment.js';
import { AUGMENT_PLANS } from '../src/data/augment/modes.js';
import { GRID_MASK_RATIO } from '../src/masking/grid.js';
import { randomMasking } from '../src/masking/random_masking.js';
import { MASK_SAMPLINGS, maskScores } from '../src/masking/sampling.js';
import { maskFigure } from '../src/viz/masks.js';
import { encodePng } from '../src/viz/png.js';

const { values: o } = parseArgs({
  options: {
    image: { type: 'string', default: '/usr/lib/python3/dist-packages/skimage/data/chelsea.png' },
    out: { type: 'string', default: 'mask_sampling.png' },
    size: { type: 'string', default: '224' },
    patch: { type: 'string', default: '16' },
    'mask-ratio': { type: 'string', default: '0.75' },
    seed: { type: 'string', default: '0' },
  },
});
const [size, patch, ratio, seed] = [Number(o.size), Number(o.patch), Number(o['mask-ratio']), Number(o.seed)];
const side = size / patch;
if (!Number.isInteger(side)) throw new Error(`--size ${size} is not a multiple of --patch ${patch}`);
const { crop, flip } = AUGMENT_PLANS['center-crop'];
const rgb = await decodeAugment(
  { kind: 'encoded', bytes: new Uint8Array(readFileSync(o.image)), name: o.image },
  { inputSize: size, channels: 3, scale: [1, 1], ratio: [1, 1], crop, flip, maxPixels: 1 << 28 },
  seed,
  0,
  0,
);
const masks = MASK_SAMPLINGS.map((sampling) => {
  const maskRatio = sampling === 'grid' ? GRID_MASK_RATIO : ratio;
  const scores = maskScores({ sampling, seed, step: 0, N: 1, side, maskRatio });
  return randomMasking(scores, 1, side * side, maskRatio).mask;
});
writeFileSync(o.out, encodePng(maskFigure({ rgb, size, patch, masks })));
console.log(
  `${o.out}: ${['image', ...MASK_SAMPLINGS].join(', ')} (${size}x${size}, ${patch}-pixel patches, ratio ${ratio})`,
);
