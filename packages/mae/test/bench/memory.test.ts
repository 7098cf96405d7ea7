// memory.test.ts: the memory estimate of a benchmark (bench/memory.ts) against the allocator's
// measured peak of real runs on the CPU: tiny presets and an odd configuration, f32 and bf16, small
// and larger batches. The estimate counts every tensor from the architecture, rounded to the
// allocator's buckets; it must lie within 1% of the measured peak (documented factor: 0.99-1.01;
// it has been within a few 512-byte blocks). A model that was off by a tensor per block would be
// off by several percent. Also: the allocator's bucket rule, and largestBatch.
import assert from 'node:assert/strict';
import { benchMemory, bucketSize, largestBatch, stepMemory } from '../../src/bench/memory.js';
import { benchStep } from '../../src/bench/run.js';
import { preset } from '../../src/config/presets.js';

const TOLERANCE = 0.01;

describe('stepMemory against the measured peak (CPU)', function () {
  this.timeout(120000);
  const odd = preset('mae_tiny_32', { mlp_ratio: 2.5, mask_ratio: 0.6, depth: 3, decoder_depth: 1 });
  const cases = [
    ['mae_tiny_28', preset('mae_tiny_28'), 1, 'f32'],
    ['mae_tiny_28', preset('mae_tiny_28'), 48, 'f32'],
    ['mae_tiny_32', preset('mae_tiny_32'), 32, 'bf16'],
    ['odd', odd, 20, 'f32'],
    ['odd', odd, 20, 'bf16'],
  ] as const;
  for (const [name, model, batch, precision] of cases)
    it(`${name} batch ${batch} ${precision}`, async () => {
      const r = await benchStep({
        name,
        model,
        device: 'cpu',
        batch,
        steps: 2,
        warmup: 1,
        precision,
        profileSteps: 0,
      });
      const e = stepMemory(model, batch, precision, 3);
      const ratio = e.peak / r.peakMemoryBytes;
      assert.ok(
        Math.abs(ratio - 1) <= TOLERANCE,
        `estimate ${e.peak} vs measured ${r.peakMemoryBytes} (${ratio})`,
      );
    });
});

describe('the memory estimate', () => {
  const c = preset('mae_vit_base_patch16');
  it('rounds as the allocator does (512 B minimum, then quarter-octave steps)', () => {
    assert.deepEqual(
      [1, 512, 513, 1024, 1025, 1280, 1281, 3000].map(bucketSize),
      [512, 512, 640, 1024, 1280, 1280, 1536, 3072],
    );
  });
  it('grows with the batch, halves the activations in bf16, adds the host images on the CPU', () => {
    const a = stepMemory(c, 64, 'bf16');
    const b = stepMemory(c, 128, 'bf16');
    assert.equal(a.peak, a.state + a.images + a.step);
    assert.ok(Math.abs(b.step / a.step - 2) < 0.01);
    assert.ok(Math.abs(stepMemory(c, 64, 'f32').step / a.step - 2) < 0.1);
    assert.equal(
      benchMemory(c, 64, 'f32', 'cpu'),
      stepMemory(c, 64, 'f32').peak + stepMemory(c, 64, 'f32').images,
    );
    assert.equal(benchMemory(c, 64, 'f32', 'cuda'), stepMemory(c, 64, 'f32').peak);
  });
  it('largestBatch is the largest batch that fits', () => {
    const available = 40 * 2 ** 30;
    const n = largestBatch(c, 'bf16', 'cuda', available);
    assert.ok(benchMemory(c, n, 'bf16', 'cuda') <= available);
    assert.ok(benchMemory(c, n + 1, 'bf16', 'cuda') > available);
    assert.equal(largestBatch(c, 'bf16', 'cuda', 2 ** 20), 0);
  });
});
