// params.ts: the model's parameters and their gradients as device tensors, under the official
// state_dict names and shapes, created from (and read back to) host state maps.
import { type DeviceSpec, Tensor } from '@mae-cuda/native';
import type { ModelState, StateTensor } from '../init/state.js';

export type F32 = Tensor<'f32'>;

export class ParamStore {
  readonly values = new Map<string, F32>();
  readonly grads = new Map<string, F32>();

  constructor(
    state: ModelState,
    readonly device: DeviceSpec = 'cpu',
  ) {
    for (const [name, t] of state) {
      this.values.set(name, Tensor.fromArray('f32', t.shape, t.data, device));
      this.grads.set(name, Tensor.zeros('f32', t.shape, device));
    }
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
    for (const [name, t] of this.values) out.set(name, { shape: [...t.shape], data: await t.toArray() });
    return out;
  }
  async gradsToState(): Promise<Map<string, StateTensor>> {
    const out = new Map<string, StateTensor>();
    for (const [name, t] of this.grads) out.set(name, { shape: [...t.shape], data: await t.toArray() });
    return out;
  }
}
