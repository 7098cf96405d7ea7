// ptxas-report.ts: docs/KERNELS.md's table of registers, static shared memory and spills per kernel
// for sm_80 and sm_90a, from the ptxas reports the build writes beside the libraries
// (ptxas_sm_80.txt, ptxas_sm_90a.txt: CMakeLists.txt, the same source and include path as the
// kernels). Usage: pnpm build && pnpm --filter @mae-cuda/native run ptxas-report [> table.md]
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type KernelResources, parsePtxasReport } from '../src/ptxas.js';

const archs = ['sm_80', 'sm_90a'];
const byArch = archs.map((a) => {
  const path = fileURLToPath(new URL(`../build/Release/ptxas_${a}.txt`, import.meta.url));
  if (!existsSync(path)) {
    console.error(`ptxas-report: ${path} is missing: pnpm build writes it when nvcc is found`);
    process.exit(2);
  }
  return parsePtxasReport(readFileSync(path, 'utf8'));
});
const names = byArch[0]!.map((r) => r.kernel).sort();
const cell = (r: KernelResources | undefined) =>
  r
    ? `${r.registers} | ${r.sharedBytes} | ${r.spillStoreBytes || r.spillLoadBytes ? `**${r.spillStoreBytes}/${r.spillLoadBytes}**` : '0'}`
    : '-';
console.log(`| kernel | ${archs.map((a) => `${a} regs | smem B | spill st/ld B`).join(' | ')} |`);
console.log(`| --- | ${archs.map(() => '---: | ---: | ---:').join(' | ')} |`);
for (const n of names)
  console.log(`| ${n} | ${byArch.map((rows) => cell(rows.find((r) => r.kernel === n))).join(' | ')} |`);
const spills = byArch.flatMap((rows, i) =>
  rows.filter((r) => r.spillStoreBytes || r.spillLoadBytes).map((r) => `${archs[i]} ${r.kernel}`),
);
console.error(
  `${names.length} kernels; ${spills.length} with spills${spills.length ? `: ${spills.join(', ')}` : ''}`,
);
