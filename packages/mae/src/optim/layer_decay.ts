// layer_decay.ts: AdamW over fine-tuning's parameter groups (finetune/groups.ts), as main_finetune.py
// runs torch.optim.AdamW on param_groups_lrd with util/lr_sched.py setting each group's lr to
// lr * lr_scale: one adamw_forward launch per group, over the group's contiguous range of the
// store's flat buffers (the store is laid out by storeGroups), with the group's lr and weight decay.
// The untrained parameters are never touched. The moments stay addressable per parameter (m, v),
// so a checkpoint holds and restores them as pretraining's AdamW's (train/state.ts).
import { ops } from '@mae-cuda/native';
import type { OptimGroup } from '../finetune/groups.js';
import { FLAT_ROW } from '../model/flat_layout.js';
import type { F32, ParamStore } from '../model/params.js';
import { adamwHyper } from './adamw.js';

/** torch.optim.AdamW's defaults, which main_finetune.py keeps (weight decay is per group). */
export const FINETUNE_BETAS: readonly [number, number] = [0.9, 0.999];
export const FINETUNE_EPS = 1e-8;

interface Range {
  group: OptimGroup;
  start: number;
  count: number;
}

export class LayerDecayAdamW {
  private readonly ranges: Range[];
  /** exp_avg and exp_avg_sq of the trained part of the flat layout */
  readonly flatM: F32;
  readonly flatV: F32;
  /** the trained parameters, in the groups' order */
  readonly trainable: readonly string[];
  /** exp_avg and exp_avg_sq per trained parameter: views into flatM and flatV */
  readonly m = new Map<string, F32>();
  readonly v = new Map<string, F32>();
  private steps = 0;

  constructor(
    readonly params: ParamStore,
    readonly groups: readonly OptimGroup[],
    readonly betas: readonly [number, number] = FINETUNE_BETAS,
    readonly eps = FINETUNE_EPS,
  ) {
    this.ranges = groups.map((group) => groupRange(params, group));
    const n = params.layout.trainableRows * FLAT_ROW;
    this.flatM = params.tensor([n], new Float32Array(n));
    this.flatV = params.tensor([n], new Float32Array(n));
    this.trainable = groups.flatMap((g) => g.names);
    for (const name of this.trainable) {
      const p = params.get(name);
      this.m.set(name, this.flatM.view(p.shape, params.offset(name)));
      this.v.set(name, this.flatV.view(p.shape, params.offset(name)));
    }
  }

  get step(): number {
    return this.steps;
  }
  /** Sets the update count (a restored checkpoint's: the next bias corrections use n + 1). */
  set step(n: number) {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RangeError(`AdamW: step must be a non-negative integer, got ${n}`);
    this.steps = n;
  }

  /** One update of every group at lr * its lr_scale. */
  update(lr: number): void {
    if (!(lr >= 0) || !Number.isFinite(lr))
      throw new RangeError(`AdamW: the learning rate must be finite and >= 0, got ${lr}`);
    const [, bc1, bc2] = adamwHyper(lr, this.steps + 1, this.betas);
    const { flatValues, flatGrads } = this.params;
    for (const { group, start, count } of this.ranges) {
      const [p, g, m, v] = [flatValues, flatGrads, this.flatM, this.flatV].map((t) =>
        t.view([count], start),
      ) as [F32, F32, F32, F32];
      ops.adamw_forward(
        p,
        m,
        v,
        p,
        g,
        m,
        v,
        lr * group.lrScale,
        this.betas[0],
        this.betas[1],
        this.eps,
        group.weightDecay,
        bc1,
        bc2,
      );
    }
    this.steps += 1;
  }
}

/** Where a group's parameters lie in the flat buffers; throws unless they are contiguous. */
function groupRange(params: ParamStore, group: OptimGroup): Range {
  const start = params.offset(group.names[0]!);
  let end = start;
  for (const name of group.names) {
    if (params.offset(name) !== end)
      throw new Error(
        `AdamW: the group of layer ${group.layer} is not contiguous in the parameter store at ${name}`,
      );
    end += params.get(name).numel;
  }
  return { group, start, count: end - start };
}
