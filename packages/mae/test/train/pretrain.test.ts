// pretrain.test.ts: pretrain() from settings alone, as the public API (docs/API.md) is used: it
// opens the shipped MNIST digits itself (training images and the held-out preview), trains, writes
// its outputs and closes the data, and evaluates the encoder against its random init at the end;
// settings it refuses name every field before any work.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MaskedAutoencoder } from '../../src/model/mae.js';
import { evaluates } from '../../src/train/evaluate.js';
import { PretrainConfigError, pretrain, resolvePretrainConfig } from '../../src/train/pretrain.js';
import { outDir, TINY_ARCH } from './helpers.js';

describe('pretrain() from settings', () => {
  it('trains on the data its settings name, with the model they resolve to', async () => {
    const output_dir = outDir();
    const steps: number[] = [];
    const r = await pretrain({
      config: {
        ...TINY_ARCH,
        batch_size: 16,
        steps: 2,
        limit: 64,
        preview: 4,
        warmup_epochs: 0,
        output_dir,
        eval_train: 200,
        eval_test: 50,
      },
      onStep: (s) => steps.push(s.step),
    });
    assert.deepEqual(steps, [1, 2]);
    assert.equal(r.steps, 2);
    assert.ok(r.model instanceof MaskedAutoencoder);
    assert.equal(r.model.config.embed_dim, 16);
    assert.equal(r.model.config.img_size, 28); // the preset's: MNIST digits
    assert.equal(r.checkpoint, join(output_dir, 'checkpoint-last.safetensors'));
    const files = readdirSync(output_dir);
    for (const f of [
      'checkpoint-last.safetensors',
      'log.jsonl',
      'loss.csv',
      'config.json',
      'reconstructions.png',
    ])
      assert.ok(files.includes(f), `${f} missing from ${files}`);
    // the end-of-run evaluation (eval auto: the MNIST digits it opened), its line last in log.jsonl
    const e = r.evaluation!;
    assert.equal(e.eval, 'knn');
    assert.deepEqual([e.steps, e.train_images, e.test_images, e.test_pretrained_on], [2, 200, 50, false]);
    for (const m of [e.pretrained, e.random_init]) assert.ok(m.mean.top1 >= 0 && m.cls.top5 <= 100);
    const log = readFileSync(join(output_dir, 'log.jsonl'), 'utf8').trim().split('\n');
    assert.deepEqual(JSON.parse(log.at(-1)!), JSON.parse(JSON.stringify(e)));
  });

  it('evaluates as its settings say: auto on the MNIST digits, not on another source', () => {
    const of = (c: object) => resolvePretrainConfig(c).config;
    assert.equal(evaluates(of({})), true);
    assert.equal(evaluates(of({ eval: 'none' })), false);
    assert.equal(evaluates(of({ data: '/some/images' })), false);
    assert.equal(evaluates(of({ data: '/some/images', eval: 'knn' })), true);
  });

  it('refuses bad settings with every field named, before writing anything', async () => {
    const output_dir = join(outDir(), 'never');
    await assert.rejects(
      pretrain({ config: { epochs: 0, mask_ratio: 1.5, output_dir, colour: 'red' } as never }),
      (e: Error) => {
        assert.ok(e instanceof PretrainConfigError);
        assert.ok(e.issues.some((i) => i.field === 'colour'));
        assert.match(e.message, /^pretrain: .*colour: unknown setting 'colour'/);
        return true;
      },
    );
    assert.throws(
      () => resolvePretrainConfig({ epochs: 0, mask_ratio: 1.5 }),
      (e: Error) => {
        assert.ok(e instanceof PretrainConfigError);
        assert.deepEqual(e.issues.map((i) => i.field).sort(), ['epochs', 'mask_ratio']);
        assert.match(e.message, /epochs: must be at least 1/);
        return true;
      },
    );
    assert.equal(existsSync(output_dir), false);
  });
});
