// parity_fixture.ts: test helper: locates shared/fixtures/mae-parity/<case> next to the repository
// (null when absent, so tests can skip with a reason) and loads its safetensors files through
// src/io/safetensors.ts as typed arrays.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readSafetensors, type StTensor } from '../../src/io/safetensors.js';

/** <repo root>/../shared/fixtures/mae-parity, repo root being four levels above this file. */
export const FIXTURES_ROOT = fileURLToPath(
  new URL('../shared/fixtures/mae-parity/', new URL('../../../../', import.meta.url)),
);

export const PARITY_CASE = 'rgb32-p8-normpix';

/** The model of that case (its config.json), as MaeConfig input. */
export const FIXTURE_MODEL = {
  img_size: 32,
  patch_size: 8,
  in_chans: 3,
  embed_dim: 64,
  depth: 2,
  num_heads: 4,
  decoder_embed_dim: 32,
  decoder_depth: 1,
  decoder_num_heads: 2,
  mlp_ratio: 4,
  norm_pix_loss: true,
  mask_ratio: 0.75,
};

/** The case folder, or null if the fixtures are not checked out here. */
export function parityDir(name = PARITY_CASE): string | null {
  const dir = `${FIXTURES_ROOT}${name}`;
  return existsSync(`${dir}/config.json`) ? dir : null;
}

/** Skips the current test (printing why) when the fixtures are absent; else returns the folder. */
export function requireParityDir(ctx: Mocha.Context, name = PARITY_CASE): string {
  const dir = parityDir(name);
  if (dir === null) {
    console.log(`    (skipped: parity fixture ${FIXTURES_ROOT}${name} is absent)`);
    ctx.skip();
  }
  return dir as string;
}

/** All tensors of `<case>/<file>.safetensors`. */
export async function loadTensors(dir: string, file: string): Promise<Map<string, StTensor>> {
  return (await readSafetensors(`${dir}/${file}.safetensors`)).tensors;
}

export function f32(t: StTensor | undefined, what: string): Float32Array {
  if (t === undefined || t.dtype !== 'F32') throw new Error(`${what}: expected an F32 tensor`);
  return t.data;
}

export function i64(t: StTensor | undefined, what: string): BigInt64Array {
  if (t === undefined || t.dtype !== 'I64') throw new Error(`${what}: expected an I64 tensor`);
  return t.data;
}
