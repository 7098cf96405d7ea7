// data/scan.ts: what `mae-cuda data` reports about an image source: its samples per class, and a
// scan of the checked samples: for encoded images their headers only (sharp's metadata, no decode:
// format, stored size, channel kind), for raw pixels (idx, cifar) their size and channels; each
// sample that cannot be read or whose header is bad is counted (the first few named with why).
import { sep } from 'node:path';
import {
  DecodeError,
  type ImageSource,
  MAX_PIXELS,
  readHeader,
  readNetpbm,
  type Sample,
  type SourceFormat,
} from '@mae-cuda/mae';
import type sharp from 'sharp';

/** The fields of an image's header the scan reports. */
export type ImageMetadata = Partial<
  Pick<
    sharp.Metadata,
    'format' | 'width' | 'height' | 'channels' | 'space' | 'depth' | 'isPalette' | 'hasAlpha'
  >
>;

/** Checked samples by default: all of them up to this many, else this many spread evenly. */
export const DEFAULT_CHECK = 10_000;
/** Bad samples named in the report (all are counted). */
export const BAD_NAMED = 10;
/** Classes listed one by one (more are summarised with the first few). */
export const CLASS_TABLE = 20;
/** Headers read at once. */
const CONCURRENCY = 8;

/** Short-side buckets of the size histogram. */
export const SIZE_BUCKETS = ['<64', '64-127', '128-255', '256-511', '512-1023', '>=1024'] as const;

export function sizeBucket(shortSide: number): (typeof SIZE_BUCKETS)[number] {
  if (shortSide < 64) return '<64';
  if (shortSide < 128) return '64-127';
  if (shortSide < 256) return '128-255';
  if (shortSide < 512) return '256-511';
  if (shortSide < 1024) return '512-1023';
  return '>=1024';
}

/** The channel kind of an encoded image: grey, grey+alpha, rgb, rgba, cmyk or palette; "16-bit " before it when so. */
export function channelKind(m: ImageMetadata): string {
  let kind: string;
  if (m.isPalette) kind = 'palette';
  else if (m.space === 'cmyk') kind = 'cmyk';
  else if (m.channels === 1) kind = 'grey';
  else if (m.channels === 2) kind = 'grey+alpha';
  else if (m.channels === 3) kind = 'rgb';
  else if (m.channels === 4) kind = 'rgba';
  else kind = `${m.channels ?? '?'} channels`;
  return m.depth === 'ushort' || m.space === 'rgb16' || m.space === 'grey16' ? `16-bit ${kind}` : kind;
}

/** Which samples are checked: every one, the first N, or N spread evenly over the source. */
export interface CheckPlan {
  mode: 'all' | 'first' | 'spread';
  indices: number[];
}

/** check: 'all', a count N (the first N), or undefined (all up to DEFAULT_CHECK, else that many spread evenly). */
export function planCheck(length: number, check: number | 'all' | undefined): CheckPlan {
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  if (check === 'all' || (check === undefined && length <= DEFAULT_CHECK))
    return { mode: 'all', indices: range(length) };
  if (check !== undefined)
    return check >= length
      ? { mode: 'all', indices: range(length) }
      : { mode: 'first', indices: range(check) };
  return {
    mode: 'spread',
    indices: Array.from({ length: DEFAULT_CHECK }, (_, k) => Math.floor((k * length) / DEFAULT_CHECK)),
  };
}

export interface BadSample {
  index: number;
  name: string;
  reason: string;
}

export interface DataReport {
  path: string;
  format: SourceFormat;
  /** whether the format was found from the path (not given with --data-format) */
  detected: boolean;
  samples: number;
  classes: { count: number; samples: { name: string; samples: number }[] };
  check: { mode: CheckPlan['mode']; checked: number; of: number };
  /** image formats seen: jpeg, png, ... ('raw' for the raw pixels of idx and cifar) */
  formats: Record<string, number>;
  /** short side, in SIZE_BUCKETS */
  sizes: Record<string, number>;
  /** channel kinds seen */
  channels: Record<string, number>;
  /** stored sizes seen of raw samples, "WxHxC" (one for idx and cifar) */
  rawSizes: Record<string, number>;
  bad: { count: number; first: BadSample[] };
  ok: boolean;
}

/** Samples per class, in class order. */
export function classCounts(source: ImageSource): { name: string; samples: number }[] {
  const counts = new Array<number>(source.classes.length).fill(0);
  for (let i = 0; i < source.length; i++) counts[source.label(i)]!++;
  return source.classes.map((name, c) => ({ name, samples: counts[c]! }));
}

const reasonOf = (e: unknown) => (e instanceof Error ? e.message.trim() : String(e));
const add = (r: Record<string, number>, key: string) => {
  r[key] = (r[key] ?? 0) + 1;
};

/** A sample's name relative to the source's path when it is under it. */
const shortName = (root: string, name: string) => {
  const prefix = root.endsWith(sep) ? root : `${root}${sep}`;
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
};

type Seen = { format: string; width: number; height: number; channels: string; raw?: string };

/** The header facts of a sample, or throws with why it is bad. */
async function inspect(sample: Sample): Promise<Seen> {
  if (sample.kind === 'raw') {
    const { width, height, channels } = sample;
    return {
      format: 'raw',
      width,
      height,
      channels: channels === 1 ? 'grey' : 'rgb',
      raw: `${width}x${height}x${channels}`,
    };
  }
  let h: Awaited<ReturnType<typeof readHeader>>;
  try {
    const pnm = readNetpbm(sample.bytes, sample.name);
    if (pnm) {
      const { width, height, channels } = pnm;
      return {
        format: channels === 1 ? 'pgm' : 'ppm',
        width,
        height,
        channels: channels === 1 ? 'grey' : 'rgb',
      };
    }
    // the checks the loader makes: an empty file, no size, more pixels than it decodes
    h = await readHeader(sample.bytes, sample.name, MAX_PIXELS);
  } catch (e) {
    throw e instanceof DecodeError ? new Error(e.reason) : e;
  }
  const { width, height, metadata: m } = h;
  return { format: m.format ?? 'unknown', width, height, channels: channelKind(m) };
}

export interface ScanOptions {
  check?: number | 'all';
  detected: boolean;
  /** called after each checked sample: (done, total) */
  progress?: (done: number, total: number) => void;
}

/** Counts the classes and checks the planned samples of an open source. */
export async function scanSource(source: ImageSource, o: ScanOptions): Promise<DataReport> {
  const plan = planCheck(source.length, o.check);
  const formats: Record<string, number> = {};
  const sizes: Record<string, number> = {};
  const channels: Record<string, number> = {};
  const rawSizes: Record<string, number> = {};
  const bad: BadSample[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < plan.indices.length) {
      const index = plan.indices[next++]!;
      let name = `sample ${index}`;
      try {
        const sample = await source.read(index);
        name = shortName(source.path, sample.name);
        const seen = await inspect(sample);
        add(formats, seen.format);
        add(sizes, sizeBucket(Math.min(seen.width, seen.height)));
        add(channels, seen.channels);
        if (seen.raw) add(rawSizes, seen.raw);
      } catch (e) {
        bad.push({ index, name, reason: reasonOf(e) });
      }
      o.progress?.(++done, plan.indices.length);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  bad.sort((a, b) => a.index - b.index);
  const ordered = (r: Record<string, number>) =>
    Object.fromEntries(Object.entries(r).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  return {
    path: source.path,
    format: source.format,
    detected: o.detected,
    samples: source.length,
    classes: { count: source.classes.length, samples: classCounts(source) },
    check: { mode: plan.mode, checked: plan.indices.length, of: source.length },
    formats: ordered(formats),
    sizes: Object.fromEntries(SIZE_BUCKETS.filter((b) => sizes[b]).map((b) => [b, sizes[b]!])),
    channels: ordered(channels),
    rawSizes: ordered(rawSizes),
    bad: { count: bad.length, first: bad.slice(0, BAD_NAMED) },
    ok: bad.length === 0,
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const counts = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';
const className = (name: string) => (name === '' ? '(unlabelled)' : name);

/** The report as text. */
export function formatReport(r: DataReport): string {
  const lines = [
    `source: ${r.path}`,
    `format: ${r.format} (${r.detected ? 'detected' : 'given'})`,
    `samples: ${r.samples} in ${plural(r.classes.count, 'class', 'classes')}`,
  ];
  const cls = r.classes.samples;
  const width = Math.max(...cls.map((c) => className(c.name).length), 5);
  const shown = cls.length <= CLASS_TABLE ? cls : cls.slice(0, 10);
  lines.push(
    cls.length <= CLASS_TABLE ? 'classes (samples):' : `classes (samples), the first ${shown.length}:`,
  );
  for (const c of shown) lines.push(`  ${className(c.name).padEnd(width)}  ${c.samples}`);
  if (cls.length > CLASS_TABLE) {
    lines.push(`  ... and ${cls.length - shown.length} more`);
    const sorted = [...cls].sort((a, b) => a.samples - b.samples);
    const lo = sorted[0]!;
    const hi = sorted.at(-1)!;
    lines.push(
      `  smallest ${className(lo.name)} (${lo.samples}), largest ${className(hi.name)} (${hi.samples}), ` +
        `${cls.filter((c) => c.samples === 0).length} empty`,
    );
  }
  const { mode, checked, of } = r.check;
  const what = r.format === 'idx' || r.format === 'cifar' ? 'raw pixels read' : 'image headers only';
  lines.push(
    mode === 'all'
      ? `checked: all ${plural(of, 'sample')} (${what})`
      : mode === 'first'
        ? `checked: the first ${checked} of ${of} samples (${what}; --check all for every one)`
        : `checked: ${checked} of ${of} samples, spread evenly (${what}; --check all for every one)`,
  );
  if (Object.keys(r.rawSizes).length > 0) lines.push(`raw size (WxHxC): ${counts(r.rawSizes)}`);
  lines.push(`formats: ${counts(r.formats)}`);
  lines.push(`short side: ${counts(r.sizes)}`);
  lines.push(`channels: ${counts(r.channels)}`);
  if (r.bad.count === 0) lines.push(`bad (unreadable or bad header): none of ${checked} checked`);
  else {
    lines.push(
      `bad (unreadable or bad header): ${r.bad.count} of ${checked} checked` +
        (r.bad.count > r.bad.first.length ? `, the first ${r.bad.first.length}:` : ':'),
    );
    for (const b of r.bad.first) lines.push(`  #${b.index} ${b.name}: ${b.reason}`);
  }
  return lines.join('\n');
}
