// lifeline.ts: a worker of `mae-cuda pretrain --gpus N` dies with its launcher, however the
// launcher ends (SIGKILL included). The launcher gives each worker its pid (MAE_LAUNCHER_PID) and
// one end of a socket pair as file descriptor 3 (MAE_LAUNCHER_FD), which it never writes to. The
// worker, first thing at startup:
//  - on Linux has the kernel send it SIGKILL when the launcher ends (PR_SET_PDEATHSIG), which also
//    ends a worker busy in a long synchronous kernel, and exits at once if the launcher is already
//    gone (its parent is no longer the launcher);
//  - on any system watches descriptor 3: end of file means the launcher is gone, and it exits. The
//    watch holds no reference on the event loop, so a worker that is done still exits by itself.
// The launcher also learns from its end of the pair the order in which workers die (see
// failure_order.ts). Workers of torchrun, srun or mpirun have no MAE_LAUNCHER_PID and are left
// alone; a worker removes the variables from its environment, so its own children do not take
// them for theirs.
import { Socket } from 'node:net';
import { setParentDeathSignal } from '@mae-cuda/native';

/** The worker's descriptor of the launcher's socket pair. */
export const LIFELINE_FD = 3;

/** What the launcher adds to a worker's environment. */
export function lifelineEnv(): Record<string, string> {
  return { MAE_LAUNCHER_PID: String(process.pid), MAE_LAUNCHER_FD: String(LIFELINE_FD) };
}

function launcherGone(pid: number): never {
  try {
    process.stderr.write(`mae-cuda pretrain: the launcher (pid ${pid}) is gone; this worker stops\n`);
  } catch {
    // nowhere left to say it
  }
  process.exit(1);
}

/** Exits when the launcher's end of the socket pair on fd closes. */
export function watchLifeline(fd: number, pid: number): void {
  let socket: Socket;
  try {
    socket = new Socket({ fd, readable: true, writable: false });
  } catch {
    return; // not a socket (a worker started by hand): the death signal still holds on Linux
  }
  const gone = () => launcherGone(pid);
  socket.on('end', gone).on('close', gone).on('error', gone);
  socket.resume();
  socket.unref();
}

/** In a worker started by our launcher: dies with it. Elsewhere: does nothing. */
export function followLauncher(env: NodeJS.ProcessEnv = process.env): void {
  const [pidVar, fdVar] = [env.MAE_LAUNCHER_PID, env.MAE_LAUNCHER_FD];
  if (pidVar === undefined) return;
  delete env.MAE_LAUNCHER_PID;
  delete env.MAE_LAUNCHER_FD;
  const pid = Number(pidVar);
  if (!Number.isSafeInteger(pid) || pid <= 0)
    throw new RangeError(`environment: MAE_LAUNCHER_PID=${JSON.stringify(pidVar)} must be a process id`);
  setParentDeathSignal('SIGKILL');
  if (process.ppid !== pid) launcherGone(pid); // it died before the death signal was set
  if (fdVar !== undefined && /^\d+$/.test(fdVar)) watchLifeline(Number(fdVar), pid);
}
