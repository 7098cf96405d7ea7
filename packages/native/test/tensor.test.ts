// tensor.test.ts: Tensor through the native runtime: creation, round trips for every dtype,
// bf16/f16 conversion, views, copies, fills, errors and disposal.
import assert from 'node:assert/strict';
import { binding } from '../src/binding.js';
import { DTYPES, type DType, f32ToBf16Bits, type TypedArrayOf } from '../src/dtype.js';
import { devices, memoryStats } from '../src/info.js';
import { Tensor } from '../src/tensor.js';

const SAMPLE: { [D in DType]: TypedArrayOf<D> } = {
  f32: new Float32Array([1.5, -2, 3.25, 0, 1e-3, 7]),
  bf16: new Uint16Array([0x3f80, 0xc000, 0x4049, 0, 0x7f80, 0x8000]),
  f16: new Uint16Array([0x3c00, 0xc000, 0x4248, 0, 0x7c00, 0x8000]),
  i32: new Int32Array([1, -2, 3, 2 ** 31 - 1, -(2 ** 31), 0]),
  i64: new BigInt64Array([1n, -2n, 3n, 2n ** 62n, -(2n ** 63n), 0n]),
  u8: new Uint8Array([0, 1, 2, 127, 128, 255]),
  f64: new Float64Array([Math.PI, -Math.E, 1e300, -0, 5e-324, 2]),
};

const hasCuda = devices().some((d) => d.type === 'cuda');

describe('Tensor', () => {
  for (const dtype of DTYPES) {
    it(`round-trips ${dtype} data (create, copy in, read back sync and async, view)`, async () => {
      const data = SAMPLE[dtype];
      const t = Tensor.fromArray(dtype, [2, 3], data);
      assert.equal(t.dtype, dtype);
      assert.deepEqual(t.shape, [2, 3]);
      assert.deepEqual(t.device, { type: 'cpu', index: 0 });
      assert.equal(t.numel, 6);
      assert.equal(t.nbytes, data.byteLength);
      assert.deepEqual(t.toArraySync(), data);
      const pending = t.toArray();
      assert.ok(pending instanceof Promise);
      assert.deepEqual(await pending, data);
      const row = t.view([3], 3);
      assert.deepEqual(row.toArraySync(), data.slice(3));
      t.dispose();
      assert.deepEqual(row.toArraySync(), data.slice(3), 'a view keeps the storage alive');
      row.dispose();
    });
  }

  it('converts numbers and Float32Array values for bf16 and f16', async () => {
    const values = [1, -2.5, 0.1, 65504];
    const b = Tensor.fromArray('bf16', [4], new Float32Array(values));
    assert.deepEqual([...b.toArraySync()], values.map(f32ToBf16Bits));
    assert.deepEqual([...(await b.toFloat32Array())], [1, -2.5, 0.10009765625, 65536]);
    const h = Tensor.fromArray('f16', [4], values);
    assert.deepEqual([...(await h.toFloat32Array())], [1, -2.5, Math.fround(0.0999755859375), 65504]);
    assert.deepEqual([...(await h.toFloat64Array())], [1, -2.5, 0.0999755859375, 65504]);
  });

  it('converts numbers for integer dtypes and checks their range', async () => {
    assert.deepEqual(
      Tensor.fromArray('i64', [3], [1, -2, 2 ** 53 - 1]).toArraySync(),
      new BigInt64Array([1n, -2n, 2n ** 53n - 1n]),
    );
    assert.deepEqual([...(await Tensor.fromArray('i32', [2], [7, -7]).toFloat32Array())], [7, -7]);
    assert.throws(() => Tensor.fromArray('u8', [1], [256]), /256 is not an integer in 0..255/);
    assert.throws(() => Tensor.fromArray('i32', [1], [1.5]), TypeError);
  });

  it('handles scalars and empty tensors', () => {
    const s = Tensor.fromArray('f32', [], [42]);
    assert.equal(s.numel, 1);
    assert.deepEqual([...s.toArraySync()], [42]);
    const e = Tensor.empty('f32', [0, 4]);
    assert.equal(e.numel, 0);
    assert.equal(e.toArraySync().length, 0);
  });

  it('zeros, poison and fillBytes fill every byte', () => {
    assert.deepEqual([...Tensor.zeros('f32', [3]).toArraySync()], [0, 0, 0]);
    const p = Tensor.zeros('f32', [3]).poison();
    assert.ok([...p.toArraySync()].every(Number.isNaN));
    assert.deepEqual([...Tensor.zeros('i32', [2]).poison().toArraySync()], [-1, -1]);
    assert.deepEqual([...Tensor.empty('u8', [2]).fillBytes(7).toArraySync()], [7, 7]);
  });

  it('views share storage and writes go through', () => {
    const t = Tensor.zeros('f32', [2, 2]);
    t.view([2], 2).copyFrom(Tensor.fromArray('f32', [2], [5, 6]));
    assert.deepEqual([...t.toArraySync()], [0, 0, 5, 6]);
  });

  it('rejects views that do not fit, naming the shapes', () => {
    const t = Tensor.empty('f32', [3, 3]);
    assert.throws(() => t.view([2, 5]), /shape \[2, 5\] has 10 elements but the source \[3, 3\] has 9/);
    assert.throws(
      () => t.view([2, 2], 7),
      /shape \[2, 2\] at offset 7 needs elements 7\.\.11 but the source \[3, 3\] has 9/,
    );
    assert.throws(
      () => t.view([-1]),
      (e: Error) => e instanceof TypeError && /non-negative integers/.test(e.message),
    );
  });

  it('rejects bad shapes, lengths and dtypes with TypeErrors', () => {
    assert.throws(() => Tensor.empty('f32', [1.5]), TypeError);
    assert.throws(() => Tensor.empty('f32', [1, 1, 1, 1, 1, 1, 1, 1, 1]), /more than 8 dimensions/);
    assert.throws(() => Tensor.empty('q4' as DType, [1]), /unknown dtype "q4"/);
    assert.throws(
      () => Tensor.fromArray('f32', [2, 2], [1, 2, 3]),
      /3 values given for shape \[2, 2\] \(4 elements\)/,
    );
    const f = Tensor.empty('f32', [2]);
    assert.throws(
      () => f.copyFrom(Tensor.empty('i32', [2]) as unknown as Tensor<'f32'>),
      /source dtype i32 does not match f32/,
    );
    assert.throws(() => f.copyFrom(Tensor.empty('f32', [3])), /differ in dtype or element count/);
  });

  it('rejects a typed array whose byte length differs from the tensor', async () => {
    const t = Tensor.empty('f32', [4]);
    const wrong = /the typed array has 12 bytes but the f32 tensor \[4\] has 16 bytes/;
    assert.throws(
      () => t.handle.copyFromHost(new Float32Array(3)),
      (e: Error) => e instanceof TypeError && wrong.test(e.message),
    );
    assert.throws(() => t.handle.copyToHostSync(new Float32Array(3)), wrong);
    assert.throws(() => t.handle.copyToHost(new Float32Array(3)), wrong);
    assert.throws(
      () => t.handle.copyFromHost([1, 2, 3, 4] as unknown as Float32Array),
      /must be a typed array, got array/,
    );
  });

  it('throws "tensor was released" after dispose', async () => {
    const t = Tensor.zeros('f32', [2]);
    t.dispose();
    t.dispose(); // idempotent
    assert.throws(() => t.toArraySync(), /copyToHostSync: tensor was released/);
    await assert.rejects(() => t.toArray(), /tensor was released/);
    assert.throws(() => t.view([1]), /tensor was released/);
    assert.throws(() => Tensor.zeros('f32', [2]).copyFrom(t), /src: tensor was released/);
  });

  it('keeps a tensor alive while an async read runs, even if released meanwhile', async () => {
    const t = Tensor.fromArray('f64', [1 << 16], new Float64Array(1 << 16).fill(3));
    const pending = t.toArray();
    t.dispose();
    const data = await pending;
    assert.equal(data[12345], 3);
  });

  it('updates the allocator statistics', () => {
    const before = memoryStats('cpu');
    const t = Tensor.empty('u8', [3 << 20]);
    const during = memoryStats('cpu');
    assert.ok(during.allocated >= before.allocated + (3 << 20));
    assert.ok(during.reserved >= during.allocated);
    assert.ok(during.peakAllocated >= during.allocated);
    t.dispose();
    const after = memoryStats('cpu');
    assert.equal(after.allocated, before.allocated);
    assert.ok(after.reserved >= 3 << 20, 'the block stays cached');
    const again = Tensor.empty('u8', [3 << 20]);
    assert.equal(memoryStats('cpu').reserved, after.reserved, 'the cached block is reused');
    again.dispose();
  });

  it('reports clearly that a CUDA tensor cannot be created without a GPU', function () {
    if (hasCuda) this.skip();
    const expected = binding.buildInfo().cuda
      ? /tensorCreate: mae_tensor_create: cuda:0 requested but no CUDA device is available \(no driver or GPU found/
      : /cuda:0 requested but mae-cuda was built without CUDA/;
    assert.throws(() => Tensor.empty('f32', [2], 'cuda'), expected);
    assert.throws(() => Tensor.empty('f32', [2], 'cuda:1'), /cuda:1 requested/);
  });

  it('keeps dtypes apart at compile time', () => {
    const f: Tensor<'f32'> = Tensor.empty('f32', [1]);
    const b: Tensor<'bf16'> = Tensor.empty('bf16', [1]);
    // @ts-expect-error a bf16 tensor is not an f32 tensor
    const wrong: Tensor<'f32'> = b;
    const any: Tensor = f;
    assert.equal(wrong.dtype, 'bf16');
    assert.equal(any.toString(), 'Tensor<f32>[1] on cpu');
  });
});
