// kernel_report_format.ts: the tables `mae-cuda kernel-report` prints: the kernels of a modeled
// step, longest first (launch shape, occupancy, coalescing, bank conflicts, work, what bounds it,
// modeled time, and `serial`: the time if each warp's loads waited one by one, at the load latency
// the first GPU run measured), the kernel classes, and the step's modeled time, images/s and MFU on
// each GPU model. Every title says MODEL: these are an emulator's counts on a GPU model, not
// measurements.
import type { KernelReport, KernelRow } from '@mae-cuda/mae';
import { table } from './format.js';

const dims = (d: readonly number[]) => (d[1] === 1 && d[2] === 1 ? `${d[0]}` : d.join('x'));
const us = (s: number) => (s * 1e6).toFixed(1);
const x = (r: number) => `${r.toFixed(2)}x`;

function kernelCells(k: KernelRow, step: number): string[] {
  const f = k.first;
  const occ = f.occupancy;
  return [
    k.kernel,
    String(k.launches),
    `${dims(f.counts.grid)} x ${dims(f.counts.block)}`,
    f.registers === undefined ? '?' : String(f.registers),
    `${occ.blocksPerSm} (${occ.limit})`,
    `${(occ.waveEfficiency * f.balance * 100).toFixed(0)}%`,
    x(k.coalescing),
    x(k.bankConflicts),
    (k.tensorFlops / 1e12).toFixed(3),
    (k.dramBytes / 1e6).toFixed(1),
    f.bound,
    us(k.time),
    `${((100 * k.time) / step).toFixed(1)}%`,
    us(k.serial),
  ];
}

export function formatKernelReport(r: KernelReport, top: number, markdown = false): string {
  const head = [
    'kernel',
    'launches',
    'grid x block',
    'regs',
    'blocks/SM (limit)',
    'SMs busy',
    'sectors/ideal',
    'smem wavefronts/ideal',
    'TFLOP',
    'DRAM MB',
    'bound',
    'us',
    'of step',
    'serial us',
  ];
  const rows = r.kernels.slice(0, top).map((k) => kernelCells(k, r.stepSeconds));
  const rest = r.kernels.length - rows.length;
  const title = `MODEL (emulator counts, ${r.sampleBlocks} blocks per grid; no GPU measured) of ${r.model} batch ${r.batch} on ${r.gpu.name}: ${r.launches.length} launches of ${r.kernels.length} kernels${r.registersKnown ? '' : '; registers unknown (no ptxas report in the build)'}`;
  return [
    title,
    table(head, rows, markdown),
    ...(rest > 0
      ? [`(${rest} more kernels, ${us(r.kernels.slice(top).reduce((s, k) => s + k.time, 0))} us)`]
      : []),
  ].join('\n');
}

export function formatKernelClasses(r: KernelReport, markdown = false): string {
  const by = new Map<string, { time: number; serial: number; launches: number }>();
  for (const k of r.kernels) {
    const c = by.get(k.class) ?? { time: 0, serial: 0, launches: 0 };
    by.set(k.class, {
      time: c.time + k.time,
      serial: c.serial + k.serial,
      launches: c.launches + k.launches,
    });
  }
  const rows = [...by]
    .sort((a, b) => b[1].time - a[1].time)
    .map(([c, v]) => [
      c,
      String(v.launches),
      us(v.time),
      `${((100 * v.time) / r.stepSeconds).toFixed(1)}%`,
      us(v.serial),
    ]);
  return [
    `MODEL: kernel classes on ${r.gpu.name} (serial: if every warp's loads waited one by one)`,
    table(['class', 'launches', 'us', 'of step', 'serial us'], rows, markdown),
  ].join('\n');
}

export function formatKernelTotals(reports: readonly KernelReport[], markdown = false): string {
  const rows = reports.map((r) => [
    r.gpu.name,
    (r.stepSeconds * 1e3).toFixed(2),
    r.imagesPerSec.toFixed(0),
    `${(r.mfu * 100).toFixed(1)}%`,
    (r.serialStepSeconds * 1e3).toFixed(2),
  ]);
  return [
    `MODEL: the step of ${reports[0]?.model} batch ${reports[0]?.batch} (${((reports[0]?.modelFlopsPerImage ?? 0) / 1e9).toPrecision(3)} GFLOP per image)`,
    table(['GPU (model)', 'step ms', 'images/s', 'MFU', 'serial step ms'], rows, markdown),
  ].join('\n');
}
