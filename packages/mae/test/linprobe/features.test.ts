// features.test.ts: the probe's features: with the cls token, the cls row of the encoder after its
// final norm (as knn's); with global pooling, the mean of the patch rows *before* the final norm
// through fc_norm (LayerNorm, eps 1e-6, weight 1, bias 0), written out here in f64 (encode(imgs,
// false) skips the final norm).
import assert from 'node:assert/strict';
import { Tensor } from '@mae-cuda/native';
import { preset } from '../../src/config/presets.js';
import { randomInitModel } from '../../src/eval/model.js';
import { FC_NORM_EPS, probeFeatures } from '../../src/linprobe/features.js';
import { PhiloxStream } from '../../src/rng/stream.js';

const mc = preset('mae_tiny_28');
const rng = new PhiloxStream(9, 1);
const N = 2;
const x = Tensor.fromArray(
  'f32',
  [N, 1, 28, 28],
  Float32Array.from({ length: N * 784 }, () => rng.uniform()),
);

describe('linear probe features', () => {
  const model = randomInitModel(mc, 3, 'cpu');
  const D = mc.embed_dim;

  it('cls: the cls row after the final norm', async () => {
    const normed = await model.encode(x).toFloat32Array();
    const f = await (await probeFeatures(model, x, 'cls')).toFloat32Array();
    const T = normed.length / (N * D);
    for (let n = 0; n < N; n++)
      assert.deepEqual(f.subarray(n * D, (n + 1) * D), normed.subarray(n * T * D, n * T * D + D));
  });

  it('global: fc_norm of the mean of the patch rows before the final norm', async () => {
    const raw = await model.encode(x, false).toFloat32Array();
    const f = await (await probeFeatures(model, x, 'global')).toFloat32Array();
    const T = raw.length / (N * D);
    for (let n = 0; n < N; n++) {
      const m = Array.from({ length: D }, (_, j) => {
        let s = 0;
        for (let t = 1; t < T; t++) s += raw[(n * T + t) * D + j]!;
        return s / (T - 1);
      });
      const mu = m.reduce((a, b) => a + b, 0) / D;
      const v = m.reduce((a, b) => a + (b - mu) ** 2, 0) / D;
      for (let j = 0; j < D; j++) {
        const want = (m[j]! - mu) / Math.sqrt(v + FC_NORM_EPS);
        assert.ok(Math.abs(f[n * D + j]! - want) < 1e-5, `[${n}, ${j}] ${f[n * D + j]} vs ${want}`);
      }
    }
    assert.notDeepEqual(
      raw,
      await model.encode(x).toFloat32Array(),
      'encode(imgs, false) skips the final norm',
    );
  });
});
