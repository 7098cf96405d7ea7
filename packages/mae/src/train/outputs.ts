// outputs.ts: what rank 0 writes at each epoch's end and when the run stops: the checkpoint (every
// value checked finite as it is written: a diverged step is never saved, and the run stops naming
// the step, its loss and the last good checkpoint, which is intact), a numbered snapshot every
// save_every epochs and at the last epoch, log.jsonl and loss.csv, loss.png with the whole history
// of the run (resumes included), and reconstructions.png.
import { join } from 'node:path';
import { nonFiniteCause } from '../io/finite.js';
import { writeFileAtomic } from '../io/safetensors.js';
import type { ParamStore } from '../model/params.js';
import type { AdamW } from '../optim/adamw.js';
import { lossPlot } from '../viz/plot.js';
import { encodePng } from '../viz/png.js';
import { appendHistory, type RunHistory, type StepLoss, snapshotCheckpoint } from './history.js';
import { CHECKPOINT_FILE } from './output_dir.js';
import { type RunMetadata, saveTrainingState } from './state.js';

/** loss.png's y axis: what the loss measures, in which unit. */
export function lossAxisLabel(normPix: boolean): string {
  return normPix
    ? 'loss: mean squared error per masked pixel (each target patch normalised to mean 0, std 1)'
    : 'loss: mean squared error per masked pixel, in (pixel std)^2 (the normalised input scale)';
}

/** A loss or the weights went non-finite: the run stops, and nothing non-finite is saved. */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}

/** A checkpoint that was written and holds only finite values. */
export interface SavedCheckpoint {
  path: string;
  step: number;
}

export interface SaveRequest {
  params: ParamStore;
  optim: AdamW;
  epoch: number;
  /** the log.jsonl line */
  record: object;
  /** also write checkpoint-<step>.safetensors */
  snapshot: boolean;
}

export class RunOutputs {
  readonly checkpoint: string;
  private readonly all: StepLoss[];
  private pending: StepLoss[] = [];

  constructor(
    readonly dir: string,
    private readonly meta: RunMetadata,
    private readonly keep: number,
    history: RunHistory,
    /** the checkpoint the run resumed from */
    public lastGood?: SavedCheckpoint,
  ) {
    this.checkpoint = join(dir, CHECKPOINT_FILE);
    this.all = [...history.losses];
  }

  /** A finished optimiser step. */
  record(s: StepLoss): void {
    this.all.push(s);
    this.pending.push(s);
  }

  /** Where the last good state is, for messages. */
  lastGoodText(): string {
    return this.lastGood
      ? `The last checkpoint, ${this.lastGood.path} (step ${this.lastGood.step}), is intact.`
      : 'No checkpoint was written yet.';
  }

  /** A step's non-finite loss: the error that stops the run. */
  lossError(loss: number, step: number, where: string): NonFiniteLossError {
    return new NonFiniteLossError(
      `loss is ${loss} at step ${step} (${where}); stopping. ${this.lastGoodText()}`,
    );
  }

  /** The checkpoint, its snapshot, log.jsonl and loss.csv, loss.png. */
  async save(r: SaveRequest): Promise<void> {
    const step = r.optim.step;
    try {
      await saveTrainingState(this.checkpoint, r.params, r.optim, r.epoch, this.meta);
    } catch (err) {
      const e = nonFiniteCause(err);
      if (!e) throw err;
      const last = this.all.at(-1);
      throw new NonFiniteLossError(
        `the weights are not finite after step ${step}` +
          (last ? ` (its loss was ${last.loss.toPrecision(6)})` : '') +
          `: ${e.tensor} has ${e.count} non-finite values, so an update after ` +
          `${this.lastGood ? `step ${this.lastGood.step}` : 'the start'} diverged; stopping without saving. ` +
          this.lastGoodText(),
        { cause: err },
      );
    }
    this.lastGood = { path: this.checkpoint, step };
    if (r.snapshot) snapshotCheckpoint(this.checkpoint, step, this.keep);
    appendHistory(this.dir, r.record, this.pending);
    this.pending = [];
    const plot = lossPlot(
      this.all.map((s) => s.loss),
      { yLabel: lossAxisLabel(this.meta.model.norm_pix_loss) },
    );
    await writeFileAtomic(join(this.dir, 'loss.png'), encodePng(plot));
  }
}
