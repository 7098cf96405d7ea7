// fits.ts: refuses, before anything is allocated, a benchmark whose estimated memory (benchMemory
// in @mae-cuda/mae, counted from the architecture) exceeds what the device has (available.ts). The
// message names the flag, the estimate, the memory available and the largest batch that fits,
// e.g. "--batch 100000: mae_tiny_28 (f32) needs about 214.1 GiB on cpu, more than the 23.2 GiB
// available on this machine; the largest batch that fits is 10829".
import {
  benchMemory,
  largestBatch,
  type MaeConfig,
  type PrecisionSetting,
  resolvePrecision,
} from '@mae-cuda/mae';
import type { DeviceSpec } from '@mae-cuda/native';
import { type Available, availableMemory } from './available.js';

export interface MemoryCheck {
  /** the flag the batch came from, for the message */
  readonly flag: string;
  /** the preset's name, for the message */
  readonly name: string;
  readonly model: MaeConfig;
  readonly batches: readonly number[];
  readonly device: DeviceSpec;
  readonly precision: PrecisionSetting;
  /** steps the run takes, warm-up included (the lr table holds one row per step) */
  readonly steps: number;
  /** the memory to compare with (default: availableMemory(device)) */
  readonly available?: Available;
}

const gib = (n: number) => `${(n / 2 ** 30).toFixed(n < 2 ** 30 ? 3 : 1)} GiB`;

/** Why the largest batch does not fit (a one-line message), or undefined when every batch does. */
export function memoryRefusal(c: MemoryCheck): string | undefined {
  const batch = Math.max(...c.batches);
  const precision = resolvePrecision(c.precision, c.device);
  const need = benchMemory(c.model, batch, precision, c.device, c.steps);
  const have = c.available ?? availableMemory(c.device);
  if (need <= have.bytes) return undefined;
  const fits = largestBatch(c.model, precision, c.device, have.bytes, c.steps);
  return (
    `${c.flag} ${batch}: ${c.name} (${precision}) needs about ${gib(need)} on ${c.device}, more than the ` +
    `${gib(have.bytes)} ${have.source}; ${fits === 0 ? 'not even batch 1 fits' : `the largest batch that fits is ${fits}`}`
  );
}
