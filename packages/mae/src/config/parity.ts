// parity.ts: reads a parity fixture's config.json (shared/fixtures/mae-parity/<case>/config.json):
// the model configuration plus the optimiser-step settings the fixture was produced with. A file
// that cannot be read, is not JSON or has a bad field raises a FixtureError naming the file (and
// the field).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { describeIssue, FixtureError } from '../parity/fixture.js';
import { type MaeConfig, parseMaeConfig } from './model.js';

const ParityFileSchema = z.looseObject({
  img_size: z.number(),
  patch_size: z.number(),
  in_chans: z.number(),
  embed_dim: z.number(),
  depth: z.number(),
  num_heads: z.number(),
  decoder_embed_dim: z.number(),
  decoder_depth: z.number(),
  decoder_num_heads: z.number(),
  mlp_ratio: z.number(),
  mask_ratio: z.number(),
  norm_pix_loss: z.boolean(),
  layer_norm_eps: z.number().optional(),
  /** the official model modified as Table 1c (scripts/parity/make_fixture.py --encoder-mask-token) */
  encoder_mask_token: z.boolean().optional(),
  steps: z.number().int().nonnegative(),
  lr: z.number().positive(),
  weight_decay: z.number().nonnegative(),
  batch: z.number().int().positive(),
  adamw: z.looseObject({
    betas: z.tuple([z.number(), z.number()]),
    eps: z.number().positive(),
  }),
});

/** A fixture's settings: the model, and the AdamW steps (constant lr) applied to it. */
export interface ParityConfig {
  model: MaeConfig;
  steps: number;
  lr: number;
  weightDecay: number;
  batch: number;
  betas: [number, number];
  eps: number;
}

/** Parses the JSON value of a fixture's config.json. */
export function parseParityConfig(json: unknown): ParityConfig {
  const f = ParityFileSchema.parse(json);
  const model = parseMaeConfig({
    img_size: f.img_size,
    patch_size: f.patch_size,
    in_chans: f.in_chans,
    embed_dim: f.embed_dim,
    depth: f.depth,
    num_heads: f.num_heads,
    decoder_embed_dim: f.decoder_embed_dim,
    decoder_depth: f.decoder_depth,
    decoder_num_heads: f.decoder_num_heads,
    mlp_ratio: f.mlp_ratio,
    mask_ratio: f.mask_ratio,
    norm_pix_loss: f.norm_pix_loss,
    layer_norm_eps: f.layer_norm_eps,
    ...(f.encoder_mask_token ? { encoder_mask_token: true } : {}),
  });
  return {
    model,
    steps: f.steps,
    lr: f.lr,
    weightDecay: f.weight_decay,
    batch: f.batch,
    betas: f.adamw.betas,
    eps: f.adamw.eps,
  };
}

/** The JSON value of a file; a FixtureError naming the file when it cannot be read or parsed. */
function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new FixtureError(
      `${file}: ${err.code === 'ENOENT' ? 'no such file' : `cannot be read (${err.message})`}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FixtureError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** Reads `<dir>/config.json` (or the file itself when a path ending in .json is given). */
export function readParityConfig(pathOrDir: string | URL): ParityConfig {
  const p = pathOrDir instanceof URL ? fileURLToPath(pathOrDir) : pathOrDir;
  const file = p.endsWith('.json') ? p : join(p, 'config.json');
  const json = readJson(file);
  try {
    return parseParityConfig(json);
  } catch (e) {
    if (!(e instanceof z.ZodError)) throw e;
    throw new FixtureError(`${file}: ${e.issues.map(describeIssue).join('; ')}`);
  }
}
