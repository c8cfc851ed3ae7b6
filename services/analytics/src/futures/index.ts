export * from './export';
export * from './fit';
export * from './publish';
export * from './routes';
export * from './score';
export * from './service';
