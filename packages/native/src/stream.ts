// stream.ts: Stream, a queue of device work (a CUDA stream, or the CPU's synchronous queue).
import { binding, type NativeStream } from './binding.js';
import { type Device, type DeviceSpec, deviceFromNative, deviceTypeCode, parseDevice } from './device.js';

export class Stream {
  readonly handle: NativeStream;
  readonly device: Device;

  private constructor(handle: NativeStream) {
    this.handle = handle;
    this.device = deviceFromNative(handle.device);
  }

  /** A new stream on the device (throws when the device is not available). */
  static create(device: DeviceSpec | Device = 'cpu'): Stream {
    const d = parseDevice(device);
    return new Stream(binding.streamCreate(deviceTypeCode(d), d.index));
  }

  /** Blocks until all work enqueued so far has finished. */
  synchronize(): void {
    this.handle.synchronize();
  }

  /** Resolves when all work enqueued so far has finished, without blocking the event loop. */
  synchronizeAsync(): Promise<void> {
    return this.handle.synchronizeAsync();
  }

  /** Waits for the stream's work, then frees it; later use throws "stream was destroyed". */
  destroy(): void {
    this.handle.destroy();
  }
}
