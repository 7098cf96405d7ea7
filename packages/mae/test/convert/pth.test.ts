// pth.test.ts: official MAE .pth files made by torch.save under Debian's /usr/bin/python3 (skipped
// without torch): {'model': state_dict} with the official names loads through loadCheckpoint with
// every tensor bit-identical and the configuration inferred; a bare state_dict, float16 and strided
// tensors, an encoder-only file; a file naming another global (argparse.Namespace) is refused by
// name; truncated and corrupt files give clear errors.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preset } from '../../src/config/presets.js';
import { toHfConfig } from '../../src/convert/hf_config.js';
import { toHfNames } from '../../src/convert/hf_names.js';
import { readPth } from '../../src/convert/pth.js';
import { initialState } from '../../src/init/state.js';
import { loadCheckpoint, openCheckpoint } from '../../src/io/checkpoint.js';
import { requirePython, runPython } from '../data/augment/python.js';

const SAVE = `
import sys, json, collections, argparse, torch
out, mode = sys.argv[1], sys.argv[2]
data = sys.stdin.buffer.read()
n = int.from_bytes(data[:4], 'little')
specs = json.loads(data[4:4 + n])
at = 4 + n
sd = collections.OrderedDict()
for s in specs:
    count = 1
    for d in s['shape']: count *= d
    sd[s['name']] = torch.frombuffer(bytearray(data[at:at + 4 * count]), dtype=torch.float32).reshape(s['shape']).clone()
    at += 4 * count
if mode == 'half':
    sd['cls_token'] = sd['cls_token'].half()
if mode == 'strided':
    sd['decoder_pred.weight'] = sd['decoder_pred.weight'].t().contiguous().t()
if mode == 'encoder':
    sd = collections.OrderedDict((k, v) for k, v in sd.items() if not (k.startswith('decoder') or k == 'mask_token'))
obj = sd if mode == 'bare' else {'model': sd}
if mode == 'args':
    obj = {'model': sd, 'args': argparse.Namespace(lr=1.0), 'epoch': 3}
torch.save(obj, out, _use_new_zipfile_serialization=(mode != 'legacy'))
`;

const mc = preset('mae_tiny_28');
const state = initialState(mc, 7);

/** Tensors as the script's stdin: a JSON header of names and shapes, then the f32 values. */
function stdin(tensors: ReadonlyMap<string, { shape: number[]; data: Float32Array }> = state): Buffer {
  const head = Buffer.from(JSON.stringify([...tensors].map(([name, t]) => ({ name, shape: t.shape }))));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  const values = [...tensors.values()].map((t) =>
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
  );
  return Buffer.concat([len, head, ...values]);
}

describe('official .pth checkpoints (torch.save)', function () {
  this.timeout(120000);
  let dir = '';
  const save = (mode: string) => {
    const path = join(dir, `${mode}.pth`);
    runPython(SAVE, [path, mode], stdin());
    return path;
  };
  before(async function () {
    requirePython(this, ['torch']);
    dir = await mkdtemp(join(tmpdir(), 'mae-pth-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("{'model': state_dict} loads bit-identical, with the configuration inferred", async () => {
    const ck = await loadCheckpoint(save('model'));
    assert.deepEqual(Object.keys(ck.model), [...state.keys()]);
    for (const [name, t] of state) {
      const got = ck.model[name]!;
      assert.equal(got.dtype, 'F32', name);
      assert.deepEqual(got.shape, t.shape, name);
      assert.deepEqual(got.data, t.data, name);
    }
    const config = ck.config as { model: unknown; source: { format: string; encoder_only: boolean } };
    assert.deepEqual(config.model, mc);
    assert.equal(config.source.format, 'pth');
    assert.equal(config.source.encoder_only, false);
    assert.deepEqual(ck.optimizer, {});
  });

  it('a bare state_dict, a float16 tensor and a strided view load', async () => {
    const bare = await readPth(save('bare'));
    assert.deepEqual(bare.get('pos_embed')!.data, state.get('pos_embed')!.data);
    const half = await readPth(save('half'));
    const cls = half.get('cls_token')!;
    assert.equal(cls.dtype, 'F16');
    assert.deepEqual(cls.shape, [1, 1, 64]);
    const strided = await readPth(save('strided'));
    assert.deepEqual(strided.get('decoder_pred.weight')!.data, state.get('decoder_pred.weight')!.data);
  });

  it('an encoder-only file (as mae_pretrain_vit_base.pth) loads as encoder-only', async () => {
    const ck = await loadCheckpoint(save('encoder'));
    assert.ok(!('decoder_embed.weight' in ck.model));
    assert.equal((ck.config as { source: { encoder_only: boolean } }).source.encoder_only, true);
  });

  it('refuses a pickle naming another global, naming it', async () => {
    await assert.rejects(
      loadCheckpoint(save('args')),
      /refusing to load global argparse\.Namespace: only collections\.OrderedDict/,
    );
  });

  it('refuses truncated and corrupt files clearly', async () => {
    const bytes = await readFile(save('model'));
    const cut = join(dir, 'cut.pth');
    await writeFile(cut, bytes.subarray(0, bytes.length - 100));
    await assert.rejects(
      loadCheckpoint(cut),
      /cut\.pth: not a PyTorch zip checkpoint \(no zip end-of-central-directory record/,
    );
    const half = join(dir, 'half-cut.pth');
    await writeFile(half, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assert.rejects(loadCheckpoint(half), /half-cut\.pth: not a PyTorch zip checkpoint/);
    const bad = Buffer.from(bytes);
    const pkl = bad.indexOf(Buffer.from([0x80, 0x02]), bad.indexOf('data.pkl')); // data.pkl's PROTO 2
    bad[pkl + 1] = 0x09; // pickle protocol 9
    const corrupt = join(dir, 'corrupt.pth');
    await writeFile(corrupt, bad);
    await assert.rejects(loadCheckpoint(corrupt), /corrupt\.pth: data\.pkl: pickle protocol above 5/);
    await assert.rejects(
      loadCheckpoint(save('legacy')),
      /legacy\.pth is a legacy torch\.save file \(before PyTorch 1\.6, not a zip\)/,
    );
  });

  it('an HF folder with the older pytorch_model.bin loads', async () => {
    const hf = join(dir, 'hf-bin');
    await mkdir(hf);
    const official = new Map(
      [...state].map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: t.data }]),
    );
    const hfNamed = toHfNames(official) as Map<string, { shape: number[]; data: Float32Array }>;
    runPython(SAVE, [join(hf, 'pytorch_model.bin'), 'bare'], stdin(hfNamed));
    await writeFile(join(hf, 'config.json'), JSON.stringify(toHfConfig(mc, 'ViTMAEForPreTraining')));
    const ck = await loadCheckpoint(hf);
    for (const [name, t] of state) assert.deepEqual(ck.model[name]!.data, t.data, name);
  });

  it('cannot be resumed from: openCheckpoint says what it is', async () => {
    await assert.rejects(
      openCheckpoint(save('model')),
      /is an official MAE \.pth file: it holds weights without optimiser state/,
    );
  });
});
