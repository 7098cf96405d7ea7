// groups.test.ts: fine-tuning's parameter groups against util/lr_decay.py's param_groups_lrd written
// out for a depth-2 model (layer ids, lr_scale = layer_decay ** (num_layers - layer_id), no weight
// decay for 1-D parameters, pos_embed and cls_token), and the partial fine-tuning selections.
import assert from 'node:assert/strict';
import {
  firstTrainedBlock,
  isTrainable,
  layerId,
  paramGroupsLrd,
  storeGroups,
} from '../../src/finetune/groups.js';
import { classifierSpec } from '../../src/finetune/state.js';
import { depth2Config as config } from './helpers.js';

const spec = classifierSpec(config, { classes: 3, pool: 'global' });
const entries = spec.map((s) => [s.name, s] as const);

describe('param_groups_lrd', () => {
  it('gives each parameter the official layer id, lr scale and weight decay', () => {
    const groups = paramGroupsLrd(entries, {
      depth: 2,
      weightDecay: 0.05,
      layerDecay: 0.75,
      trainable: { kind: 'all' },
    });
    const of = new Map(groups.flatMap((g) => g.names.map((n) => [n, g] as const)));
    // num_layers = 3: the stem 0 (scale 0.75^3), block i i + 1, the rest 3 (scale 1)
    const want: [string, number, number][] = [
      ['cls_token', 0, 0],
      ['pos_embed', 0, 0],
      ['patch_embed.proj.weight', 0, 0.05],
      ['patch_embed.proj.bias', 0, 0],
      ['blocks.0.attn.qkv.weight', 1, 0.05],
      ['blocks.0.norm1.weight', 1, 0],
      ['blocks.1.mlp.fc2.weight', 2, 0.05],
      ['blocks.1.mlp.fc2.bias', 2, 0],
      ['fc_norm.weight', 3, 0],
      ['head.weight', 3, 0.05],
      ['head.bias', 3, 0],
    ];
    for (const [name, layer, wd] of want) {
      const g = of.get(name)!;
      assert.equal(g.layer, layer, name);
      assert.equal(g.lrScale, 0.75 ** (3 - layer), name);
      assert.equal(g.weightDecay, wd, name);
    }
    assert.equal(of.size, spec.length);
    // one group per (layer, decay): layers 0..3, each with and without decay
    assert.equal(groups.length, 8);
    assert.equal(layerId('norm.weight', 3), 3);
  });

  it('trains only the last k blocks, or the last MLP sub-block, with the final norm and the head', () => {
    const names = (t: Parameters<typeof isTrainable>[1]) =>
      spec.map((s) => s.name).filter((n) => isTrainable(n, t, 2));
    const k1 = names({ kind: 'blocks', k: 1 });
    assert.ok(k1.every((n) => n.startsWith('blocks.1.') || /^(fc_norm|head)\./.test(n)));
    assert.equal(k1.length, 12 + 4);
    assert.deepEqual(names({ kind: 'blocks', k: 0 }), [
      'fc_norm.weight',
      'fc_norm.bias',
      'head.weight',
      'head.bias',
    ]);
    assert.deepEqual(names({ kind: 'mlp-last' }), [
      'blocks.1.norm2.weight',
      'blocks.1.norm2.bias',
      'blocks.1.mlp.fc1.weight',
      'blocks.1.mlp.fc1.bias',
      'blocks.1.mlp.fc2.weight',
      'blocks.1.mlp.fc2.bias',
      'fc_norm.weight',
      'fc_norm.bias',
      'head.weight',
      'head.bias',
    ]);
    assert.equal(names({ kind: 'blocks', k: 2 }).length, spec.length - 4); // the stem stays frozen
    assert.deepEqual(
      [
        firstTrainedBlock({ kind: 'all' }, 2),
        firstTrainedBlock({ kind: 'blocks', k: 1 }, 2),
        firstTrainedBlock({ kind: 'mlp-last' }, 2),
      ],
      [0, 1, 1],
    );
  });

  it('lays the store out with every group contiguous and the untrained parameters last', () => {
    const groups = paramGroupsLrd(entries, {
      depth: 2,
      weightDecay: 0.05,
      layerDecay: 0.65,
      trainable: { kind: 'mlp-last' },
    });
    const g = storeGroups(
      groups,
      spec.map((s) => s.name),
    );
    assert.deepEqual(g.trainable, [...g.decay, ...g.noDecay]);
    assert.deepEqual(
      g.decay,
      groups.filter((x) => x.decay).flatMap((x) => x.names),
    );
    assert.equal(g.frozen.length + g.trainable.length, spec.length);
    assert.ok(g.frozen.includes('blocks.1.attn.qkv.weight') && g.frozen.includes('pos_embed'));
  });
});
