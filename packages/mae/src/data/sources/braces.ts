// braces.ts: brace expansion of shard patterns as WebDataset's braceexpand does: numeric ranges
// `{0000..0127}` (zero padded to the wider bound when a bound has a leading zero, descending
// ranges too), comma lists `{a,b}`, several groups and nesting; a `{` without a matching `}` or
// with neither a comma nor a range is kept as text.

/** The index of the `}` closing the `{` at open, or -1. */
function closing(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** Splits s at the commas outside nested braces. */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}') depth--;
    else if (s[i] === ',' && depth === 0) {
      parts.push(s.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(s.slice(from));
  return parts;
}

function range(body: string): string[] | undefined {
  const m = /^(-?\d+)\.\.(-?\d+)$/.exec(body);
  if (!m) return undefined;
  const [a, b] = [m[1]!, m[2]!];
  const padded = /^-?0\d/.test(a) || /^-?0\d/.test(b);
  const width = padded ? Math.max(a.length, b.length) : 0;
  const [from, to] = [Number.parseInt(a, 10), Number.parseInt(b, 10)];
  const step = from <= to ? 1 : -1;
  const out: string[] = [];
  for (let v = from; step > 0 ? v <= to : v >= to; v += step)
    out.push(v < 0 ? `-${String(-v).padStart(width - 1, '0')}` : String(v).padStart(width, '0'));
  return out;
}

/** All the strings the pattern stands for, in order. */
export function braceExpand(pattern: string): string[] {
  for (let open = pattern.indexOf('{'); open >= 0; open = pattern.indexOf('{', open + 1)) {
    const close = closing(pattern, open);
    if (close < 0) return [pattern];
    const body = pattern.slice(open + 1, close);
    const parts = splitTop(body);
    const alts = parts.length > 1 ? parts.flatMap(braceExpand) : range(body);
    if (!alts) continue; // `{x}`: literal text, look for the next group
    const head = pattern.slice(0, open);
    const tails = braceExpand(pattern.slice(close + 1));
    return alts.flatMap((a) => tails.map((t) => head + a + t));
  }
  return [pattern];
}

/** Whether the pattern holds a brace group that expands (a range or a comma list). */
export function hasBraces(pattern: string): boolean {
  const all = braceExpand(pattern);
  return all.length !== 1 || all[0] !== pattern;
}
