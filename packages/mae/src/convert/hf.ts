// hf.ts: Hugging Face model folders (config.json + model.safetensors, or the older
// pytorch_model.bin) of ViTMAEForPreTraining and ViTForImageClassification, read into a checkpoint
// with the official names, and written (model.safetensors) from one.
// The safetensors metadata carries format "pt" (what transformers asks for) and, under "mae_cuda",
// our step, epoch and run configuration, so that a round trip gives the checkpoint back exactly
// (optimiser moments are not exported: HF folders hold weights).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type MaeConfig, parseMaeConfig } from '../config/model.js';
import type { LoadedCheckpoint } from '../io/checkpoint.js';
import { readSafetensors, writeFileAtomic, writeSafetensorsAtomic } from '../io/safetensors.js';
import type { StTensor } from '../io/st_types.js';
import { fromHfConfig, type HfArch, toHfConfig } from './hf_config.js';
import { fromHfNames, toHfNames } from './hf_names.js';
import { readPth } from './pth.js';
import { checkImported, isDecoderName, isPretrainingOnlyName } from './shape_check.js';

export const HF_CONFIG = 'config.json';
export const HF_WEIGHTS = 'model.safetensors';
/** The older weights file of HF repositories: a torch.save state_dict (read by pth.ts). */
export const HF_TORCH_WEIGHTS = 'pytorch_model.bin';
const META_KEY = 'mae_cuda';

export class HfFolderError extends Error {}

/** Whether `dir` looks like a Hugging Face model folder. */
export function isHfFolder(dir: string): boolean {
  const weights = [HF_WEIGHTS, HF_TORCH_WEIGHTS].some((f) => existsSync(join(dir, f)));
  return existsSync(join(dir, HF_CONFIG)) && weights;
}

/** The folder's tensors under HF names, and the metadata when they are safetensors. */
async function readWeights(
  dir: string,
): Promise<{ tensors: Map<string, StTensor>; metadata: Record<string, string> }> {
  if (existsSync(join(dir, HF_WEIGHTS))) return readSafetensors(join(dir, HF_WEIGHTS));
  return { tensors: await readPth(join(dir, HF_TORCH_WEIGHTS)), metadata: {} };
}

/** The model configuration a checkpoint's config records ({model: MaeConfig, ...}). */
export function modelConfigOf(config: unknown, source: string): MaeConfig {
  const model = (config as { model?: unknown } | null)?.model;
  if (model === undefined) throw new Error(`${source}: the checkpoint records no model configuration`);
  return parseMaeConfig(model);
}

/** Reads an HF folder: tensors under the official names, the configuration from config.json. */
export async function readHfFolder(dir: string): Promise<LoadedCheckpoint> {
  const cfgPath = join(dir, HF_CONFIG);
  const fail = (msg: string): never => {
    throw new HfFolderError(`${dir}: ${msg}`);
  };
  if (existsSync(join(dir, `${HF_WEIGHTS}.index.json`)) && !isHfFolder(dir))
    fail(`sharded weights (${HF_WEIGHTS}.index.json) are not supported: one ${HF_WEIGHTS} is`);
  if (!isHfFolder(dir)) fail(`not a Hugging Face model folder (needs ${HF_CONFIG} and ${HF_WEIGHTS})`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(cfgPath, 'utf8'));
  } catch (e) {
    fail(`${HF_CONFIG} is not valid JSON (${(e as Error).message})`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) fail(`${HF_CONFIG} is not a JSON object`);
  const { model: mc, arch } = fromHfConfig(json as Record<string, unknown>, cfgPath);
  const file = await readWeights(dir);
  let model: Map<string, StTensor>;
  try {
    model = fromHfNames(file.tensors);
  } catch (e) {
    return fail((e as Error).message);
  }
  checkImported(model, mc, arch === 'ViTForImageClassification', dir);
  const saved = savedMeta(file.metadata[META_KEY], mc);
  return {
    model: Object.fromEntries(model),
    optimizer: {},
    step: saved?.step ?? 0,
    epoch: saved?.epoch ?? 0,
    config: saved?.config ?? { model: mc, source: { format: 'hf', arch, path: dir } },
    extra: {},
  };
}

interface SavedMeta {
  step: number;
  epoch: number;
  config: unknown;
}

/** Our step, epoch and config from the metadata, when they are there and describe this model. */
function savedMeta(text: string | undefined, mc: MaeConfig): SavedMeta | undefined {
  if (text === undefined) return undefined;
  try {
    const m = JSON.parse(text) as SavedMeta;
    return JSON.stringify(modelConfigOf(m.config, '')) === JSON.stringify(mc) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** The architecture a checkpoint exports to by default: the MAE when it has a decoder. */
export function defaultHfArch(model: Record<string, unknown>): HfArch {
  return Object.keys(model).some(isDecoderName) ? 'ViTMAEForPreTraining' : 'ViTForImageClassification';
}

/** Writes a checkpoint as an HF folder of `arch` (a classifier keeps the encoder and any head). */
export async function writeHfFolder(
  dir: string,
  ck: Pick<LoadedCheckpoint, 'model' | 'step' | 'epoch' | 'config'>,
  arch: HfArch = defaultHfArch(ck.model),
): Promise<void> {
  const mc = modelConfigOf(ck.config, dir);
  const classifier = arch === 'ViTForImageClassification';
  if (mc.encoder_mask_token && !classifier)
    throw new HfFolderError(
      `${dir}: ViTMAEForPreTraining has no mask token in its encoder (the run's encoder_mask_token, Table 1c): export as ViTForImageClassification`,
    );
  const kept = new Map<string, StTensor>();
  for (const [name, t] of Object.entries(ck.model)) {
    if (classifier && isPretrainingOnlyName(name)) continue;
    if (!classifier && name.startsWith('head.'))
      throw new HfFolderError(
        `${dir}: ${name}: ViTMAEForPreTraining has no classifier (export as ViTForImageClassification)`,
      );
    kept.set(name, t);
  }
  checkImported(kept, mc, classifier, `${arch} export`);
  const numLabels = kept.get('head.weight')?.shape[0];
  const meta = { step: ck.step, epoch: ck.epoch, config: ck.config };
  mkdirSync(dir, { recursive: true });
  let tensors: Map<string, StTensor>;
  try {
    tensors = toHfNames(kept);
  } catch (e) {
    throw new HfFolderError(`${dir}: ${(e as Error).message}`);
  }
  await writeSafetensorsAtomic(join(dir, HF_WEIGHTS), tensors, {
    format: 'pt',
    [META_KEY]: JSON.stringify(meta),
  });
  const cfg = toHfConfig(mc, arch, numLabels);
  await writeFileAtomic(join(dir, HF_CONFIG), new TextEncoder().encode(`${JSON.stringify(cfg, null, 2)}\n`));
}
