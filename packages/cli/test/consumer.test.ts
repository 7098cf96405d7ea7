// consumer.test.ts: the packages as another project gets them (README, "Installing"): the four
// tarballs of scripts/pack.mjs installed with npm into a fresh project outside the repository,
// a TypeScript file (typechecked with tsc, run with tsx) and a plain .mjs file that import them,
// each running one op on the CPU and two steps of pretrain; the installed `mae-cuda`, in the
// project and globally (npm install -g); and the install script's choice between the prebuilt
// addon and a source build (--dry-run), and one real source build (CPU kernels only: a minute).
// npm reaches the registry for the third-party dependencies only.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/consumer/', import.meta.url));
const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
/** the version the workspace uses of a tool the consumer project installs from the registry */
const toolVersion = (dep: string) => manifest(join(root, 'packages/cli')).devDependencies[dep];
const VERSION: string = manifest(root).version;
/** gelu(x) for x = -2, -0.5, 0.5, 2 (x * Phi(x)) */
const GELU = [-0.0455002639, -0.1542687496, 0.3457312504, 1.9544997361];

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '' };
}

function run(cmd: string, args: string[], cwd: string) {
  const r = sh(cmd, args, cwd);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.out}`);
  return r;
}

/** Packs the packages (scripts/pack.mjs); returns the tarballs. */
function packAll(out: string): string[] {
  return run(process.execPath, [join(root, 'scripts/pack.mjs'), '--out', out], root)
    .stdout.trim()
    .split('\n');
}

describe('the packed packages in another project', function () {
  this.timeout(600_000);
  const dir = mkdtempSync(join(tmpdir(), 'mae-consumer-'));
  const project = join(dir, 'project');
  let tarballs: string[] = [];
  let installLog = '';

  before(() => {
    tarballs = packAll(join(dir, 'packs'));
    run('mkdir', ['-p', project], dir);
    const own = {
      name: 'consumer',
      private: true,
      type: 'module',
      allowScripts: { '@mae-cuda/native': true },
    };
    writeFileSync(join(project, 'package.json'), JSON.stringify(own));
    for (const f of ['consumer.ts', 'consumer.mjs', 'tsconfig.json'])
      copyFileSync(join(fixtures, f), join(project, f));
    const tools = ['typescript', 'tsx', '@types/node'].map((d) => `${d}@${toolVersion(d)}`);
    const npm = ['install', '--no-audit', '--no-fund', '--foreground-scripts', ...tarballs, ...tools];
    installLog = run('npm', npm, project).out;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives four tarballs, each with its licence and no TypeScript sources', () => {
    assert.equal(tarballs.length, 4, tarballs.join('\n'));
    for (const t of tarballs) {
      const files = run('tar', ['tzf', t], dir).stdout.split('\n');
      assert.ok(files.includes('package/LICENSE'), `${t}: no LICENSE`);
      const sources = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
      assert.deepEqual(sources, [], `${t} ships TypeScript sources`);
    }
  });

  it('installs with npm, the install script taking the prebuilt addon', () => {
    assert.match(
      installLog,
      /@mae-cuda\/native: using the prebuilt addon .*native-linux-x64\/mae_native\.node/,
    );
  });

  for (const [file, runner] of [
    ['consumer.ts', 'tsx'],
    ['consumer.mjs', 'node'],
  ] as const) {
    it(`${file} runs an op and two steps of pretrain on the installed packages`, () => {
      if (file.endsWith('.ts')) run('npx', ['--no-install', 'tsc', '-p', '.'], project);
      const cmd = runner === 'node' ? [process.execPath, file] : ['npx', '--no-install', 'tsx', file];
      const r = run(cmd[0]!, [...cmd.slice(1), join(dir, `run-${file}`)], project);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      out.gelu.forEach((v: number, i: number) =>
        assert.ok(Math.abs(v - GELU[i]!) < 1e-5, `gelu ${out.gelu}`),
      );
      assert.equal(out.steps, 2);
      assert.equal(out.losses.length, 2);
      assert.ok(out.losses.every(Number.isFinite), `losses ${out.losses}`);
      assert.equal(out.checkpointStep, 2);
      assert.equal(out.model, true);
      assert.equal(out.version, VERSION);
      assert.match(out.addon, /node_modules\/@mae-cuda\/native-linux-x64\/mae_native\.node$/);
    });
  }

  it("runs docs/API.md's example as it stands", () => {
    const doc = readFileSync(join(root, 'docs/API.md'), 'utf8');
    const example = doc.match(/```ts\n([\s\S]*?)```/)?.[1];
    assert.ok(example, 'no ```ts block in docs/API.md');
    writeFileSync(join(project, 'example.mjs'), example);
    const out = run(process.execPath, ['example.mjs'], project).stdout;
    assert.match(out, /^20 \d\.\d+ true$/m);
  });

  it('installs the mae-cuda command in the project and globally (npm install -g)', () => {
    const local = join(project, 'node_modules/.bin/mae-cuda');
    const help = run(local, ['--help'], project).stdout;
    assert.match(help, /^usage: mae-cuda <command>/);
    for (const command of ['pretrain', 'info', 'completion'])
      assert.match(help, new RegExp(`^  ${command} `, 'm'));
    const prefix = join(dir, 'global');
    run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', ...tarballs], dir);
    const global = join(prefix, 'bin/mae-cuda');
    assert.equal(run(global, ['--version'], dir).stdout.trim(), `mae-cuda ${VERSION}`);
    assert.match(
      run(global, ['completion', 'bash'], dir).stdout,
      /complete -o filenames -F _mae_cuda mae-cuda/,
    );
  });

  describe("@mae-cuda/native's install script", () => {
    const script = () => join(project, 'node_modules/@mae-cuda/native/install/install.mjs');
    const install = (pkgRoot: string, env: NodeJS.ProcessEnv = process.env, ...args: string[]) =>
      sh(
        process.execPath,
        [join(pkgRoot, 'node_modules/@mae-cuda/native/install/install.mjs'), '--dry-run', ...args],
        pkgRoot,
        env,
      );

    /** A project holding the installed native package and cmake-js, but not the per-platform package. */
    function lone(name: string): string {
      const at = join(dir, name, 'node_modules');
      run('mkdir', ['-p', join(at, '@mae-cuda')], dir);
      run('cp', ['-r', join(project, 'node_modules/@mae-cuda/native'), join(at, '@mae-cuda/native')], dir);
      for (const dep of ['cmake-js', 'node-addon-api', 'zod'])
        run('ln', ['-s', join(project, 'node_modules', dep), join(at, dep)], dir);
      return join(dir, name);
    }

    it('builds from source when asked, with the CUDA kernels only when nvcc is there', () => {
      assert.ok(script());
      const r = install(project, { ...process.env, MAE_CUDA: 'OFF' }, '--build-from-source');
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /building from source as asked/);
      assert.match(r.out, /CPU kernels only \(MAE_CUDA=OFF\)/);
      assert.match(
        r.out,
        /would run: node \S+cmake-js compile -O build -p \d+ --CDMAE_BUILD_NODE_ADDON=ON .*--CDMAE_CUDA=OFF/,
      );
    });

    it('builds from source when no prebuilt addon is installed', () => {
      const r = install(lone('lone'), { ...process.env, MAE_CUDA: 'OFF' });
      assert.equal(r.status, 0, r.out);
      assert.match(
        r.out,
        new RegExp(`no prebuilt addon for ${process.platform}-${process.arch} \\(@mae-cuda/native-`),
      );
      assert.match(r.out, /would run: node \S+cmake-js compile/);
    });

    it('builds from source when the prebuilt addon does not load here', () => {
      const at = lone('broken');
      const fake = join(at, 'node_modules/@mae-cuda/native-linux-x64');
      run('mkdir', ['-p', fake], dir);
      writeFileSync(
        join(fake, 'package.json'),
        JSON.stringify({ name: '@mae-cuda/native-linux-x64', version: VERSION }),
      );
      writeFileSync(join(fake, 'mae_native.node'), 'not a shared library');
      const r = install(at, { ...process.env, MAE_CUDA: 'OFF' });
      assert.equal(r.status, 0, r.out);
      assert.match(
        r.out,
        /the prebuilt addon \S+mae_native\.node does not load here \(Error: .*\): building it from source/,
      );
    });

    it('builds the addon from source (CPU kernels), which then loads and runs an op', () => {
      const at = lone('source');
      const r = sh(process.execPath, [join(at, 'node_modules/@mae-cuda/native/install/install.mjs')], at, {
        ...process.env,
        MAE_CUDA: 'OFF',
      });
      assert.equal(r.status, 0, r.out);
      const probe = [
        "import { locateAddon, ops, Tensor } from '@mae-cuda/native';",
        "const x = Tensor.fromArray('f32', [4], [-2, -0.5, 0.5, 2]);",
        "const y = Tensor.empty('f32', [4]);",
        'ops.gelu_forward(y, x);',
        "console.log(JSON.stringify({ addon: locateAddon('mae_native').path, gelu: Array.from(await y.toArray()) }));",
      ];
      writeFileSync(join(at, 'probe.mjs'), probe.join('\n'));
      const out = JSON.parse(run(process.execPath, ['probe.mjs'], at).stdout);
      assert.equal(out.addon, join(at, 'node_modules/@mae-cuda/native/build/Release/mae_native.node'));
      out.gelu.forEach((v: number, i: number) =>
        assert.ok(Math.abs(v - GELU[i]!) < 1e-5, `gelu ${out.gelu}`),
      );
    });

    it('names CMake and the compiler when they are missing', () => {
      const bin = join(dir, 'node-only');
      run('mkdir', ['-p', bin], dir);
      run('ln', ['-sf', process.execPath, join(bin, 'node')], dir);
      const { CXX: _cxx, CMAKE: _cmake, ...env } = process.env;
      const r = install(project, { ...env, PATH: bin }, '--build-from-source');
      assert.equal(r.status, 1, r.out);
      assert.match(
        r.out,
        /cannot build the addon from source: CMake \(3\.25 or newer\) and a C\+\+17 compiler .* not found/,
      );
    });
  });
});
