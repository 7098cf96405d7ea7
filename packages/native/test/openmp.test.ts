// openmp.test.ts: the OpenMP settings: passive waiting after a short spin unless the user chose (read
// back from libgomp itself, which prints what it parsed with OMP_DISPLAY_ENV=verbose), thread
// counts refused outside 1..4 x the processors at every entry (OMP_NUM_THREADS when the addon
// loads, setCpuThreads, the C ABI's mae_set_cpu_threads through the C example).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { binding } from '../src/binding.js';
import { buildInfo, setCpuThreads } from '../src/info.js';
import { checkOpenMpEnv, DEFAULT_SPIN_COUNT, maxCpuThreads, prepareOpenMpEnv } from '../src/openmp_env.js';

const bindingTs = fileURLToPath(new URL('../src/binding.ts', import.meta.url));
const example = fileURLToPath(new URL('../build/Release/mae_c_abi_example', import.meta.url));

/** Loads the addon in a fresh process with env (OMP_* of ours removed first); prints buildInfo. */
function loadWith(env: Record<string, string>) {
  const base = { ...process.env };
  for (const k of ['OMP_WAIT_POLICY', 'OMP_NUM_THREADS', 'GOMP_SPINCOUNT', 'OMP_DISPLAY_ENV']) delete base[k];
  const code = `const { binding } = await import(${JSON.stringify(bindingTs)}); console.log(JSON.stringify(binding.buildInfo()));`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 60000,
  });
}

/** The spin count libgomp parsed (undefined with another OpenMP runtime). */
const spinCount = (stderr: string) => /GOMP_SPINCOUNT = '(\d+)'/.exec(stderr)?.[1];

describe('OpenMP wait policy', () => {
  it('is passive after a short spin unless the user chose: libgomp spins 30000, not 300000', function () {
    const r = loadWith({ OMP_DISPLAY_ENV: 'verbose' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).waitPolicy, 'passive');
    if (spinCount(r.stderr) === undefined) this.skip(); // not libgomp
    assert.equal(spinCount(r.stderr), String(DEFAULT_SPIN_COUNT), 'libgomp spins its default 300000');
  });

  it('a plain OMP_WAIT_POLICY=passive is not changed: no spin at all', function () {
    const r = loadWith({ OMP_DISPLAY_ENV: 'verbose', OMP_WAIT_POLICY: 'passive' });
    assert.equal(r.status, 0, r.stderr);
    if (spinCount(r.stderr) === undefined) this.skip();
    assert.equal(spinCount(r.stderr), '0');
  });

  it('respects an OMP_WAIT_POLICY the user set', function () {
    const r = loadWith({ OMP_DISPLAY_ENV: 'verbose', OMP_WAIT_POLICY: 'ACTIVE' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).waitPolicy, 'active');
    if (spinCount(r.stderr) === undefined) this.skip();
    assert.match(r.stderr, /OMP_WAIT_POLICY = 'ACTIVE'/);
    assert.notEqual(spinCount(r.stderr), '0');
  });

  it('prepareOpenMpEnv sets passive and the short spin only where nothing is set', () => {
    const unset: NodeJS.ProcessEnv = {};
    prepareOpenMpEnv(unset);
    assert.deepEqual(unset, { OMP_WAIT_POLICY: 'passive', GOMP_SPINCOUNT: String(DEFAULT_SPIN_COUNT) });
    const set: NodeJS.ProcessEnv = { OMP_WAIT_POLICY: 'active' };
    prepareOpenMpEnv(set);
    assert.deepEqual(set, { OMP_WAIT_POLICY: 'active' });
    const spin: NodeJS.ProcessEnv = { GOMP_SPINCOUNT: '0' };
    prepareOpenMpEnv(spin);
    assert.deepEqual(spin, { GOMP_SPINCOUNT: '0' });
  });
});

describe('OpenMP thread counts', () => {
  const max = maxCpuThreads();

  it('allows 1 to 4 x the processors available', () => {
    assert.equal(max, 4 * availableParallelism());
    assert.equal(buildInfo().maxCpuThreads, max);
  });

  it('checks OMP_NUM_THREADS and OMP_WAIT_POLICY, naming the variable', () => {
    for (const ok of ['1', ' 2 ', String(max), '2,1', '4 , 2'])
      assert.doesNotThrow(() => checkOpenMpEnv({ OMP_NUM_THREADS: ok }), ok);
    for (const bad of ['', 'two', '0', '-1', '1.5', String(max + 1), '100000', '4,2,', '4,0'])
      assert.throws(
        () => checkOpenMpEnv({ OMP_NUM_THREADS: bad }),
        new RegExp(
          `^OpenMpSettingError: OMP_NUM_THREADS=${JSON.stringify(bad).replace(/[.]/g, '\\.')}: must be a thread count from 1 to ${max} `,
        ),
        bad,
      );
    for (const ok of ['passive', 'ACTIVE', ' Passive '])
      assert.doesNotThrow(() => checkOpenMpEnv({ OMP_WAIT_POLICY: ok }), ok);
    for (const bad of ['', 'pasive', 'spin'])
      assert.throws(() => checkOpenMpEnv({ OMP_WAIT_POLICY: bad }), /OMP_WAIT_POLICY=.*: must be 'passive'/);
  });

  it('refuses to load the addon with OMP_NUM_THREADS out of range', () => {
    const r = loadWith({ OMP_NUM_THREADS: '100000' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /OMP_NUM_THREADS="100000": must be a thread count from 1 to \d+/);
    assert.doesNotMatch(r.stderr, /libgomp/, 'checked before OpenMP read it');
  });

  it('setCpuThreads refuses counts out of range and keeps the count', () => {
    const before = buildInfo().cpuThreads;
    for (const n of [0, -1, max + 1, 100000])
      assert.throws(
        () => setCpuThreads(n),
        new RegExp(
          `setCpuThreads: mae_set_cpu_threads: n must be from 1 to ${max} \\(4 x the \\d+ processors this process may use\\), got ${n}`,
        ),
      );
    assert.equal(buildInfo().cpuThreads, before);
    assert.throws(() => binding.setCpuThreads(1.5), /setCpuThreads: n must be an integer/);
    setCpuThreads(max);
    assert.equal(buildInfo().cpuThreads, max);
    setCpuThreads(before);
  });

  it('the C ABI refuses them too (mae_set_cpu_threads in the C example)', function () {
    if (!existsSync(example)) this.skip(); // built with MAE_BUILD_EXAMPLES=OFF
    const r = spawnSync(example, { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /mae_set_cpu_threads: n must be from 1 to \d+ .*got 100000/);
  });
});
