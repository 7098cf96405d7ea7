// adamw.ts: AdamW as torch.optim.AdamW (decoupled weight decay, bias-corrected moments) over the
// trainable parameters of a ParamStore with the official groups: no decay for 1-D parameters and
// biases, positional embeddings frozen. The store's flat layout puts the decayed parameters first,
// so one launch of ops.adamw_flat_forward updates every trainable parameter (and the store's bf16
// copy, when it has one). lr and the bias corrections come from a device tensor `hyper`:
// - update(lr): eager; writes [lr, 1 - beta1^t, 1 - beta2^t] (f64, rounded to f32) to hyper with a
//   small host-to-device copy, then the launch;
// - setSchedule(lrs, startStep) + updateOnDevice(): the graph path; the table of every step's
//   [lr, bc1, bc2] is uploaded once, and each update is ops.adamw_hyper_forward (hyper = table[row],
//   row += 1 on the device) then the same launch, with no host values, so a captured CUDA graph
//   can replay it.
// exp_avg / exp_avg_sq stay addressable per parameter (m, v: views into the flat moments).
import { ops, type Stream, Tensor } from '@mae-cuda/native';
import { FLAT_ROW } from '../model/flat_layout.js';
import type { F32, ParamStore } from '../model/params.js';

export interface AdamWOptions {
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
}

export const DEFAULT_ADAMW: AdamWOptions = { betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.05 };

/** The device row counter is an i32 incremented in f32 by the kernel: exact below 2^24. */
export const MAX_SCHEDULE_STEPS = 2 ** 24;

/** [lr, 1 - beta1^t, 1 - beta2^t] of update number t (from 1), bias corrections in f64. */
export function adamwHyper(
  lr: number,
  t: number,
  betas: readonly [number, number],
): [number, number, number] {
  return [lr, 1 - betas[0] ** t, 1 - betas[1] ** t];
}

/**
 * The [S, 3] table of updates startStep + 1 .. startStep + S (row k: lrs[k] and the bias
 * corrections of update startStep + k + 1), rounded to f32 as the device reads it.
 */
export function scheduleTable(
  lrs: ArrayLike<number>,
  startStep: number,
  betas: readonly [number, number],
): Float32Array {
  const out = new Float32Array(lrs.length * 3);
  for (let k = 0; k < lrs.length; k++) out.set(adamwHyper(lrs[k]!, startStep + k + 1, betas), 3 * k);
  return out;
}

function checkLr(lr: number, where: string): void {
  if (!(lr >= 0) || !Number.isFinite(lr))
    throw new RangeError(`AdamW: ${where}learning rate must be finite and >= 0, got ${lr}`);
}

export class AdamW {
  readonly trainable: readonly string[];
  /** exp_avg per trainable parameter: views into flatM */
  readonly m = new Map<string, F32>();
  /** exp_avg_sq per trainable parameter: views into flatV */
  readonly v = new Map<string, F32>();
  /** the moments of the trainable part of the flat layout, [trainableRows * FLAT_ROW] */
  readonly flatM: F32;
  readonly flatV: F32;
  /** [lr, 1 - beta1^t, 1 - beta2^t] the next launch reads, on the parameters' device */
  readonly hyper: F32;
  /** the schedule's next row, on the device (i32 [1]) */
  readonly row: Tensor<'i32'>;
  private table?: F32;
  private scheduleStart = 0;
  private scheduleSteps = 0;
  private steps = 0;

  constructor(
    readonly params: ParamStore,
    readonly opts: AdamWOptions = DEFAULT_ADAMW,
  ) {
    const { layout } = params;
    this.trainable = params.names().filter((n) => !layout.frozen.names.includes(n));
    const n = layout.trainableRows * FLAT_ROW;
    this.flatM = params.tensor([n], new Float32Array(n));
    this.flatV = params.tensor([n], new Float32Array(n));
    for (const name of this.trainable) {
      const p = params.get(name);
      this.m.set(name, this.flatM.view(p.shape, params.offset(name)));
      this.v.set(name, this.flatV.view(p.shape, params.offset(name)));
    }
    this.hyper = params.tensor([3], [0, 1, 1]);
    this.row = Tensor.zeros('i32', [1], params.device);
  }

  /** Number of updates taken (the bias corrections use step + 1 on the next one). */
  get step(): number {
    return this.steps;
  }
  /** Sets the update count (a restored checkpoint's); moves the device schedule row along. */
  set step(n: number) {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RangeError(`AdamW: step must be a non-negative integer, got ${n}`);
    this.steps = n;
    if (this.table) this.writeRow();
  }

  /** One update of every trainable parameter from its gradient, at learning rate lr. */
  update(lr: number, stream?: Stream): void {
    checkLr(lr, '');
    const hyper = adamwHyper(lr, this.steps + 1, this.opts.betas);
    const host = this.params.dtype === 'f64' ? Float64Array.from(hyper) : Float32Array.from(hyper);
    this.hyper.handle.copyFromHost(host, stream?.handle ?? null);
    this.launch(stream);
    this.steps += 1;
  }

  /**
   * Uploads the schedule: lrs[k] is the lr of update startStep + k + 1 (lrs[0] that of the update
   * after startStep updates). The device row is set for the current step, which must lie in
   * [startStep, startStep + lrs.length].
   */
  setSchedule(lrs: readonly number[] | Float64Array, startStep: number): void {
    if (!Number.isSafeInteger(startStep) || startStep < 0)
      throw new RangeError(`AdamW.setSchedule: startStep must be a non-negative integer, got ${startStep}`);
    if (lrs.length === 0) throw new RangeError('AdamW.setSchedule: the schedule is empty');
    if (lrs.length > MAX_SCHEDULE_STEPS)
      throw new RangeError(
        `AdamW.setSchedule: ${lrs.length} steps; the device counter handles at most ${MAX_SCHEDULE_STEPS}`,
      );
    for (let k = 0; k < lrs.length; k++) checkLr(lrs[k]!, `schedule step ${startStep + k}: `);
    if (this.steps < startStep || this.steps > startStep + lrs.length)
      throw new RangeError(
        `AdamW.setSchedule: the optimiser has taken ${this.steps} steps; a schedule for steps ` +
          `${startStep}..${startStep + lrs.length - 1} does not continue from there`,
      );
    const table = scheduleTable(lrs, startStep, this.opts.betas);
    this.table?.dispose();
    this.table = this.params.tensor([lrs.length, 3], table);
    this.scheduleStart = startStep;
    this.scheduleSteps = lrs.length;
    this.writeRow();
  }

  /** Steps the schedule has left from the current step (0 without a schedule). */
  get scheduleLeft(): number {
    return this.table ? this.scheduleStart + this.scheduleSteps - this.steps : 0;
  }

  /** One update with the schedule's next lr and bias corrections, all read on the device. */
  updateOnDevice(stream?: Stream): void {
    this.checkScheduled(1);
    ops.adamw_hyper_forward(this.hyper, this.row, this.table!, this.row, { stream });
    this.launch(stream);
    this.steps += 1;
  }

  /**
   * Accounts for n replays of a captured graph holding updateOnDevice() (the host's step count
   * follows; the device counted itself); throws, changing nothing, past the schedule's end.
   */
  countScheduled(n: number): void {
    this.checkScheduled(n);
    this.steps += n;
  }

  private checkScheduled(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RangeError(`AdamW: a replay count must be a non-negative integer, got ${n}`);
    if (!this.table)
      throw new Error('AdamW: no schedule on the device; call setSchedule(lrs, startStep) first');
    if (n > this.scheduleLeft)
      throw new RangeError(
        `AdamW: the schedule covers steps ${this.scheduleStart}..${this.scheduleStart + this.scheduleSteps - 1}; ` +
          `${n} more update(s) from step ${this.steps} run past its end`,
      );
    if (this.steps < this.scheduleStart)
      throw new RangeError(
        `AdamW: the schedule starts at step ${this.scheduleStart}, the optimiser is at step ${this.steps}`,
      );
  }

  /** The device's schedule row read back, as an absolute step (to check a replayed graph). */
  async deviceStep(): Promise<number> {
    if (!this.table) throw new Error('AdamW: no schedule on the device');
    const [r] = await this.row.toArray();
    return this.scheduleStart + r!;
  }

  private writeRow(): void {
    const r = this.steps - this.scheduleStart;
    this.row.handle.copyFromHost(Int32Array.of(r >= 0 && r <= this.scheduleSteps ? r : 0), null);
  }

  private launch(stream?: Stream): void {
    const { layout } = this.params;
    if (layout.trainableRows === 0) return;
    const shape = [layout.trainableRows, FLAT_ROW];
    const [p, g, m, v] = [this.params.flatValues, this.params.flatGrads, this.flatM, this.flatV].map((t) =>
      t.view(shape),
    ) as [F32, F32, F32, F32];
    const [b1, b2] = this.opts.betas;
    const { eps, weightDecay: wd } = this.opts;
    const bf16 = this.params.flatBf16;
    if (bf16)
      ops.adamw_flat_bf16_forward(
        p,
        m,
        v,
        bf16.view(shape),
        p,
        g,
        m,
        v,
        this.hyper,
        b1,
        b2,
        eps,
        wd,
        layout.decayRows,
        {
          stream,
        },
      );
    else
      ops.adamw_flat_forward(p, m, v, p, g, m, v, this.hyper, b1, b2, eps, wd, layout.decayRows, { stream });
  }
}
