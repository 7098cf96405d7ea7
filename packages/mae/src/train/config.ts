// config.ts: the settings of a pretraining run (snake_case, as the official main_pretrain.py
// arguments and a --config JSON file), their zod schema with defaults sized for a short CPU run on
// the shipped MNIST digits, and the model configuration they resolve to (a preset with the
// input size, mask ratio, loss and optional architecture fields overridden). Every refusal names
// the field it is about.
import { z } from 'zod';
import { type MaeConfig, MaeConfigSchema } from '../config/model.js';
import { type PresetName, presetNames, presets } from '../config/presets.js';
import { AUGMENTATIONS } from '../data/augment/modes.js';
import { MASK_SAMPLINGS, maskSamplingIssue } from '../masking/sampling.js';
import { PRECISIONS } from '../model/plan.js';

/** A finite number (zod's own message for Infinity and NaN, "expected number, received number", names neither). */
const num = () =>
  z.number({
    error: (i) =>
      typeof i.input === 'number' ? `must be a finite number, got ${i.input}` : 'must be a number',
  });
const posInt = num().int({ message: 'must be a whole number' }).positive({ message: 'must be at least 1' });
const optPosInt = posInt.optional();
/** Epochs beyond this are a typo, not a plan (800 is the official recipe). */
export const MAX_EPOCHS = 1_000_000;

/** Architecture fields that may override the preset's. */
export const ARCH_FIELDS = [
  'patch_size',
  'embed_dim',
  'depth',
  'num_heads',
  'decoder_embed_dim',
  'decoder_depth',
  'decoder_num_heads',
] as const;

export const PretrainConfigSchema = z.strictObject({
  /** model preset (src/config/presets.ts) */
  model: z.enum(presetNames as [PresetName, ...PresetName[]]).default('mae_tiny_28'),
  /** image side; default: the preset's */
  input_size: optPosInt,
  patch_size: optPosInt,
  embed_dim: optPosInt,
  depth: optPosInt,
  num_heads: optPosInt,
  decoder_embed_dim: optPosInt,
  decoder_depth: optPosInt,
  decoder_num_heads: optPosInt,
  mask_ratio: num()
    .gt(0, { message: 'mask_ratio must be in (0, 1)' })
    .lt(1, { message: 'mask_ratio must be in (0, 1)' })
    .default(0.75),
  /** which patches are masked (src/masking/sampling.ts): random (official), block (BEiT), grid (one of every 2x2) */
  mask_sampling: z.enum(MASK_SAMPLINGS).default('random'),
  /** the loss on each patch normalised to mean 0, std 1 (the paper's better features; default on) */
  norm_pix_loss: z.boolean().default(true),
  /** Table 1c's ablation: the encoder runs on all patches, the removed ones as a learned mask token (docs/ABLATIONS.md) */
  encoder_mask_token: z.boolean().default(false),
  epochs: posInt.max(MAX_EPOCHS, { message: `must be at most ${MAX_EPOCHS}` }).default(10),
  /** stop after this many optimiser steps in all (counting those of a resumed run) */
  steps: optPosInt,
  /** images per micro-batch (per process) */
  batch_size: posInt.default(64),
  accum_iter: posInt.default(1),
  /** base lr: lr = blr * effective batch / 256 when lr is not given */
  blr: num().positive().default(2e-2),
  lr: num().positive().optional(),
  min_lr: num().nonnegative().default(0),
  warmup_epochs: num().nonnegative().default(1),
  weight_decay: num().nonnegative().default(0.05),
  /** clip gradients to this global norm (none when absent) */
  clip_grad: num().positive().optional(),
  seed: num().int().nonnegative().max(Number.MAX_SAFE_INTEGER).default(0),
  output_dir: z.string().min(1).default('runs/pretrain'),
  /** a checkpoint to continue from, or 'auto': the output dir's checkpoint-last when there is one */
  resume: z.string().min(1).optional(),
  /** start over in an output dir that holds another run's checkpoint (replacing it and its log) */
  overwrite: z.boolean().default(false),
  /** write checkpoint-<step>.safetensors every this many epochs (and at the last epoch), as the official checkpoint-%d.pth */
  save_every: posInt.default(20),
  /** numbered checkpoints kept (the newest); 0 keeps all of them */
  keep_checkpoints: num().int({ message: 'must be a whole number' }).nonnegative().default(2),
  device: z
    .string()
    .regex(/^(cpu|cuda|cuda:\d+)$/, { message: "device must be 'cpu', 'cuda' or 'cuda:N'" })
    .default('cpu'),
  /** the model's precision plan (src/model/plan.ts): auto = bf16 on CUDA, f32 on the CPU */
  precision: z.enum(PRECISIONS).default('auto'),
  /** data-parallel CUDA: all-reduce gradient buckets while the backward goes on (false: once, after it) */
  ddp_overlap: z.boolean().default(true),
  /** on CUDA, capture the training step in a CUDA graph and replay it (false: every step eager, for debugging) */
  cuda_graph: z.boolean().default(true),
  /** 'mnist' (the digits the `mnist` package ships) or a folder holding 0.json ... 9.json in its format */
  data: z.string().min(1).default('mnist'),
  /** the source's format when its path does not tell (folder, tar, idx, cifar) */
  data_format: z.enum(['folder', 'tar', 'idx', 'cifar']).optional(),
  /** images read from disk: the training augmentation (src/data/augment/modes.ts; rrc-flip: the official RandomResizedCrop + flip) */
  aug: z.enum(AUGMENTATIONS).default('rrc-flip'),
  /** images read from disk: the loader's worker threads (default: the cores less one on the CPU, all of them on CUDA) */
  num_workers: optPosInt,
  /** images read from disk: batches decoded ahead of the step */
  prefetch: posInt.max(64, { message: 'must be at most 64' }).default(2),
  /** images read from disk: a file that cannot be read or decoded is replaced by the next (skip) or stops the run (fail) */
  bad_data: z.enum(['skip', 'fail']).default('skip'),
  /** per-channel Normalize mean and std (default: ImageNet's for RGB, MNIST's for grey) */
  mean: z.array(num()).min(1).max(3).optional(),
  std: z.array(num().positive()).min(1).max(3).optional(),
  /** train on the first `limit` images only (0: all of them; default: 7616 of the shipped MNIST digits, all of any other source) */
  limit: num().int().nonnegative().optional(),
  /** images in reconstructions.png (held out of training when the dataset has enough) */
  preview: num().int().min(0).max(64).default(8),
  /**
   * the end-of-run evaluation (train/evaluate.ts): knn (the encoder's kNN accuracy against the same
   * model at random init), none, or auto (knn on the MNIST digits, none on other sources)
   */
  eval: z.enum(['auto', 'knn', 'none']).default('auto'),
  /** the evaluation's labelled neighbours (MNIST: the first digits) */
  eval_train: posInt.default(5000),
  /** the evaluation's test images (MNIST: the last of the class-balanced digits, held out of the default run) */
  eval_test: posInt.default(1000),
});

export type PretrainConfig = z.infer<typeof PretrainConfigSchema>;
export type PretrainConfigInput = z.input<typeof PretrainConfigSchema>;

export interface ConfigIssue {
  /** the field (snake_case) */
  field: string;
  message: string;
}

const MODEL_TO_FIELD: Record<string, string> = { img_size: 'input_size' };

/** The model configuration of a run, or the issues (naming the run's fields) that refuse it. */
export function resolveModelConfig(c: PretrainConfig): { model?: MaeConfig; issues: ConfigIssue[] } {
  const base = presets[c.model];
  const overrides: Record<string, unknown> = {
    mask_ratio: c.mask_ratio,
    norm_pix_loss: c.norm_pix_loss,
  };
  if (c.encoder_mask_token) overrides.encoder_mask_token = true; // absent otherwise: the official model
  if (c.input_size !== undefined) overrides.img_size = c.input_size;
  for (const f of ARCH_FIELDS) if (c[f] !== undefined) overrides[f] = c[f];
  const r = MaeConfigSchema.safeParse({ ...base, ...overrides });
  if (r.success) return { model: r.data, issues: [] };
  return {
    issues: r.error.issues.map((i) => {
      let key = String(i.path[0] ?? 'model');
      // a size relation names the field the run set: the input size or width rather than the preset's
      if (key === 'patch_size' && c.patch_size === undefined) key = 'img_size';
      if (key === 'num_heads' && c.num_heads === undefined && c.embed_dim !== undefined) key = 'embed_dim';
      if (
        key === 'decoder_num_heads' &&
        c.decoder_num_heads === undefined &&
        c.decoder_embed_dim !== undefined
      )
        key = 'decoder_embed_dim';
      return { field: MODEL_TO_FIELD[key] ?? key, message: i.message };
    }),
  };
}

/** Validation of a whole run: the schema, the model it resolves to and the lr schedule. */
export function checkPretrainConfig(value: unknown): {
  config?: PretrainConfig;
  model?: MaeConfig;
  issues: ConfigIssue[];
} {
  const r = PretrainConfigSchema.safeParse(value);
  if (!r.success) {
    return {
      issues: r.error.issues.flatMap((i) =>
        i.code === 'unrecognized_keys'
          ? i.keys.map((k) => ({ field: k, message: `unknown setting '${k}'` }))
          : [{ field: String(i.path[0] ?? 'config'), message: i.message }],
      ),
    };
  }
  const c = r.data;
  const { model, issues } = resolveModelConfig(c);
  if (c.warmup_epochs >= c.epochs)
    issues.push({
      field: 'warmup_epochs',
      message: `warmup_epochs (${c.warmup_epochs}) must be below epochs (${c.epochs})`,
    });
  const sampling = maskSamplingIssue(c.mask_sampling, c.mask_ratio);
  if (sampling) issues.push({ field: 'mask_sampling', message: sampling });
  if (c.min_lr > (c.lr ?? Number.POSITIVE_INFINITY))
    issues.push({ field: 'min_lr', message: `min_lr (${c.min_lr}) is above lr (${c.lr})` });
  return issues.length ? { issues } : { config: c, model: model!, issues };
}
