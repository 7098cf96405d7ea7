export * from './counts.js';
export * from './gpus.js';
export * from './occupancy.js';
export * from './report.js';
export * from './roofline.js';
