export * from './client/auth.ts';
export * from './client/hosts.ts';
export * from './client/manifest.ts';
export * from './client/registry-client.ts';
