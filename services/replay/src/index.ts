export * from './backfill';
/** Replay as a library: the same commands as `npm run replay -- <command>`. */
export * from './context';
export * from './diff';
export * from './evaluate';
export * from './fold';
export * from './fold-range';
export * from './output';
export * from './progress';
export * from './range';
export * from './rebuild';
export * from './records';
export * from './reprocess';
export * from './shadow';
