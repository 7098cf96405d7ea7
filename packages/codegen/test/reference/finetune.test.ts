// finetune.test.ts: the reference semantics of the fine-tuning ops against transcriptions in f64 of
// the code they stand for: timm's drop_path (x.div(keep_prob) * floor(keep_prob + rand)) added to the
// residual, models_vit's pooling (x[:, 0], or x[:, 1:].mean(1)), and timm Mixup's batch mixing
// (_mix_batch: x lam + flip(x) (1 - lam), the cutmix box pasted from the flipped batch) and
// mixup_target (one_hot with smoothing, mixed with the flipped labels'), on odd shapes.
import assert from 'node:assert/strict';
import { getOp } from '../../src/ops/index.js';
import { evaluateOp } from '../../src/reference/interp.js';
import { near, rand } from './values.js';

const t = (shape: number[], data: number[]) => ({ shape, data });

describe('fine-tuning ops reference', () => {
  it('drop_path_forward/backward: timm drop_path per sample on the branch, the residual passed through', () => {
    const [N, M] = [7, 5];
    const [res, br, dout] = [rand(N * M, 1), rand(N * M, 2), rand(N * M, 3)];
    // u at, just below and just above the keep threshold 1 - keep_prob
    const keep = 0.75;
    const u = [0, 0.25, 0.2499, 0.9, 0.1, 0.5, 0.99];
    const r = evaluateOp(
      getOp('drop_path_forward'),
      { residual: t([N, M], res), branch: t([N, M], br), u: t([N], u) },
      { keep_prob: keep },
    );
    const b = evaluateOp(
      getOp('drop_path_backward'),
      { dout: t([N, M], dout), u: t([N], u) },
      { keep_prob: keep },
    );
    let dropped = 0;
    for (let n = 0; n < N; n++) {
      const mask = Math.floor(keep + u[n]!); // random_tensor = keep_prob + rand; floor_()
      dropped += 1 - mask;
      for (let m = 0; m < M; m++) {
        const i = n * M + m;
        near(r.out!.data[i]!, res[i]! + (br[i]! / keep) * mask, `out[${n}, ${m}]`);
        near(b.dbranch!.data[i]!, (dout[i]! / keep) * mask, `dbranch[${n}, ${m}]`);
      }
    }
    assert.equal(dropped, 3); // u = 0, 0.2499, 0.1
  });

  it('drop_path with keep_prob 1 is the plain residual add', () => {
    const [N, M] = [3, 4];
    const [res, br] = [rand(N * M, 4), rand(N * M, 5)];
    const r = evaluateOp(
      getOp('drop_path_forward'),
      { residual: t([N, M], res), branch: t([N, M], br), u: t([N], [0, 0.5, 0.999]) },
      { keep_prob: 1 },
    );
    for (let i = 0; i < N * M; i++) near(r.out!.data[i]!, res[i]! + br[i]!, `out[${i}]`);
  });

  for (const cls of [1, 0])
    it(`token_pool_forward/backward (${cls ? 'the cls token' : 'the global pool without it'})`, () => {
      const [N, T, D] = [3, 5, 7];
      const x = rand(N * T * D, 6);
      const dout = rand(N * D, 7);
      const f = evaluateOp(getOp('token_pool_forward'), { x: t([N, T, D], x) }, { cls });
      const bk = evaluateOp(getOp('token_pool_backward'), { dout: t([N, D], dout) }, { cls }, { T });
      for (let n = 0; n < N; n++)
        for (let d = 0; d < D; d++) {
          let mean = 0;
          for (let s = 1; s < T; s++) mean += x[(n * T + s) * D + d]!;
          near(f.out!.data[n * D + d]!, cls ? x[n * T * D + d]! : mean / (T - 1), `out[${n}, ${d}]`);
          for (let s = 0; s < T; s++) {
            const want = cls ? (s === 0 ? dout[n * D + d]! : 0) : s === 0 ? 0 : dout[n * D + d]! / (T - 1);
            near(bk.dx!.data[(n * T + s) * D + d]!, want, `dx[${n}, ${s}, ${d}]`);
          }
        }
    });

  it("mixup_forward: timm's x.mul_(lam).add_(x.flip(0).mul_(1 - lam)), odd row count (the middle row mixes with itself)", () => {
    const [N, M] = [5, 6];
    const x = rand(N * M, 8);
    const lam = 0.37;
    const r = evaluateOp(getOp('mixup_forward'), { x: t([N, M], x) }, { lam });
    for (let n = 0; n < N; n++)
      for (let m = 0; m < M; m++)
        near(
          r.out!.data[n * M + m]!,
          x[n * M + m]! * lam + x[(N - 1 - n) * M + m]! * (1 - lam),
          `out[${n}, ${m}]`,
        );
  });

  it('cutmix_forward: x[:, :, yl:yh, xl:xh] = x.flip(0)[:, :, yl:yh, xl:xh]', () => {
    const [N, C, H, W] = [4, 3, 5, 6];
    const x = rand(N * C * H * W, 9);
    const box = { yl: 1, yh: 4, xl: 2, xh: 6 };
    const r = evaluateOp(getOp('cutmix_forward'), { x: t([N, C, H, W], x) }, box);
    const want = x.slice();
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        for (let h = box.yl; h < box.yh; h++)
          for (let w = box.xl; w < box.xh; w++) {
            const at = (k: number) => ((k * C + c) * H + h) * W + w;
            want[at(n)] = x[at(N - 1 - n)]!;
          }
    assert.deepEqual([...r.out!.data], want);
  });

  it("mixup_target_forward: timm's mixup_target (one_hot with smoothing, lam with the flipped labels)", () => {
    const [N, K] = [5, 4];
    const labels = [3, 0, 2, 2, 1];
    const [lam, smoothing] = [0.6, 0.1];
    const off = smoothing / K;
    const on = 1 - smoothing + off;
    const r = evaluateOp(
      getOp('mixup_target_forward'),
      { labels: t([N], labels) },
      { lam, on_value: on, off_value: off },
      { K },
    );
    const oneHot = (l: number, k: number) => (k === l ? on : off);
    for (let n = 0; n < N; n++) {
      let mass = 0;
      for (let k = 0; k < K; k++) {
        const v = r.targets!.data[n * K + k]!;
        mass += v;
        near(
          v,
          oneHot(labels[n]!, k) * lam + oneHot(labels[N - 1 - n]!, k) * (1 - lam),
          `targets[${n}, ${k}]`,
        );
      }
      near(mass, 1, `row ${n} sums to 1`);
    }
  });
});
