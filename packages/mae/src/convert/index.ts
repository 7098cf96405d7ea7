// index.ts: the convert folder: official .pth and Hugging Face checkpoints in, Hugging Face out.
export * from './float.js';
export * from './hf.js';
export * from './hf_config.js';
export * from './hf_names.js';
export * from './infer.js';
export * from './load.js';
export { PickleError, type PyGlobal, type UnpickleOptions, unpickle } from './pickle.js';
export * from './pth.js';
export * from './shape_check.js';
export * from './zip.js';
