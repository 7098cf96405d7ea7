// state.test.ts: initialState names, shapes and values (by rule), determinism per seed, the
// random initialisers' ranges and moments, and the names/shapes/value kinds of the fixture weights.
import assert from 'node:assert/strict';
import { type MaeConfig, parseMaeConfig } from '../../src/config/model.js';
import { presets } from '../../src/config/presets.js';
import { normal, uniform, xavierUniform } from '../../src/init/random_init.js';
import { sincos2d } from '../../src/init/sincos.js';
import { initialState } from '../../src/init/state.js';
import { stateSpec } from '../../src/init/state_spec.js';
import { PhiloxStream } from '../../src/rng/stream.js';
import { FIXTURE_MODEL, f32, loadTensors, requireParityDir } from '../config/parity_fixture.js';

const fixtureConfig: MaeConfig = parseMaeConfig(FIXTURE_MODEL);

const maxAbs = (a: Float32Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const mean = (a: Float32Array) => a.reduce((s, x) => s + x, 0) / a.length;
const std = (a: Float32Array) => {
  const m = mean(a);
  return Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / a.length);
};

describe('random initialisers', () => {
  it('xavierUniform stays within sqrt(6 / (fan_in + fan_out)) with the uniform variance', () => {
    const w = xavierUniform(300, 200, new PhiloxStream(1, 0));
    const a = Math.sqrt(6 / 500);
    assert.equal(w.length, 60000);
    assert.ok(maxAbs(w) <= a && maxAbs(w) > 0.99 * a);
    assert.ok(Math.abs(std(w) - a / Math.sqrt(3)) < 0.01 * a);
  });

  it('uniform and normal have the asked-for range and moments', () => {
    const u = uniform(20000, -2, 4, new PhiloxStream(2, 0));
    assert.ok(u.every((x) => x >= -2 && x < 4));
    assert.ok(Math.abs(mean(u) - 1) < 0.05);
    const n = normal(20000, 0.02, new PhiloxStream(3, 0));
    assert.ok(Math.abs(mean(n)) < 0.001);
    assert.ok(Math.abs(std(n) - 0.02) < 0.0005);
  });
});

describe('initialState', () => {
  it('has the official names and shapes, in state_dict order', () => {
    const s = initialState(fixtureConfig, 0);
    const names = [...s.keys()];
    assert.deepEqual(names.slice(0, 6), [
      'cls_token',
      'pos_embed',
      'mask_token',
      'decoder_pos_embed',
      'patch_embed.proj.weight',
      'patch_embed.proj.bias',
    ]);
    assert.deepEqual(names.slice(6, 18), [
      'blocks.0.norm1.weight',
      'blocks.0.norm1.bias',
      'blocks.0.attn.qkv.weight',
      'blocks.0.attn.qkv.bias',
      'blocks.0.attn.proj.weight',
      'blocks.0.attn.proj.bias',
      'blocks.0.norm2.weight',
      'blocks.0.norm2.bias',
      'blocks.0.mlp.fc1.weight',
      'blocks.0.mlp.fc1.bias',
      'blocks.0.mlp.fc2.weight',
      'blocks.0.mlp.fc2.bias',
    ]);
    assert.deepEqual(names.slice(-4), [
      'decoder_norm.weight',
      'decoder_norm.bias',
      'decoder_pred.weight',
      'decoder_pred.bias',
    ]);
    assert.equal(names.length, 6 + 2 * 12 + 2 + 2 + 12 + 2 + 2);
    assert.deepEqual(s.get('patch_embed.proj.weight')?.shape, [64, 3, 8, 8]);
    assert.deepEqual(s.get('blocks.1.mlp.fc1.weight')?.shape, [256, 64]);
    assert.deepEqual(s.get('decoder_blocks.0.attn.qkv.weight')?.shape, [96, 32]);
    assert.deepEqual(s.get('decoder_pred.weight')?.shape, [192, 32]);
    assert.deepEqual(s.get('mask_token')?.shape, [1, 1, 32]);
    for (const [name, t] of s) {
      assert.equal(
        t.data.length,
        t.shape.reduce((a, b) => a * b, 1),
        name,
      );
    }
  });

  it('sets each parameter by its official rule', () => {
    const s = initialState(fixtureConfig, 1234);
    const get = (name: string) => s.get(name)!.data;
    assert.deepEqual(get('pos_embed'), sincos2d(64, 4, true));
    assert.deepEqual(get('decoder_pos_embed'), sincos2d(32, 4, true));
    assert.ok(get('blocks.0.norm1.weight').every((x) => x === 1));
    assert.ok(get('decoder_norm.bias').every((x) => x === 0));
    assert.ok(get('blocks.1.attn.qkv.bias').every((x) => x === 0));
    assert.ok(Math.abs(std(get('cls_token')) - 0.02) < 0.008);
    const pe = get('patch_embed.proj.weight');
    assert.ok(maxAbs(pe) <= Math.sqrt(6 / (192 + 64)) && maxAbs(pe) > 0.9 * Math.sqrt(6 / 256));
    const pb = get('patch_embed.proj.bias');
    assert.ok(maxAbs(pb) <= 1 / Math.sqrt(192) && maxAbs(pb) > 0);
    const fc2 = get('blocks.0.mlp.fc2.weight');
    assert.ok(maxAbs(fc2) <= Math.sqrt(6 / (256 + 64)));
  });

  it('is deterministic per seed, and parameters draw from separate streams', () => {
    const a = initialState(fixtureConfig, 7);
    const b = initialState(fixtureConfig, 7n);
    const c = initialState(fixtureConfig, 8);
    for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, name);
    assert.notDeepEqual(c.get('blocks.0.attn.qkv.weight')!.data, a.get('blocks.0.attn.qkv.weight')!.data);
    assert.notDeepEqual(
      a.get('blocks.0.attn.qkv.weight')!.data.subarray(0, 100),
      a.get('blocks.1.attn.qkv.weight')!.data.subarray(0, 100),
    );
  });

  it('sizes the MLP with int(dim * mlp_ratio) and the patch embedding with in_chans', () => {
    const c = parseMaeConfig({ ...presets.mae_tiny_28, mlp_ratio: 2.5 });
    const specs = new Map(stateSpec(c).map((p) => [p.name, p.shape]));
    assert.deepEqual(specs.get('blocks.0.mlp.fc1.weight'), [160, 64]);
    assert.deepEqual(specs.get('decoder_blocks.1.mlp.fc2.weight'), [32, 80]);
    assert.deepEqual(specs.get('patch_embed.proj.weight'), [64, 1, 4, 4]);
    assert.deepEqual(specs.get('decoder_pred.weight'), [16, 32]);
    assert.deepEqual(specs.get('pos_embed'), [1, 50, 64]);
  });

  it('counts ViT-B MAE parameters like the official model (111,907,840 incl. fixed pos embeds)', () => {
    let total = 0;
    let fixed = 0;
    for (const p of stateSpec(presets.mae_vit_base_patch16)) {
      const n = p.shape.reduce((a, b) => a * b, 1);
      total += n;
      if (p.init.kind === 'sincos') fixed += n;
    }
    // by hand: encoder 85,647,360 + decoder 26,008,320 trainable; fixed 197 * (768 + 512)
    assert.equal(fixed, 197 * (768 + 512));
    assert.equal(total - fixed, 85647360 + 26008320);
    assert.equal(total, 111907840);
  });

  it('matches the fixture weights: same names, shapes, and values of the same kind', async function () {
    const dir = requireParityDir(this);
    const w = await loadTensors(dir, 'weights');
    const s = initialState(fixtureConfig, 0);
    assert.deepEqual([...s.keys()].sort(), [...w.keys()].sort());
    for (const spec of stateSpec(fixtureConfig)) {
      const ref = w.get(spec.name)!;
      assert.deepEqual(ref.shape, spec.shape, spec.name);
      const data = f32(ref, spec.name);
      const r = spec.init;
      if (r.kind === 'zeros')
        assert.ok(
          data.every((x) => x === 0),
          `${spec.name} zeros`,
        );
      if (r.kind === 'ones')
        assert.ok(
          data.every((x) => x === 1),
          `${spec.name} ones`,
        );
      if (r.kind === 'xavier') {
        const a = Math.sqrt(6 / (r.fanIn + r.fanOut));
        assert.ok(maxAbs(data) <= a && maxAbs(data) > 0.9 * a, `${spec.name} xavier bound ${a}`);
      }
      if (r.kind === 'uniform') {
        assert.ok(maxAbs(data) <= r.bound && maxAbs(data) > 0.5 * r.bound, `${spec.name} uniform bound`);
      }
      if (r.kind === 'normal') assert.ok(std(data) > 0.01 && std(data) < 0.03, `${spec.name} normal std`);
    }
  });
});
