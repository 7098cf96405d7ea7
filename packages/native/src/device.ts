// device.ts: device specs ('cpu', 'cuda', 'cuda:N'), parsing them, and the addon's numeric codes.
import type { NativeDevice } from './binding.js';

export type DeviceSpec = 'cpu' | 'cuda' | `cuda:${number}`;
export type DeviceType = 'cpu' | 'cuda';

export interface Device {
  readonly type: DeviceType;
  readonly index: number;
}

export const CPU: Device = Object.freeze({ type: 'cpu', index: 0 });

/** Parses 'cpu', 'cuda' (= cuda:0) or 'cuda:N' (or passes a Device through). */
export function parseDevice(spec: DeviceSpec | Device | string): Device {
  if (typeof spec === 'object' && spec !== null) {
    if ((spec.type === 'cpu' && spec.index === 0) || (spec.type === 'cuda' && isIndex(spec.index))) {
      return Object.freeze({ type: spec.type, index: spec.index });
    }
    throw new TypeError(
      `invalid device ${JSON.stringify(spec)}: expected {type: 'cpu', index: 0} or a cuda index`,
    );
  }
  if (spec === 'cpu') return CPU;
  if (spec === 'cuda') return Object.freeze({ type: 'cuda', index: 0 });
  const m = /^cuda:(\d+)$/.exec(String(spec));
  if (m && isIndex(Number(m[1]))) return Object.freeze({ type: 'cuda', index: Number(m[1]) });
  throw new TypeError(`invalid device '${String(spec)}': expected 'cpu', 'cuda' or 'cuda:N' (N = 0, 1, ...)`);
}

function isIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

export function deviceToString(d: Device): DeviceSpec {
  return d.type === 'cpu' ? 'cpu' : `cuda:${d.index}`;
}

export function deviceTypeCode(d: Device): number {
  return d.type === 'cpu' ? 0 : 1;
}

export function deviceFromNative(d: NativeDevice): Device {
  if (d.type === 0) return CPU;
  return Object.freeze({ type: 'cuda', index: d.index });
}

export function sameDevice(a: Device, b: Device): boolean {
  return a.type === b.type && a.index === b.index;
}
