// state_dict.ts: matching a loaded state dict (or a file's header: only names and shapes are
// looked at) against the expected names and shapes, with a report that names every missing,
// unexpected and misshaped tensor.

/** Anything with a shape: a tensor, a header entry, a spec. */
export interface Shaped {
  shape: readonly number[];
}

export interface StateDictReport {
  /** Expected names that are not in the loaded tensors. */
  missing: string[];
  /** Loaded names that are not expected. */
  unexpected: string[];
  /** Names present in both with different shapes. */
  misshaped: { name: string; expected: number[]; got: number[] }[];
}

/** Compare loaded tensors against the expected names and shapes (all lists sorted by name). */
export function matchStateDict(
  expected: Record<string, Shaped>,
  got: Map<string, Shaped> | Record<string, Shaped>,
): StateDictReport {
  const have = got instanceof Map ? got : new Map(Object.entries(got));
  const report: StateDictReport = { missing: [], unexpected: [], misshaped: [] };
  for (const name of Object.keys(expected).sort()) {
    const t = have.get(name);
    const want = expected[name]!.shape;
    if (!t) report.missing.push(name);
    else if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      report.misshaped.push({ name, expected: [...want], got: [...t.shape] });
    }
  }
  for (const name of [...have.keys()].sort())
    if (!Object.hasOwn(expected, name)) report.unexpected.push(name);
  return report;
}

/** True when nothing is missing, unexpected or misshaped. */
export function stateDictMatches(report: StateDictReport): boolean {
  return report.missing.length + report.unexpected.length + report.misshaped.length === 0;
}

/** A readable report naming every missing, unexpected and misshaped tensor. */
export function formatStateDictReport(report: StateDictReport, source = 'state dict'): string {
  if (stateDictMatches(report)) return `${source}: all tensors match`;
  const lines = [
    `${source}: ${report.missing.length} missing, ${report.unexpected.length} unexpected, ` +
      `${report.misshaped.length} misshaped`,
  ];
  for (const n of report.missing) lines.push(`  missing: ${n}`);
  for (const n of report.unexpected) lines.push(`  unexpected: ${n}`);
  for (const m of report.misshaped) {
    lines.push(`  misshaped: ${m.name}: expected [${m.expected.join(', ')}], got [${m.got.join(', ')}]`);
  }
  return lines.join('\n');
}

/** Throw an error with the formatted report unless the tensors match the expected state dict. */
export function assertStateDictMatches(
  expected: Record<string, Shaped>,
  got: Map<string, Shaped> | Record<string, Shaped>,
  source = 'state dict',
): void {
  const report = matchStateDict(expected, got);
  if (!stateDictMatches(report)) throw new Error(formatStateDictReport(report, source));
}
