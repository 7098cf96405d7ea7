// commands/pretrain.ts: `mae-cuda pretrain [options]`: MAE pretraining on the shipped MNIST
// digits (or another folder in the same format) with the settings of a --config JSON file and/or
// flags (flags win). Every setting is validated before any work; a refusal names the flag (or the
// config file's field) and exits 2. Outputs go to --output-dir: checkpoint-last.safetensors,
// log.jsonl, config.json, reconstructions.png and loss.png.
import { existsSync, readFileSync, statSync } from 'node:fs';
import {
  type Collective,
  type ConfigIssue,
  checkArchitecture,
  checkPretrainConfig,
  DataError,
  ensureWritable,
  hasBraces,
  type MaeConfig,
  NonFiniteLossError,
  openTrainData,
  PeerLostError,
  type PretrainConfig,
  PretrainSetupError,
  ProgressBar,
  planOutputDir,
  pretrain,
  type RunMetadata,
  readCheckpointInfo,
  runPlan,
  type TrainData,
  type WorldInfo,
  worldFromEnv,
} from '@mae-cuda/mae';
import { devices } from '@mae-cuda/native';
import { z } from 'zod';
import { defineCommand } from '../command.js';
import { connectWorld, launchPlan } from '../distributed.js';
import { evaluationLines } from '../eval/run_report.js';
import { PEER_LOST_EXIT } from '../failure_order.js';
import { type LaunchPlan, launchWorkers, workerArgs } from '../launch.js';
import { isNumberText } from '../numbers.js';

type Kind = 'int' | 'num' | 'bool' | 'str' | 'nums';

/** Every setting of a run (snake_case, as in the --config file) and how its flag value is read. */
const SETTINGS: Record<string, Kind> = {
  model: 'str',
  input_size: 'int',
  patch_size: 'int',
  embed_dim: 'int',
  depth: 'int',
  num_heads: 'int',
  decoder_embed_dim: 'int',
  decoder_depth: 'int',
  decoder_num_heads: 'int',
  mask_ratio: 'num',
  mask_sampling: 'str',
  norm_pix_loss: 'bool',
  encoder_mask_token: 'bool',
  epochs: 'int',
  steps: 'int',
  batch_size: 'int',
  accum_iter: 'int',
  blr: 'num',
  lr: 'num',
  min_lr: 'num',
  warmup_epochs: 'num',
  weight_decay: 'num',
  clip_grad: 'num',
  seed: 'int',
  output_dir: 'str',
  resume: 'str',
  overwrite: 'bool',
  save_every: 'int',
  keep_checkpoints: 'int',
  device: 'str',
  cuda_graph: 'bool',
  ddp_overlap: 'bool',
  precision: 'str',
  data: 'str',
  data_format: 'str',
  num_workers: 'int',
  prefetch: 'int',
  bad_data: 'str',
  aug: 'str',
  mean: 'nums',
  std: 'nums',
  limit: 'int',
  preview: 'int',
  eval: 'str',
  eval_train: 'int',
  eval_test: 'int',
};

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const flagOf = (snake: string) => `--${snake.replace(/_/g, '-')}`;
const flagValue = z.union([z.string(), z.boolean()]).optional();

export const options = z.strictObject({
  config: z.string({ message: 'give a JSON file: --config run.json' }).optional(),
  // the launcher's (not settings of the run): workers per node and the nodes of the job
  gpus: flagValue,
  nnodes: flagValue,
  nodeRank: flagValue,
  masterAddr: flagValue,
  masterPort: flagValue,
  ...Object.fromEntries(Object.keys(SETTINGS).map((k) => [camel(k), flagValue])),
});

const USAGE = `mae-cuda pretrain [--config run.json] [--model mae_tiny_28] [--input-size N] [--mask-ratio 0.75]
    [--mask-sampling random|block|grid (grid: --mask-ratio 0.75)] [--norm-pix-loss false]
    [--encoder-mask-token (Table 1c: the encoder on all patches, mask tokens in it)] [--epochs 10] [--steps N] [--batch-size 64] [--accum-iter 1] [--blr 2e-2 | --lr X]
    [--min-lr 0] [--warmup-epochs 1] [--weight-decay 0.05] [--clip-grad X] [--seed 0]
    [--output-dir runs/pretrain] [--resume checkpoint.safetensors | --resume auto | --overwrite]
    [--save-every 20 (epochs; checkpoint-<step>.safetensors)] [--keep-checkpoints 2 (0: all)]
    [--device cpu|cuda[:N]]
    [--precision auto|f32|bf16 (auto: bf16 on CUDA)] [--cuda-graph false (CUDA: every step eager)]
    [--gpus N [--nnodes M --node-rank R --master-addr HOST --master-port 29500] [--ddp-overlap false]]
    [--data mnist|<image folder>|<shards-{0000..0127}.tar>|<idx or CIFAR folder>|<folder of 0.json..9.json>]
    [--data-format folder|tar|idx|cifar] [--num-workers N] [--prefetch 2] [--bad-data skip|fail]
    [--aug rrc-flip|rrc|fixed-crop|center-crop|rrc-jitter (images read from disk; docs/ABLATIONS.md)]
    [--mean 0.485,0.456,0.406 --std 0.229,0.224,0.225]
    [--limit N (0: all; default 7616 MNIST digits, or all of another source)] [--preview 8]
    [--eval auto|knn|none (auto: knn on the MNIST digits)] [--eval-train 5000] [--eval-test 1000]
    [--patch-size N --embed-dim N --depth N --num-heads N --decoder-embed-dim N --decoder-depth N
     --decoder-num-heads N]
  Defaults train mae_tiny_28 with the normalised-pixel loss on 7616 shipped MNIST digits for 10
  epochs, then print the encoder's kNN accuracy on 1000 held-out digits against the same model at
  random init (about two minutes on 2 CPU cores). Official recipe: --epochs 800 --warmup-epochs 40
  --blr 1.5e-4 --norm-pix-loss.
  An output dir that holds a checkpoint is never replaced silently: continue it with --resume (auto:
  its checkpoint-last when there is one) or start over with --overwrite.`;

class Refusal extends Error {}

/** A flag's value as its setting's type (values that do not parse are left for zod to refuse). */
function readFlag(snake: string, v: string | boolean): unknown {
  const kind = SETTINGS[snake]!;
  if (kind === 'bool') {
    if (v === true || v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    return v;
  }
  if (v === true) throw new Refusal(`${flagOf(snake)}: needs a value`);
  if (v === false || kind === 'str') return v;
  if (kind === 'nums') return v.split(',').map((x) => asNumber(x.trim()));
  return asNumber(v);
}

/** A number when the text is one (values that do not parse are left for zod to refuse). */
function asNumber(v: string): unknown {
  return isNumberText(v) ? Number(v) : v;
}

function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new Refusal(`--config: ${path} does not exist`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Refusal(`--config: ${path} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Refusal(`--config: ${path} must hold a JSON object of settings`);
  return json as Record<string, unknown>;
}

/** The run's settings from the config file and flags, or a Refusal naming every bad field. */
export function resolveSettings(opts: Record<string, unknown>) {
  const file = typeof opts.config === 'string' ? readConfigFile(opts.config) : {};
  const flags: Record<string, unknown> = {};
  for (const snake of Object.keys(SETTINGS)) {
    const v = opts[camel(snake)];
    if (v !== undefined) flags[snake] = readFlag(snake, v as string | boolean);
  }
  const r = checkPretrainConfig({ ...file, ...flags });
  const name = (i: ConfigIssue) =>
    i.field in flags || !(i.field in file) ? flagOf(i.field) : `${i.field} (in ${opts.config})`;
  if (!r.config) throw new Refusal(r.issues.map((i) => `${name(i)}: ${i.message}`).join('; '));
  const c = r.config;
  if (c.device !== 'cpu') {
    const spec = c.device === 'cuda' ? 'cuda:0' : c.device;
    if (!devices().some((d) => d.spec === spec))
      throw new Refusal(`--device: ${c.device} is not available here (see mae-cuda info)`);
  }
  // rank 0 alone reads the checkpoint (the others get its weights over the wire)
  const rank0 = (worldFromEnv()?.rank ?? 0) === 0;
  if (
    rank0 &&
    c.resume !== undefined &&
    c.resume !== 'auto' &&
    !(existsSync(c.resume) && statSync(c.resume).isFile())
  )
    throw new Refusal(`--resume: ${c.resume} is not a file`);
  if (c.data !== 'mnist' && !hasBraces(c.data) && !existsSync(c.data))
    throw new Refusal(
      `--data: ${c.data} does not exist (give 'mnist', an image folder, tar shards, idx or CIFAR files)`,
    );
  return { config: c, model: r.model! };
}

/** Why the run may not use its output folder or its --resume checkpoint (a flag-named refusal), if so. */
async function checkOutputs(c: PretrainConfig, model: MaeConfig): Promise<string | undefined> {
  try {
    if (c.resume !== undefined && c.resume !== 'auto') {
      const info = await readCheckpointInfo(c.resume);
      checkArchitecture(c.resume, info.config as Partial<RunMetadata>, model);
    }
  } catch (e) {
    return `--resume: ${(e as Error).message}`;
  }
  try {
    await planOutputDir(c);
    ensureWritable(c.output_dir);
  } catch (e) {
    if (e instanceof PretrainSetupError) return `${flagOf(e.field)}: ${e.message}`;
    throw e;
  }
  return undefined;
}

export const pretrainCommand = defineCommand({
  name: 'pretrain',
  summary: 'MAE pretraining (default: a tiny model on the shipped MNIST digits, on the CPU)',
  usage: USAGE,
  options,
  async run(opts) {
    const fail = (code: number, msg: string) => {
      console.error(`mae-cuda pretrain: ${msg}`);
      return code;
    };
    let settings: ReturnType<typeof resolveSettings>;
    try {
      settings = resolveSettings(opts);
    } catch (e) {
      if (e instanceof Refusal) return fail(2, e.message);
      throw e;
    }
    const { config: c, model } = settings;
    let launch: LaunchPlan | undefined;
    let worker: WorldInfo | undefined;
    try {
      worker = worldFromEnv();
      launch = worker ? undefined : launchPlan(opts, c.device);
    } catch (e) {
      if (e instanceof Refusal || e instanceof RangeError) return fail(2, e.message);
      throw e;
    }
    const lead = (worker?.rank ?? 0) === 0;
    // before any work, where the files go: rank 0 (or node 0's launcher) decides
    if (launch ? launch.nodeRank === 0 : lead) {
      const refused = await checkOutputs(c, model);
      if (refused) return fail(2, refused);
    }
    if (launch) return launchWorkers(launch, workerArgs(process.argv.slice(2)), process.argv[1]!);
    if (worker && c.device === 'cuda') c.device = `cuda:${worker.localRank}`;
    let data: TrainData;
    try {
      data = await openTrainData(c, model);
    } catch (e) {
      return fail(e instanceof DataError ? 2 : 1, `--data: ${(e as Error).message}`);
    }
    const { train, preview } = data;
    const bar = new ProgressBar(process.stderr);
    const say = lead ? console.log : () => {};
    let collective: Collective | undefined;
    try {
      if (worker) collective = await connectWorld(worker, c.device);
      const plan = runPlan(c, train.length, worker?.world ?? 1);
      say(
        `pretraining ${c.model} (${model.img_size}x${model.img_size}, patch ${model.patch_size}, mask ${model.mask_ratio}` +
          `${model.norm_pix_loss ? ', norm_pix_loss' : ''}${model.encoder_mask_token ? ', encoder mask token' : ''}) on ${train.length} ${train.name} images, device ${c.device}: ` +
          `${plan.stepsPerEpoch} steps/epoch, ${plan.totalSteps} steps, batch ${c.batch_size} x ${c.accum_iter}` +
          `${worker ? ` x ${worker.world} ranks` : ''}, ` +
          `peak lr ${plan.schedule.lr.toExponential(3)} -> ${c.output_dir}`,
      );
      const r = await pretrain({
        config: c,
        model,
        train,
        ...(preview ? { preview } : {}),
        ...(collective ? { collective } : {}),
        evaluate: true,
        onStep: (s) => bar.update(s),
        onEpoch: (e) => {
          bar.break();
          say(
            `epoch ${e.epoch}${e.partial ? ' (partial)' : ''}: step ${e.steps}, loss ${e.loss.toFixed(4)}, ` +
              `lr ${e.lr.toExponential(3)}, ${e.images_per_s.toFixed(0)} img/s, ${e.seconds.toFixed(1)} s` +
              (e.loader_images_per_s === undefined
                ? ''
                : `; loader ${e.loader_images_per_s.toFixed(0)} img/s, ` +
                  `data wait ${((100 * (e.data_wait_s ?? 0)) / e.seconds).toFixed(1)}%` +
                  (e.bad_samples ? `, ${e.bad_samples} bad samples replaced` : '')),
          );
        },
        log: (m) => {
          bar.break();
          say(m);
        },
      });
      bar.break();
      const first = r.losses[0];
      const last = r.losses.at(-1);
      say(
        r.losses.length
          ? `done: ${r.steps} steps, loss ${first!.toFixed(4)} -> ${last!.toFixed(4)}; outputs in ${r.outputDir}: ` +
              'checkpoint-last.safetensors, log.jsonl, loss.csv, config.json, reconstructions.png, loss.png'
          : `nothing to do: the checkpoint is already at step ${r.steps} of ${plan.totalSteps}`,
      );
      if (r.evaluation) for (const l of evaluationLines(r.evaluation)) say(l);
      return 0;
    } catch (e) {
      bar.break();
      if (e instanceof PretrainSetupError) return fail(2, `${flagOf(e.field)}: ${e.message}`);
      if (e instanceof NonFiniteLossError) return fail(1, e.message);
      if (worker) {
        const code = e instanceof PeerLostError ? PEER_LOST_EXIT : 1;
        return fail(code, `rank ${worker.rank}: ${(e as Error).message}`);
      }
      return fail(1, (e as Error).message);
    } finally {
      collective?.close();
      await data.close();
    }
  },
});
