// param_groups.test.ts: trainable / frozen and weight-decay groups as the fixture README states.
import assert from 'node:assert/strict';
import { parseMaeConfig } from '../../src/config/model.js';
import { hasWeightDecay, paramGroups } from '../../src/init/param_groups.js';
import { stateSpec } from '../../src/init/state_spec.js';
import { FIXTURE_MODEL, loadTensors, requireParityDir } from '../config/parity_fixture.js';

const config = parseMaeConfig(FIXTURE_MODEL);

describe('paramGroups', () => {
  const specs = stateSpec(config).map((p) => [p.name, { shape: p.shape }] as const);
  const g = paramGroups(specs);

  it('freezes exactly the two position embeddings', () => {
    assert.deepEqual(g.frozen, ['pos_embed', 'decoder_pos_embed']);
    assert.equal(g.trainable.length, specs.length - 2);
    assert.deepEqual([...g.decay, ...g.noDecay].sort(), [...g.trainable].sort());
  });

  it('decays matrices and the cls/mask tokens, not biases or 1-D params', () => {
    assert.deepEqual(g.decay, [
      'cls_token',
      'mask_token',
      'patch_embed.proj.weight',
      'blocks.0.attn.qkv.weight',
      'blocks.0.attn.proj.weight',
      'blocks.0.mlp.fc1.weight',
      'blocks.0.mlp.fc2.weight',
      'blocks.1.attn.qkv.weight',
      'blocks.1.attn.proj.weight',
      'blocks.1.mlp.fc1.weight',
      'blocks.1.mlp.fc2.weight',
      'decoder_embed.weight',
      'decoder_blocks.0.attn.qkv.weight',
      'decoder_blocks.0.attn.proj.weight',
      'decoder_blocks.0.mlp.fc1.weight',
      'decoder_blocks.0.mlp.fc2.weight',
      'decoder_pred.weight',
    ]);
    assert.ok(g.noDecay.includes('blocks.0.norm1.weight'));
    assert.ok(g.noDecay.includes('patch_embed.proj.bias'));
    assert.ok(g.noDecay.includes('decoder_norm.weight'));
    assert.ok(
      g.noDecay.every(
        (n) => n.endsWith('.bias') || n.endsWith('norm1.weight') || /norm[2]?\.weight$/.test(n),
      ),
    );
  });

  it('applies the rule to shapes, not just names', () => {
    assert.equal(hasWeightDecay('x.weight', [4]), false);
    assert.equal(hasWeightDecay('x.bias', [4, 4]), false);
    assert.equal(hasWeightDecay('x.weight', [4, 4]), true);
    assert.equal(hasWeightDecay('token', [1, 1, 4]), true);
  });

  it('covers the fixture gradients: one grad.<name> per trainable parameter', async function () {
    const dir = requireParityDir(this);
    const expected = await loadTensors(dir, 'expected');
    const grads = [...expected.keys()].filter((k) => k.startsWith('grad.')).map((k) => k.slice(5));
    assert.deepEqual(grads.sort(), [...g.trainable].sort());
  });
});
