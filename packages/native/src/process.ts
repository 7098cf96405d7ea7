// process.ts: setParentDeathSignal, for a worker whose life is tied to its launcher's.
import { constants } from 'node:os';
import { binding } from './binding.js';

/**
 * Linux: the kernel sends this process `signal` when the thread that started it ends (prctl
 * PR_SET_PDEATHSIG); returns false on other systems, where nothing is set.
 */
export function setParentDeathSignal(signal: NodeJS.Signals): boolean {
  return binding.setParentDeathSignal(constants.signals[signal]);
}
