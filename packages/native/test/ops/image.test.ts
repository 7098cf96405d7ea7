// image.test.ts: image_normalize_forward (torchvision's ToTensor + Normalize on uint8 HWC batches)
// against an independent reference that rounds every step to f32 in torchvision's order,
// `img.float().div(255)` then `(t - mean) / std`: the f32 output must be bit-identical on the CPU
// (each step of the reference is one f64 operation on f32 values rounded to f32, which is the f32
// operation's correctly rounded result); bf16 is that f32 value rounded to nearest even. On a GPU
// the CUDA kernels must give the same bits (IEEE division, no contraction in this expression).
// Wrong shapes and dtypes are refused by the TypeScript checks and the C ABI.
import assert from 'node:assert/strict';
import * as ops from '../../generated/ops.js';
import { binding } from '../../src/binding.js';
import type { DeviceSpec } from '../../src/device.js';
import { Tensor } from '../../src/tensor.js';
import { rng } from './harness.js';

const f = Math.fround;
const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

interface Batch {
  readonly dims: { N: number; H: number; W: number; C: number };
  readonly img: Uint8Array;
  readonly mean: Float32Array;
  readonly std: Float32Array;
}

function batch(N: number, H: number, W: number, C: number, seed: number, imagenet = false): Batch {
  const r = rng(seed);
  const img = Uint8Array.from({ length: N * H * W * C }, () => Math.floor(r() * 256));
  // every byte value appears at least once in a large enough batch: put 0 and 255 in for sure
  img[0] = 0;
  img[img.length - 1] = 255;
  const mean = Float32Array.from({ length: C }, (_, c) => (imagenet ? IMAGENET.mean[c]! : r()));
  const std = Float32Array.from({ length: C }, (_, c) => (imagenet ? IMAGENET.std[c]! : 0.1 + r()));
  return { dims: { N, H, W, C }, img, mean, std };
}

/** The reference, [N, C, H, W]: f32(f32(f32(x / 255) - mean) / std) per element. */
function reference(b: Batch): Float32Array {
  const { N, H, W, C } = b.dims;
  const out = new Float32Array(N * C * H * W);
  for (let n = 0; n < N; n++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let c = 0; c < C; c++) {
          const t = f(b.img[((n * H + h) * W + w) * C + c]! / 255);
          out[((n * C + c) * H + h) * W + w] = f(f(t - b.mean[c]!) / b.std[c]!);
        }
  return out;
}

/** f32 to bf16 bits, round to nearest even (no NaNs here). */
function bf16Bits(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  return Uint16Array.from(u, (b) => ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff);
}

function run<D extends 'f32' | 'bf16'>(b: Batch, dtype: D, device: DeviceSpec = 'cpu'): Tensor<D> {
  const { N, H, W, C } = b.dims;
  const out = Tensor.empty(dtype, [N, C, H, W], device).poison();
  ops.image_normalize_forward(
    out as Tensor<'f32'>,
    Tensor.fromArray('u8', [N, H, W, C], b.img, device),
    Tensor.fromArray('f32', [C], b.mean, device),
    Tensor.fromArray('f32', [C], b.std, device),
  );
  return out;
}

/** First index where two arrays differ, or -1. */
const firstDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
};

const CASES: [string, Batch][] = [
  ['N=3 H=7 W=5 C=3', batch(3, 7, 5, 3, 11)],
  ['N=3 H=7 W=5 C=1', batch(3, 7, 5, 1, 12)],
  ['N=3 H=7 W=5 C=3, ImageNet mean/std', batch(3, 7, 5, 3, 13, true)],
  ['N=2 H=33 W=31 C=3, ImageNet mean/std', batch(2, 33, 31, 3, 14, true)],
  // every byte value with each ImageNet channel
  [
    'N=1 H=16 W=16 C=3, all 256 values',
    {
      dims: { N: 1, H: 16, W: 16, C: 3 },
      img: Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => Math.floor(i / 3)),
      mean: Float32Array.from(IMAGENET.mean),
      std: Float32Array.from(IMAGENET.std),
    },
  ],
];

describe('image_normalize_forward', () => {
  for (const [name, b] of CASES) {
    it(`f32 is bit-identical to torchvision's order on the CPU (${binding.buildInfo().cpuIsa}): ${name}`, () => {
      const got = run(b, 'f32').toArraySync();
      const want = reference(b);
      const i = firstDiff(got, want);
      assert.equal(i, -1, `out[${i}] = ${got[i]} but the reference is ${want[i]}`);
    });
    it(`bf16 is the f32 result rounded to nearest even: ${name}`, () => {
      const got = run(b, 'bf16').toArraySync();
      const want = bf16Bits(reference(b));
      const i = firstDiff(got, want);
      assert.equal(
        i,
        -1,
        `out[${i}] = 0x${got[i]?.toString(16)} but the reference is 0x${want[i]?.toString(16)}`,
      );
    });
  }

  it('refuses wrong shapes and dtypes (TypeScript checks)', () => {
    const img = Tensor.zeros('u8', [3, 7, 5, 3]);
    const mean = Tensor.zeros('f32', [3]);
    const std = Tensor.zeros('f32', [3]);
    // out laid out HWC like the input
    assert.throws(
      () => ops.image_normalize_forward(Tensor.empty('f32', [3, 7, 5, 3]), img, mean, std),
      (e: Error) =>
        e instanceof TypeError &&
        /image_normalize_forward: size H is 5 from out \[3, 7, 5, 3\] but 7 from img/.test(e.message),
    );
    assert.throws(
      () =>
        ops.image_normalize_forward(Tensor.empty('f32', [3, 3, 7, 5]), img, Tensor.zeros('f32', [1]), std),
      /image_normalize_forward: size C is 3 from out \[3, 3, 7, 5\] but 1 from mean \[1\]/,
    );
    assert.throws(
      () =>
        ops.image_normalize_forward(
          Tensor.empty('f32', [3, 3, 7, 5]),
          Tensor.zeros('u8', [3, 7, 5]),
          mean,
          std,
        ),
      /image_normalize_forward: img must have rank 4 \[N, H, W, C\], got shape \[3, 7, 5\]/,
    );
    const imgF32 = Tensor.zeros('f32', [3, 7, 5, 3]);
    assert.throws(
      // @ts-expect-error: the images must be uint8
      () => ops.image_normalize_forward(Tensor.empty('f32', [3, 3, 7, 5]), imgF32, mean, std),
      /no kernel for dtypes \(f32, f32, f32, f32\)/,
    );
    const meanBf16 = Tensor.zeros('bf16', [3]);
    assert.throws(
      // @ts-expect-error: mean and std are f32 for a bf16 output
      () => ops.image_normalize_forward(Tensor.empty('bf16', [3, 3, 7, 5]), img, meanBf16, std),
      /no kernel for dtypes \(bf16, u8, bf16, f32\)/,
    );
  });

  it('refuses wrong shapes and dtypes (the C ABI, past the TypeScript checks)', () => {
    const out = Tensor.empty('f32', [3, 3, 7, 5]);
    const img = Tensor.zeros('u8', [3, 7, 5, 3]);
    const mean = Tensor.zeros('f32', [3]);
    const std = Tensor.zeros('f32', [3]);
    const call = (...t: Tensor[]) => binding.ops.image_normalize_forward!(...t.map((x) => x.handle));
    assert.throws(
      () => call(out, Tensor.zeros('u8', [3, 7, 5, 2]), mean, std),
      /image_normalize_forward: size C is 3 from out but 2 from img \[3, 7, 5, 2\]/,
    );
    assert.throws(
      () => call(out, Tensor.zeros('i32', [3, 7, 5, 3]), mean, std),
      /image_normalize_forward: no kernel for dtypes \(out f32, img i32, mean f32, std f32\)/,
    );
    assert.throws(
      () => call(out, img, mean),
      /expected image_normalize_forward\(out, img, mean, std, stream\?\)/,
    );
  });

  it('gives the CPU bits on CUDA (f32 and bf16)', function () {
    const build = binding.buildInfo();
    if (!build.cuda || binding.cudaDevices().length === 0) {
      console.log(`    skipped: ${build.cuda ? 'no CUDA device on this machine' : 'this build has no CUDA'}`);
      this.skip();
    }
    for (const [name, b] of [...CASES, ['N=4 H=224 W=224 C=3', batch(4, 224, 224, 3, 15, true)] as const]) {
      const want = reference(b);
      const got = run(b, 'f32', 'cuda:0').toArraySync();
      const i = firstDiff(got, want);
      assert.equal(i, -1, `${name}: out[${i}] = ${got[i]} but the reference is ${want[i]}`);
      const gotB = run(b, 'bf16', 'cuda:0').toArraySync();
      const j = firstDiff(gotB, bf16Bits(want));
      assert.equal(j, -1, `${name} bf16: out[${j}] differs`);
    }
  });
});
