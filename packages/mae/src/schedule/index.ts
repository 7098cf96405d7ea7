// index.ts: the schedule folder: the official per-iteration learning-rate schedule.
export * from './lr.js';
