// folder-scan.ts: scans an image folder the way torchvision's ImageFolder does: class names are
// the sorted sub-folders (find_classes), each class's images are found by a sorted walk
// (make_dataset: folders in sorted order, files sorted within a folder), symlinks followed,
// hidden entries skipped, extensions matched case-insensitively. A folder with no class
// sub-folders holding images is one class named after the folder. Uses readdir withFileTypes,
// so only symlinks are stat-ed.
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DataError, type FolderSpec, why } from './types.js';

/** torchvision's IMG_EXTENSIONS, plus .avif and .gif. */
export const IMAGE_EXTENSIONS = [
  '.jpg',
  '.jpeg',
  '.png',
  '.ppm',
  '.bmp',
  '.pgm',
  '.tif',
  '.tiff',
  '.webp',
  '.avif',
  '.gif',
];

export function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

interface Listing {
  dirs: string[];
  files: string[];
}

/** The non-hidden sub-folders and files of dir (symlinks resolved), each sorted. */
async function list(dir: string): Promise<Listing> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new DataError(dir, `cannot read the folder (${why(e)})`);
  }
  const dirs: string[] = [];
  const files: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      const st = await stat(join(dir, e.name)).catch(() => undefined); // a dangling link is skipped
      isDir = st?.isDirectory() ?? false;
      isFile = st?.isFile() ?? false;
    }
    if (isDir) dirs.push(e.name);
    else if (isFile) files.push(e.name);
  }
  return { dirs: dirs.sort(), files: files.sort() };
}

/** Every folder under rel (relative to root, rel included) with its sorted image files; `seen` guards link loops. */
async function walk(
  root: string,
  rel: string,
  seen: Set<string>,
  out: Array<[string, string[]]>,
): Promise<void> {
  const dir = join(root, rel);
  const real = await realpath(dir);
  if (seen.has(real)) return;
  seen.add(real);
  const { dirs, files } = await list(dir);
  out.push([rel, files.filter(isImageName).map((f) => `${rel}/${f}`)]);
  for (const d of dirs) await walk(root, `${rel}/${d}`, seen, out);
  seen.delete(real);
}

/** A class folder's images in make_dataset's order: os.walk's folders sorted by path ("a/b-c" before "a/b/d"). */
async function classImages(root: string, cls: string, rootReal: string): Promise<string[]> {
  const folders: Array<[string, string[]]> = [];
  await walk(root, cls, new Set([rootReal]), folders);
  folders.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return folders.flatMap(([, f]) => f);
}

/** Scans root as an ImageFolder (or a flat folder of images) into a spec; DataError if it holds no images. */
export async function scanFolder(root: string): Promise<FolderSpec> {
  const { dirs, files } = await list(root);
  const perClass: string[][] = [];
  const rootReal = await realpath(root);
  for (const d of dirs) perClass.push(await classImages(root, d, rootReal));
  const flat = files.filter(isImageName);
  if (perClass.every((f) => f.length === 0)) {
    if (flat.length === 0)
      throw new DataError(
        root,
        `no images found (looked for ${IMAGE_EXTENSIONS.join(' ')} in the folder and its sub-folders)`,
      );
    return { format: 'folder', path: root, classes: [basename(root)], files: flat, starts: [0, flat.length] };
  }
  const empty = dirs.filter((_, c) => perClass[c]!.length === 0);
  if (empty.length > 0)
    throw new DataError(
      root,
      `class folder${empty.length > 1 ? 's' : ''} ${empty.slice(0, 5).join(', ')}${empty.length > 5 ? ', ...' : ''} ` +
        `hold${empty.length > 1 ? '' : 's'} no images (torchvision's ImageFolder refuses empty classes too)`,
    );
  const starts = [0];
  for (const f of perClass) starts.push(starts[starts.length - 1]! + f.length);
  return { format: 'folder', path: root, classes: dirs, files: perClass.flat(), starts };
}
