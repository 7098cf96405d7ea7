#!/usr/bin/env node
// gpu-ops-table.mjs: the per-op table of docs/KERNELS.md's "GPU runs" from what scripts/gpu-check.sh
// brought back: the op checker's JSON lines (stage 1, every case and output) and, optionally, those
// of its small-case run under compute-sanitizer memcheck (stage 2), which give the ops the timed run
// did not reach before its time limit. Per op: the variants and cases checked, the worst relative
// error as a fraction of its threshold, pass or fail (with the failing output), and the time of the
// largest case per variant (of the timed run).
//   node scripts/gpu-ops-table.mjs OUT/op_check.jsonl [OUT/op_check_small.jsonl]
import { readFileSync } from 'node:fs';

const [jsonl, small] = process.argv.slice(2);
if (!jsonl) {
  console.error('usage: node scripts/gpu-ops-table.mjs op_check.jsonl [op_check_small.jsonl]');
  process.exit(2);
}
// a run stopped at its time limit leaves its last line cut short: skipped
const read = (file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((l) => {
      try {
        return l.trim() ? [JSON.parse(l)] : [];
      } catch {
        return [];
      }
    });
const rows = read(jsonl);

/** @type {Map<string, {variants: Set<string>, cases: Set<string>, worst: number, fails: string[], us: Map<string, [number, number]>}>} */
const ops = new Map();
const volume = (sizes) => sizes.split(' ').reduce((p, kv) => p * Number(kv.split('=')[1] || 1), 1);
for (const r of rows) {
  const o = ops.get(r.op) ?? { variants: new Set(), cases: new Set(), worst: 0, fails: [], us: new Map() };
  ops.set(r.op, o);
  o.variants.add(r.variant);
  o.cases.add(`${r.variant} ${r.sizes}`);
  o.worst = Math.max(o.worst, r.threshold > 0 ? r.rel / r.threshold : 0);
  if (!r.pass) o.fails.push(`${r.variant} ${r.sizes} ${r.output} rel ${r.rel}`);
  const v = volume(r.sizes);
  const best = o.us.get(r.variant);
  if (!best || v > best[0]) o.us.set(r.variant, [v, r.us]);
}
// ops that only the small-case run reached (the timed run stopped at its limit)
const smallOnly = new Map();
for (const r of small ? read(small) : []) {
  if (ops.has(r.op)) continue;
  const c = smallOnly.get(r.op) ?? { cases: new Set(), fails: 0 };
  c.cases.add(`${r.variant} ${r.sizes}`);
  if (!r.pass) c.fails++;
  smallOnly.set(r.op, c);
}

const out = [
  '| op | variants | cases | worst error / threshold | result | us, largest case |',
  '| --- | --- | ---: | ---: | --- | --- |',
];
for (const [name, o] of [...ops].sort(([a], [b]) => a.localeCompare(b))) {
  const us = [...o.us].map(([v, [, t]]) => `${v} ${t.toFixed(1)}`).join(', ');
  const result = o.fails.length ? `FAIL: ${o.fails.slice(0, 2).join('; ')}` : 'pass';
  out.push(
    `| ${name} | ${[...o.variants].join(', ')} | ${o.cases.size} | ${o.worst.toFixed(3)} | ${result} | ${us} |`,
  );
}
for (const [name, s] of smallOnly)
  out.push(
    `| ${name} | (small cases only, under memcheck) | ${s.cases.size} | - | ${s.fails ? `FAIL (${s.fails})` : 'pass'} | - |`,
  );
console.log(out.join('\n'));
const failed =
  [...ops.values()].filter((o) => o.fails.length).length +
  [...smallOnly.values()].filter((s) => s.fails).length;
console.log(`\n${ops.size + smallOnly.size} ops, ${failed} failing`);
