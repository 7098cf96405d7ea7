// index.ts: data-parallel training: the world from the environment, collectives, sharding.
export * from './collective.js';
export * from './env.js';
export * from './nccl.js';
export * from './shard.js';
export * from './tcp.js';
export { PeerLostError } from './wire.js';
