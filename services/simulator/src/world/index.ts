export type { CustomerSnapshot, CustomerTraits, Segment } from './customer';
export { customerIdOf } from './customer';
export type { DecisionResponse } from './responses';
export { DEFAULT_EPOCH_MS, World, type WorldOptions, type WorldStats } from './world';
