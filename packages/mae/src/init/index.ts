// index.ts: the init folder: sin-cos position embedding, random initialisers, the initial state, param groups.
export * from './param_groups.js';
export * from './random_init.js';
export * from './sincos.js';
export * from './state.js';
export * from './state_spec.js';
