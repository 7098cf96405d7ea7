// stepper.test.ts: fine-tuning's iterations and updates on a depth-2 classifier on the CPU. The
// loss is divided by accum_iter and the gradients summed over the window: a window of the same
// batch twice (accum_iter 2, no drop path) updates the weights to exactly the bits of one step on
// that batch (accum_iter 1), since halving is exact. --clip-grad clips over the trained parameters
// only (a frozen parameter's gradient, whatever it holds, changes nothing), and clips at all.
import assert from 'node:assert/strict';
import { Tensor } from '@mae-cuda/native';
import type { LabelledImages } from '../../src/eval/images.js';
import { paramGroupsLrd, storeGroups, type Trainable } from '../../src/finetune/groups.js';
import { type FinetuneSettings, FinetuneStepper } from '../../src/finetune/run.js';
import { randomClassifierState } from '../../src/finetune/state.js';
import { VitClassifier } from '../../src/model/classifier.js';
import { ParamStore } from '../../src/model/params.js';
import { PhiloxStream } from '../../src/rng/stream.js';
import { depth2Config as config } from './helpers.js';

const [N, K] = [4, 3];

/** A stepper over a fresh classifier (the same weights every time). */
function stepper(o: { accumIter: number; trainable?: Trainable; clipGrad?: number }) {
  const trainable = o.trainable ?? { kind: 'all' };
  const state = randomClassifierState(config, { classes: K, pool: 'global', seed: 1 });
  const groups = paramGroupsLrd(state, { depth: 2, weightDecay: 0.05, layerDecay: 0.75, trainable });
  const params = new ParamStore(state, 'cpu', 'f32', storeGroups(groups, [...state.keys()]));
  const model = new VitClassifier(config, K, 'global', params);
  const settings: FinetuneSettings = {
    epochs: 2,
    warmupEpochs: 1,
    blr: 1e-3,
    minLr: 0,
    batchSize: N,
    accumIter: o.accumIter,
    clipGrad: o.clipGrad,
    dropPath: 0,
    mix: { mixup: 0, cutmix: 0, prob: 1, switchProb: 0.5, smoothing: 0.1 },
    trainable,
    seed: 0,
    device: 'cpu',
    outputDir: '/nonexistent',
  };
  const none = {} as LabelledImages; // the stepper reads no images of its own
  return { s: new FinetuneStepper({ model, groups, train: none, test: none, settings }), params };
}

const rng = new PhiloxStream(5, 1);
const imgs = Tensor.fromArray(
  'f32',
  [N, 1, 8, 8],
  Float32Array.from({ length: N * 64 }, () => rng.normal()),
);
const labels = Tensor.fromArray('i64', [N], [0, 2, 1, 2]);
const at = (index: number, k: number) => ({ epoch: 0, index, k });
const bytes = async (p: ParamStore) => Buffer.from((await p.flatValues.toFloat32Array()).buffer);
const grads = async (p: ParamStore) => Buffer.from((await p.flatGrads.toFloat32Array()).buffer);

describe('FinetuneStepper', () => {
  it('accum_iter 2 on a batch twice updates to the bits of accum_iter 1 on it once', async () => {
    const two = stepper({ accumIter: 2 });
    const l0 = await two.s.micro(imgs, labels, at(0, 0));
    const l1 = await two.s.micro(imgs, labels, at(1, 1));
    const g2 = await grads(two.params);
    await two.s.update(1e-2);
    const one = stepper({ accumIter: 1 });
    const l = await one.s.micro(imgs, labels, at(0, 0));
    assert.ok(g2.equals(await grads(one.params)), 'the window sums the gradients of loss / accum_iter');
    await one.s.update(1e-2);
    assert.deepEqual([l0, l1], [l, l], 'the reported loss is the undivided one');
    assert.equal(two.s.optim.step, 1);
    assert.ok((await bytes(two.params)).equals(await bytes(one.params)));
  });

  it('--clip-grad clips the trained parameters only, and changes the update', async () => {
    const trainable: Trainable = { kind: 'blocks', k: 1 };
    const run = async (clipGrad: number | undefined, frozenGrad: number) => {
      const r = stepper({ accumIter: 1, trainable, ...(clipGrad ? { clipGrad } : {}) });
      await r.s.micro(imgs, labels, at(0, 0));
      const g = r.params.grad('blocks.0.mlp.fc1.weight'); // frozen: the backward leaves it alone
      g.copyFrom(Tensor.fromArray('f32', g.shape, new Float32Array(g.numel).fill(frozenGrad)));
      await r.s.update(1e-2);
      return bytes(r.params);
    };
    const clipped = await run(1e-4, 0);
    assert.ok(clipped.equals(await run(1e-4, 1e6)), 'a frozen gradient entered the norm');
    assert.ok(!clipped.equals(await run(undefined, 0)), 'clipping to 1e-4 changed nothing');
  });
});
