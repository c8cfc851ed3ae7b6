export * from './bgnbd';
export * from './customer-future';
export * from './fit';
export * from './gamma-gamma';
export * from './optimize';
export * from './special';
