// Whole-model gradient check: on a tiny config in f64 (same code as f32, the ops dispatching on
// dtype), every parameter's analytic gradient from model.backward() equals central finite
// differences of the loss, for a sample of entries of each parameter tensor; with the encoder's
// mask token (Table 1c) too.
import assert from 'node:assert/strict';
import { Tensor } from '@mae-cuda/native';
import { parseMaeConfig } from '../../src/config/model.js';
import { initialState } from '../../src/init/state.js';
import { randomMasking } from '../../src/masking/random_masking.js';
import { MaskedAutoencoder } from '../../src/model/mae.js';
import { type F32, ParamStore } from '../../src/model/params.js';
import { PhiloxStream } from '../../src/rng/stream.js';

describe('MaskedAutoencoder gradients (f64, finite differences)', () => {
  for (const [normPix, encoderMaskToken] of [
    [true, false],
    [false, false],
    [true, true],
  ])
    it(`match for every parameter (norm_pix_loss ${normPix}, encoder_mask_token ${encoderMaskToken})`, async function () {
      this.timeout(120000);
      const config = parseMaeConfig({
        img_size: 8,
        patch_size: 4,
        in_chans: 2,
        embed_dim: 8,
        depth: 2,
        num_heads: 2,
        decoder_embed_dim: 8,
        decoder_depth: 1,
        decoder_num_heads: 2,
        mlp_ratio: 2,
        norm_pix_loss: normPix,
        mask_ratio: 0.5,
        ...(encoderMaskToken ? { encoder_mask_token: true } : {}),
      });
      const state = initialState(config, 3);
      const rng = new PhiloxStream(11, 5);
      // biases and norms start at 0/1: perturb them so their gradients are exercised generically
      for (const t of state.values())
        for (let i = 0; i < t.data.length; i++) t.data[i]! += 0.1 * (rng.uniform() - 0.5);
      const params = new ParamStore(state, 'cpu', 'f64');
      const model = new MaskedAutoencoder(config, params);
      const N = 3;
      const imgs = Tensor.fromArray(
        'f64',
        [N, 2, 8, 8],
        Float64Array.from({ length: N * 2 * 64 }, () => rng.normal()),
      ) as unknown as F32;
      const noise = Float32Array.from({ length: N * 4 }, () => rng.uniform());
      const masking = randomMasking(noise, N, 4, 0.5);
      const loss = async () => (await model.forward(imgs, masking)).loss;
      await loss();
      model.backward();
      const analytic = new Map<string, Float64Array>();
      for (const [name, g] of params.grads)
        analytic.set(name, (await g.toArray()) as unknown as Float64Array);

      const h = 1e-6;
      let checked = 0;
      for (const [name, p] of params.values) {
        const frozen = name === 'pos_embed' || name === 'decoder_pos_embed';
        const host = (await p.toArray()) as unknown as Float64Array;
        const picks = new Set([0, host.length - 1, Math.floor(rng.uniform() * host.length)]);
        for (const i of picks) {
          const v = host[i]!;
          host[i] = v + h;
          p.handle.copyFromHost(host);
          const lp = await loss();
          host[i] = v - h;
          p.handle.copyFromHost(host);
          const lm = await loss();
          host[i] = v;
          p.handle.copyFromHost(host);
          const fd = (lp - lm) / (2 * h);
          const got = analytic.get(name)![i]!;
          if (frozen) continue; // not trained: its gradient is not computed
          assert.ok(
            Math.abs(got - fd) <= 1e-6 + 1e-5 * Math.abs(fd),
            `${name}[${i}]: backward ${got} vs finite differences ${fd}`,
          );
          checked++;
        }
      }
      assert.ok(checked > 50, `checked ${checked} entries`);
    });
});
