/** Programmatic API: the demo and other services' tests drive the simulator through these. */
export * from './effects';
export * from './kinds';
export * from './metrics';
export * from './responder';
export * from './rng';
export * from './run';
export * from './sinks';
export * from './world';
