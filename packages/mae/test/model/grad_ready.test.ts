// backward's onReady: every trainable gradient is announced exactly once, at a point where it
// already holds its final value (what lets a data-parallel step all-reduce it early), in both
// precision plans (and with the encoder's mask token); the gradients equal those of a backward
// without the hook, bit for bit.
import assert from 'node:assert/strict';
import { Tensor } from '@mae-cuda/native';
import { type MaeConfig, numPatches } from '../../src/config/model.js';
import { preset } from '../../src/config/presets.js';
import { paramGroups } from '../../src/init/param_groups.js';
import { initialState } from '../../src/init/state.js';
import { randomMasking } from '../../src/masking/random_masking.js';
import { MaskedAutoencoder } from '../../src/model/mae.js';
import { ParamStore } from '../../src/model/params.js';
import { batchNoise } from '../../src/rng/noise.js';
import { syntheticImages } from '../../src/train/step_check.js';

const official = preset('mae_tiny_28', { depth: 2, decoder_depth: 2 });
const B = 3;

async function backward(precision: 'f32' | 'bf16', hook: boolean, model: MaeConfig) {
  const params = new ParamStore(initialState(model, 5), 'cpu');
  const m = new MaskedAutoencoder(model, params, precision);
  const L = numPatches(model);
  await m.forward(
    Tensor.fromArray('f32', [B, 1, 28, 28], syntheticImages(model, B, 5)),
    randomMasking(batchNoise(5, 0, 0, B, L), B, L, model.mask_ratio),
  );
  const snapshots = new Map<string, Float32Array>();
  const order: string[][] = [];
  m.backward(
    1,
    hook
      ? (names) => {
          order.push([...names]);
          for (const n of names) {
            assert.ok(!snapshots.has(n), `${n} announced twice`);
            snapshots.set(n, params.grad(n).toArraySync() as Float32Array);
          }
        }
      : undefined,
  );
  return { params, snapshots, order, grads: params.flatGrads.toArraySync() as Float32Array };
}

describe('backward onReady', () => {
  for (const [precision, model] of [
    ['f32', official],
    ['bf16', official],
    ['f32', { ...official, encoder_mask_token: true }],
  ] as const)
    it(`announces each trainable gradient once, already final (${precision}${model.encoder_mask_token ? ', encoder_mask_token' : ''})`, async () => {
      const a = await backward(precision, true, model);
      const b = await backward(precision, false, model);
      const trainable = paramGroups(
        [...a.params.values].map(([n, t]) => [n, { shape: t.shape }] as const),
      ).trainable;
      assert.deepEqual([...a.snapshots.keys()].sort(), [...trainable].sort());
      for (const [n, snap] of a.snapshots)
        assert.deepEqual(snap, a.params.grad(n).toArraySync(), `${n} changed after`);
      assert.deepEqual(a.grads, b.grads, 'the hook changes no gradient');
      // the decoder head first, the patch embedding last (the backward's order)
      assert.ok(
        a.order[0]!.every((n) => /^decoder_(pred|norm)\./.test(n)),
        a.order[0]!.join(),
      );
      assert.ok(a.order.at(-1)!.every((n) => n.startsWith('patch_embed.')));
    });
});
