import type { ContainerStatus } from './model.ts';

// Lifecycle rules, as predicates. The engine checks these; the runtime layer knows no rules.
export const canStart = (s: ContainerStatus): boolean => s === 'created' || s === 'exited';
export const isRunning = (s: ContainerStatus): boolean => s === 'running' || s === 'paused' || s === 'restarting';
export const canPause = (s: ContainerStatus): boolean => s === 'running';
export const canUnpause = (s: ContainerStatus): boolean => s === 'paused';
export const canRemove = (s: ContainerStatus, force: boolean): boolean => force || !isRunning(s);
export const canExec = (s: ContainerStatus): boolean => s === 'running';
