// hf.test.ts: Hugging Face folders. The HF layout of the parity fixture (weights of the official
// implementation) is built here by this test's own table of HF names and shapes, not the
// converter's: imported, it equals the fixture bit for bit; the fixture exported equals it name for
// name, shape for shape and byte for byte. A checkpoint of ours through HF and back is identical
// (tensors, step, epoch, configuration); the classifier layout; bad folders are refused clearly.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMaeConfig } from '../../src/config/model.js';
import { readHfFolder, writeHfFolder } from '../../src/convert/hf.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/io/checkpoint.js';
import { readSafetensors, type StTensor, writeSafetensorsAtomic } from '../../src/io/safetensors.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const FIXTURE = join(REPO_ROOT, '..', 'shared', 'fixtures', 'mae-parity', 'rgb32-p8-normpix');

/** [HF name, shape, official name, which third of its rows (q, k, v) or undefined for all]. */
type Row = [string, number[], string, number?];

/** The HF ViTMAEForPreTraining names and shapes, written out from transformers' modeling_vit_mae. */
function hfTable(c: {
  D: number;
  depth: number;
  Dd: number;
  dDepth: number;
  C: number;
  p: number;
  L: number;
}): Row[] {
  const { D, Dd, C, p, L } = c;
  const rows: Row[] = [
    ['vit.embeddings.cls_token', [1, 1, D], 'cls_token'],
    ['vit.embeddings.position_embeddings', [1, L + 1, D], 'pos_embed'],
    ['vit.embeddings.patch_embeddings.projection.weight', [D, C, p, p], 'patch_embed.proj.weight'],
    ['vit.embeddings.patch_embeddings.projection.bias', [D], 'patch_embed.proj.bias'],
    ['vit.layernorm.weight', [D], 'norm.weight'],
    ['vit.layernorm.bias', [D], 'norm.bias'],
    ['decoder.mask_token', [1, 1, Dd], 'mask_token'],
    ['decoder.decoder_pos_embed', [1, L + 1, Dd], 'decoder_pos_embed'],
    ['decoder.decoder_embed.weight', [Dd, D], 'decoder_embed.weight'],
    ['decoder.decoder_embed.bias', [Dd], 'decoder_embed.bias'],
    ['decoder.decoder_norm.weight', [Dd], 'decoder_norm.weight'],
    ['decoder.decoder_norm.bias', [Dd], 'decoder_norm.bias'],
    ['decoder.decoder_pred.weight', [p * p * C, Dd], 'decoder_pred.weight'],
    ['decoder.decoder_pred.bias', [p * p * C], 'decoder_pred.bias'],
  ];
  const layer = (hf: string, ours: string, W: number, i: number) => {
    rows.push(
      [`${hf}.${i}.layernorm_before.weight`, [W], `${ours}.${i}.norm1.weight`],
      [`${hf}.${i}.layernorm_before.bias`, [W], `${ours}.${i}.norm1.bias`],
      [`${hf}.${i}.attention.attention.query.weight`, [W, W], `${ours}.${i}.attn.qkv.weight`, 0],
      [`${hf}.${i}.attention.attention.query.bias`, [W], `${ours}.${i}.attn.qkv.bias`, 0],
      [`${hf}.${i}.attention.attention.key.weight`, [W, W], `${ours}.${i}.attn.qkv.weight`, 1],
      [`${hf}.${i}.attention.attention.key.bias`, [W], `${ours}.${i}.attn.qkv.bias`, 1],
      [`${hf}.${i}.attention.attention.value.weight`, [W, W], `${ours}.${i}.attn.qkv.weight`, 2],
      [`${hf}.${i}.attention.attention.value.bias`, [W], `${ours}.${i}.attn.qkv.bias`, 2],
      [`${hf}.${i}.attention.output.dense.weight`, [W, W], `${ours}.${i}.attn.proj.weight`],
      [`${hf}.${i}.attention.output.dense.bias`, [W], `${ours}.${i}.attn.proj.bias`],
      [`${hf}.${i}.layernorm_after.weight`, [W], `${ours}.${i}.norm2.weight`],
      [`${hf}.${i}.layernorm_after.bias`, [W], `${ours}.${i}.norm2.bias`],
      [`${hf}.${i}.intermediate.dense.weight`, [4 * W, W], `${ours}.${i}.mlp.fc1.weight`],
      [`${hf}.${i}.intermediate.dense.bias`, [4 * W], `${ours}.${i}.mlp.fc1.bias`],
      [`${hf}.${i}.output.dense.weight`, [W, 4 * W], `${ours}.${i}.mlp.fc2.weight`],
      [`${hf}.${i}.output.dense.bias`, [W], `${ours}.${i}.mlp.fc2.bias`],
    );
  };
  for (let i = 0; i < c.depth; i++) layer('vit.encoder.layer', 'blocks', D, i);
  for (let i = 0; i < c.dDepth; i++) layer('decoder.decoder_layers', 'decoder_blocks', Dd, i);
  return rows;
}

/** The fixture's tensors under the HF names, by the table. */
function hfLayout(fixture: Map<string, StTensor>, rows: Row[]): Map<string, StTensor> {
  const out = new Map<string, StTensor>();
  for (const [hf, shape, ours, third] of rows) {
    const t = fixture.get(ours)!;
    const n = shape.reduce((a, b) => a * b, 1);
    const data = (t.data as Float32Array).slice((third ?? 0) * n, (third ?? 0) * n + n);
    assert.equal(data.length, n, `${hf}: the fixture's ${ours} is too small`);
    out.set(hf, { dtype: 'F32', shape, data });
  }
  return out;
}

const bytes = (t: StTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

function assertSame(
  got: Map<string, StTensor> | Record<string, StTensor>,
  want: Map<string, StTensor>,
): void {
  const g = got instanceof Map ? got : new Map(Object.entries(got));
  assert.deepEqual([...g.keys()].sort(), [...want.keys()].sort());
  for (const [name, t] of want) {
    assert.deepEqual(g.get(name)!.shape, t.shape, name);
    assert.ok(bytes(g.get(name)!).equals(bytes(t)), `${name}: values differ`);
  }
}

describe('Hugging Face folders', function () {
  this.timeout(60000);
  let dir = '';
  let fixture = new Map<string, StTensor>();
  let fcfg: Record<string, number | boolean> = {};
  const mc = () =>
    parseMaeConfig({
      ...Object.fromEntries(
        ['img_size', 'patch_size', 'in_chans', 'embed_dim', 'depth', 'num_heads', 'decoder_embed_dim']
          .concat([
            'decoder_depth',
            'decoder_num_heads',
            'mlp_ratio',
            'mask_ratio',
            'norm_pix_loss',
            'layer_norm_eps',
          ])
          .map((k) => [k, fcfg[k]]),
      ),
    });
  const table = () =>
    hfTable({
      D: fcfg.embed_dim as number,
      depth: fcfg.depth as number,
      Dd: fcfg.decoder_embed_dim as number,
      dDepth: fcfg.decoder_depth as number,
      C: 3,
      p: 8,
      L: 16,
    });
  /** The HF config.json of the fixture, written out here. */
  const hfConfig = () => ({
    architectures: ['ViTMAEForPreTraining'],
    model_type: 'vit_mae',
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 256,
    hidden_act: 'gelu',
    layer_norm_eps: 1e-6,
    image_size: 32,
    patch_size: 8,
    num_channels: 3,
    qkv_bias: true,
    decoder_hidden_size: 32,
    decoder_num_hidden_layers: 1,
    decoder_num_attention_heads: 2,
    decoder_intermediate_size: 128,
    mask_ratio: 0.75,
    norm_pix_loss: true,
  });
  const writeFolder = async (name: string, tensors: Map<string, StTensor>, cfg: object) => {
    const d = join(dir, name);
    await mkdir(d, { recursive: true });
    await writeSafetensorsAtomic(join(d, 'model.safetensors'), tensors, { format: 'pt' });
    await writeFile(join(d, 'config.json'), JSON.stringify(cfg));
    return d;
  };

  before(async function () {
    if (!existsSync(FIXTURE)) {
      console.log(`      skipped: no parity fixtures at ${FIXTURE}`);
      this.skip();
    }
    dir = await mkdtemp(join(tmpdir(), 'mae-hf-'));
    fixture = (await readSafetensors(join(FIXTURE, 'weights.safetensors'))).tensors;
    fcfg = JSON.parse(await readFile(join(FIXTURE, 'config.json'), 'utf8'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('an HF ViTMAEForPreTraining folder built by the table imports as the fixture, bit for bit', async () => {
    const folder = await writeFolder('hf-in', hfLayout(fixture, table()), hfConfig());
    const ck = await loadCheckpoint(folder);
    assertSame(ck.model, fixture);
    assert.deepEqual((ck.config as { model: unknown }).model, mc());
  });

  it('the fixture exported equals the table-built layout and config.json', async () => {
    const out = join(dir, 'hf-out');
    await writeHfFolder(out, {
      model: Object.fromEntries(fixture),
      step: 0,
      epoch: 0,
      config: { model: mc() },
    });
    const written = await readSafetensors(join(out, 'model.safetensors'));
    assertSame(written.tensors, hfLayout(fixture, table()));
    assert.equal(written.metadata.format, 'pt');
    const cfg = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    for (const [k, v] of Object.entries(hfConfig())) assert.deepEqual(cfg[k], v, k);
  });

  it('a mae-cuda checkpoint through HF and back is identical', async () => {
    const ours = join(dir, 'ours.safetensors');
    const config = { model: mc(), train: { seed: 3 } };
    await saveCheckpoint(ours, { model: Object.fromEntries(fixture), step: 42, epoch: 5, config });
    const ck = await loadCheckpoint(ours);
    await writeHfFolder(join(dir, 'rt'), ck);
    const back = await readHfFolder(join(dir, 'rt'));
    const again = join(dir, 'again.safetensors');
    await saveCheckpoint(again, back);
    assert.ok((await readFile(again)).equals(await readFile(ours)), 'the files differ');
    assert.equal(back.step, 42);
    assert.deepEqual(back.config, config);
  });

  it('ViTForImageClassification: the encoder and head as vit.* and classifier.*', async () => {
    const head = { dtype: 'F32', shape: [10, 64], data: new Float32Array(640).fill(0.5) } as StTensor;
    const model = { ...Object.fromEntries(fixture), 'head.weight': head };
    const out = join(dir, 'cls');
    await writeHfFolder(
      out,
      { model, step: 0, epoch: 0, config: { model: mc() } },
      'ViTForImageClassification',
    );
    const written = await readSafetensors(join(out, 'model.safetensors'));
    const encoder = table().filter(([hf]) => hf.startsWith('vit.'));
    assertSame(written.tensors, new Map([...hfLayout(fixture, encoder), ['classifier.weight', head]]));
    const cfg = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    assert.equal(cfg.model_type, 'vit');
    assert.equal(Object.keys(cfg.id2label).length, 10);
    const back = await loadCheckpoint(out);
    assert.ok(!('decoder_embed.weight' in back.model));
    assert.ok(bytes(back.model['head.weight']!).equals(bytes(head)));
  });

  it('refuses folders it cannot use, naming the problem', async () => {
    const layout = hfLayout(fixture, table());
    const noKey = new Map(layout);
    noKey.delete('vit.encoder.layer.1.attention.attention.key.bias');
    await assert.rejects(
      loadCheckpoint(await writeFolder('no-key', noKey, hfConfig())),
      /blocks\.1\.attn\.qkv\.bias: key missing from the attention/,
    );
    const extra = new Map(layout).set('vit.pooler.dense.weight', layout.get('vit.layernorm.weight')!);
    await assert.rejects(
      loadCheckpoint(await writeFolder('extra', extra, hfConfig())),
      /no official MAE name for vit\.pooler\.dense\.weight/,
    );
    const relu = await writeFolder('relu', layout, { ...hfConfig(), hidden_act: 'relu' });
    await assert.rejects(loadCheckpoint(relu), /hidden_act "relu": only gelu is supported/);
    const wide = await writeFolder('wide', layout, {
      ...hfConfig(),
      hidden_size: 128,
      intermediate_size: 512,
    });
    await assert.rejects(
      loadCheckpoint(wide),
      /misshaped: cls_token: expected \[1, 1, 128\], got \[1, 1, 64\]/,
    );
    const badJson = await writeFolder('bad-json', layout, {});
    await writeFile(join(badJson, 'config.json'), '{not json');
    await assert.rejects(loadCheckpoint(badJson), /config\.json is not valid JSON/);
    await mkdir(join(dir, 'empty'));
    await assert.rejects(
      loadCheckpoint(join(dir, 'empty')),
      /not a Hugging Face model folder \(needs config\.json and model\.safetensors\)/,
    );
  });
});
