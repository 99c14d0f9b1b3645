export * from './events.ts';
export * from './model.ts';
export * from './lifecycle.ts';
export * from './images.ts';
export * from './volumes.ts';
export * from './networks.ts';
export * from './containers.ts';
export * from './system.ts';
export * from './logs.ts';
export { type HostLimits } from './spec-input.ts';
export * from './changes.ts';
export * from './exec.ts';
export * from './health.ts';
// The registry client's request-facing helpers, for the server (which imports only the engine).
export { decodeRegistryAuth, parseAuthConfig, type Credentials } from '../registry/index.ts';
export * from './build.ts';
export { BuildError, type BuildOptions, type BuildMessage } from '../build/index.ts';
export * from './archive.ts';
