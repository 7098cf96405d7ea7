// index.ts: the linear probe (main_linprobe.py): its data, views, frozen features, head and loop.
export * from './accuracy.js';
export * from './checkpoint.js';
export * from './data.js';
export * from './features.js';
export * from './head.js';
export * from './run.js';
export * from './test_split.js';
export * from './views.js';
