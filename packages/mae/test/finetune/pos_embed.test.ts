// pos_embed.test.ts: interpolate_pos_embed against PyTorch (F.interpolate bicubic, align_corners
// False; test/fixtures/classifier/pos_embed.safetensors): up from a 3x3 grid to 5x5 and down from
// 4x4 to 2x2, the cls row kept; the same grid gives the same rows.
import assert from 'node:assert/strict';
import { float32 } from '../../src/convert/float.js';
import { interpolatePosEmbed } from '../../src/finetune/pos_embed.js';
import { readSafetensors } from '../../src/io/safetensors.js';

const FIXTURE = new URL('../fixtures/classifier/pos_embed.safetensors', import.meta.url).pathname;

describe('interpolatePosEmbed', () => {
  for (const [G, g] of [
    [3, 5],
    [4, 2],
  ] as const)
    it(`resizes a ${G}x${G} grid to ${g}x${g} as torch's bicubic interpolate`, async () => {
      const { tensors } = await readSafetensors(FIXTURE);
      const src = tensors.get(`in.${G}_${g}`)!;
      const want = float32(tensors.get(`out.${G}_${g}`)!, 'out');
      const D = src.shape[2]!;
      const got = interpolatePosEmbed(float32(src, 'in'), D, G, g);
      assert.equal(got.length, want.length);
      for (let i = 0; i < got.length; i++)
        assert.ok(Math.abs(got[i]! - want[i]!) <= 2e-6, `[${i}]: ${got[i]} vs torch ${want[i]}`);
      assert.deepEqual([...got.subarray(0, D)], [...float32(src, 'in').subarray(0, D)]);
    });

  it('keeps the rows when the grid is the same', () => {
    const pos = Float32Array.from({ length: 10 * 4 }, (_, i) => Math.sin(i));
    assert.deepEqual(interpolatePosEmbed(pos, 4, 3, 3), pos);
  });
});
