// open.ts: opens an image source from a --data path, detecting its format unless told: a brace
// pattern, a .tar file or a folder holding .tar files is tar; a folder (or file) of MNIST idx files
// is idx; of CIFAR .bin batches is cifar; any other folder is an image folder. A missing path, an
// empty source or an unknown file is a DataError before any work. reopenSource rebuilds a source
// from its spec in a worker, without scanning again.
import { readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { hasBraces } from './braces.js';
import { CifarSource, findCifar, openCifar } from './cifar.js';
import { FolderSource, openFolder } from './folder.js';
import { findIdxImages, IDX_IMAGES, IdxSource, openIdx } from './idx.js';
import { openTar, TarSource } from './tar.js';
import {
  DataError,
  type ImageSource,
  type ReadOptions,
  SOURCE_FORMATS,
  type SourceFormat,
  type SourceSpec,
  why,
} from './types.js';

const CIFAR_FILE = /^(data_batch_\d+|test_batch|train|test)\.bin$/;

/** The format of the source at path, from its name and (for a folder) its listing. */
export async function detectFormat(path: string): Promise<SourceFormat> {
  if (hasBraces(path)) return 'tar';
  const st = await stat(path).catch((e) => {
    throw new DataError(path, `does not exist (${why(e)})`);
  });
  const name = basename(path);
  if (st.isFile()) {
    if (name.toLowerCase().endsWith('.tar')) return 'tar';
    if (IDX_IMAGES.test(name)) return 'idx';
    if (CIFAR_FILE.test(name)) return 'cifar';
    throw new DataError(
      path,
      'is a file but not a .tar shard, an idx images file (train-images-idx3-ubyte[.gz]) or a CIFAR batch (.bin); ' +
        '--data takes an image folder, tar shards (a file, a folder or a pattern like shards-{0000..0009}.tar), ' +
        'an MNIST idx folder or a CIFAR binary folder',
    );
  }
  if (!st.isDirectory()) throw new DataError(path, 'is neither a file nor a folder');
  let names: string[];
  try {
    names = readdirSync(path);
  } catch (e) {
    throw new DataError(path, `cannot read the folder (${why(e)})`);
  }
  if (names.some((n) => !n.startsWith('.') && n.toLowerCase().endsWith('.tar'))) return 'tar';
  if (findIdxImages(path)) return 'idx';
  if (findCifar(path)) return 'cifar';
  return 'folder';
}

/** Opens the source at path (format detected unless given); DataError if it is missing, empty or unknown. */
export async function openSource(path: string, format?: SourceFormat): Promise<ImageSource> {
  if (format !== undefined && !SOURCE_FORMATS.includes(format))
    throw new DataError(
      path,
      `unknown data format ${JSON.stringify(format)} (expected ${SOURCE_FORMATS.join(', ')})`,
    );
  switch (format ?? (await detectFormat(path))) {
    case 'folder':
      if (!(await stat(path).catch(() => undefined))?.isDirectory())
        throw new DataError(
          path,
          'is not a folder (the folder format takes a folder of images or of class folders)',
        );
      return openFolder(path);
    case 'tar':
      return openTar(path);
    case 'idx':
      return openIdx(path);
    case 'cifar':
      return openCifar(path);
  }
}

/** The same source again from its spec (in a worker thread): no scan, no checks beyond the spec's format. */
export async function reopenSource(spec: SourceSpec, options: ReadOptions = {}): Promise<ImageSource> {
  switch (spec.format) {
    case 'folder':
      return new FolderSource(spec, options);
    case 'tar':
      return new TarSource(spec, options);
    case 'idx':
      return new IdxSource(spec);
    case 'cifar':
      return new CifarSource(spec);
    default:
      throw new DataError(
        (spec as { path?: string }).path ?? '?',
        `unknown source format ${JSON.stringify((spec as { format?: unknown }).format)} in the spec`,
      );
  }
}
