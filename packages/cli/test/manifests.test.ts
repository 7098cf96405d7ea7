// manifests.test.ts: the package.json files of the workspace: one version everywhere (the root's,
// scripts/set-version.mjs), and each packed package's publishConfig pointing consumers at the built
// counterparts of what the workspace runs from source (src/x.ts -> dist/src/x.js and .d.ts).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const packages = readdirSync(join(root, 'packages')).map((p) => ({
  dir: p,
  m: read(join(root, 'packages', p)),
}));
const packed = packages.filter((p) => !p.m.private);
const built = (src: string, ext: string) => src.replace(/^\.\/(.*)\.ts$/, `./dist/$1${ext}`);

describe('package manifests', () => {
  it('all carry the root version', () => {
    const version = read(root).version;
    assert.match(version, /^\d+\.\d+\.\d+/);
    for (const { dir, m } of packages) assert.equal(m.version, version, `packages/${dir}`);
  });

  it('packs native, its linux-x64 addon, mae and cli, each with a licence and a files list', () => {
    assert.deepEqual(packed.map((p) => p.m.name).sort(), [
      '@mae-cuda/cli',
      '@mae-cuda/mae',
      '@mae-cuda/native',
      '@mae-cuda/native-linux-x64',
    ]);
    for (const { m } of packed) {
      assert.equal(m.license, 'MIT', m.name);
      assert.ok(Array.isArray(m.files) && m.files.length > 0, m.name);
    }
  });

  it("export the built files of the workspace's source entries to consumers", () => {
    for (const { m } of packed.filter((p) => p.m.exports?.['.'])) {
      const pub = m.publishConfig.exports;
      assert.deepEqual(Object.keys(pub), Object.keys(m.exports), m.name);
      for (const [key, src] of Object.entries<string>(m.exports))
        assert.deepEqual(
          pub[key],
          { types: built(src, '.d.ts'), default: built(src, '.js') },
          `${m.name} ${key}`,
        );
      assert.equal(m.publishConfig.main, pub['.'].default, m.name);
      assert.equal(m.publishConfig.types, pub['.'].types, m.name);
    }
    const cli = packed.find((p) => p.m.name === '@mae-cuda/cli')!.m;
    assert.deepEqual(cli.publishConfig.bin, { 'mae-cuda': './dist/src/bin.js' });
  });

  it('have @mae-cuda/native depend on its per-platform package, optionally', () => {
    const native = packed.find((p) => p.m.name === '@mae-cuda/native')!.m;
    assert.deepEqual(native.optionalDependencies, { '@mae-cuda/native-linux-x64': 'workspace:*' });
  });
});
