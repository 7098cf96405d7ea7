// index.ts: the DSL's public surface.

export { smallCheckCases } from './emit/check.js';
export { CPU_ISAS } from './emit/files.js';
export { generateAll } from './generate.js';
export * from './ir/diff.js';
export * from './ir/dtype.js';
export * from './ir/expr.js';
export * from './ir/op.js';
export * from './ir/tensor.js';
export * from './ir/test_values.js';
export { type Kernel, lowerOp, type Schedule, type Stmt } from './lower/lower.js';
export { ALL_OPS, getOp } from './ops/index.js';
export { evaluateOp } from './reference/interp.js';
