// event.ts: DeviceEvent, a marker recorded on a stream, for waiting and timing.
import { binding, type NativeEvent } from './binding.js';
import { type Device, type DeviceSpec, deviceFromNative, deviceTypeCode, parseDevice } from './device.js';
import type { Stream } from './stream.js';

export class DeviceEvent {
  readonly handle: NativeEvent;
  readonly device: Device;

  private constructor(handle: NativeEvent) {
    this.handle = handle;
    this.device = deviceFromNative(handle.device);
  }

  static create(device: DeviceSpec | Device = 'cpu'): DeviceEvent {
    const d = parseDevice(device);
    return new DeviceEvent(binding.eventCreate(deviceTypeCode(d), d.index));
  }

  /** Records the event after the work enqueued so far on stream (the device's current stream if none, where ops without a stream run). */
  record(stream?: Stream): this {
    this.handle.record(stream?.handle ?? null);
    return this;
  }

  /** Makes work enqueued on stream from now on wait for this event (a cross-stream dependency). */
  block(stream: Stream): this {
    this.handle.block(stream.handle);
    return this;
  }

  synchronize(): void {
    this.handle.synchronize();
  }

  /** Whether the recorded work has finished. */
  done(): boolean {
    return this.handle.query();
  }

  /** Milliseconds between this event and a later one (both recorded, same device). */
  elapsedMs(end: DeviceEvent): number {
    return this.handle.elapsedMs(end.handle);
  }

  destroy(): void {
    this.handle.destroy();
  }
}
