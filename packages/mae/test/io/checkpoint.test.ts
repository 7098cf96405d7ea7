// checkpoint.test.ts: checkpoints as safetensors: round trip, the on-disk layout (state_dict names,
// optimizer.<name>, __metadata__), clear errors for files that are not ours, atomic saves, and
// state dict matching that names every missing, unexpected and misshaped tensor.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assertStateDictMatches,
  type Checkpoint,
  formatStateDictReport,
  loadCheckpoint,
  matchStateDict,
  saveCheckpoint,
  stateDictMatches,
} from '../../src/io/checkpoint.js';
import {
  parseSafetensors,
  readSafetensors,
  type StTensor,
  stTensor,
  writeSafetensorsAtomic,
} from '../../src/io/safetensors.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const FIXTURE = join(REPO_ROOT, '..', 'shared', 'fixtures', 'mae-parity', 'rgb32-p8-normpix');

function bytesOf(t: StTensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function assertSameTensors(got: Record<string, StTensor>, want: Record<string, StTensor>): void {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
  for (const [name, t] of Object.entries(want)) {
    assert.equal(got[name]!.dtype, t.dtype, name);
    assert.deepEqual(got[name]!.shape, t.shape, name);
    assert.ok(bytesOf(got[name]!).equals(bytesOf(t)), `${name}: data differs`);
  }
}

function sample(): Checkpoint {
  const qkv = stTensor('F32', [6, 2], new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
  return {
    model: {
      'blocks.0.attn.qkv.weight': qkv,
      'blocks.0.attn.qkv.bias': stTensor('F32', [6], new Float32Array(6).fill(0.5)),
      cls_token: stTensor('F32', [1, 1, 2], new Float32Array([-1, 1])),
    },
    optimizer: {
      'exp_avg.blocks.0.attn.qkv.weight': stTensor('F32', [6, 2], new Float32Array(12).fill(0.25)),
      'exp_avg_sq.blocks.0.attn.qkv.weight': stTensor('F32', [6, 2], new Float32Array(12).fill(0.125)),
      step: stTensor('I64', [], new BigInt64Array([1234n])),
    },
    step: 1234,
    epoch: 7,
    config: { model: { embed_dim: 64, depth: 2 }, lr: 1e-3, mask_ratio: 0.75, name: 'tiny' },
    extra: { git: 'abc123', host: 'box' },
  };
}

describe('checkpoint', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mae-ckpt-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round trips model, optimizer, step, epoch, config and extra', async () => {
    const path = join(dir, 'ckpt.safetensors');
    const ckpt = sample();
    await saveCheckpoint(path, ckpt);
    const back = await loadCheckpoint(path);
    assertSameTensors(back.model, ckpt.model);
    assertSameTensors(back.optimizer, ckpt.optimizer!);
    assert.equal(back.step, 1234);
    assert.equal(back.epoch, 7);
    assert.deepEqual(back.config, ckpt.config);
    assert.deepEqual(back.extra, ckpt.extra);
    assert.deepEqual(await readdir(dir), ['ckpt.safetensors']);
  });

  it('stores state_dict names, optimizer.<name> and the metadata on disk', async () => {
    const path = join(dir, 'ckpt.safetensors');
    await saveCheckpoint(path, sample());
    const { tensors, metadata } = parseSafetensors(await readFile(path));
    assert.deepEqual([...tensors.keys()].sort(), [
      'blocks.0.attn.qkv.bias',
      'blocks.0.attn.qkv.weight',
      'cls_token',
      'optimizer.exp_avg.blocks.0.attn.qkv.weight',
      'optimizer.exp_avg_sq.blocks.0.attn.qkv.weight',
      'optimizer.step',
    ]);
    assert.equal(metadata.format, 'mae-cuda-checkpoint');
    assert.equal(metadata.version, '1');
    assert.equal(metadata.step, '1234');
    assert.equal(metadata.epoch, '7');
    assert.deepEqual(JSON.parse(metadata.config!), sample().config);
    assert.equal(metadata.git, 'abc123');
  });

  it('without optimizer state or extra, loads them as empty', async () => {
    const path = join(dir, 'ckpt.safetensors');
    const { model } = sample();
    await saveCheckpoint(path, { model, step: 0, epoch: 0, config: null });
    const back = await loadCheckpoint(path);
    assertSameTensors(back.model, model);
    assert.deepEqual(back.optimizer, {});
    assert.deepEqual(back.extra, {});
    assert.equal(back.config, null);
  });

  it('round trips the real fixture weights, which then match their own state dict', async function () {
    if (!existsSync(FIXTURE)) {
      console.log(`    (skipped: no parity fixtures at ${FIXTURE})`);
      this.skip();
    }
    const weights = await readSafetensors(join(FIXTURE, 'weights.safetensors'));
    const model = Object.fromEntries(weights.tensors);
    const path = join(dir, 'ckpt.safetensors');
    await saveCheckpoint(path, { model, step: 3, epoch: 1, config: { fixture: 'rgb32-p8-normpix' } });
    const back = await loadCheckpoint(path);
    assertSameTensors(back.model, model);
    const report = matchStateDict(model, new Map(Object.entries(back.model)));
    assert.ok(stateDictMatches(report), formatStateDictReport(report));
  });

  it('rejects files that are not ours, with the reason', async () => {
    const path = join(dir, 'x.safetensors');
    const t = { a: stTensor('F32', [1], new Float32Array([1])) };
    const ours = { format: 'mae-cuda-checkpoint', version: '1', step: '1', epoch: '0', config: '{}' };
    const cases: [Record<string, string> | undefined, RegExp][] = [
      [undefined, /not a mae-cuda checkpoint \(no "format" in __metadata__\)/],
      [{ format: 'pt' }, /not a mae-cuda checkpoint \(__metadata__ format is "pt"/],
      [{ ...ours, version: '2' }, /unsupported checkpoint version "2"/],
      [{ ...ours, config: '{bad' }, /config in __metadata__ is not valid JSON/],
      [{ ...ours, step: '1.5' }, /step is not a non-negative integer: "1.5"/],
      [{ ...ours, step: '-1' }, /step is not a non-negative integer: "-1"/],
      [{ ...ours, step: 'abc' }, /step is not a non-negative integer: "abc"/],
      [{ ...ours, step: '' }, /step is not a non-negative integer: ""/],
      [{ ...ours, step: '99999999999999999999' }, /step is not a non-negative integer/],
      [{ ...ours, epoch: '1e3' }, /epoch is not a non-negative integer: "1e3"/],
    ];
    for (const [meta, re] of cases) {
      await writeSafetensorsAtomic(path, t, meta);
      await assert.rejects(loadCheckpoint(path), (e: Error) => {
        assert.match(e.message, re);
        assert.ok(e.message.includes(path), e.message);
        return true;
      });
    }
    const { step, epoch, config } = ours;
    await writeSafetensorsAtomic(path, t, { format: 'mae-cuda-checkpoint', version: '1', step, epoch });
    await assert.rejects(loadCheckpoint(path), /no "config" in __metadata__/);
    await writeSafetensorsAtomic(path, t, { ...ours, config });
    assert.equal((await loadCheckpoint(path)).step, 1);
  });

  it('rejects the real fixture files (plain PyTorch safetensors)', async function () {
    if (!existsSync(FIXTURE)) this.skip();
    await assert.rejects(loadCheckpoint(join(FIXTURE, 'inputs.safetensors')), /format is "pt"/);
    await assert.rejects(loadCheckpoint(join(FIXTURE, 'weights.safetensors')), /not a mae-cuda checkpoint/);
  });

  it('refuses to save bad checkpoints, and keeps the old file', async () => {
    const path = join(dir, 'ckpt.safetensors');
    await saveCheckpoint(path, sample());
    const before = await readFile(path);
    const bad: [Partial<Checkpoint>, RegExp][] = [
      [{ step: -1 }, /step must be a non-negative integer, got -1/],
      [{ epoch: 1.5 }, /epoch must be a non-negative integer, got 1.5/],
      [{ config: undefined }, /config is not JSON-serializable/],
      [{ config: { n: 1n } }, /config is not JSON-serializable/],
      [{ extra: { step: '5' } }, /extra key "step" is reserved/],
      [{ model: { 'optimizer.x': stTensor('U8', [0], new Uint8Array(0)) } }, /"optimizer.x" clashes/],
      [
        { model: { w: { dtype: 'F32', shape: [4], data: new Float32Array(3) } as StTensor } },
        /cannot write .*"w": data has 3 elements but shape \[4\] needs 4/,
      ],
    ];
    for (const [change, re] of bad) {
      await assert.rejects(saveCheckpoint(path, { ...sample(), ...change }), re);
    }
    assert.ok((await readFile(path)).equals(before));
    assert.deepEqual(await readdir(dir), ['ckpt.safetensors']);
  });
});

describe('matchStateDict', () => {
  const t = (shape: number[]) => stTensor('F32', shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
  const expected = {
    'blocks.0.attn.qkv.weight': { shape: [192, 64] },
    'blocks.0.norm1.bias': { shape: [64] },
    cls_token: { shape: [1, 1, 64] },
    mask_token: { shape: [1, 1, 32] },
    scale: { shape: [1] },
  };

  it('reports missing, unexpected and misshaped tensors by name', () => {
    const got = new Map<string, StTensor>([
      ['blocks.0.attn.qkv.weight', t([64, 192])],
      ['blocks.0.norm1.bias', t([64])],
      ['cls_token', t([1, 1, 64])],
      ['scale', t([])],
      ['head.weight', t([10, 64])],
      ['blocks.0.extra', t([1])],
    ]);
    const report = matchStateDict(expected, got);
    assert.deepEqual(report.missing, ['mask_token']);
    assert.deepEqual(report.unexpected, ['blocks.0.extra', 'head.weight']);
    assert.deepEqual(report.misshaped, [
      { name: 'blocks.0.attn.qkv.weight', expected: [192, 64], got: [64, 192] },
      { name: 'scale', expected: [1], got: [] },
    ]);
    assert.equal(stateDictMatches(report), false);
    const text = formatStateDictReport(report, 'ckpt.safetensors');
    assert.match(text, /^ckpt\.safetensors: 1 missing, 2 unexpected, 2 misshaped/);
    for (const name of ['mask_token', 'head.weight', 'blocks.0.extra']) assert.ok(text.includes(name), name);
    assert.match(text, /misshaped: blocks\.0\.attn\.qkv\.weight: expected \[192, 64\], got \[64, 192\]/);
    assert.match(text, /misshaped: scale: expected \[1\], got \[\]/);
    assert.throws(() => assertStateDictMatches(expected, got, 'ckpt.safetensors'), /missing: mask_token/);
  });

  it('is clean when names and shapes agree (record or map)', () => {
    const got = Object.fromEntries(Object.entries(expected).map(([n, e]) => [n, t(e.shape)]));
    const report = matchStateDict(expected, got);
    assert.deepEqual(report, { missing: [], unexpected: [], misshaped: [] });
    assert.ok(stateDictMatches(report));
    assert.match(formatStateDictReport(report), /all tensors match/);
    assertStateDictMatches(expected, new Map(Object.entries(got)));
  });
});
