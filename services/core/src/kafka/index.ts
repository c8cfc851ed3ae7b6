export * from './chunks';
export * from './client';
export { KAFKAJS_CAPABILITIES } from './kafkajs';
export * from './memory';
export * from './partitioner';
export * from './port';
