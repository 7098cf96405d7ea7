// ablation_variants.ts: the runs of scripts/ablations.ts. The baseline is `mae-cuda pretrain`'s
// defaults (mae_tiny_28: encoder 64 wide x 4 blocks; decoder 32 wide x 2 blocks; random masking
// at 75%; normalised-pixel loss; RandomResizedCrop + flip); every other pretraining variant changes
// one setting of it, as each column of the paper's Table 1 does. Variants with `from` reuse another
// variant's pretraining (the scratch baseline only takes its architecture; partial fine-tuning its
// encoder).

export interface Variant {
  name: string;
  /** the paper's table or figure */
  group: string;
  label: string;
  /** flags added to the baseline's pretraining */
  pretrain: string[];
  /** the mask ratio, for Figure 5's curve */
  maskRatio?: number;
  /** reuse this variant's pretraining */
  from?: string;
  /** probe and fine-tune the architecture at random init */
  scratch?: boolean;
  /** flags added to the fine-tuning */
  finetune?: string[];
  /** no linear probe (partial fine-tuning rows) */
  skipProbe?: boolean;
}

const ratio = (r: number): Variant => ({
  name: `ratio-${r * 100}`,
  group: 'Figure 5',
  label: `mask ratio ${r * 100}%`,
  pretrain: ['--mask-ratio', `${r}`],
  maskRatio: r,
});

export const VARIANTS: readonly Variant[] = [
  {
    name: 'baseline',
    group: 'baseline',
    label: 'defaults (random 75%, norm pix, decoder 2 x 32, crop + flip)',
    pretrain: [],
    maskRatio: 0.75,
  },
  {
    name: 'scratch',
    group: 'baseline',
    label: 'no pretraining (random init)',
    pretrain: [],
    from: 'baseline',
    scratch: true,
  },
  // the spread between two pretraining seeds, against which the other rows' differences are read
  {
    name: 'baseline-seed1',
    group: 'baseline',
    label: 'defaults, pretraining seed 1',
    pretrain: ['--seed', '1'],
  },
  { name: 'dec-depth-1', group: '(a) decoder depth', label: '1 block', pretrain: ['--decoder-depth', '1'] },
  { name: 'dec-depth-4', group: '(a) decoder depth', label: '4 blocks', pretrain: ['--decoder-depth', '4'] },
  { name: 'dec-width-16', group: '(b) decoder width', label: '16', pretrain: ['--decoder-embed-dim', '16'] },
  { name: 'dec-width-64', group: '(b) decoder width', label: '64', pretrain: ['--decoder-embed-dim', '64'] },
  {
    name: 'enc-mask-token',
    group: '(c) mask token',
    label: 'encoder w/ [M]',
    pretrain: ['--encoder-mask-token'],
  },
  {
    name: 'pixels',
    group: '(d) target',
    label: 'pixels, no per-patch norm',
    pretrain: ['--norm-pix-loss', 'false'],
  },
  {
    name: 'aug-rrc',
    group: '(e) augmentation',
    label: 'random-size crop, no flip',
    pretrain: ['--aug', 'rrc'],
  },
  {
    name: 'aug-fixed-crop',
    group: '(e) augmentation',
    label: 'fixed-size crop + flip',
    pretrain: ['--aug', 'fixed-crop'],
  },
  {
    name: 'aug-center-crop',
    group: '(e) augmentation',
    label: 'none (centre crop)',
    pretrain: ['--aug', 'center-crop'],
  },
  {
    name: 'aug-rrc-jitter',
    group: '(e) augmentation',
    label: 'crop + flip + colour jitter',
    pretrain: ['--aug', 'rrc-jitter'],
  },
  {
    name: 'mask-block',
    group: '(f) mask sampling',
    label: 'block 75%',
    pretrain: ['--mask-sampling', 'block'],
  },
  { name: 'mask-grid', group: '(f) mask sampling', label: 'grid 75%', pretrain: ['--mask-sampling', 'grid'] },
  ratio(0.25),
  ratio(0.5),
  ratio(0.9),
  {
    name: 'partial-0',
    group: 'Figure 9',
    label: 'fine-tune the head only (0 blocks)',
    pretrain: [],
    from: 'baseline',
    finetune: ['--trainable-blocks', '0'],
    skipProbe: true,
  },
  {
    name: 'partial-mlp',
    group: 'Figure 12',
    label: "fine-tune the last block's MLP",
    pretrain: [],
    from: 'baseline',
    finetune: ['--trainable', 'mlp-last'],
    skipProbe: true,
  },
  {
    name: 'partial-1',
    group: 'Figure 9',
    label: 'fine-tune the last block',
    pretrain: [],
    from: 'baseline',
    finetune: ['--trainable-blocks', '1'],
    skipProbe: true,
  },
];
