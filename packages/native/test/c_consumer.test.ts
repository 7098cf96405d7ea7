// c_consumer.test.ts: libmae_cuda as another C or C++ project gets it (docs/C_ABI.md): `cmake
// --install` of the build `pnpm build` made, into a fresh prefix; the header alone compiles and
// carries the package's version; the C example (examples/CMakeLists.txt) configured and built
// against the prefix with find_package(mae_cuda), shared and static, and with pkg-config; each run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('../', import.meta.url));
const build = join(pkg, 'build');
const VERSION: string = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version;
const has = (tool: string) => spawnSync(tool, ['--version']).status === 0;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, timeout: 300_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

describe('libmae_cuda installed and linked by another project', function () {
  this.timeout(600_000);
  const dir = mkdtempSync(join(tmpdir(), 'mae-c-consumer-'));
  const prefix = join(dir, 'prefix');
  const libdir = () =>
    ['lib', 'lib64'].map((d) => join(prefix, d)).find((d) => existsSync(join(d, 'libmae_cuda.so')))!;

  before(function () {
    if (!has('cmake') || !existsSync(join(build, 'CMakeCache.txt'))) {
      console.log('      (no CMake, or no build in packages/native/build: run `pnpm build`)');
      this.skip();
    }
    run('cmake', ['--install', build, '--prefix', prefix]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('installs the libraries, headers, CMake package config and pkg-config file', () => {
    for (const f of ['mae_cuda.h', 'mae_cuda_version.h', 'mae_cuda_ops.h'])
      assert.ok(existsSync(join(prefix, 'include', f)), f);
    assert.ok(libdir(), 'no libmae_cuda.so under lib or lib64');
    for (const f of [
      'libmae_cuda.a',
      'cmake/mae_cuda/mae_cudaConfig.cmake',
      'cmake/mae_cuda/mae_cudaConfigVersion.cmake',
      'pkgconfig/mae_cuda.pc',
    ])
      assert.ok(existsSync(join(libdir(), f)), f);
  });

  it('has a header that compiles on its own and carries the version', () => {
    const src = join(dir, 'version.c');
    writeFileSync(
      src,
      '#include <mae_cuda.h>\n#include <stdio.h>\nint main(void) { printf("%s %d\\n", MAE_CUDA_VERSION_STRING, MAE_CUDA_VERSION); return 0; }\n',
    );
    const exe = join(dir, 'version');
    run('cc', ['-std=c99', '-Wall', '-Werror', `-I${join(prefix, 'include')}`, src, '-o', exe]);
    const [major, minor, patch] = VERSION.split('.').map(Number);
    assert.equal(run(exe, []).trim(), `${VERSION} ${major! * 10000 + minor! * 100 + patch!}`);
  });

  it('builds and runs the C example with find_package(mae_cuda), shared and static', () => {
    const out = join(dir, 'example');
    run('cmake', [
      '-S',
      join(pkg, 'examples'),
      '-B',
      out,
      `-DCMAKE_PREFIX_PATH=${prefix}`,
      '-DCMAKE_BUILD_TYPE=Release',
    ]);
    run('cmake', ['--build', out]);
    for (const exe of ['c_abi_example', 'c_abi_example_static'])
      assert.match(run(join(out, exe), []), new RegExp(`^mae-cuda ${VERSION.replaceAll('.', '\\.')} `), exe);
  });

  it('builds and runs the C example with pkg-config', function () {
    if (!has('pkg-config')) {
      console.log('      (no pkg-config: apt-get install pkg-config)');
      this.skip();
    }
    const env = { ...process.env, PKG_CONFIG_PATH: join(libdir(), 'pkgconfig') };
    assert.equal(run('pkg-config', ['--modversion', 'mae_cuda'], env).trim(), VERSION);
    const flags = run('pkg-config', ['--cflags', '--libs', 'mae_cuda'], env).trim().split(/\s+/);
    const exe = join(dir, 'c_abi_example_pc');
    run('cc', [join(pkg, 'examples/c_abi_example.c'), ...flags, `-Wl,-rpath,${libdir()}`, '-o', exe]);
    assert.match(run(exe, []), new RegExp(`^mae-cuda ${VERSION.replaceAll('.', '\\.')} `));
  });
});
