// image.ts: the input pipeline's last step on the device. `image_normalize_forward` turns a batch
// of decoded uint8 images in HWC layout into the model's [N, C, H, W] input: torchvision's
// ToTensor (`img.float().div(255)`) then Normalize (`(t - mean) / std`), in that order and in f32,
// so the f32 result is bit-identical to torchvision's. mean and std are device tensors (a captured
// graph reads them, no host values baked in).
import { loop } from '../ir/expr.js';
import { op } from '../ir/op.js';
import { assign } from '../ir/tensor.js';
import { FLOATS } from './elementwise.js';

export const image_normalize_forward = op(
  'image_normalize_forward',
  'out[n, c, h, w] = (img[n, h, w, c] / 255 - mean[c]) / std[c] (ToTensor + Normalize, HWC u8 to NCHW)',
)
  .typeVar('T', FLOATS) // f32 (the model's input), bf16, f64 (CPU only, for gradient checks)
  .output('out', '$T', ['N', 'C', 'H', 'W'], 'the normalised images, channels first')
  .input('img', 'u8', ['N', 'H', 'W', 'C'], 'decoded images, channels last')
  .input('mean', 'acc:$T', ['C'], 'per-channel mean, on the 0..1 scale')
  .input('std', 'acc:$T', ['C'], 'per-channel standard deviation, on the 0..1 scale')
  .define(({ out, img, mean, std }, { N, C, H, W }) => {
    const [n, c, h, w] = [loop('n', N), loop('c', C), loop('h', H), loop('w', W)];
    return assign(out, [n, c, h, w], img.at(n, h, w, c).div(255).sub(mean.at(c)).div(std.at(c)));
  });
