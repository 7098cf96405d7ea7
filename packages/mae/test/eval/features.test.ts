// features.test.ts: the unmasked encoder (MaskedAutoencoder.encode) equals the forward's latent
// with nothing masked and the patches in order; features are its cls row and patch mean; the model
// of an encoder-only checkpoint gets a random decoder and is refused for reconstructions.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '@mae-cuda/native';
import { preset } from '../../src/config/presets.js';
import { ImageDataset } from '../../src/data/dataset.js';
import { encoderFeatures } from '../../src/eval/features.js';
import { modelFromCheckpoint, randomInitModel } from '../../src/eval/model.js';
import { initialState } from '../../src/init/state.js';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import { maskingFromShuffle } from '../../src/masking/random_masking.js';
import { PhiloxStream } from '../../src/rng/stream.js';

const mc = preset('mae_tiny_28');
const rng = new PhiloxStream(5, 1);
const N = 3;
const pixels = Float32Array.from({ length: N * 28 * 28 }, () => rng.uniform());
const images = new ImageDataset({ name: 't', shape: [1, 28, 28], pixels, mean: [0.1307], std: [0.3081] });

describe('encoder features', () => {
  it('encode equals the forward latent with nothing masked', async () => {
    const all = { ...mc, mask_ratio: 0 };
    const model = randomInitModel(all, 1, 'cpu');
    const x = Tensor.fromArray('f32', [N, 1, 28, 28], pixels);
    const L = 49;
    const identity = Int32Array.from({ length: N * L }, (_, i) => i % L);
    const { latent } = await model.forward(x, maskingFromShuffle(identity, N, L, L));
    assert.deepEqual(await model.encode(x).toFloat32Array(), await latent.toFloat32Array());
  });

  it('features are the cls row and the mean of the patch rows', async () => {
    const model = randomInitModel(mc, 2, 'cpu');
    const f = await encoderFeatures(model, images, 2, 'cpu');
    const latent = await model
      .encode(
        Tensor.fromArray(
          'f32',
          [1, 1, 28, 28],
          (() => {
            const a = new Float32Array(784);
            images.readNormalized(2, a);
            return a;
          })(),
        ),
      )
      .toFloat32Array();
    const D = 64;
    assert.deepEqual(f.cls.subarray(2 * D, 3 * D), latent.subarray(0, D));
    let s = 0;
    for (let t = 1; t <= 49; t++) s += latent[t * D + 5]!;
    assert.ok(Math.abs(f.mean[2 * D + 5]! - s / 49) < 1e-6);
  });

  it('an encoder-only checkpoint: a random decoder for features, refused for reconstructions', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mae-feat-'));
    try {
      const state = initialState(mc, 4);
      const model = Object.fromEntries(
        [...state]
          .filter(([n]) => !/^(mask_token|decoder_)/.test(n))
          .map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: t.data }]),
      );
      const path = join(dir, 'enc.safetensors');
      await saveCheckpoint(path, { model, step: 0, epoch: 0, config: { model: mc } });
      const r = await modelFromCheckpoint(path, { device: 'cpu' });
      assert.equal(r.encoderOnly, true);
      assert.deepEqual(
        await r.model.params.get('blocks.1.mlp.fc1.weight').toFloat32Array(),
        state.get('blocks.1.mlp.fc1.weight')!.data,
      );
      await assert.rejects(
        modelFromCheckpoint(path, { device: 'cpu', decoder: true }),
        /has no decoder \(an encoder-only checkpoint\): reconstructions need one/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
