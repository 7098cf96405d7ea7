// model.test.ts: the model config schema (messages of each refinement), derived sizes, presets and
// the parity fixture's config.json.
import assert from 'node:assert/strict';
import {
  gridSize,
  lenKeep,
  lenKeepFor,
  MaeConfigSchema,
  mlpHidden,
  numPatches,
  parseMaeConfig,
  parseParityConfig,
  patchDim,
  preset,
  presetNames,
  presets,
  readParityConfig,
} from '../../src/config/index.js';
import { FIXTURE_MODEL, requireParityDir } from './parity_fixture.js';

const valid = FIXTURE_MODEL;

function messages(value: unknown): string {
  const r = MaeConfigSchema.safeParse(value);
  assert.equal(r.success, false, 'expected the config to be rejected');
  return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}

describe('MaeConfigSchema', () => {
  it('accepts a valid config and defaults layer_norm_eps to 1e-6', () => {
    const c = parseMaeConfig(valid);
    assert.equal(c.layer_norm_eps, 1e-6);
    assert.equal(numPatches(c), 16);
    assert.equal(gridSize(c), 4);
    assert.equal(lenKeep(c), 4);
    assert.equal(patchDim(c), 192);
    assert.equal(mlpHidden(c, 64), 256);
  });

  it('accepts any channel count >= 1', () => {
    assert.equal(parseMaeConfig({ ...valid, in_chans: 1 }).in_chans, 1);
    assert.equal(parseMaeConfig({ ...valid, in_chans: 7 }).in_chans, 7);
    assert.match(messages({ ...valid, in_chans: 0 }), /in_chans/);
  });

  it('explains each violated constraint', () => {
    assert.match(messages({ ...valid, patch_size: 5 }), /img_size 32 is not divisible by patch_size 5/);
    assert.match(messages({ ...valid, num_heads: 3 }), /embed_dim 64 is not divisible by num_heads 3/);
    assert.match(
      messages({ ...valid, decoder_num_heads: 3 }),
      /decoder_embed_dim 32 is not divisible by decoder_num_heads 3/,
    );
    assert.match(messages({ ...valid, embed_dim: 66, num_heads: 2 }), /embed_dim 66 must be divisible by 4/);
    assert.match(
      messages({ ...valid, decoder_embed_dim: 30, decoder_num_heads: 2 }),
      /decoder_embed_dim 30 must be divisible by 4/,
    );
    assert.match(messages({ ...valid, mask_ratio: 1 }), /mask_ratio must be below 1/);
    assert.match(messages({ ...valid, mask_ratio: -0.1 }), /mask_ratio/);
    assert.match(messages({ ...valid, mask_ratio: 0.95 }), /keeps int\(16 \* \(1 - 0.95\)\) = 0 patches/);
    assert.match(messages({ ...valid, extra: 1 }), /extra/);
    assert.match(messages({ ...valid, depth: 1.5 }), /depth/);
  });

  it('accepts mask_ratio 0 (everything kept)', () => {
    assert.equal(lenKeep(parseMaeConfig({ ...valid, mask_ratio: 0 })), 16);
  });
});

describe('lenKeepFor', () => {
  it("computes python's int(L * (1 - mask_ratio)) in doubles", () => {
    assert.equal(lenKeepFor(196, 0.75), 49);
    assert.equal(lenKeepFor(256, 0.75), 64);
    assert.equal(lenKeepFor(49, 0.75), 12);
    assert.equal(lenKeepFor(16, 0.75), 4);
    // 1 - 0.9 = 0.09999999999999998, so python gives int(0.9999999999999998) = 0, not 1
    assert.equal(lenKeepFor(10, 0.9), 0);
    // 1 - 0.7 = 0.30000000000000004: 3.0000000000000004 -> 3
    assert.equal(lenKeepFor(10, 0.7), 3);
    // 1 - 0.6 = 0.4: 196 * 0.4 = 78.4 -> 78
    assert.equal(lenKeepFor(196, 0.6), 78);
  });
});

describe('presets', () => {
  it('match the official architectures', () => {
    const b = presets.mae_vit_base_patch16;
    assert.deepEqual(
      [b.img_size, b.patch_size, b.in_chans, b.embed_dim, b.depth, b.num_heads],
      [224, 16, 3, 768, 12, 12],
    );
    const l = presets.mae_vit_large_patch16;
    assert.deepEqual([l.patch_size, l.embed_dim, l.depth, l.num_heads], [16, 1024, 24, 16]);
    const h = presets.mae_vit_huge_patch14;
    assert.deepEqual([h.patch_size, h.embed_dim, h.depth, h.num_heads], [14, 1280, 32, 16]);
    for (const c of [b, l, h]) {
      assert.deepEqual(
        [c.decoder_embed_dim, c.decoder_depth, c.decoder_num_heads, c.mlp_ratio, c.layer_norm_eps],
        [512, 8, 16, 4, 1e-6],
      );
    }
    assert.equal(numPatches(b), 196);
    assert.equal(lenKeep(b), 49);
    assert.equal(numPatches(h), 256);
  });

  it('include tiny 28x28 grey and 32x32 RGB models', () => {
    assert.deepEqual([presets.mae_tiny_28.img_size, presets.mae_tiny_28.in_chans], [28, 1]);
    assert.equal(numPatches(presets.mae_tiny_28), 49);
    assert.equal(lenKeep(presets.mae_tiny_28), 12);
    assert.deepEqual([presets.mae_tiny_32.img_size, presets.mae_tiny_32.in_chans], [32, 3]);
    assert.equal(numPatches(presets.mae_tiny_32), 64);
  });

  it('are all valid, frozen, and copied with overrides', () => {
    assert.deepEqual(presetNames.sort(), [
      'mae_tiny_28',
      'mae_tiny_32',
      'mae_tiny_32_h64',
      'mae_vit_base_patch16',
      'mae_vit_huge_patch14',
      'mae_vit_large_patch16',
    ]);
    for (const name of presetNames) assert.deepEqual(parseMaeConfig(presets[name]), presets[name]);
    assert.ok(Object.isFrozen(presets.mae_tiny_32));
    const c = preset('mae_tiny_32', { norm_pix_loss: true });
    assert.equal(c.norm_pix_loss, true);
    assert.equal(presets.mae_tiny_32.norm_pix_loss, false);
    assert.throws(() => preset('mae_tiny_32', { patch_size: 5 }), /not divisible by patch_size 5/);
  });
});

describe('parity config', () => {
  it('reads the fixture config.json', function () {
    const dir = requireParityDir(this);
    const p = readParityConfig(dir);
    assert.deepEqual(p.model, parseMaeConfig({ ...valid, layer_norm_eps: 1e-6 }));
    assert.deepEqual(
      [p.steps, p.lr, p.weightDecay, p.batch, p.betas, p.eps],
      [3, 0.001, 0.05, 4, [0.9, 0.95], 1e-8],
    );
    assert.deepEqual(readParityConfig(`${dir}/config.json`), p);
  });

  it('rejects a config.json without the step settings', () => {
    assert.throws(() => parseParityConfig(valid), /steps/);
  });
});
