// The encoder with mask tokens (Table 1c, config encoder_mask_token) against the official model
// modified that way (the fixture test/fixtures/parity/rgb16-p4-encmask, made by
// scripts/parity/make_fixture.py --encoder-mask-token): loss, predictions, latent [N, 1 + L, D],
// every gradient and three AdamW steps within the parity tolerances, on the CPU backend and on the
// CUDA path under the emulator (MAE_CUDA_EMULATOR=1, a child process); the parameters it has (an
// encoder_mask_token in place of the decoder's mask_token), the HF export (refused with the decoder,
// the classifier without the token) and a checkpoint of the other kind refused by name.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preset } from '../../src/config/presets.js';
import { readHfFolder, writeHfFolder } from '../../src/convert/hf.js';
import { initialState } from '../../src/init/state.js';
import { stateSpec } from '../../src/init/state_spec.js';
import { stTensor } from '../../src/io/safetensors.js';
import type { Check } from '../../src/parity/compare.js';
import { runParity } from '../../src/parity/run.js';
import { checkArchitecture } from '../../src/train/state.js';

const fixture = fileURLToPath(new URL('../fixtures/parity/rgb16-p4-encmask', import.meta.url));
const emuAddon = fileURLToPath(new URL('../../../native/build/Release/mae_native_emu.node', import.meta.url));
const child = fileURLToPath(new URL('./encoder_mask_token_child.ts', import.meta.url));

/** Every check passed, and those of the encoder's mask token are among them. */
function assertParity(checks: readonly Check[]): void {
  const failed = checks.filter((k) => !k.ok).map((k) => `${k.quantity} ${k.error} > ${k.tolerance}`);
  assert.deepEqual(failed, []);
  const names = checks.map((k) => k.quantity);
  for (const q of ['loss', 'pred', 'latent', 'grad.encoder_mask_token', 'loss.2', 'after.encoder_mask_token'])
    assert.ok(names.includes(q), `${q} is checked`);
  assert.ok(!names.some((q) => q.endsWith('.mask_token') && !q.includes('encoder')), 'no decoder mask_token');
}

describe('encoder_mask_token (Table 1c)', () => {
  it('has encoder_mask_token [1, 1, D] (normal, std .02) in place of the decoder mask_token', () => {
    const c = { ...preset('mae_vit_base_patch16'), encoder_mask_token: true };
    const spec = stateSpec(c);
    const token = spec.find((s) => s.name === 'encoder_mask_token');
    assert.deepEqual(token, {
      name: 'encoder_mask_token',
      shape: [1, 1, 768],
      init: { kind: 'normal', std: 0.02 },
    });
    assert.ok(!spec.some((s) => s.name === 'mask_token'));
    assert.equal(spec.length, stateSpec(preset('mae_vit_base_patch16')).length);
    const small = { ...preset('mae_tiny_28'), encoder_mask_token: true };
    const data = initialState(small, 0).get('encoder_mask_token')!.data;
    const std = Math.sqrt(data.reduce((a, x) => a + x * x, 0) / data.length);
    assert.ok(std > 0.01 && std < 0.03, `std ${std}`);
  });

  it('equals the modified official model on the CPU (forward, gradients, 3 AdamW steps)', async function () {
    this.timeout(60000);
    const r = await runParity(fixture, 'cpu');
    assertParity(r.checks);
  });

  it('equals it on the CUDA path under the emulator', function () {
    this.timeout(300000);
    if (!existsSync(emuAddon))
      throw new Error(`${emuAddon} is missing: pnpm build builds it (CMake MAE_CUDA_EMULATOR)`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, fixture], {
      encoding: 'utf8',
      env: { ...process.env, MAE_CUDA_EMULATOR: '1' },
      timeout: 300000,
    });
    assert.equal(r.status, 0, r.stderr);
    assertParity(JSON.parse(r.stdout) as Check[]);
  });

  it('the HF export: refused as ViTMAEForPreTraining, the classifier without the token', async () => {
    const config = { ...preset('mae_tiny_28'), encoder_mask_token: true };
    const model = Object.fromEntries(
      [...initialState(config, 0)].map(([n, t]) => [n, stTensor('F32', t.shape, t.data)]),
    );
    const ck = { model, step: 0, epoch: 0, config: { model: config } };
    const dir = join(mkdtempSync(join(tmpdir(), 'mae-encmask-')), 'hf');
    await assert.rejects(writeHfFolder(dir, ck), /ViTMAEForPreTraining has no mask token in its encoder/);
    await writeHfFolder(dir, ck, 'ViTForImageClassification');
    const back = await readHfFolder(dir);
    assert.ok('cls_token' in back.model && !('encoder_mask_token' in back.model));
  });

  it('a checkpoint of the other kind is refused naming the field', () => {
    const model = preset('mae_tiny_28');
    const withTokens = { ...model, encoder_mask_token: true };
    assert.throws(
      () => checkArchitecture('ck', { model }, withTokens),
      /checkpoint ck was made for another model: encoder_mask_token absent \(asked: true\)/,
    );
    assert.throws(
      () => checkArchitecture('ck', { model: withTokens }, model),
      /encoder_mask_token true \(asked: absent\)/,
    );
  });
});
