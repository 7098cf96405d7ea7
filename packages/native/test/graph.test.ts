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
  it("sizes a split-K GEMM's workspace before a capture: refused during the first, captured after an eager run, kept after", async () => {
    // one sample, one 128x128 output tile, k = 1056: the launcher splits k (a workspace per stream)
    const [M, N, K] = [40, 48, 1056];
    const rand = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
    const a = Tensor.fromArray('bf16', [1, K, M], rand(K * M), 'cuda');
    const b = Tensor.fromArray('bf16', [1, K, N], rand(K * N), 'cuda');
    const s = Stream.create('cuda');
    const run = () => {
      const out = Tensor.empty('bf16', [1, M, N], 'cuda');
      ops.matmul_tn(out, a, b, 0.5);
      return out;
    };
    assert.throws(
      () => CudaGraph.capture(s, run),
      /matmul_tn: needs 30\.00 KiB of workspace on cuda:0 during a graph capture, where the stream has 0 B: run the work once before capturing it/,
    );
    const eager = withCurrentStream(s, run);
    await s.synchronizeAsync();
    const { graph, result } = CudaGraph.capture(s, run);
    graph.launch(s);
    await s.synchronizeAsync();
    assert.deepEqual([...(await result.toArray())], [...(await eager.toArray())]);
    // against the CPU backend in f32 on the same (bf16-rounded) values; bf16 data reads as raw bits
    const f32 = (t: Tensor<'bf16'>) =>
      new Float32Array(Uint32Array.from(t.toArraySync(), (x) => x << 16).buffer);
    const ref = Tensor.empty('f32', [1, M, N]);
    ops.matmul_tn(
      ref,
      Tensor.fromArray('f32', [1, K, M], f32(a)),
      Tensor.fromArray('f32', [1, K, N], f32(b)),
      0.5,
    );
    const [got, want] = [f32(eager), ref.toArraySync()];
    for (let i = 0; i < M * N; i++)
      assert.ok(
        Math.abs(got[i]! - want[i]!) <= 0.01 * Math.abs(want[i]!) + 1e-3,
        `out[${i}]: ${got[i]} vs ${want[i]}`,
      );
    // a larger split later grows the stream's workspace; the graph's buffer stays valid (not freed)
    const big = (n: number) => Tensor.fromArray('bf16', [1, K, n], rand(K * n), 'cuda');
    const wide = Tensor.empty('bf16', [1, 384, 384], 'cuda');
    withCurrentStream(s, () => ops.matmul_tn(wide, big(384), big(384), 1));
    graph.launch(s);
    await s.synchronizeAsync();
    assert.deepEqual([...(await result.toArray())], [...(await eager.toArray())]);
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
