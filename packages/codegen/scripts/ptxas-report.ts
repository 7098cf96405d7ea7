// ptxas-report.ts: compiles the generated CUDA kernels with `-Xptxas -v` for sm_80 and sm_90a and
// prints a markdown table of registers, shared memory, stack and spills per kernel (for
// docs/KERNELS.md). Usage: pnpm --filter @mae-cuda/codegen run ptxas-report [> table.md]
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../native/', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'ptxas-'));

interface Row {
  kernel: string;
  regs: number;
  smem: number;
  stack: number;
  spillSt: number;
  spillLd: number;
}

function parse(text: string): Row[] {
  const rows: Row[] = [];
  let cur: Partial<Row> | undefined;
  for (const line of text.split('\n')) {
    const entry = line.match(/Compiling entry function '(\w+)'/);
    if (entry) {
      cur = { kernel: demangle(entry[1]!), regs: 0, smem: 0, stack: 0, spillSt: 0, spillLd: 0 };
      rows.push(cur as Row);
      continue;
    }
    if (!cur) continue;
    const st = line.match(/(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/);
    if (st) Object.assign(cur, { stack: +st[1]!, spillSt: +st[2]!, spillLd: +st[3]! });
    const regs = line.match(/Used (\d+) registers/);
    if (regs) cur.regs = +regs[1]!;
    const smem = line.match(/(\d+) bytes smem/);
    if (smem) cur.smem = +smem[1]!;
  }
  return rows;
}

/** `_Z12name...` -> name (the kernels are plain functions in the global namespace). */
function demangle(m: string): string {
  const r = m.match(/^_Z(\d+)(\w+)/);
  return r ? r[2]!.slice(0, +r[1]!) : m;
}

function ptxas(arch: string): Row[] {
  // nvcc prints ptxas info on stderr; capture it through a shell redirect
  const text = execFileSync(
    'bash',
    [
      '-c',
      `nvcc -std=c++17 -c "${join(root, 'generated/ops_cuda.cu')}" -o "${join(tmp, `${arch}.o`)}" -I"${join(root, 'include')}" -I"${join(root, 'generated')}" -I"${join(root, 'src/runtime')}" -I"${join(root, 'src/device')}" -I"${join(root, 'src/cpu')}" -DMAE_WITH_CUDA -gencode=arch=compute_${arch.replace('sm_', '')},code=${arch} --expt-relaxed-constexpr -O3 -Xptxas -v 2>&1`,
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  return parse(text);
}

const archs = ['sm_80', 'sm_90a'];
const byArch = archs.map((a) => ptxas(a));
const names = byArch[0]!.map((r) => r.kernel).sort();
const cell = (r: Row | undefined) =>
  r ? `${r.regs} | ${r.smem} | ${r.spillSt || r.spillLd ? `**${r.spillSt}/${r.spillLd}**` : '0'}` : '-';
console.log(`| kernel | ${archs.map((a) => `${a} regs | smem B | spill st/ld B`).join(' | ')} |`);
console.log(`| --- | ${archs.map(() => '---: | ---: | ---:').join(' | ')} |`);
for (const n of names)
  console.log(`| ${n} | ${byArch.map((rows) => cell(rows.find((r) => r.kernel === n))).join(' | ')} |`);
const spills = byArch.flatMap((rows, i) =>
  rows.filter((r) => r.spillSt || r.spillLd).map((r) => `${archs[i]} ${r.kernel}`),
);
console.error(
  `${names.length} kernels; ${spills.length} with spills${spills.length ? `: ${spills.join(', ')}` : ''}`,
);
