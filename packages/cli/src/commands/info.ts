// commands/info.ts: `mae-cuda info [--json]`: the build (version, the addon file loaded, CUDA
// architectures, OpenMP with the threads and wait policy in use), the data loader's JPEG decoder,
// the devices found and where NCCL is (or what was searched).
import { jpegDecoder } from '@mae-cuda/mae';
import {
  addonPath,
  buildInfo,
  type CpuIsa,
  devices,
  findNccl,
  formatNcclVersion,
  jpegAvailable,
} from '@mae-cuda/native';
import { z } from 'zod';
import { defineCommand } from '../command.js';

export const options = z.strictObject({
  json: z.boolean().default(false).describe('print JSON instead of text'),
});

export interface InfoReport {
  version: string;
  /** the addon file loaded: a build of this package or the prebuilt one (README, "Installing") */
  addon: string;
  cuda: { compiled: boolean; architectures: string[] };
  openmp: {
    compiled: boolean;
    threads: number;
    maxThreads: number;
    waitPolicy: string;
    /** libgomp's spins before an idle thread sleeps (GOMP_SPINCOUNT), when set */
    spinCount?: string;
  };
  cpu: { kernels: CpuIsa; best: CpuIsa };
  /** the data loader's JPEG decoder: built in (libjpeg) or not, and the one in use */
  jpeg: { libjpeg: boolean; decoder: string };
  devices: ReturnType<typeof devices>;
  nccl: ReturnType<typeof findNccl>;
}

export function collectInfo(): InfoReport {
  const b = buildInfo();
  return {
    version: b.version,
    addon: addonPath,
    cuda: { compiled: b.cuda, architectures: b.architectures },
    openmp: {
      compiled: b.openmp,
      threads: b.cpuThreads,
      maxThreads: b.maxCpuThreads,
      waitPolicy: b.waitPolicy,
      ...(process.env.GOMP_SPINCOUNT === undefined ? {} : { spinCount: process.env.GOMP_SPINCOUNT }),
    },
    cpu: { kernels: b.cpuIsa, best: b.cpuIsaBest },
    jpeg: { libjpeg: jpegAvailable(), decoder: jpegDecoder() },
    devices: devices(),
    nccl: findNccl(),
  };
}

const WAITING = {
  passive: 'idle threads sleep',
  active: 'idle threads spin',
  default: "OpenMP's default: idle threads spin a while, then sleep",
} as Record<string, string>;

function formatOpenMp(o: InfoReport['openmp']): string {
  const waiting =
    o.spinCount === undefined
      ? (WAITING[o.waitPolicy] ?? 'unknown')
      : `idle threads spin ${o.spinCount} times (GOMP_SPINCOUNT), then sleep`;
  return (
    `OpenMP: ${o.threads} thread${o.threads === 1 ? '' : 's'} (OMP_NUM_THREADS, 1 to ${o.maxThreads}), ` +
    `wait policy ${o.waitPolicy} (OMP_WAIT_POLICY; ${waiting})`
  );
}

const ISA_NAMES: Record<CpuIsa, string> = { default: 'baseline', avx2: 'AVX2+FMA', avx512: 'AVX-512' };

const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;

export function formatInfo(r: InfoReport): string {
  const lines = [`mae-cuda ${r.version}`, `Addon: ${r.addon}`];
  lines.push(
    !r.cuda.compiled
      ? 'CUDA: not compiled (CPU only)'
      : r.cuda.architectures.includes('emulated')
        ? 'CUDA: emulated (MAE_CUDA_EMULATOR=1: the CUDA kernels and runtime run on the CPU, docs/EMULATOR.md)'
        : `CUDA: compiled for ${r.cuda.architectures.join(', ')}`,
  );
  lines.push(r.openmp.compiled ? formatOpenMp(r.openmp) : 'OpenMP: not compiled (1 thread)');
  const forced = r.cpu.kernels === r.cpu.best ? '' : `, chosen by MAE_CPU_ISA (best here: ${r.cpu.best})`;
  lines.push(
    `CPU kernels: ${ISA_NAMES[r.cpu.kernels]} build${forced} (MAE_CPU_ISA=default|avx2|avx512 picks one)`,
  );
  lines.push(
    `JPEG decoding: ${r.jpeg.decoder === 'libjpeg' ? 'libjpeg-turbo in the addon' : r.jpeg.decoder}` +
      (r.jpeg.libjpeg ? '' : ' (the addon was built without libjpeg: install libjpeg-dev and rebuild)'),
  );
  lines.push('Devices:');
  for (const d of r.devices) {
    if (d.type === 'cpu') lines.push(`  cpu      ${d.threads} threads`);
    else lines.push(`  ${d.spec.padEnd(8)} ${d.name}, compute ${d.capability}, ${gib(d.totalMemory ?? 0)}`);
  }
  if (!r.devices.some((d) => d.type === 'cuda')) {
    lines.push(
      r.cuda.compiled ? '  no CUDA device (no driver or GPU found)' : '  no CUDA device (built without CUDA)',
    );
  }
  if (r.nccl.found) {
    lines.push(`NCCL: found at ${r.nccl.path} (${formatNcclVersion(r.nccl.version ?? 0)})`);
  } else {
    lines.push('NCCL: not found; searched:');
    for (const p of r.nccl.searched) lines.push(`  ${p}`);
  }
  return lines.join('\n');
}

export const infoCommand = defineCommand({
  name: 'info',
  summary: 'show the build, the devices and NCCL',
  usage: 'mae-cuda info [--json]',
  options,
  run(opts) {
    const report = collectInfo();
    console.log(opts.json ? JSON.stringify(report, null, 2) : formatInfo(report));
    return 0;
  },
});
