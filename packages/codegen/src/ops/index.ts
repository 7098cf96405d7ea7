// index.ts: every op the codegen emits, in a fixed order (generated files follow it).
import type { OpDef } from '../ir/op.js';
import * as adamw from './adamw.js';
import * as attention from './attention.js';
import * as batchnorm from './batchnorm.js';
import * as crossEntropy from './cross_entropy.js';
import * as elementwise from './elementwise.js';
import * as finetune from './finetune.js';
import * as flash from './flash.js';
import * as gather from './gather.js';
import * as gemm from './gemm.js';
import * as image from './image.js';
import * as lars from './lars.js';
import * as layernorm from './layernorm.js';
import * as loss from './loss.js';
import * as masking from './masking.js';
import * as noise from './noise.js';
import * as patch from './patch.js';
import * as reduce from './reduce.js';
import * as softmax from './softmax.js';
import * as tokens from './tokens.js';

const isOp = (v: unknown): v is OpDef =>
  typeof v === 'object' && v !== null && 'body' in v && 'variants' in v;

export const ALL_OPS: readonly OpDef[] = [
  elementwise,
  gather,
  reduce,
  softmax,
  layernorm,
  gemm,
  patch,
  image,
  tokens,
  attention,
  flash,
  loss,
  adamw,
  batchnorm,
  crossEntropy,
  lars,
  finetune,
  masking,
  noise,
]
  .flatMap((m) => Object.values(m).filter(isOp))
  .sort((a, b) => a.name.localeCompare(b.name));

export function getOp(name: string): OpDef {
  const o = ALL_OPS.find((x) => x.name === name);
  if (!o) throw new TypeError(`unknown op ${name}`);
  return o;
}
