// emulator.ts: the CUDA emulator's controls (MAE_CUDA_EMULATOR=1 loads the emulator build of the
// addon: docs/EMULATOR.md), for the kernel report: which access checks run, where the performance
// counters of each grid run go (one JSON line per run), how many blocks of each grid run, and
// whether new device memory is filled with 0xff.
import { binding, emulated } from './binding.js';

export interface EmulatorOptions {
  /** the access checks, as MAE_EMU_CHECK names them: 'memcheck,racecheck,initcheck', 'all', 'none' */
  readonly checks?: string;
  /** where each grid run's counters go (appended, one JSON line per run); '' stops counting */
  readonly countFile?: string;
  /** blocks run per grid, the middle block of each of that many equal strata of it; 0: every block */
  readonly sampleBlocks?: number;
  /** fill new device memory with 0xff (shows reads of memory nothing wrote; maps every page in) */
  readonly fill?: boolean;
}

/** Whether this process runs CUDA on the emulator (MAE_CUDA_EMULATOR=1 and its addon loaded). */
export const emulatorLoaded = (): boolean => emulated && typeof binding.emuConfigure === 'function';

/** Sets the emulator's controls; throws when CUDA is not emulated in this process. */
export function configureEmulator(options: EmulatorOptions): void {
  if (!emulatorLoaded())
    throw new Error('the CUDA emulator is not loaded: run with MAE_CUDA_EMULATOR=1 (docs/EMULATOR.md)');
  const n = options.sampleBlocks;
  if (n !== undefined && (!Number.isInteger(n) || n < 0 || n > 2 ** 31))
    throw new RangeError(`sampleBlocks must be an integer >= 0, got ${n}`);
  binding.emuConfigure!(options);
}
