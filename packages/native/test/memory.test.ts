// memory.test.ts: freeAfter frees what its function created (tensors and views) except what it
// keeps, and untracked lets what a model keeps outlive it; resetPeakMemory restarts the allocator's peak; collectGarbage hands the memory of
// unreachable tensors back to the allocator.
import assert from 'node:assert/strict';
import { collectGarbage, memoryStats, resetPeakMemory } from '../src/info.js';
import { freeAfter, Tensor, untracked } from '../src/tensor.js';

const allocated = () => memoryStats('cpu').allocated;

describe('freeAfter', () => {
  it('frees the tensors and views fn created, keeps the kept ones and everything older', () => {
    const old = Tensor.fromArray('f32', [4], [1, 2, 3, 4]);
    const base = allocated();
    let temp!: Tensor<'f32'>;
    let oldView!: Tensor<'f32'>;
    const kept = freeAfter(
      () => {
        temp = Tensor.zeros('f32', [1 << 16]);
        oldView = old.view([2], 2);
        const big = Tensor.zeros('f32', [1 << 14]);
        return big.view([8], 8); // a kept view keeps its storage
      },
      (v) => [v],
    );
    assert.equal(allocated(), base + (1 << 14) * 4, 'only the kept view storage stays');
    assert.throws(() => temp.toArraySync(), /released/);
    assert.throws(() => oldView.toArraySync(), /released/);
    assert.deepEqual([...old.toArraySync()], [1, 2, 3, 4], 'older tensors are untouched');
    assert.deepEqual([...kept.toArraySync()], Array(8).fill(0));
  });

  it('nests: what an inner call keeps belongs to the outer one', () => {
    const base = allocated();
    let inner!: Tensor<'f32'>;
    freeAfter(
      () => {
        inner = freeAfter(
          () => Tensor.zeros('f32', [1024]),
          (t) => [t],
        );
        assert.equal(allocated(), base + 4096);
      },
      () => [],
    );
    assert.equal(allocated(), base);
    assert.throws(() => inner.toArraySync(), /released/);
  });

  it('frees everything fn created when it throws', () => {
    const base = allocated();
    assert.throws(
      () =>
        freeAfter(
          () => {
            Tensor.zeros('f32', [1024]);
            throw new Error('boom');
          },
          () => [],
        ),
      /boom/,
    );
    assert.equal(allocated(), base);
  });
});

describe('untracked', () => {
  it('what it creates outlives the enclosing freeAfter; the rest is still freed', () => {
    const base = allocated();
    let constant!: Tensor<'f32'>;
    let temp!: Tensor<'f32'>;
    freeAfter(
      () => {
        constant = untracked(() => Tensor.fromArray('f32', [256], new Float32Array(256).fill(2)));
        temp = Tensor.zeros('f32', [1024]);
      },
      () => [],
    );
    assert.equal(allocated(), base + 1024, 'only the untracked tensor stays');
    assert.equal(constant.toArraySync()[255], 2);
    assert.throws(() => temp.toArraySync(), /released/);
    constant.dispose();
  });
});

describe('resetPeakMemory and collectGarbage', () => {
  it('restarts the peak at what is allocated now', () => {
    const t = Tensor.zeros('f32', [1 << 16]);
    t.dispose();
    resetPeakMemory('cpu');
    const s = memoryStats('cpu');
    assert.equal(s.peakAllocated, s.allocated);
  });

  it('returns unreachable tensors to the allocator', async () => {
    await collectGarbage();
    const base = allocated();
    (() => {
      for (let i = 0; i < 8; i++) Tensor.zeros('f32', [1 << 16]);
    })();
    assert.equal(allocated(), base + 8 * (1 << 18));
    await collectGarbage();
    assert.equal(allocated(), base);
  });
});
