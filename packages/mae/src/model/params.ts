// params.ts: the model's parameters and their gradients as device tensors, under the official
// state_dict names and shapes, created from (and read back to) host state maps.
import { type DeviceSpec, Tensor } from '@mae-cuda/native';
import type { ModelState, StateTensor } from '../init/state.js';

/**
 * The model's tensors. Typed f32; a store made with dtype 'f64' (CPU only, for the whole-model
 * gradient check) holds f64 tensors under the same code, since every op dispatches on the runtime
 * dtype and checks that its arguments agree.
 */
export type F32 = Tensor<'f32'>;
export type ModelDType = 'f32' | 'f64';

export class ParamStore {
  readonly values = new Map<string, F32>();
  readonly grads = new Map<string, F32>();

  constructor(
    state: ModelState,
    readonly device: DeviceSpec = 'cpu',
    readonly dtype: ModelDType = 'f32',
  ) {
    for (const [name, t] of state) {
      this.values.set(name, this.tensor(t.shape, t.data));
      this.grads.set(name, this.tensor(t.shape, new Float32Array(t.data.length)));
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
