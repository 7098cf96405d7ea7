// index.ts: the config folder: model configuration schema, derived sizes, presets, fixture config.
export * from './model.js';
export * from './parity.js';
export * from './presets.js';
