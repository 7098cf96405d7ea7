// flat_store.test.ts: the ParamStore's flat layout (decay, no-decay, frozen segments in that order,
// row-aligned, state order inside each) and its views: per-name tensors alias the flat buffers in
// both directions, zeroGrads clears every gradient with one fill, the official state round-trips,
// and the f64 store lays out alike.
import assert from 'node:assert/strict';
import { Tensor } from '@mae-cuda/native';
import { preset } from '../../src/config/presets.js';
import { stateSpec } from '../../src/init/state_spec.js';
import { FLAT_ROW, flatLayout, MAX_FLAT_ROWS } from '../../src/model/flat_layout.js';
import { ParamStore } from '../../src/model/params.js';
import { mixedState } from './mixed_state.js';

describe('flat parameter layout', () => {
  it('puts decayed, then undecayed, then frozen parameters in row-aligned segments', () => {
    const l = flatLayout(mixedState());
    assert.deepEqual(l.decay.names, ['cls_token', 'a.weight', 'b.weight']);
    assert.deepEqual(l.noDecay.names, ['a.bias', 'norm.weight', 'b.bias']);
    assert.deepEqual(l.frozen.names, ['pos_embed', 'decoder_pos_embed']);
    assert.deepEqual(
      [l.decay.start, l.decay.end, l.noDecay.start, l.noDecay.end, l.frozen.start, l.frozen.end],
      [0, 4 + 900 + 35, 1024, 1024 + 309, 1536, 1536 + 18],
    );
    assert.equal(l.decayRows * FLAT_ROW, l.noDecay.start);
    assert.equal(l.trainableRows * FLAT_ROW, l.frozen.start);
    assert.equal(l.total, l.frozen.end);
    assert.deepEqual(
      [...l.offsets],
      [
        ['cls_token', 0],
        ['a.weight', 4],
        ['b.weight', 904],
        ['a.bias', 1024],
        ['norm.weight', 1324],
        ['b.bias', 1328],
        ['pos_embed', 1536],
        ['decoder_pos_embed', 1548],
      ],
    );
  });

  it('covers every parameter of a real model once, without overlaps', () => {
    const spec = stateSpec(preset('mae_vit_base_patch16'));
    const l = flatLayout(spec.map((s) => [s.name, s] as const));
    const ranges = spec
      .map((s) => [l.offsets.get(s.name)!, l.offsets.get(s.name)! + s.shape.reduce((a, b) => a * b, 1)])
      .sort((a, b) => a[0]! - b[0]!);
    for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i]![0]! >= ranges[i - 1]![1]!);
    assert.equal(l.offsets.size, spec.length);
    assert.equal(l.frozen.names.length, 2);
  });

  it('refuses more trainable rows than the AdamW kernel compares exactly', () => {
    const big: [string, { shape: number[] }][] = [['w.weight', { shape: [MAX_FLAT_ROWS + 1, FLAT_ROW] }]];
    assert.throws(() => flatLayout(big), /at most 16777216 rows/);
  });
});

describe('ParamStore flat buffers', () => {
  it('per-name values and gradients are views of the flat buffers, both ways', async () => {
    const state = mixedState();
    const p = new ParamStore(state);
    assert.equal(p.flatValues.numel, p.layout.total);
    const flat = await p.flatValues.toArray();
    for (const [name, t] of state) {
      const at = p.offset(name);
      assert.deepEqual(flat.subarray(at, at + t.data.length), t.data, name);
      assert.deepEqual(await p.get(name).toArray(), t.data);
    }
    // padding between segments is zero
    const l = p.layout;
    for (let i = l.decay.end; i < l.noDecay.start; i++) assert.equal(flat[i], 0);
    // writing the flat buffer shows through the views, and a view's writes land in the flat buffer
    const ramp = Float32Array.from({ length: l.total }, (_, i) => i);
    p.flatGrads.copyFrom(Tensor.fromArray('f32', [l.total], ramp));
    assert.deepEqual([...(await p.grad('b.bias').toArray())], [1328, 1329, 1330, 1331, 1332]);
    p.get('norm.weight').copyFrom(Tensor.fromArray('f32', [4], [9, 8, 7, 6]));
    assert.deepEqual([...(await p.flatValues.toArray()).subarray(1324, 1328)], [9, 8, 7, 6]);
  });

  it('zeroGrads clears every gradient with one fill', async () => {
    const p = new ParamStore(mixedState());
    p.flatGrads.fillBytes(0x3f);
    p.zeroGrads();
    for (const name of p.names())
      assert.ok(
        (await p.grad(name).toArray()).every((x) => x === 0),
        name,
      );
  });

  it('round-trips the official state, in state order, and lays out an f64 store alike', async () => {
    const state = mixedState(5);
    const back = await new ParamStore(state).toState();
    assert.deepEqual([...back.keys()], [...state.keys()]);
    for (const [name, t] of state) assert.deepEqual(back.get(name), { shape: t.shape, data: t.data });
    const p64 = new ParamStore(state, 'cpu', 'f64');
    assert.equal(p64.flatValues.dtype, 'f64');
    assert.equal(p64.offset('b.weight'), 904);
    assert.deepEqual(await p64.get('a.weight').toFloat32Array(), state.get('a.weight')!.data);
  });

  it('keeps a bf16 copy of the values on request', async () => {
    const p = new ParamStore(mixedState());
    assert.throws(() => p.bf16('a.weight'), /enableBf16/);
    const bf = p.enableBf16();
    assert.equal(bf.numel, p.layout.total);
    const want = Tensor.fromArray('bf16', [p.layout.total], await p.flatValues.toArray());
    assert.deepEqual(await bf.toArray(), await want.toArray());
    assert.deepEqual(await p.bf16('a.weight').toArray(), (await want.toArray()).subarray(4, 904));
    assert.throws(() => new ParamStore(mixedState(), 'cpu', 'f64').enableBf16(), /needs an f32 store/);
  });
});
