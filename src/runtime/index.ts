export * from './oci-runtime.ts';
export * from './runc-runtime.ts';
export * from './monitor.ts';
export * from './conmon-monitor.ts';
export * from './rootfs-check.ts';
export * from './attach.ts';
export * from './cgroups.ts';
export * from './passwd.ts';
