export * from './content-store.ts';
export * from './metadata.ts';
