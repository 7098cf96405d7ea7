// lars.test.ts: the reference semantics of lars_norms_forward + lars_forward against a transcription
// of the official util/lars.py (MoCo v3's LARS) in f64, over several steps: weight decay and the trust
// ratio for a matrix (adapt = 1), neither for a bias (adapt = 0), the ratio 1 when a norm is 0.
import assert from 'node:assert/strict';
import { getOp } from '../../src/ops/index.js';
import { evaluateOp } from '../../src/reference/interp.js';
import { rand } from './values.js';

interface Group {
  lr: number;
  weight_decay: number;
  momentum: number;
  trust_coefficient: number;
}

const norm = (x: number[]) => Math.sqrt(x.reduce((s, v) => s + v * v, 0));

/** util/lars.py's step for one parameter p (ndim its dimensions), mu its state; both updated. */
function officialLarsStep(p: number[], grad: number[], mu: number[], ndim: number, g: Group) {
  let dp = grad.slice();
  if (ndim > 1) {
    dp = dp.map((d, i) => d + g.weight_decay * p[i]!); // dp = dp.add(p, alpha=weight_decay)
    const paramNorm = norm(p);
    const updateNorm = norm(dp);
    const q = paramNorm > 0 ? (updateNorm > 0 ? (g.trust_coefficient * paramNorm) / updateNorm : 1) : 1;
    dp = dp.map((d) => d * q);
  }
  for (let i = 0; i < p.length; i++) {
    mu[i] = mu[i]! * g.momentum + dp[i]!; // mu.mul_(momentum).add_(dp)
    p[i] = p[i]! - g.lr * mu[i]!; // p.add_(mu, alpha=-lr)
  }
}

/** The ops' step: lars_norms_forward, then lars_forward. */
function opLarsStep(p: number[], grad: number[], mu: number[], ndim: number, g: Group) {
  const t = (d: number[]) => ({ shape: [d.length], data: d });
  const { norms } = evaluateOp(getOp('lars_norms_forward'), { p: t(p), g: t(grad) }, { ...g });
  const out = evaluateOp(
    getOp('lars_forward'),
    { p: t(p), g: t(grad), mu: t(mu), norms: { shape: [2], data: [...norms!.data] } },
    { ...g, adapt: ndim > 1 ? 1 : 0 },
  );
  p.splice(0, p.length, ...out.p_out!.data);
  mu.splice(0, mu.length, ...out.mu_out!.data);
}

const close = (a: number[], b: number[], what: string) => {
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-13 * (1 + Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

describe('LARS reference against util/lars.py', () => {
  const groups: Group[] = [
    { lr: 0.1, weight_decay: 0, momentum: 0.9, trust_coefficient: 0.001 },
    { lr: 0.05, weight_decay: 0.3, momentum: 0.9, trust_coefficient: 0.02 },
  ];
  for (const g of groups)
    for (const ndim of [2, 1])
      it(`matches the official step over 5 steps (${ndim === 2 ? 'a matrix' : 'a bias'}, weight decay ${g.weight_decay})`, () => {
        const n = 12;
        const [p1, mu1] = [rand(n, 1), new Array<number>(n).fill(0)];
        const [p2, mu2] = [p1.slice(), mu1.slice()];
        for (let s = 0; s < 5; s++) {
          const grad = rand(n, 10 + s, -0.5, 0.5);
          officialLarsStep(p1, grad, mu1, ndim, g);
          opLarsStep(p2, grad, mu2, ndim, g);
          close(p2, p1, `p step ${s}`);
          close(mu2, mu1, `mu step ${s}`);
        }
      });

  it('takes a trust ratio of 1 when the parameter or the update is zero', () => {
    const g = groups[1]!;
    for (const [p, grad] of [
      [new Array<number>(4).fill(0), rand(4, 3)],
      [new Array<number>(4).fill(0), new Array<number>(4).fill(0)],
    ] as const) {
      const [p1, mu1, p2, mu2] = [p.slice(), [0, 0, 0, 0], p.slice(), [0, 0, 0, 0]];
      officialLarsStep(p1, grad, mu1, 2, g);
      opLarsStep(p2, grad, mu2, 2, g);
      close(p2, p1, 'p');
      close(mu2, mu1, 'mu');
    }
  });
});
