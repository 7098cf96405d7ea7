// adamw.test.ts: the reference semantics of the flat AdamW ops against hand-written torch.optim.AdamW
// math in f64 (so the kernels, checked against the reference, are checked against torch's rule):
// decay on exactly the rows below decay_rows, lr and bias corrections from hyper, the bf16 form
// equal to the f32 one, and adamw_hyper_forward's table walk with its clamp.
import assert from 'node:assert/strict';
import { getOp } from '../../src/ops/index.js';
import { evaluateOp } from '../../src/reference/interp.js';
import { rand } from './values.js';

/** torch.optim.AdamW's step on one element (lerp form of the first moment). */
function torchAdamW(p: number, g: number, m: number, v: number, lr: number, wd: number, t: number) {
  const [b1, b2, eps] = [0.9, 0.95, 1e-8];
  const m2 = m + (g - m) * (1 - b1);
  const v2 = v * b2 + g * g * (1 - b2);
  const bc1 = 1 - b1 ** t;
  const bc2 = 1 - b2 ** t;
  const p2 = p * (1 - lr * wd) - (lr / bc1) * (m2 / (Math.sqrt(v2) / Math.sqrt(bc2) + eps));
  return [p2, m2, v2] as const;
}

describe('flat AdamW reference', () => {
  const [R, C, t, lr] = [4, 5, 7, 3e-3];
  const n = R * C;
  const inputs = {
    p: { shape: [R, C], data: rand(n, 1) },
    g: { shape: [R, C], data: rand(n, 2) },
    m: { shape: [R, C], data: rand(n, 3, -0.1, 0.1) },
    v: { shape: [R, C], data: rand(n, 4, 0, 0.01) },
    hyper: { shape: [3], data: [lr, 1 - 0.9 ** t, 1 - 0.95 ** t] },
  };
  const params = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1 };

  for (const decayRows of [0, 1, 3, 4])
    it(`is torch's AdamW with weight decay on rows < ${decayRows}`, () => {
      const out = evaluateOp(getOp('adamw_flat_forward'), inputs, { ...params, decay_rows: decayRows });
      for (let i = 0; i < n; i++) {
        const wd = Math.floor(i / C) < decayRows ? 0.1 : 0;
        const [p, m, v] = torchAdamW(
          inputs.p.data[i]!,
          inputs.g.data[i]!,
          inputs.m.data[i]!,
          inputs.v.data[i]!,
          lr,
          wd,
          t,
        );
        for (const [name, want] of [
          ['p_out', p],
          ['m_out', m],
          ['v_out', v],
        ] as const)
          assert.ok(Math.abs(out[name]!.data[i]! - want) <= 1e-14 * (1 + Math.abs(want)), `${name}[${i}]`);
      }
    });

  it('writes the same parameters to p_bf16 in the bf16 form', () => {
    const a = evaluateOp(getOp('adamw_flat_forward'), inputs, { ...params, decay_rows: 2 });
    const b = evaluateOp(getOp('adamw_flat_bf16_forward'), inputs, { ...params, decay_rows: 2 });
    assert.deepEqual(b.p_out!.data, a.p_out!.data);
    assert.deepEqual(b.p_bf16!.data, a.p_out!.data);
  });

  it('adamw_hyper_forward reads the step row, clamped, and counts', () => {
    const table = { shape: [3, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9] };
    for (const [step, row] of [
      [0, 0],
      [1, 1],
      [2, 2],
      [5, 2],
      [-1, 0],
    ] as const) {
      const out = evaluateOp(getOp('adamw_hyper_forward'), { table, step: { shape: [1], data: [step] } });
      assert.deepEqual([...out.hyper_out!.data], table.data.slice(3 * row, 3 * row + 3), `step ${step}`);
      assert.deepEqual([...out.step_out!.data], [step + 1]);
    }
  });
});
