export * from './batcher';
export * from './erasure';
export * from './events';
export * from './gateway';
export * from './metrics';
