// params.ts: the model's parameters and their gradients as device tensors, under the official
// state_dict names and shapes, created from (and read back to) host state maps. All values live in
// one flat buffer and all gradients in another (layout in flat_layout.ts: decay, no-decay, frozen
// segments); the per-name tensors are views into them, so AdamW updates every parameter in one
// launch and zeroing every gradient is one fill. An optional bf16 copy of the values, laid out
// alike, holds the weights the bf16 GEMMs read (AdamW refreshes it on every update).
import { type DeviceSpec, ops, Tensor } from '@mae-cuda/native';
import type { ParamGroups } from '../init/param_groups.js';
import type { ModelState, StateTensor } from '../init/state.js';
import { type FlatLayout, flatLayout } from './flat_layout.js';

/**
 * The model's tensors. Typed f32; a store made with dtype 'f64' (CPU only, for the whole-model
 * gradient check) holds f64 tensors under the same code, since every op dispatches on the runtime
 * dtype and checks that its arguments agree.
 */
export type F32 = Tensor<'f32'>;
export type ModelDType = 'f32' | 'f64';

export class ParamStore {
  /** views into flatValues, in state order */
  readonly values = new Map<string, F32>();
  /** views into flatGrads, in state order */
  readonly grads = new Map<string, F32>();
  readonly layout: FlatLayout;
  /** every value, [layout.total]; the padding between segments stays zero */
  readonly flatValues: F32;
  /** every gradient, laid out as flatValues */
  readonly flatGrads: F32;
  private bf16Flat?: Tensor<'bf16'>;
  private readonly bf16Views = new Map<string, Tensor<'bf16'>>();
  private bf16GradFlat?: Tensor<'bf16'>;
  private readonly bf16GradViews = new Map<string, Tensor<'bf16'>>();

  constructor(
    state: ModelState,
    readonly device: DeviceSpec = 'cpu',
    readonly dtype: ModelDType = 'f32',
    groups?: ParamGroups,
  ) {
    this.layout = flatLayout(state, groups);
    const host = new (dtype === 'f64' ? Float64Array : Float32Array)(this.layout.total);
    for (const [name, t] of state) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      if (t.data.length !== n)
        throw new Error(`parameter ${name}: ${t.data.length} values for shape [${t.shape.join(', ')}]`);
      host.set(t.data, this.layout.offsets.get(name)!);
    }
    this.flatValues = this.tensor([this.layout.total], host);
    this.flatGrads = this.tensor([this.layout.total], new Float32Array(this.layout.total));
    for (const [name, t] of state) {
      const at = this.layout.offsets.get(name)!;
      this.values.set(name, this.flatValues.view(t.shape, at));
      this.grads.set(name, this.flatGrads.view(t.shape, at));
    }
  }

  /** A tensor of this store's dtype and device holding values. */
  tensor(shape: readonly number[], values: ArrayLike<number>): F32 {
    if (this.dtype === 'f64')
      return Tensor.fromArray('f64', shape, Float64Array.from(values), this.device) as unknown as F32;
    return Tensor.fromArray('f32', shape, Float32Array.from(values), this.device);
  }

  /** A parameter; throws naming it when the model asks for one the state does not have. */
  get(name: string): F32 {
    const t = this.values.get(name);
    if (!t) throw new Error(`parameter ${name} is missing from the model state`);
    return t;
  }
  grad(name: string): F32 {
    const t = this.grads.get(name);
    if (!t) throw new Error(`parameter ${name} is missing from the model state`);
    return t;
  }
  names(): string[] {
    return [...this.values.keys()];
  }
  /** Where a parameter starts in the flat buffers. */
  offset(name: string): number {
    const at = this.layout.offsets.get(name);
    if (at === undefined) throw new Error(`parameter ${name} is missing from the model state`);
    return at;
  }

  /** Sets every gradient (and the padding) to zero: one fill. */
  zeroGrads(): void {
    this.flatGrads.zero();
  }

  /**
   * The bf16 copy of every value ([layout.total]), made on first call from the current values;
   * AdamW keeps it current from then on. f32 stores only.
   */
  enableBf16(): Tensor<'bf16'> {
    if (this.dtype !== 'f32')
      throw new TypeError(`a bf16 copy needs an f32 store, this one is ${this.dtype}`);
    if (!this.bf16Flat) {
      this.bf16Flat = Tensor.empty('bf16', [this.layout.total], this.device);
      for (const [name, t] of this.values)
        this.bf16Views.set(name, this.bf16Flat.view(t.shape, this.offset(name)));
      this.syncBf16();
    }
    return this.bf16Flat;
  }
  /** The bf16 copy (undefined until enableBf16()). */
  get flatBf16(): Tensor<'bf16'> | undefined {
    return this.bf16Flat;
  }
  /** A parameter's bf16 copy; throws when enableBf16() was not called. */
  bf16(name: string): Tensor<'bf16'> {
    if (!this.bf16Flat) throw new Error(`no bf16 copy of the parameters: call enableBf16() first`);
    const t = this.bf16Views.get(name);
    if (!t) throw new Error(`parameter ${name} is missing from the model state`);
    return t;
  }
  /**
   * bf16 gradients ([layout.total], zeroed), which a bf16 model's backward writes;
   * widenBf16Grads() turns them into the f32 gradients the optimiser reads.
   */
  enableBf16Grads(): Tensor<'bf16'> {
    if (this.dtype !== 'f32')
      throw new TypeError(`bf16 gradients need an f32 store, this one is ${this.dtype}`);
    if (!this.bf16GradFlat) {
      this.bf16GradFlat = Tensor.zeros('bf16', [this.layout.total], this.device);
      for (const [name, t] of this.values)
        this.bf16GradViews.set(name, this.bf16GradFlat.view(t.shape, this.offset(name)));
    }
    return this.bf16GradFlat;
  }
  /** A parameter's bf16 gradient; throws when enableBf16Grads() was not called. */
  bf16Grad(name: string): Tensor<'bf16'> {
    if (!this.bf16GradFlat) throw new Error('no bf16 gradients: call enableBf16Grads() first');
    const t = this.bf16GradViews.get(name);
    if (!t) throw new Error(`parameter ${name} is missing from the model state`);
    return t;
  }
  /** flatGrads = the bf16 gradients widened to f32 (one launch); a no-op without them. */
  widenBf16Grads(): void {
    if (this.bf16GradFlat && this.layout.total > 0) ops.cast_forward(this.flatGrads, this.bf16GradFlat);
  }

  /** Recomputes the bf16 copy from the values (after writing values other than through AdamW). */
  syncBf16(): void {
    if (this.bf16Flat && this.layout.total > 0) ops.cast_forward(this.bf16Flat, this.flatValues);
  }

  /** Host copies of every parameter (the official state_dict). */
  async toState(): Promise<ModelState> {
    const out: ModelState = new Map();
    for (const [name, t] of this.values)
      out.set(name, { shape: [...t.shape], data: await t.toFloat32Array() });
    return out;
  }
  async gradsToState(): Promise<Map<string, StateTensor>> {
    const out = new Map<string, StateTensor>();
    for (const [name, t] of this.grads)
      out.set(name, { shape: [...t.shape], data: await t.toFloat32Array() });
    return out;
  }
}
