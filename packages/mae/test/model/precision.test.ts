// The bf16 plan against the f32 model on the CPU (whose kernels have bf16 variants too): same
// weights, images and masking; the loss within bf16 rounding, every gradient within a few bf16
// ulps in relative norm, the bf16 weight copies kept equal to the rounded masters by AdamW, and
// LayerNorm statistics and the loss in f32.
import assert from 'node:assert/strict';
import { Tensor } from '@mae-cuda/native';
import { numPatches } from '../../src/config/model.js';
import { preset } from '../../src/config/presets.js';
import { initialState } from '../../src/init/state.js';
import { randomMasking } from '../../src/masking/random_masking.js';
import { MaskedAutoencoder } from '../../src/model/mae.js';
import { ParamStore } from '../../src/model/params.js';
import { resolvePrecision } from '../../src/model/plan.js';
import { AdamW, DEFAULT_ADAMW } from '../../src/optim/adamw.js';
import { batchNoise } from '../../src/rng/noise.js';
import { syntheticImages } from '../../src/train/step_check.js';

const model = preset('mae_tiny_28', { depth: 2, decoder_depth: 1, norm_pix_loss: true });
const B = 6;
const relnorm = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return Math.sqrt(d / Math.max(n, 1e-30));
};

async function run(precision: 'f32' | 'bf16') {
  const params = new ParamStore(initialState(model, 9), 'cpu');
  const m = new MaskedAutoencoder(model, params, precision);
  const L = numPatches(model);
  const imgs = Tensor.fromArray('f32', [B, 1, 28, 28], syntheticImages(model, B, 9));
  const r = await m.forward(imgs, randomMasking(batchNoise(9, 0, 0, B, L), B, L, model.mask_ratio));
  m.backward(1);
  return { loss: r.loss, pred: r.pred, grads: await params.gradsToState(), params, m };
}

describe('precision plan', () => {
  it('auto is bf16 on CUDA and f32 on the CPU', () => {
    assert.equal(resolvePrecision('auto', 'cpu'), 'f32');
    assert.equal(resolvePrecision('auto', 'cuda:1'), 'bf16');
    assert.equal(resolvePrecision('f32', 'cuda'), 'f32');
  });

  it('bf16 forward and backward stay within bf16 rounding of f32', async () => {
    const [a, b] = [await run('f32'), await run('bf16')];
    assert.equal(b.m.computeDType, 'bf16');
    assert.equal(b.pred.dtype, 'f32', 'the prediction is widened for the loss');
    assert.ok(Math.abs(b.loss - a.loss) / a.loss < 2e-2, `loss ${b.loss} vs ${a.loss}`);
    assert.notEqual(b.loss, a.loss, 'the bf16 plan really computes in bf16');
    let checked = 0;
    for (const [name, g] of a.grads) {
      if (name.includes('pos_embed')) continue;
      const e = relnorm(b.grads.get(name)!.data, g.data);
      assert.ok(e < 6e-2, `${name}: relative error ${e.toExponential(2)}`);
      checked++;
    }
    assert.ok(checked > 20);
  });

  it('AdamW writes the bf16 copies with the f32 masters', async () => {
    const b = await run('bf16');
    const o = new AdamW(b.params, DEFAULT_ADAMW);
    o.update(1e-3);
    const masters = await b.params.flatValues.toArray();
    const copies = await b.params.flatBf16!.toFloat32Array();
    const rounded = await Tensor.fromArray('bf16', [masters.length], masters).toFloat32Array();
    assert.deepEqual(copies, rounded);
  });
});
