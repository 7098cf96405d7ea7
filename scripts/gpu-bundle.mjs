#!/usr/bin/env node
// gpu-bundle.mjs: packs what the GPU machine needs to run the Node.js stages of
// scripts/gpu-check.sh, since it has no Node.js: .gpu/ (gitignored; carry it) gets this machine's
// node binary (xz-compressed), the CLI bundled into one file by esbuild, the native addon and the
// op checker and NCCL checker built here (CUDA for sm_80 + sm_90a), sharp with its libvips
// (node_modules, for the commands that decode images), OpenMP's runtime, and 640
// MNIST digits for short pretraining runs. Run after `pnpm build`.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.gpu');
const release = join(root, 'packages/native/build/Release');
for (const f of ['mae_native.node', 'mae_op_check', 'mae_nccl_check'])
  if (!existsSync(join(release, f))) {
    console.error(`gpu-bundle: ${join(release, f)} is missing; run \`pnpm build\` first`);
    process.exit(2);
  }
rmSync(out, { recursive: true, force: true });
mkdirSync(out);

// esbuild comes with tsx (a dev dependency of every package)
const fromCli = createRequire(join(root, 'packages/cli/package.json'));
const esbuild = createRequire(fromCli.resolve('tsx/package.json'))('esbuild');
await esbuild.build({
  entryPoints: [join(root, 'packages/cli/src/main.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: join(out, 'mae-cuda.mjs'),
  // the addon is loaded from MAE_NATIVE_ADDON; CommonJS dependencies need require
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'warning',
  // sharp loads its native addon and libvips from its platform packages: it travels beside the
  // bundle, in .gpu/node_modules
  external: ['sharp'],
});
const sharpModules = join(dirname(fromCli.resolve('sharp/package.json')), '..');
cpSync(sharpModules, join(out, 'node_modules'), { recursive: true, dereference: true });
// the binaries travel xz-compressed (the carried tree is limited to 64 MiB); gpu-check.sh unpacks
for (const f of ['mae_native.node', 'mae_op_check', 'mae_nccl_check'])
  execFileSync('sh', ['-c', `xz -T2 -6 -c "${join(release, f)}" > "${join(out, `${f}.xz`)}"`]);
// 64 MNIST digits of each class (a --data folder) for the short pretraining runs there
const digits = join(
  dirname(createRequire(join(root, 'packages/mae/package.json')).resolve('mnist/package.json')),
  'src/digits',
);
mkdirSync(join(out, 'digits'));
for (let d = 0; d < 10; d++) {
  const all = JSON.parse(readFileSync(join(digits, `${d}.json`), 'utf8')).data;
  writeFileSync(join(out, 'digits', `${d}.json`), JSON.stringify({ data: all.slice(0, 64 * 784) }));
}
// the shared libraries the binaries need beyond the C and C++ runtimes (OpenMP's, libjpeg's), in
// case the GPU machine's image lacks them
mkdirSync(join(out, 'lib'));
const base = /^(linux-vdso|ld-linux|libc|libm|libstdc\+\+|libgcc_s|libdl|libpthread|librt)\.so/;
for (const f of ['mae_native.node', 'mae_op_check']) {
  const ldd = execFileSync('ldd', [join(release, f)], { encoding: 'utf8' });
  for (const [, lib, path] of ldd.matchAll(/^\s*(\S+) => (\/\S+)/gm))
    if (!base.test(lib)) copyFileSync(path, join(out, 'lib', lib));
}
execFileSync('sh', ['-c', `xz -T2 -6 -c "${process.execPath}" > "${join(out, 'node.xz')}"`]);
const mib = (f) => (statSync(join(out, f)).size / 2 ** 20).toFixed(1);
console.log(
  `gpu-bundle: .gpu/ ready (node.xz ${mib('node.xz')} MiB, mae-cuda.mjs ${mib('mae-cuda.mjs')} MiB, addon ${mib('mae_native.node.xz')} MiB xz); carry .gpu` +
    ' (and packages/native/generated only for the CMake fallback)',
);
