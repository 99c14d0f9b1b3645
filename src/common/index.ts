export * from './errors.ts';
export * from './logger.ts';
export * from './ids.ts';
export * from './atomic.ts';
export * from './progress.ts';
export * from './exec.ts';
export * from './locks.ts';
export * from './units.ts';
