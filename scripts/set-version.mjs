// set-version.mjs: `pnpm set-version X.Y.Z`: the one version of mae-cuda, written to the root
// package.json and every package's (the C library takes @mae-cuda/native's: CMakeLists.txt, and
// the header's MAE_CUDA_VERSION with it). packages/cli/test/manifests.test.ts checks they agree.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const version = process.argv[2];
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version ?? '')) {
  console.error(`set-version: give a version such as 1.2.3, not '${version ?? ''}'`);
  process.exit(2);
}
const manifests = [
  join(root, 'package.json'),
  ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'package.json')),
];
for (const file of manifests) {
  const m = JSON.parse(readFileSync(file, 'utf8'));
  m.version = version;
  writeFileSync(file, `${JSON.stringify(m, null, 2)}\n`);
  console.log(`${m.name}: ${version}`);
}
