// graph.ts: CUDA graphs. `CudaGraph.capture(stream, fn)` records everything fn enqueues on the
// stream's device (ops, copies and fills given no stream run on the capture stream meanwhile) into
// a graph that `launch()` replays with one call. Tensors allocated during the capture belong to
// the graph (their memory is reused only inside it, and kept until destroy()); tensors the graph
// reads or writes that were made before must stay alive as long as it. Host data cannot be copied
// inside a capture. CUDA graphs do not exist on the CPU: capture throws there.
import { binding, type NativeGraph } from './binding.js';
import { type Device, deviceToString, deviceTypeCode } from './device.js';
import { untimed } from './profile.js';
import type { Stream } from './stream.js';

export class CudaGraph {
  private handle: NativeGraph | null;

  private constructor(
    handle: NativeGraph,
    readonly device: Device,
  ) {
    this.handle = handle;
  }

  /** Captures fn's device work on stream's device; returns the graph and fn's result. */
  static capture<T>(stream: Stream, fn: () => T): { graph: CudaGraph; result: T } {
    if (stream.device.type !== 'cuda')
      throw new Error(
        `CudaGraph.capture: CUDA graphs need a CUDA stream, got one on ${deviceToString(stream.device)}`,
      );
    binding.graphCaptureBegin(stream.handle);
    let result: T;
    try {
      result = untimed(fn);
    } catch (e) {
      try {
        binding.graphDestroy(binding.graphCaptureEnd(stream.handle));
      } catch {
        // the capture is invalid after a failure; its error is the one to report
      }
      throw e;
    }
    const graph = new CudaGraph(binding.graphCaptureEnd(stream.handle), stream.device);
    return { graph, result };
  }

  private live(what: string): NativeGraph {
    if (!this.handle) throw new Error(`CudaGraph.${what}: graph was destroyed`);
    return this.handle;
  }

  /** Enqueues one replay on stream (default: the device's current stream). */
  launch(stream?: Stream): void {
    binding.graphLaunch(this.live('launch'), stream?.handle ?? null);
  }

  /** Kernels, copies and fills in the graph. */
  get numNodes(): number {
    return binding.graphNumNodes(this.live('numNodes'));
  }

  /** Waits for the device, then frees the graph and its memory. */
  destroy(): void {
    if (this.handle) binding.graphDestroy(this.handle);
    this.handle = null;
  }
}

/**
 * Makes stream the current stream of its (CUDA) device while fn runs: ops, copies and fills given
 * no stream go there. Restores the default stream afterwards. A no-op for CPU streams.
 */
export function withCurrentStream<T>(stream: Stream, fn: () => T): T {
  if (stream.device.type !== 'cuda') return fn();
  const d = stream.device;
  binding.setCurrentStream(deviceTypeCode(d), d.index, stream.handle);
  try {
    return fn();
  } finally {
    binding.setCurrentStream(deviceTypeCode(d), d.index, null);
  }
}
