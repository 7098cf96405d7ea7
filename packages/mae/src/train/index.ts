// index.ts: the train folder: run settings, gradient accumulation and clipping, checkpointed
// training state, the progress line, the pretraining loop and pretrain(), a run from its settings.
export * from './config.js';
export * from './data.js';
export * from './evaluate.js';
export * from './grads.js';
export * from './history.js';
export * from './output_dir.js';
export * from './outputs.js';
export * from './pretrain.js';
export * from './preview.js';
export * from './progress.js';
export * from './run_plan.js';
export * from './run_start.js';
export * from './state.js';
export * from './step.js';
export * from './step_check.js';
export * from './trainer.js';
