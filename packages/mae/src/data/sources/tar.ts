// tar.ts: an ImageSource over WebDataset-style tar shards. The shards are a brace pattern
// (`train-{0000..0127}.tar`), one .tar, or a folder of .tar files; each is indexed once. Members
// group into samples by key (the path up to the first dot of the basename, WebDataset's rule): a
// sample is its image member plus an optional `<key>.cls` holding a decimal class index. read(i)
// reads just that image member with a positional read.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { braceExpand, hasBraces } from './braces.js';
import { LabelledSource } from './labelled.js';
import { indexTar, type TarMember } from './tar-index.js';
import { DataError, type ImageSource, type ReadOptions, type Sample, type TarSpec, why } from './types.js';

/** Image extensions of a WebDataset sample, in order of preference when a key has several. */
export const TAR_IMAGE_EXTENSIONS = [
  'jpg',
  'jpeg',
  'png',
  'webp',
  'ppm',
  'pgm',
  'bmp',
  'tif',
  'tiff',
  'avif',
  'gif',
];
const SHARD_CONCURRENCY = 8;

/** The shard files that `path` names, in order; DataError for a missing shard or an empty folder. */
export async function resolveShards(path: string): Promise<string[]> {
  if (hasBraces(path)) {
    const shards = braceExpand(path);
    const missing: string[] = [];
    for (const s of shards) if (!(await stat(s).catch(() => undefined))?.isFile()) missing.push(s);
    if (missing.length > 0)
      throw new DataError(
        missing[0]!,
        `shard missing: ${missing.length} of the ${shards.length} shards of ${path} do not exist` +
          (missing.length > 1
            ? ` (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''})`
            : ''),
      );
    return shards;
  }
  const st = await stat(path).catch((e) => {
    throw new DataError(path, `does not exist (${why(e)})`);
  });
  if (st.isFile()) return [path];
  const names = (await readdir(path)).filter((n) => !n.startsWith('.') && n.toLowerCase().endsWith('.tar'));
  if (names.length === 0) throw new DataError(path, 'no .tar shards in the folder');
  return names.sort().map((n) => join(path, n));
}

/** WebDataset's split of a member name into key and extension, or undefined (no dot, hidden). */
export function splitKey(name: string): { key: string; ext: string } | undefined {
  const slash = name.lastIndexOf('/');
  const dot = name.indexOf('.', slash + 1);
  if (dot <= slash + 1) return undefined;
  return { key: name.slice(0, dot), ext: name.slice(dot + 1).toLowerCase() };
}

interface Group {
  image?: TarMember;
  rank: number;
  cls?: TarMember;
}

/** The samples of one shard, in the order their keys first appear. */
function groupShard(members: TarMember[]): Array<{ key: string } & Group> {
  const groups = new Map<string, Group>();
  for (const m of members) {
    const k = splitKey(m.name);
    if (!k) continue;
    let g = groups.get(k.key);
    if (!g) {
      g = { rank: Infinity };
      groups.set(k.key, g);
    }
    const rank = TAR_IMAGE_EXTENSIONS.indexOf(k.ext);
    if (rank >= 0 && rank < g.rank) {
      g.image = m;
      g.rank = rank;
    } else if (k.ext === 'cls') g.cls = m;
  }
  return [...groups].filter(([, g]) => g.image).map(([key, g]) => ({ key, ...g }));
}

function parseCls(shard: string, m: TarMember): number {
  const text = m.data!.toString('utf8').trim();
  if (!/^-?\d+$/.test(text))
    throw new DataError(
      shard,
      `member ${m.name}: expected a decimal class index, found ${JSON.stringify(text.slice(0, 40))}`,
    );
  return Number.parseInt(text, 10);
}

/** Indexes the shards into a spec (the shards are read SHARD_CONCURRENCY at a time). */
export async function scanTar(path: string): Promise<TarSpec> {
  const shards = await resolveShards(path);
  const perShard: TarMember[][] = [];
  for (let s = 0; s < shards.length; s += SHARD_CONCURRENCY)
    perShard.push(
      ...(await Promise.all(
        shards.slice(s, s + SHARD_CONCURRENCY).map((f) => indexTar(f, (n) => n.endsWith('.cls'))),
      )),
    );
  const shard: number[] = [];
  const images: TarMember[] = [];
  const cls: Array<number | undefined> = [];
  const firstWithout: Array<string | undefined> = [undefined, undefined]; // [a sample without .cls, one with]
  perShard.forEach((members, s) => {
    for (const g of groupShard(members)) {
      shard.push(s);
      images.push(g.image!);
      const c = g.cls ? parseCls(shards[s]!, g.cls) : undefined;
      cls.push(c);
      firstWithout[c === undefined ? 0 : 1] ??= `${shards[s]}:${g.key}`;
    }
  });
  if (images.length === 0)
    throw new DataError(
      path,
      `no images in ${shards.length} shard(s) (members ending .${TAR_IMAGE_EXTENSIONS.join(' .')})`,
    );
  if (firstWithout[0] && firstWithout[1])
    throw new DataError(
      path,
      `sample ${firstWithout[0]} has no .cls member while others (${firstWithout[1]}) do`,
    );
  const values = [...new Set(cls.filter((c) => c !== undefined))].sort((a, b) => a - b);
  const classOf = new Map(values.map((v, i) => [v, i]));
  return {
    format: 'tar',
    path,
    classes: values.length > 0 ? values.map(String) : [''],
    shards,
    shard: Int32Array.from(shard),
    offsets: Float64Array.from(images, (m) => m.offset),
    sizes: Float64Array.from(images, (m) => m.size),
    members: images.map((m) => m.name),
    labels: Int32Array.from(cls, (c) => (c === undefined ? 0 : classOf.get(c)!)),
  };
}

export class TarSource extends LabelledSource<TarSpec> implements ImageSource {
  readonly format = 'tar' as const;

  constructor(spec: TarSpec, options: ReadOptions = {}) {
    super(spec, undefined, options);
  }

  protected async readChecked(i: number): Promise<Sample> {
    const s = this.spec;
    const shard = s.shards[s.shard[i]!]!;
    const bytes = await this.handles.read(shard, s.offsets[i]!, s.sizes[i]!, `member ${s.members[i]}`, i);
    return {
      kind: 'encoded',
      bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length),
      name: `${shard}:${s.members[i]}`,
    };
  }
}

export async function openTar(path: string): Promise<TarSource> {
  return new TarSource(await scanTar(path));
}
