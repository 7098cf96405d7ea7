// head.test.ts: the probe head's step (the generated ops on the CPU) against the same step written
// out in f64: BatchNorm1d in train mode, the linear layer, the cross-entropy's gradient and
// util/lars.py's update (the weight adapted, the bias not), and the running statistics. With
// accum_iter the loss is divided and the gradients summed: a window of the same features twice at
// accum_iter 2 moves the weight and bias to exactly the bits of one step on them (halving is
// exact), while the running statistics move once per iteration, as BatchNorm1d's do.
import assert from 'node:assert/strict';
import { Tensor } from '@mae-cuda/native';
import { LARS_MOMENTUM, LARS_TRUST_COEFFICIENT, PROBE_BN_EPS, ProbeHead } from '../../src/linprobe/head.js';

describe('ProbeHead', () => {
  it('takes the step of BatchNorm1d + Linear + cross-entropy + LARS', async () => {
    const [B, D, K, lr] = [6, 4, 3, 0.5];
    const x = Array.from({ length: B * D }, (_, i) => Math.sin(i * 1.7) * 2 + (i % D));
    const y = [0, 1, 2, 2, 1, 0];
    const head = new ProbeHead(D, K, 1, 'cpu');
    const w0 = await head.weight.toFloat32Array();
    const loss = await head.trainStep(
      Tensor.fromArray('f32', [B, D], x),
      Tensor.fromArray('i64', [B], y),
      lr,
      0,
    );
    // f64: xn, logits, softmax, grads
    const xn: number[] = new Array(B * D);
    for (let d = 0; d < D; d++) {
      const col = Array.from({ length: B }, (_, n) => x[n * D + d]!);
      const m = col.reduce((a, b) => a + b, 0) / B;
      const v = col.reduce((a, b) => a + (b - m) ** 2, 0) / B;
      for (let n = 0; n < B; n++) xn[n * D + d] = (col[n]! - m) / Math.sqrt(v + PROBE_BN_EPS);
    }
    const dW = new Array(K * D).fill(0);
    const dB = new Array(K).fill(0);
    let want = 0;
    for (let n = 0; n < B; n++) {
      const z = Array.from({ length: K }, (_, k) => {
        let s = 0; // bias 0
        for (let d = 0; d < D; d++) s += w0[k * D + d]! * xn[n * D + d]!;
        return s;
      });
      const mx = Math.max(...z);
      const lse = mx + Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0));
      want += (lse - z[y[n]!]!) / B;
      for (let k = 0; k < K; k++) {
        const g = (Math.exp(z[k]! - lse) - (k === y[n] ? 1 : 0)) / B;
        dB[k] += g;
        for (let d = 0; d < D; d++) dW[k * D + d] += g * xn[n * D + d]!;
      }
    }
    assert.ok(Math.abs(loss - want) < 1e-5, `loss ${loss} vs ${want}`);
    const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));
    const q = (LARS_TRUST_COEFFICIENT * norm(w0)) / norm(dW);
    const w1 = await head.weight.toFloat32Array();
    const b1 = await head.bias.toFloat32Array();
    for (let i = 0; i < K * D; i++) {
      const expect = w0[i]! - lr * dW[i]! * q; // mu = 0 * momentum + d
      assert.ok(Math.abs(w1[i]! - expect) < 1e-6, `weight[${i}] ${w1[i]} vs ${expect}`);
    }
    for (let k = 0; k < K; k++) assert.ok(Math.abs(b1[k]! + lr * dB[k]!) < 1e-6, `bias[${k}]`);
    assert.ok(LARS_MOMENTUM === 0.9);
    const rv = await head.runningVar.toFloat32Array();
    assert.ok(rv.every((v) => Number.isFinite(v) && v > 0.9));
  });

  it('accum_iter 2 on the same features twice: the weights of one step, the statistics moved twice', async () => {
    const [B, D, K, lr, wd] = [6, 4, 3, 0.5, 0.01];
    const x = Tensor.fromArray(
      'f32',
      [B, D],
      Array.from({ length: B * D }, (_, i) => Math.cos(i * 0.9) * 3 + (i % D)),
    );
    const y = Tensor.fromArray('i64', [B], [2, 1, 0, 0, 1, 2]);
    const two = new ProbeHead(D, K, 1, 'cpu');
    const losses = [await two.accumulate(x, y, 0, 0.5), await two.accumulate(x, y, 1, 0.5)];
    two.update(lr, wd);
    const one = new ProbeHead(D, K, 1, 'cpu');
    const loss = await one.trainStep(x, y, lr, wd);
    assert.deepEqual(losses, [loss, loss], 'the reported loss is the undivided one');
    const [a, b] = [await two.state(), await one.state()];
    assert.deepEqual([a.weight, a.bias], [b.weight, b.bias]);
    assert.notDeepEqual(a.running_mean, b.running_mean);
    for (let d = 0; d < D; d++) {
      const m = b.running_mean[d]! / 0.1; // the batch mean, after one move from 0
      assert.ok(Math.abs(a.running_mean[d]! - m * (1 - 0.9 * 0.9)) < 1e-5, `running_mean[${d}]`);
    }
  });
});
