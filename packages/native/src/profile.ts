// profile.ts: OpProfiler, the time each op takes, for `mae-cuda bench`'s breakdown of a step.
// While a profiler is started, every generated op wrapper (generated/ops.ts; the synchronous
// ones, not the ...Async variants that run on a worker thread) brackets its launch
// with `opTimer`: on the CPU, where ops run to completion on the calling thread, with the clock;
// on CUDA with a pair of events recorded on the op's stream (the device's current stream when the
// call names none), read once in collect(). Only eager work is timed: events recorded inside a
// CUDA graph capture would become graph nodes, so ops called during a capture are not timed.
import { type Device, deviceToString } from './device.js';
import { DeviceEvent } from './event.js';
import type { Stream } from './stream.js';
import type { Tensor } from './tensor.js';

/** One op's total over the profiled work. */
export interface OpTime {
  readonly name: string;
  readonly calls: number;
  readonly ms: number;
}

interface Pending {
  readonly name: string;
  readonly begin: DeviceEvent;
  end?: DeviceEvent;
}

let active: OpProfiler | undefined;
let paused = 0;

/** Called by the generated op wrappers: the function that ends the op's timing, or undefined. */
export function opTimer(name: string, first: Tensor, stream?: Stream): (() => void) | undefined {
  return paused === 0 ? active?.begin(name, first.device, stream) : undefined;
}

/** Runs fn with op timing off (CudaGraph.capture does: a capture only records work). */
export function untimed<T>(fn: () => T): T {
  paused++;
  try {
    return fn();
  } finally {
    paused--;
  }
}

/** The profiler timing ops now, if any. */
export function activeProfiler(): OpProfiler | undefined {
  return active;
}

export class OpProfiler {
  private readonly totals = new Map<string, { calls: number; ms: number }>();
  private pending: Pending[] = [];
  private readonly free = new Map<string, DeviceEvent[]>();
  private disposed = false;

  /** Makes this the profiler that op calls report to (one at a time). */
  start(): this {
    if (this.disposed) throw new Error('OpProfiler.start: the profiler was disposed');
    if (active !== undefined && active !== this)
      throw new Error('OpProfiler.start: another profiler is already timing ops; stop it first');
    active = this;
    return this;
  }

  /** Stops timing; what was timed stays until collect(). */
  stop(): void {
    if (active === this) active = undefined;
  }

  /** @internal the start of one op call; returns the function that ends it */
  begin(name: string, device: Device, stream?: Stream): () => void {
    if (device.type === 'cpu') {
      const t0 = performance.now();
      return () => this.add(name, 1, performance.now() - t0);
    }
    const p: Pending = { name, begin: this.event(device).record(stream) };
    this.pending.push(p);
    return () => {
      p.end = this.event(device).record(stream);
    };
  }

  /** Waits for the timed work and returns each op's calls and milliseconds, slowest first; resets. */
  collect(): OpTime[] {
    for (const p of this.pending) {
      if (p.end !== undefined) {
        p.end.synchronize();
        this.add(p.name, 1, p.begin.elapsedMs(p.end));
        this.release(p.end);
      }
      this.release(p.begin);
    }
    this.pending = [];
    const out = [...this.totals].map(([name, t]) => ({ name, calls: t.calls, ms: t.ms }));
    this.totals.clear();
    return out.sort((a, b) => b.ms - a.ms || a.name.localeCompare(b.name));
  }

  /** Stops and frees the events. */
  dispose(): void {
    this.stop();
    for (const p of this.pending) {
      p.begin.destroy();
      p.end?.destroy();
    }
    this.pending = [];
    for (const list of this.free.values()) for (const e of list) e.destroy();
    this.free.clear();
    this.disposed = true;
  }

  private add(name: string, calls: number, ms: number): void {
    const t = this.totals.get(name);
    if (t) {
      t.calls += calls;
      t.ms += ms;
    } else this.totals.set(name, { calls, ms });
  }

  private event(device: Device): DeviceEvent {
    return this.free.get(deviceToString(device))?.pop() ?? DeviceEvent.create(device);
  }

  private release(e: DeviceEvent): void {
    const key = deviceToString(e.device);
    const list = this.free.get(key);
    if (list) list.push(e);
    else this.free.set(key, [e]);
  }
}
