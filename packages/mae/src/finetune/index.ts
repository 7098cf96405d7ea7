// index.ts: fine-tuning (main_finetune.py): the classifier's state, layer-decay groups, Mixup and
// CutMix, position embedding interpolation and the loop.
export * from './checkpoint.js';
export * from './groups.js';
export * from './mixup.js';
export * from './pos_embed.js';
export * from './run.js';
export * from './state.js';
