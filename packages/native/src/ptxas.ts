// ptxas.ts: ptxas's resource report of the CUDA kernels (`-Xptxas -v`): registers, static shared
// memory, stack and spills per kernel. The build writes the report for sm_90a beside the libraries
// (ptxas_sm_90a.txt, packages/native/cmake/ptxas_report.cmake); the kernel report reads it for
// occupancy, and scripts/ptxas-report.ts turns it into docs/KERNELS.md's table.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDir } from './addon_path.js';

export interface KernelResources {
  readonly kernel: string;
  readonly registers: number;
  /** static shared memory, bytes (dynamic shared memory is the launch's) */
  readonly sharedBytes: number;
  readonly stackBytes: number;
  readonly spillStoreBytes: number;
  readonly spillLoadBytes: number;
}

/** `_Z12name...` -> name (the kernels are plain functions in the global namespace). */
export function demangleKernel(mangled: string): string {
  const r = mangled.match(/^_Z(\d+)(\w+)/);
  return r ? r[2]!.slice(0, Number(r[1])) : mangled;
}

/** The kernels of one ptxas report (one architecture), in the report's order. */
export function parsePtxasReport(text: string): KernelResources[] {
  const rows: { -readonly [K in keyof KernelResources]: KernelResources[K] }[] = [];
  let cur: (typeof rows)[number] | undefined;
  for (const line of text.split('\n')) {
    const entry = line.match(/Compiling entry function '(\w+)'/);
    if (entry) {
      cur = {
        kernel: demangleKernel(entry[1]!),
        registers: 0,
        sharedBytes: 0,
        stackBytes: 0,
        spillStoreBytes: 0,
        spillLoadBytes: 0,
      };
      rows.push(cur);
      continue;
    }
    if (!cur) continue;
    const st = line.match(/(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/);
    if (st) Object.assign(cur, { stackBytes: +st[1]!, spillStoreBytes: +st[2]!, spillLoadBytes: +st[3]! });
    const regs = line.match(/Used (\d+) registers/);
    if (regs) cur.registers = +regs[1]!;
    const smem = line.match(/(\d+) bytes smem/);
    if (smem) cur.sharedBytes = +smem[1]!;
  }
  return rows;
}

/** Where the build leaves the sm_90a report. */
export const ptxasReportPath = join(buildDir, 'ptxas_sm_90a.txt');

/** The build's sm_90a kernel resources by kernel name; undefined when the build had no nvcc. */
export function buildKernelResources(path = ptxasReportPath): Map<string, KernelResources> | undefined {
  if (!existsSync(path)) return undefined;
  return new Map(parsePtxasReport(readFileSync(path, 'utf8')).map((r) => [r.kernel, r]));
}
