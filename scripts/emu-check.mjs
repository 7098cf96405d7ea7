#!/usr/bin/env node
// emu-check.mjs (`pnpm emu-check`): every CUDA kernel run by the CUDA emulator (docs/EMULATOR.md)
// against the CPU backend, under every scheduling order. It rebuilds the native package from the
// sources as they are (so a change to a template or a .cuh is what gets checked; --no-build skips
// it), runs the emulator's own tests (the runtime stand-in, the device side, the stand-in NCCL), then the generated op
// checker on the emulated cuda:0 once per schedule, in parallel over the cores, and fails on any
// FAIL line, any non-zero exit (a launch error, a divergent barrier, a trap) or any device output
// whose bytes differ between schedules (a race).
// --sanitize builds the emulator with ASan and UBSan instead (CMake option MAE_EMU_SANITIZE, in
// build/emu-sanitize; a nightly-style run for host-side memory errors and undefined behaviour in the
// runtime, the emulator and the kernels' host C++; the kernels' access checks are then ASan's own)
// and runs the same programs under the forward schedule unless --schedules says otherwise.
// Usage: node scripts/emu-check.mjs [--no-build] [--sanitize] [--schedules forward,reverse,...,warp+z2]
//   [--seed N] [--jobs N]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { configureEmulatorBuild } from './emu-build.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const SANITIZE_DIR = `${root}build/emu-sanitize`;
let binDir = `${root}packages/native/build/Release`;
const bin = (name) => `${binDir}/${name}`;
const TESTS = [
  'mae_emu_api_test',
  'mae_emu_device_test',
  'mae_emu_async_test',
  'mae_emu_check_test',
  'mae_emu_count_test',
  'mae_emu_hopper_test',
  'mae_emu_cluster_test',
  'mae_nccl_emu_test',
];
// `+z2`: the same schedule with the grid's z limit lowered to 2 (MAE_EMU_MAX_GRID_Z), so that the
// launchers' loops over z (samples beyond the limit) run their second iteration at small sizes.
// `+sm1`: a device of one SM (MAE_EMU_SM_COUNT), so that the launchers' choices by the SM count
// take their other branch at small sizes (the 128x128 GEMM tile, a thread per output in column
// reductions); other kernels, other roundings: its hashes are not compared with the rest.
// `+cl1`, `+cl4`: the wgmma GEMMs in clusters of at most 1 or 4 CTAs (MAE_WG_CLUSTER) rather than 2:
// the same bytes (a cluster changes which CTA loads a tile, not the sums), compared with the rest.
// `+ws5`, `+ws3`: the persistent wgmma GEMMs' grids spread over 5 or 3 SMs (MAE_WG_SMS), so that
// their blocks run several tiles each, unequal shares: the same bytes, compared with the rest.
// `+cn2`: the wgmma GEMMs' clusters 2 CTAs along n as well (MAE_WG_CLUSTER_N=2: A's tile shared
// too), compared with the rest.
// `+np`: the wgmma GEMMs not persistent (MAE_WG_PERSISTENT=0: a block per tile), compared as well.
// `+mma`: the GEMMs on the mma.sync kernels (MAE_CUDA_GEMM=mma) where the emulated device (an sm_90
// part) takes the wgmma ones; its hashes are not compared either.
// `lead`: forward, with a cluster's first CTA run to its end before the others go on (a CTA that
// exits while its peers may still arrive on its mbarriers is then a fault).
const ALL = [
  'forward',
  'lead+ws5+cn2',
  'reverse+np',
  'shuffle:17+cl4+cn2',
  'warp+cl1',
  'warp-reverse+ws3',
  'warp+z2',
  'forward+sm1',
  'forward+mma',
];

function parse(argv) {
  const o = { build: true, sanitize: false, schedules: null, seed: '7', jobs: availableParallelism() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-build') o.build = false;
    else if (a === '--sanitize') o.sanitize = true;
    else if (a === '--schedules') o.schedules = argv[++i].split(',');
    else if (a === '--seed') o.seed = argv[++i];
    else if (a === '--jobs') o.jobs = Math.max(1, Number(argv[++i]));
    else {
      console.error(
        'usage: emu-check [--no-build] [--sanitize] [--schedules forward,reverse,shuffle:N,warp,warp-reverse,lead] [--seed N] [--jobs N]',
      );
      process.exit(2);
    }
  }
  o.schedules ??= o.sanitize ? ['forward'] : ALL;
  return o;
}

/** The ASan/UBSan build: its own CMake build directory, the emulator's programs only. */
function buildSanitized() {
  const step = (args) => spawnSync('cmake', args, { cwd: root, stdio: 'inherit' }).status === 0;
  const extra = ['-DMAE_EMU_SANITIZE=ON'];
  const configured = configureEmulatorBuild(root, SANITIZE_DIR, {
    buildType: 'RelWithDebInfo',
    extra,
    quiet: false,
  }).ok;
  const targets = [
    'mae_op_check_emu',
    'mae_emu_api_test',
    'mae_emu_device_test',
    'mae_nccl_emu_test',
    'nccl_emu',
  ];
  return (
    configured &&
    step(['--build', SANITIZE_DIR, '--target', ...targets, '--parallel', String(availableParallelism())])
  );
}

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

/** "op variant sizes" -> the hashes of its outputs, from one op_check run. */
function hashes(out) {
  const m = new Map();
  for (const line of out.split('\n')) {
    if (!/^(ok|FAIL) /.test(line)) continue;
    const key = line.slice(5, 75).replace(/\s+/g, ' ').trim();
    const hs = [...line.matchAll(/hash ([0-9a-f]{16})/g)].map((x) => x[1]).join(',');
    m.set(key, hs);
  }
  return m;
}

async function main() {
  const o = parse(process.argv.slice(2));
  if (o.sanitize) {
    binDir = SANITIZE_DIR;
    process.env.ASAN_OPTIONS ??= 'abort_on_error=0:detect_stack_use_after_return=0';
    process.env.UBSAN_OPTIONS ??= 'print_stacktrace=1:halt_on_error=1';
    if (o.build && !buildSanitized()) process.exit(1);
  } else if (o.build) {
    const b = spawnSync(
      'npx',
      ['-y', 'pnpm@10.34.9', '--filter', '@mae-cuda/native', 'run', 'build:native'],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
    if (b.status !== 0) process.exit(b.status ?? 1);
  }
  // under ASan the kernels' accesses go to ASan, not to the emulator's checks: their test is left out
  const tests = o.sanitize
    ? TESTS.filter(
        (t) =>
          ![
            'mae_emu_check_test',
            'mae_emu_count_test',
            'mae_emu_async_test',
            'mae_emu_hopper_test',
            'mae_emu_cluster_test',
          ].includes(t),
      )
    : TESTS;
  for (const t of [...tests, 'libnccl_emu.so', 'mae_op_check_emu']) {
    if (!existsSync(bin(t))) {
      console.error(`emu-check: ${bin(t)} is missing: run pnpm build (CMake option MAE_CUDA_EMULATOR)`);
      process.exit(2);
    }
  }
  let failed = 0;
  for (const t of tests) {
    const r = await run(bin(t), t === 'mae_nccl_emu_test' ? [bin('libnccl_emu.so')] : []);
    const last = r.out.trim().split('\n').at(-1);
    console.log(`emu-check: ${t}: ${last}`);
    if (r.code !== 0) {
      failed++;
      console.log(r.out);
    }
  }
  const t0 = performance.now();
  const results = new Array(o.schedules.length);
  let next = 0;
  const worker = async () => {
    while (next < o.schedules.length) {
      const k = next++;
      const s = o.schedules[k];
      const args = ['--device', 'cuda:0', '--small', '--reps', '1', '--hash', '--seed', o.seed];
      const [schedule, ...mods] = s.split('+');
      const mod = (p) => mods.find((m) => m.startsWith(p))?.slice(p.length);
      const [z, sm, cl, ws] = [mod('z'), mod('sm'), mod('cl'), mod('ws')];
      results[k] = await run(bin('mae_op_check_emu'), args, {
        MAE_EMU_SCHEDULE: schedule,
        ...(z ? { MAE_EMU_MAX_GRID_Z: z } : {}),
        ...(sm ? { MAE_EMU_SM_COUNT: sm } : {}),
        ...(cl ? { MAE_WG_CLUSTER: cl } : {}),
        ...(ws ? { MAE_WG_SMS: ws } : {}),
        ...(mods.includes('mma') ? { MAE_CUDA_GEMM: 'mma' } : {}),
        ...(mods.includes('np') ? { MAE_WG_PERSISTENT: '0' } : {}),
        ...(mods.includes('cn2') ? { MAE_WG_CLUSTER_N: '2' } : {}),
      });
      const r = results[k];
      const summary = r.out.match(/op_check: \d+ checked, \d+ failed/)?.[0] ?? `exit ${r.code ?? r.signal}`;
      console.log(
        `emu-check: op_check under ${s}: ${summary} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.jobs, o.schedules.length) }, worker));
  const reference = hashes(results[0].out);
  results.forEach((r, k) => {
    const s = o.schedules[k];
    const bad = r.out.split('\n').filter((l) => l.startsWith('FAIL'));
    if (r.code !== 0 || bad.length > 0) {
      failed++;
      console.log(`emu-check: under ${s} op_check exited ${r.code ?? r.signal}:`);
      for (const l of bad.length ? bad : r.out.trim().split('\n').slice(-8)) console.log(`  ${l}`);
    }
    if (k === 0 || s.includes('+sm') || s.includes('+mma')) return;
    for (const [key, h] of hashes(r.out)) {
      if (reference.has(key) && reference.get(key) !== h) {
        failed++;
        console.log(`emu-check: ${key}: different bytes under ${s} than under ${o.schedules[0]} (a race)`);
      }
    }
  });
  console.log(
    failed
      ? `emu-check: FAILED (${failed} problems)`
      : `emu-check: all passed under ${o.schedules.join(', ')}`,
  );
  process.exit(failed ? 1 : 0);
}

await main();
