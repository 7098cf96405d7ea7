// modes.ts: the training augmentations `--aug` chooses (the MAE paper's Table 1e, "data
// augmentation"), each a crop, whether it flips and how strong a colour jitter follows:
//   rrc-flip     RandomResizedCrop(scale 0.2-1, ratio 3/4-4/3, bicubic) + RandomHorizontalFlip:
//                the official main_pretrain.py transform (default)
//   rrc          the same crop without the flip
//   fixed-crop   Resize(short side to evalResizeSize, bicubic) + RandomCrop(input_size) + flip: the
//                paper's "fixed-size" crop ("cropping-only augmentation, either fixed-size or
//                random-size (both having random horizontal flipping)"); the resize is the one the
//                official code's evaluation transform makes (util/datasets.py build_transform:
//                Resize(int(input_size / (224/256))) for input_size <= 224), so the crop moves
//                but its scale is fixed, and it is the centre crop's size
//   center-crop  Resize(short side to evalResizeSize, bicubic) + CenterCrop(input_size): the
//                paper's "none" row (no flipping), which is the official evaluation transform
//   rrc-jitter   rrc-flip then ColorJitter(0.4, 0.4, 0.4) (brightness, contrast, saturation in a
//                random order: jitter.ts), the paper's "rand size + color jit"

export const AUGMENTATIONS = ['rrc-flip', 'rrc', 'fixed-crop', 'center-crop', 'rrc-jitter'] as const;
export type Augmentation = (typeof AUGMENTATIONS)[number];

/** random-resized: RandomResizedCrop; random: resize then RandomCrop; center: resize then CenterCrop. */
export type CropKind = 'random-resized' | 'random' | 'center';

export interface AugmentPlan {
  crop: CropKind;
  flip: boolean;
  /** ColorJitter's brightness = contrast = saturation strength (0: no jitter) */
  jitter: number;
}

/** The paper's colour jitter strength (torchvision ColorJitter(0.4, 0.4, 0.4)). */
export const JITTER_STRENGTH = 0.4;

export const AUGMENT_PLANS: Record<Augmentation, AugmentPlan> = {
  'rrc-flip': { crop: 'random-resized', flip: true, jitter: 0 },
  rrc: { crop: 'random-resized', flip: false, jitter: 0 },
  'fixed-crop': { crop: 'random', flip: true, jitter: 0 },
  'center-crop': { crop: 'center', flip: false, jitter: 0 },
  'rrc-jitter': { crop: 'random-resized', flip: true, jitter: JITTER_STRENGTH },
};

/** The short side an image is resized to before a fixed-size or centre crop (util/datasets.py). */
export function evalResizeSize(inputSize: number): number {
  const cropPct = inputSize <= 224 ? 224 / 256 : 1.0;
  return Math.trunc(inputSize / cropPct);
}
