// modes.test.ts: every --aug plan through decodeAugment follows the documented draw order (flip,
// then the crop's draws, then the jitter's) with the parts tested against torchvision elsewhere
// (crop.test.ts, resize_crop.test.ts, jitter.test.ts); rrc-flip is the official transform
// unchanged; raw and losslessly encoded pixels give the same bytes; grey models included.
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { type AugmentConfig, decodeAugment } from '../../../src/data/augment/augment.js';
import { cropParams } from '../../../src/data/augment/crop.js';
import { applyJitter, jitterParams } from '../../../src/data/augment/jitter.js';
import { AUGMENT_PLANS, AUGMENTATIONS, evalResizeSize } from '../../../src/data/augment/modes.js';
import { sampleRandom } from '../../../src/data/augment/random.js';
import { resizeThenCrop } from '../../../src/data/augment/resize_crop.js';
import type { Sample } from '../../../src/data/sources/types.js';

const [W, H, S] = [53, 41, 24];
const rgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 7 + ((i / 3) % W) * 3) & 255);
const raw: Sample = { kind: 'raw', pixels: rgb, width: W, height: H, channels: 3, name: 'raw' };
const BASE: AugmentConfig = {
  inputSize: S,
  channels: 3,
  scale: [0.2, 1],
  ratio: [3 / 4, 4 / 3],
  flip: true,
  maxPixels: 1 << 26,
};
const cfgOf = (aug: (typeof AUGMENTATIONS)[number], channels: 1 | 3 = 3): AugmentConfig => {
  const { crop, flip, jitter } = AUGMENT_PLANS[aug];
  return { ...BASE, channels, flip, crop, jitter };
};

describe('decodeAugment under each --aug plan', () => {
  it('rrc-flip is the official transform (the config without crop or jitter)', async () => {
    for (let index = 0; index < 6; index++)
      assert.deepEqual(
        await decodeAugment(raw, cfgOf('rrc-flip'), 3, 1, index),
        await decodeAugment(raw, BASE, 3, 1, index),
      );
  });

  it('rrc is the official crop without the flip', async () => {
    for (let index = 0; index < 6; index++) {
      const noFlip = await decodeAugment(raw, { ...BASE, flip: false }, 3, 1, index);
      assert.deepEqual(await decodeAugment(raw, cfgOf('rrc'), 3, 1, index), noFlip, `index ${index}`);
    }
  });

  for (const aug of ['fixed-crop', 'center-crop'] as const)
    it(`${aug}: the flip draw, then resize and crop (resize_crop.ts)`, async () => {
      for (let index = 0; index < 6; index++) {
        const u = sampleRandom(5, 0, index);
        const flip = u() < 0.5 && AUGMENT_PLANS[aug].flip;
        const kind = aug === 'fixed-crop' ? 'random' : 'center';
        const want = resizeThenCrop(
          new Uint8Array(S * S * 3),
          rgb,
          W,
          H,
          3,
          { resize: evalResizeSize(S), size: S, kind, flip },
          u,
        );
        assert.deepEqual(await decodeAugment(raw, cfgOf(aug), 5, 0, index), want, `index ${index}`);
      }
    });

  it('rrc-jitter: rrc-flip, then ColorJitter(0.4, 0.4, 0.4) on the draws after the crop', async () => {
    for (let index = 0; index < 6; index++) {
      const u = sampleRandom(7, 2, index);
      u();
      cropParams(W, H, BASE.scale, BASE.ratio, u);
      const want = applyJitter(await decodeAugment(raw, BASE, 7, 2, index), 3, jitterParams(0.4, u));
      assert.deepEqual(await decodeAugment(raw, cfgOf('rrc-jitter'), 7, 2, index), want, `index ${index}`);
    }
  });

  it('raw and PNG-encoded pixels give the same bytes under every plan, RGB and grey', async () => {
    const png = await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer();
    const encoded: Sample = { kind: 'encoded', bytes: new Uint8Array(png), name: 'a.png' };
    for (const aug of AUGMENTATIONS)
      for (const channels of [3, 1] as const) {
        const cfg = cfgOf(aug, channels);
        const a = await decodeAugment(raw, cfg, 1, 0, 4);
        assert.equal(a.length, S * S * channels);
        assert.deepEqual(await decodeAugment(encoded, cfg, 1, 0, 4), a, `${aug}, ${channels} channels`);
      }
  });

  it('refuses a jitter strength outside [0, 1]', async () => {
    await assert.rejects(decodeAugment(raw, { ...BASE, jitter: 2 }, 1, 0, 0), /jitter must be in \[0, 1\]/);
  });
});
