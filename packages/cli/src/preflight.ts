// preflight.ts: what runs before any command, before the native addon (and OpenMP) loads: a bad
// OMP_NUM_THREADS or OMP_WAIT_POLICY ends the command with one line naming it (exit 2), as does a
// MAE_CPU_ISA or MAE_JPEG_DECODER the build cannot honour (checked as the addon loads), and a worker started
// by `mae-cuda pretrain --gpus N` ties its life to its launcher's (lifeline.ts).
import { checkOpenMpEnv, OpenMpSettingError } from '@mae-cuda/native/openmp-env';

/** Resolves with the exit code to end with, or undefined to go on with the command. */
export async function preflight(): Promise<number | undefined> {
  try {
    checkOpenMpEnv();
  } catch (e) {
    if (!(e instanceof OpenMpSettingError)) throw e;
    console.error(`mae-cuda: ${e.message}`);
    return 2;
  }
  try {
    const { followLauncher } = await import('./lifeline.js'); // loads the addon
    followLauncher();
  } catch (e) {
    if ((e as Error).name !== 'CpuIsaSettingError') throw e;
    console.error(`mae-cuda: ${(e as Error).message}`);
    return 2;
  }
  const { jpegDecoder } = await import('@mae-cuda/mae');
  try {
    jpegDecoder();
  } catch (e) {
    console.error(`mae-cuda: ${(e as Error).message}`);
    return 2;
  }
  return undefined;
}
