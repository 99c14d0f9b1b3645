export * from './libc.ts';
