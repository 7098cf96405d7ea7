// CUDA graphs and the current stream: refused on the CPU with a message that says why; with a
// GPU, a captured sequence of ops replays and equals running them eagerly, and host copies inside
// a capture are refused.
import assert from 'node:assert/strict';
import { CudaGraph, devices, ops, Stream, Tensor, withCurrentStream } from '../src/index.js';

describe('CudaGraph on the CPU', () => {
  it('capture needs a CUDA stream', () => {
    const s = Stream.create('cpu');
    let ran = false;
    assert.throws(
      () =>
        CudaGraph.capture(s, () => {
          ran = true;
        }),
      /CUDA graphs need a CUDA stream, got one on cpu/,
    );
    assert.equal(ran, false, 'nothing runs when the capture cannot start');
  });
  it('withCurrentStream runs the function unchanged on a CPU stream', () => {
    const x = Tensor.fromArray('f32', [3], [1, 2, 3]);
    const y = Tensor.empty('f32', [3]);
    const r = withCurrentStream(Stream.create('cpu'), () => {
      ops.residual_forward(y, x, x);
      return 7;
    });
    assert.equal(r, 7);
    assert.deepEqual([...y.toArraySync()], [2, 4, 6]);
  });
});

const hasCuda = devices().some((d) => d.type === 'cuda');
(hasCuda ? describe : describe.skip)('CudaGraph on CUDA', () => {
  it('replays a captured chain of ops; each launch reads the inputs current then', async () => {
    const s = Stream.create('cuda');
    const x = Tensor.fromArray(
      'f32',
      [1000],
      Float32Array.from({ length: 1000 }, (_, i) => i / 7),
      'cuda',
    );
    const { graph, result: y } = CudaGraph.capture(s, () => {
      const a = Tensor.empty('f32', [1000], 'cuda');
      ops.residual_forward(a, x, x);
      const b = Tensor.empty('f32', [1000], 'cuda');
      ops.residual_forward(b, a, x);
      return b;
    });
    assert.ok(graph.numNodes >= 2);
    graph.launch(s);
    await s.synchronizeAsync();
    const first = await y.toArray();
    for (let i = 0; i < 1000; i++)
      assert.equal(first[i], Math.fround(Math.fround(2 * x.toArraySync()[i]!) + x.toArraySync()[i]!));
    x.write(Float32Array.from({ length: 1000 }, () => 1));
    graph.launch(s);
    await s.synchronizeAsync();
    assert.deepEqual([...(await y.toArray()).slice(0, 3)], [3, 3, 3]);
    graph.destroy();
    assert.throws(() => graph.launch(s), /graph was destroyed/);
  });
  it('destroys a graph during another capture without spoiling it (the destroy waits for the capture)', async () => {
    const s = Stream.create('cuda');
    const x = Tensor.fromArray(
      'f32',
      [8],
      Float32Array.from({ length: 8 }, (_, i) => i),
      'cuda',
    );
    const a = CudaGraph.capture(s, () => {
      const y = Tensor.empty('f32', [8], 'cuda');
      ops.residual_forward(y, x, x);
      return y;
    });
    const b = CudaGraph.capture(s, () => {
      a.graph.destroy(); // e.g. a finalizer running mid-capture
      const y = Tensor.empty('f32', [8], 'cuda');
      ops.residual_forward(y, x, x);
      return y;
    });
    b.graph.launch(s);
    await s.synchronizeAsync();
    assert.deepEqual([...(await b.result.toArray())], [0, 2, 4, 6, 8, 10, 12, 14]);
    b.graph.destroy();
  });
  it('a copy another thread makes while this one captures neither fails nor joins the graph', async () => {
    const s = Stream.create('cuda');
    const x = Tensor.fromArray('f32', [3], [1, 2, 3], 'cuda');
    let copied: Promise<Float32Array> | undefined;
    const { graph, result: y } = CudaGraph.capture(s, () => {
      copied = x.toArray(); // a libuv worker copies with no stream named
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300); // while this thread captures
      const out = Tensor.empty('f32', [3], 'cuda');
      ops.residual_forward(out, x, x);
      return out;
    });
    assert.deepEqual([...(await copied!)], [1, 2, 3]);
    assert.equal(graph.numNodes, 1, 'only the captured op is in the graph');
    graph.launch(s);
    await s.synchronizeAsync();
    assert.deepEqual([...(await y.toArray())], [2, 4, 6]);
    graph.destroy();
  });
  it('refuses host copies inside a capture and leaves the device usable', () => {
    const s = Stream.create('cuda');
    assert.throws(
      () => CudaGraph.capture(s, () => Tensor.fromArray('f32', [4], [1, 2, 3, 4], 'cuda')),
      /cannot be captured in a CUDA graph/,
    );
    const t = Tensor.fromArray('f32', [2], [5, 6], 'cuda');
    assert.deepEqual([...t.toArraySync()], [5, 6]);
  });
});
