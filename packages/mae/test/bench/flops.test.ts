// The FLOP count against a hand count for ViT-B/16 (the guide's ~58 GFLOP per image and step) and
// a tiny model; the encoder on all tokens with encoder_mask_token; the sample quantiles of the
// timing.
import assert from 'node:assert/strict';
import { blockFlops, stepFlops } from '../../src/bench/flops.js';
import { spread } from '../../src/bench/run.js';
import { preset } from '../../src/config/presets.js';

describe('stepFlops', () => {
  it('mae_vit_base_patch16: about 58.7 GFLOP per image and step', () => {
    const f = stepFlops(preset('mae_vit_base_patch16'));
    // encoder: 12 blocks on 50 tokens of 768; decoder: 8 blocks on 197 tokens of 512
    const enc = 12 * (2 * 50 * 768 * (4 * 768 + 2 * 3072) + 4 * 50 * 50 * 768);
    const dec = 8 * (2 * 197 * 512 * (4 * 512 + 2 * 2048) + 4 * 197 * 197 * 512);
    const rest = 2 * 196 * 768 * 768 + 2 * 50 * 768 * 512 + 2 * 197 * 512 * 768;
    assert.equal(f.forward, enc + dec + rest);
    assert.equal(f.step, 3 * f.forward);
    assert.ok(Math.abs(f.step / 1e9 - 58.7) < 0.1, `${f.step / 1e9}`);
  });
  it('encoder_mask_token: the encoder and the decoder embedding on all 197 tokens (Table 1c)', () => {
    const base = preset('mae_vit_base_patch16');
    const f = stepFlops({ ...base, encoder_mask_token: true });
    const skip = stepFlops(base);
    const enc = 12 * (2 * 197 * 768 * (4 * 768 + 2 * 3072) + 4 * 197 * 197 * 768);
    assert.equal(f.parts.encoder, enc);
    assert.equal(f.parts.decoderEmbed, 2 * 197 * 768 * 512);
    for (const k of ['patchEmbed', 'decoder', 'head'] as const) assert.equal(f.parts[k], skip.parts[k], k);
    // what skipping the mask tokens saves: the step 2.35x (138.0 GFLOP per image), the encoder 4.06x
    assert.ok(Math.abs(f.step / 1e9 - 137.96) < 0.01, `${f.step / 1e9}`);
    assert.ok(Math.abs(f.parts.encoder / skip.parts.encoder - 4.06) < 0.01);
  });
  it('one block: qkv, proj, MLP and both attention products', () => {
    assert.equal(blockFlops(3, 4, 16), 2 * 3 * 4 * (12 + 4 + 32) + 4 * 9 * 4);
  });
});

describe('spread', () => {
  it('gives the median and quartiles', () => {
    assert.deepEqual(spread([5, 1, 3]), { median: 3, min: 1, max: 5, p25: 2, p75: 4 });
    assert.equal(spread([1, 2, 3, 4]).median, 2.5);
    assert.throws(() => spread([]), /no values/);
  });
});
