// config.test.ts: the run settings: defaults for the short MNIST run, the model they resolve to,
// and refusals that name the field.
import assert from 'node:assert/strict';
import { presets } from '../../src/config/presets.js';
import { checkPretrainConfig } from '../../src/train/config.js';

const fields = (v: unknown) => checkPretrainConfig(v).issues.map((i) => i.field);

describe('checkPretrainConfig', () => {
  it('defaults to mae_tiny_28 with the normalised-pixel loss on MNIST for a short run', () => {
    const r = checkPretrainConfig({});
    assert.ok(r.config && r.model);
    assert.equal(r.config.model, 'mae_tiny_28');
    assert.equal(r.config.data, 'mnist');
    assert.equal(r.config.output_dir, 'runs/pretrain');
    assert.equal(r.config.device, 'cpu');
    assert.deepEqual([r.config.epochs, r.config.norm_pix_loss, r.config.eval], [10, true, 'auto']);
    assert.deepEqual(r.model, { ...presets.mae_tiny_28, norm_pix_loss: true });
    assert.equal(checkPretrainConfig({ norm_pix_loss: false }).model!.norm_pix_loss, false);
  });

  it('overrides the preset with input size, mask ratio, loss and architecture fields', () => {
    const r = checkPretrainConfig({
      input_size: 32,
      mask_ratio: 0.5,
      norm_pix_loss: true,
      embed_dim: 32,
      num_heads: 2,
    });
    assert.equal(r.model!.img_size, 32);
    assert.equal(r.model!.mask_ratio, 0.5);
    assert.equal(r.model!.norm_pix_loss, true);
    assert.equal(r.model!.embed_dim, 32);
    assert.equal(r.model!.num_heads, 2);
  });

  it('mask_sampling: random by default; block and grid accepted; grid only at mask_ratio 0.75', () => {
    assert.equal(checkPretrainConfig({}).config!.mask_sampling, 'random');
    assert.equal(
      checkPretrainConfig({ mask_sampling: 'block', mask_ratio: 0.6 }).config!.mask_sampling,
      'block',
    );
    assert.equal(checkPretrainConfig({ mask_sampling: 'grid' }).config!.mask_sampling, 'grid');
    const r = checkPretrainConfig({ mask_sampling: 'grid', mask_ratio: 0.6 });
    assert.deepEqual(fields({ mask_sampling: 'grid', mask_ratio: 0.6 }), ['mask_sampling']);
    assert.match(r.issues[0]!.message, /one patch of every 2x2.*--mask-ratio is 0\.6/);
    assert.deepEqual(fields({ mask_sampling: 'blocks' }), ['mask_sampling']);
  });

  it('refuses bad values naming the field', () => {
    assert.deepEqual(fields({ mask_ratio: 1 }), ['mask_ratio']);
    assert.deepEqual(fields({ mask_ratio: 0 }), ['mask_ratio']);
    assert.deepEqual(fields({ input_size: 30 }), ['input_size']);
    assert.deepEqual(fields({ input_size: 30, patch_size: 4 }), ['patch_size']);
    assert.deepEqual(new Set(fields({ embed_dim: 62 })), new Set(['embed_dim']));
    assert.deepEqual(fields({ num_heads: 5 }), ['num_heads']);
    assert.deepEqual(fields({ batch_size: 0 }), ['batch_size']);
    assert.deepEqual(fields({ accum_iter: 1.5 }), ['accum_iter']);
    assert.deepEqual(fields({ epochs: 2, warmup_epochs: 2 }), ['warmup_epochs']);
    assert.deepEqual(fields({ model: 'vit_giant' }), ['model']);
    assert.deepEqual(fields({ device: 'tpu' }), ['device']);
    assert.deepEqual(fields({ colour: 'red' }), ['colour']);
    assert.match(
      checkPretrainConfig({ input_size: 30 }).issues[0]!.message,
      /img_size 30 is not divisible by patch_size 4/,
    );
  });
});
