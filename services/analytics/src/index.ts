/** The package's public API: the store, the sink and the reports (main.ts and report.ts are the entry points). */
export * from './reports/attribution';
export { type ClvAttributionRow, type ClvReport, clvReport } from './reports/clv';
export * from './reports/coverage';
export * from './reports/ope';
export * from './reports/routes';
export * from './reports/satisfaction';
export * from './reports/stats';
export * from './sink/batcher';
export * from './sink/metrics';
export * from './sink/rows';
export * from './sink/sink';
export * from './store/clickhouse';
export * from './store/migrations';
export * from './store/rows';
export * from './store/sink-state';
