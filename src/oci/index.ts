export * from './image.ts';
export * from './runtime-spec.ts';
export * from './capabilities.ts';
export * from './seccomp.ts';
export * from './spec.ts';
export * from './reference.ts';
