// stream.test.ts: streams on the CPU (synchronous queue) and the CUDA error without a GPU.
import assert from 'node:assert/strict';
import { devices } from '../src/info.js';
import { Stream } from '../src/stream.js';
import { Tensor } from '../src/tensor.js';

describe('Stream', () => {
  it('works on the cpu: copies, reads and synchronizes', async () => {
    const s = Stream.create('cpu');
    assert.deepEqual(s.device, { type: 'cpu', index: 0 });
    const t = Tensor.zeros('f32', [3]);
    t.copyFrom(Tensor.fromArray('f32', [3], [1, 2, 3]), s);
    t.fillBytes(0, s).copyFrom(Tensor.fromArray('f32', [3], [4, 5, 6]), s);
    s.synchronize();
    await s.synchronizeAsync();
    assert.deepEqual([...(await t.toArray(s))], [4, 5, 6]);
    s.destroy();
    assert.throws(() => s.synchronize(), /stream was destroyed/);
    assert.throws(() => t.handle.fillBytes(0, s.handle), /fillBytes: stream was destroyed/);
  });

  it('rejects something that is not a stream', () => {
    const t = Tensor.zeros('f32', [1]);
    assert.throws(() => t.handle.fillBytes(0, {} as never), /stream must be a NativeStream/);
  });

  it('reports clearly that a CUDA stream needs a GPU', function () {
    if (devices().some((d) => d.type === 'cuda')) this.skip();
    assert.throws(() => Stream.create('cuda'), /streamCreate: mae_stream_create: cuda:0 requested but/);
  });
});
