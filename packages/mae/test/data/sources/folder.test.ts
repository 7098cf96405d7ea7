// folder.test.ts: image folders ordered as torchvision's ImageFolder (checked against a Python
// copy of find_classes / make_dataset when python3 is present), flat folders, symlinks, hidden
// files, extensions, empty classes and unreadable files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { openFolder } from '../../../src/data/sources/folder.js';
import { DataError } from '../../../src/data/sources/types.js';

function touch(root: string, rel: string, text = rel): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}

// torchvision.datasets.folder.find_classes + make_dataset, trimmed to what the order depends on
const TORCHVISION = `
import os, sys, json
root = sys.argv[1]
ext = ('.jpg','.jpeg','.png','.ppm','.bmp','.pgm','.tif','.tiff','.webp','.avif','.gif')
classes = sorted(e.name for e in os.scandir(root) if e.is_dir())
out = []
for i, c in enumerate(classes):
    for r, _, fnames in sorted(os.walk(os.path.join(root, c), followlinks=True)):
        for f in sorted(fnames):
            if f.lower().endswith(ext):
                out.append([os.path.relpath(os.path.join(r, f), root), i])
print(json.dumps({"classes": classes, "samples": out}))
`;

function python(): boolean {
  try {
    execFileSync('python3', ['-c', 'pass']);
    return true;
  } catch {
    return false;
  }
}

describe('folder source', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'src-folder-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('orders classes and samples as torchvision ImageFolder, labels by class', async () => {
    for (const rel of [
      'dog/b.png',
      'dog/a.JPG',
      'dog/sub/x.jpeg',
      'dog/sub-2/y.webp',
      'dog/sub/deeper/z.bmp',
      'cat/3.png',
      'cat/10.png',
      'Zebra/q.tif',
      'cat/notes.txt',
      'cat/raw.cr2',
    ])
      touch(dir, rel);
    const s = await openFolder(dir);
    assert.deepEqual(s.classes, ['Zebra', 'cat', 'dog']);
    const names = Array.from({ length: s.length }, (_, i) => s.spec.files[i]);
    assert.deepEqual(names, [
      'Zebra/q.tif',
      'cat/10.png',
      'cat/3.png',
      'dog/a.JPG',
      'dog/b.png',
      'dog/sub/x.jpeg', // os.walk's folders sorted by path: "dog/sub" < "dog/sub-2" < "dog/sub/deeper"
      'dog/sub-2/y.webp',
      'dog/sub/deeper/z.bmp',
    ]);
    assert.deepEqual(
      Array.from({ length: s.length }, (_, i) => s.label(i)),
      [0, 1, 1, 2, 2, 2, 2, 2],
    );
    const x = await s.read(4);
    assert.equal(x.kind, 'encoded');
    assert.equal(x.kind === 'encoded' && Buffer.from(x.bytes).toString(), 'dog/b.png');
    assert.equal(x.name, join(dir, 'dog/b.png'));
    if (python()) {
      const want = JSON.parse(execFileSync('python3', ['-c', TORCHVISION, dir], { encoding: 'utf8' }));
      assert.deepEqual(s.classes, want.classes);
      assert.deepEqual(
        s.spec.files.map((f, i) => [f, s.label(i)]),
        want.samples,
      );
    }
    await s.close();
  });

  it('follows symlinks, skips hidden entries and dangling links', async () => {
    touch(dir, 'a/1.png');
    touch(join(dir, '..', `${dir.split('/').pop()}-outside`), 'o.png');
    const outside = `${dir}-outside`;
    try {
      symlinkSync(outside, join(dir, 'a', 'linked'));
      symlinkSync(join(dir, 'a', '1.png'), join(dir, 'a', '2.png'));
      symlinkSync(join(dir, 'nowhere.png'), join(dir, 'a', '3.png'));
      symlinkSync(join(dir, 'a'), join(dir, 'a', 'loop'));
      touch(dir, 'a/.hidden.png');
      touch(dir, '.cache/x.png');
      const s = await openFolder(dir);
      assert.deepEqual(s.classes, ['a']);
      assert.deepEqual(s.spec.files, ['a/1.png', 'a/2.png', 'a/linked/o.png']);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('takes a flat folder of images as one class named after the folder', async () => {
    touch(dir, 'b.png');
    touch(dir, 'a.jpg');
    touch(dir, 'readme.md');
    mkdirSync(join(dir, 'empty'));
    const s = await openFolder(dir);
    assert.deepEqual(s.classes, [dir.split('/').pop()]);
    assert.deepEqual(s.spec.files, ['a.jpg', 'b.png']);
    assert.equal(s.label(1), 0);
  });

  it('refuses an empty folder, an empty class and a missing file at read time', async () => {
    await assert.rejects(
      openFolder(dir),
      (e: unknown) => e instanceof DataError && /no images found/.test(e.message),
    );
    touch(dir, 'a/1.png');
    touch(dir, 'b/notes.txt');
    await assert.rejects(openFolder(dir), /class folder b holds no images/);
    rmSync(join(dir, 'b'), { recursive: true });
    const s = await openFolder(dir);
    unlinkSync(join(dir, 'a/1.png'));
    await assert.rejects(s.read(0), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.path, join(dir, 'a/1.png'));
      assert.equal(e.index, 0);
      assert.match(e.message, /a\/1\.png \(sample 0\): cannot read the image \(ENOENT/);
      return true;
    });
    assert.throws(() => s.label(1), /sample index 1 is out of range \(the source holds 1\)/);
  });
});
