#!/usr/bin/env node
// gpu-ops-table.mjs: the per-op table of docs/KERNELS.md's "GPU runs" from what scripts/gpu-check.sh
// brought back: the op checker's JSON lines (stage 1, every case and output) and, optionally, the
// text of its small-case run under compute-sanitizer memcheck (stage 2), which names the ops the
// timed run did not reach before its time limit. Per op: the variants and cases checked, the worst
// relative error as a fraction of its threshold, pass or fail (with the failing output), and the
// time of the largest case per variant.
//   node scripts/gpu-ops-table.mjs OUT/op_check.jsonl [OUT/memcheck.txt]
import { readFileSync } from 'node:fs';

const [jsonl, small] = process.argv.slice(2);
if (!jsonl) {
  console.error('usage: node scripts/gpu-ops-table.mjs op_check.jsonl [memcheck.txt]');
  process.exit(2);
}
// a run stopped at its time limit leaves its last line cut short: skipped
const rows = readFileSync(jsonl, 'utf8')
  .split('\n')
  .flatMap((l) => {
    try {
      return l.trim() ? [JSON.parse(l)] : [];
    } catch {
      return [];
    }
  });

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
if (small)
  for (const line of readFileSync(small, 'utf8').split('\n')) {
    const m = /^(ok|FAIL)\s+(\S+)\s+(\S+)\s+(.*?)\s{2,}/.exec(line);
    if (!m || ops.has(m[2])) continue;
    const s = smallOnly.get(m[2]) ?? { cases: 0, fails: 0 };
    s.cases++;
    if (m[1] === 'FAIL') s.fails++;
    smallOnly.set(m[2], s);
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
    `| ${name} | (small cases only, under memcheck) | ${s.cases} | - | ${s.fails ? `FAIL (${s.fails})` : 'pass'} | - |`,
  );
console.log(out.join('\n'));
const failed =
  [...ops.values()].filter((o) => o.fails.length).length +
  [...smallOnly.values()].filter((s) => s.fails).length;
console.log(`\n${ops.size + smallOnly.size} ops, ${failed} failing`);
