// stream.test.ts: the sequential init stream: its counter layout, determinism per (seed, stream),
// and the moments of uniform() and normal().
import assert from 'node:assert/strict';
import { philox4x32 } from '../../src/rng/philox.js';
import { PhiloxStream } from '../../src/rng/stream.js';

describe('PhiloxStream', () => {
  it('reads blocks [b, 0, 0, stream] under the seed key, four words each', () => {
    const s = new PhiloxStream(0x100000002, 7);
    const want = [...philox4x32([0, 0, 0, 7], [2, 1]), ...philox4x32([1, 0, 0, 7], [2, 1])];
    const got = Array.from({ length: 8 }, () => s.nextU32());
    assert.deepEqual(got, want);
  });

  it('makes uniform() from 27 + 26 bits of two words', () => {
    const s = new PhiloxStream(3, 1);
    const w = philox4x32([0, 0, 0, 1], [3, 0]);
    assert.equal(s.uniform(), ((w[0] >>> 5) * 2 ** 26 + (w[1] >>> 6)) / 2 ** 53);
  });

  it('makes normal() pairs by Box-Muller', () => {
    const a = new PhiloxStream(3, 1);
    const b = new PhiloxStream(3, 1);
    const u1 = b.uniform();
    const u2 = b.uniform();
    const r = Math.sqrt(-2 * Math.log(1 - u1));
    assert.equal(a.normal(), r * Math.cos(2 * Math.PI * u2));
    assert.equal(a.normal(), r * Math.sin(2 * Math.PI * u2));
  });

  it('is deterministic per (seed, stream) and differs between them', () => {
    const draw = (seed: bigint | number, stream: number) => {
      const s = new PhiloxStream(seed, stream);
      return Array.from({ length: 6 }, () => s.normal());
    };
    assert.deepEqual(draw(5, 2), draw(5n, 2));
    assert.notDeepEqual(draw(5, 2), draw(5, 3));
    assert.notDeepEqual(draw(5, 2), draw(6, 2));
  });

  it('has the right moments', () => {
    const s = new PhiloxStream(11, 0);
    const n = 40000;
    let su = 0;
    let sn = 0;
    let sn2 = 0;
    for (let i = 0; i < n; i++) {
      const u = s.uniform();
      assert.ok(u >= 0 && u < 1);
      su += u;
      const z = s.normal();
      sn += z;
      sn2 += z * z;
    }
    assert.ok(Math.abs(su / n - 0.5) < 0.01, `uniform mean ${su / n}`);
    assert.ok(Math.abs(sn / n) < 0.02, `normal mean ${sn / n}`);
    assert.ok(Math.abs(sn2 / n - 1) < 0.03, `normal variance ${sn2 / n}`);
  });
});
