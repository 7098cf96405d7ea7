// prepare/run.ts: writes an image source as WebDataset tar shards of re-encoded images
// (`train-000000.tar`, ...; each sample `<key>.jpg` (or `.ppm`/`.pgm` raw) + `<key>.cls`, the key the zero-padded source
// index) and `index.json`. Samples are encoded `workers` at a time (sharp, async) and written in
// index order, so the shards are the same bytes whatever the worker count. A shard is closed
// before it would pass `shardSize` (it holds at least one sample), written to `<name>.partial`,
// synced and renamed; index.json is rewritten after each shard with the shards so far and the
// next sample, so a rerun with the same settings keeps the complete shards and goes on from there.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageSource } from '@mae-cuda/mae';
import { type Encoded, type EncodeSettings, type Encoding, encodeSample } from './encode.js';
import { TAR_END, TarWriter, tarMemberBytes } from './tar-writer.js';

export const INDEX_FILE = 'index.json';
export const INDEX_VERSION = 1;
const SHARD_NAME = /^train-\d{6,}\.tar(\.partial)?$/;

export interface PrepareSettings {
  /** the short side (never enlarged), or null to keep the size */
  shortSide: number | null;
  quality: number;
  shardSize: number;
  /** 'raw' (PPM/PGM); absent in the index of an older prepare: 'jpeg' */
  encoding?: Encoding;
}

export interface SourceInfo {
  path: string;
  format: string;
  samples: number;
}

export interface ShardEntry {
  name: string;
  /** the source index of its first sample */
  first: number;
  /** the source index after its range (its last sample and any skipped ones after it) */
  end: number;
  samples: number;
  bytes: number;
}

export interface Skipped {
  index: number;
  name: string;
  reason: string;
}

export interface PrepareIndex {
  version: number;
  complete: boolean;
  source: SourceInfo;
  settings: PrepareSettings;
  classes: string[];
  shards: ShardEntry[];
  /** samples written (over all shards) */
  samples: number;
  /** the samples that could not be read or decoded (skipped) */
  skipped: Skipped[];
  /** the source index the next shard starts at */
  next: number;
}

export function shardName(n: number): string {
  return `train-${String(n).padStart(6, '0')}.tar`;
}

/** The zero-padded key of source index i (at least 6 digits, as many as the largest index needs). */
export function keyOf(i: number, length: number): string {
  return String(i).padStart(Math.max(6, String(Math.max(0, length - 1)).length), '0');
}

export function readIndex(dir: string): PrepareIndex | undefined {
  try {
    const x = JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8')) as PrepareIndex;
    return x && x.version === INDEX_VERSION && Array.isArray(x.shards) ? x : undefined;
  } catch {
    return undefined;
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * What to do in `dir`: 'fresh' (empty or missing), 'resume' (an index of the same source and
 * settings), or a reason to refuse (other settings, or files that are not a prepare output).
 */
export function planDir(
  dir: string,
  source: SourceInfo,
  settings: PrepareSettings,
): { kind: 'fresh' } | { kind: 'resume'; index: PrepareIndex } | { kind: 'refuse'; why: string } {
  if (!existsSync(dir)) return { kind: 'fresh' };
  const names = readdirSync(dir);
  if (names.length === 0) return { kind: 'fresh' };
  const index = readIndex(dir);
  if (!index)
    return { kind: 'refuse', why: `${dir} is not empty and holds no ${INDEX_FILE} of a prepare run` };
  if (!sameJson(index.source, source))
    return {
      kind: 'refuse',
      why: `${dir} holds a prepare of another source (${index.source.path}, ${index.source.format}, ${index.source.samples} samples)`,
    };
  if (!sameJson({ encoding: 'jpeg', ...index.settings }, { encoding: 'jpeg', ...settings }))
    return {
      kind: 'refuse',
      why: `${dir} was prepared with other settings (${JSON.stringify(index.settings)}; now ${JSON.stringify(settings)})`,
    };
  return { kind: 'resume', index };
}

/** Removes what a prepare run writes in dir (shards, partial shards, index.json); other files stay. */
export function clearDir(dir: string): void {
  if (!existsSync(dir)) return;
  for (const n of readdirSync(dir))
    if (SHARD_NAME.test(n) || n === INDEX_FILE) rmSync(join(dir, n), { force: true });
}

/** The complete shards of a previous run that are still on disk with their size, in order (a prefix). */
function keptShards(dir: string, index: PrepareIndex): ShardEntry[] {
  const kept: ShardEntry[] = [];
  for (const s of index.shards) {
    const st = statSync(join(dir, s.name), { throwIfNoEntry: false });
    if (!st?.isFile() || st.size !== s.bytes) break;
    kept.push(s);
  }
  return kept;
}

export interface PrepareOptions {
  dir: string;
  source: ImageSource;
  sourceInfo: SourceInfo;
  settings: PrepareSettings;
  workers: number;
  /** a previous run's index to resume from */
  resume?: PrepareIndex;
  progress?: (done: number, total: number, bytes: number) => void;
  /** called after each shard is renamed into place (tests stop a run here) */
  onShard?: (s: ShardEntry) => void;
}

export interface PrepareResult {
  index: PrepareIndex;
  /** shards kept from a previous run */
  kept: number;
  /** shards written by this run */
  written: number;
}

type Outcome = ({ ok: true } & Encoded) | { ok: false; name: string; reason: string };

async function encodeAt(source: ImageSource, i: number, enc: EncodeSettings): Promise<Outcome> {
  let name = `sample ${i}`;
  try {
    const sample = await source.read(i);
    name = sample.name;
    return { ok: true, ...(await encodeSample(sample, enc)) };
  } catch (e) {
    const reason = String((e as Error)?.message ?? e).split('\n')[0]!;
    return { ok: false, name, reason };
  }
}

export async function prepare(o: PrepareOptions): Promise<PrepareResult> {
  const { dir, source, settings } = o;
  const total = source.length;
  const kept = o.resume ? keptShards(dir, o.resume) : [];
  // all shards kept: go on from where the previous run stopped; else after the last kept shard.
  // The skipped samples before `start` are those the previous run recorded.
  const start =
    o.resume && kept.length === o.resume.shards.length ? o.resume.next : (kept[kept.length - 1]?.end ?? 0);
  const keptNames = new Set(kept.map((s) => s.name));
  for (const n of readdirSync(dir))
    if (SHARD_NAME.test(n) && !keptNames.has(n)) rmSync(join(dir, n), { force: true });
  const index: PrepareIndex = {
    version: INDEX_VERSION,
    complete: false,
    source: o.sourceInfo,
    settings,
    classes: [...source.classes],
    shards: [...kept],
    samples: kept.reduce((a, s) => a + s.samples, 0),
    skipped: (o.resume?.skipped ?? []).filter((s) => s.index < start),
    next: start,
  };
  const saveIndex = () => {
    const tmp = join(dir, `.${INDEX_FILE}.partial`);
    writeFileSync(tmp, `${JSON.stringify(index, null, 2)}\n`);
    renameSync(tmp, join(dir, INDEX_FILE));
  };
  saveIndex();
  let bytesWritten = kept.reduce((a, s) => a + s.bytes, 0);
  const enc: EncodeSettings = {
    quality: settings.quality,
    encoding: settings.encoding ?? 'jpeg',
    ...(settings.shortSide === null ? {} : { shortSide: settings.shortSide }),
  };

  // encode ahead in a window of `workers` jobs; consume in index order
  const pending = new Map<number, Promise<Outcome>>();
  let launched = start;
  const fill = (upTo: number) => {
    while (launched < total && launched < upTo) {
      pending.set(launched, encodeAt(source, launched, enc));
      launched++;
    }
  };

  let writer: TarWriter | undefined;
  let current: ShardEntry | undefined;
  let projected = 0;
  const closeShard = async (nextIndex: number) => {
    if (!writer || !current) return;
    const bytes = await writer.close();
    renameSync(join(dir, `${current.name}.partial`), join(dir, current.name));
    current.bytes = bytes;
    current.end = nextIndex;
    index.shards.push(current);
    index.samples += current.samples;
    index.next = nextIndex;
    saveIndex();
    o.onShard?.(current);
    writer = undefined;
    current = undefined;
  };

  let written = 0;
  try {
    for (let i = start; i < total; i++) {
      fill(i + o.workers);
      const r = await pending.get(i)!;
      pending.delete(i);
      if (!r.ok) {
        index.skipped.push({ index: i, name: r.name, reason: r.reason });
      } else {
        const key = keyOf(i, total);
        const cls = Buffer.from(String(source.label(i)));
        const cost = tarMemberBytes(r.bytes.length) + tarMemberBytes(cls.length);
        if (current && projected + cost + TAR_END > settings.shardSize) {
          await closeShard(i);
          written++;
        }
        if (!current) {
          current = { name: shardName(index.shards.length), first: i, end: i, samples: 0, bytes: 0 };
          writer = await TarWriter.create(join(dir, `${current.name}.partial`));
          projected = 0;
        }
        await writer!.add(`${key}.${r.ext}`, r.bytes);
        await writer!.add(`${key}.cls`, cls);
        projected += cost;
        bytesWritten += cost;
        current.samples++;
      }
      o.progress?.(i + 1, total, bytesWritten);
    }
    if (current) {
      await closeShard(total);
      written++;
    }
  } catch (e) {
    await writer?.abandon();
    await Promise.allSettled(pending.values());
    throw e;
  }
  index.next = total;
  index.complete = true;
  saveIndex();
  return { index, kept: kept.length, written };
}
