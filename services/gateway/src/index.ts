export * from './auth';
export * from './batcher';
export * from './events';
export * from './gateway';
export * from './metrics';
