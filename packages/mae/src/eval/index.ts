// index.ts: the eval folder: encoder features, the weighted kNN classifier, labelled images and
// the model of any checkpoint, for `mae-cuda knn`, `embed` and `reconstruct`; the epoch loop of
// `linprobe` and `finetune` and how they resume.
export * from './epochs.js';
export * from './features.js';
export * from './images.js';
export * from './knn.js';
export * from './knn_model.js';
export * from './model.js';
export * from './resume.js';
