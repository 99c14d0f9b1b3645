// The engine services berthd's server needs, declared here so the server depends on interfaces
// it owns; the engine's services satisfy them structurally (see daemon/wire.ts).
import type {
  ContainerService, ImageService, VolumeService, SystemService, EventBus, ExecService, NetworkService, BuildService, ArchiveService,
} from '../engine/index.ts';

export type ContainerBackend = Pick<ContainerService,
  'create' | 'start' | 'stop' | 'restart' | 'kill' | 'remove' | 'rename' | 'wait' | 'pause' | 'unpause' | 'top' | 'logs' |
  'attach' | 'resize' | 'stats' | 'changes' | 'export' | 'commit' | 'update' | 'prune' | 'list' | 'get' | 'sizeRw' | 'resolve' |
  'connectNetwork' | 'disconnectNetwork'>;
export type ImageBackend = Pick<ImageService, 'get' | 'list' | 'load' | 'save' | 'importTarball' | 'tag' | 'remove' | 'history' | 'prune' | 'resolve' | 'config' |
  'pull' | 'push' | 'login' | 'distribution' | 'search'>;
export type VolumeBackend = Pick<VolumeService, 'create' | 'get' | 'list' | 'remove' | 'prune' | 'size'>;
export type NetworkBackend = Pick<NetworkService, 'list' | 'get' | 'create' | 'remove' | 'prune'>;
export type SystemBackend = Pick<SystemService, 'info' | 'version' | 'df'>;
export type EventsBackend = Pick<EventBus, 'subscribe'>;
export type ExecBackend = Pick<ExecService, 'create' | 'get' | 'start' | 'assertStartable' | 'resize' | 'idsOf'>;

export type BuildBackend = Pick<BuildService, 'build' | 'prune'>;

export type ArchiveBackend = Pick<ArchiveService, 'stat' | 'get' | 'put'>;

export interface Backends {
  build: BuildBackend;
  archive: ArchiveBackend;
  containers: ContainerBackend;
  images: ImageBackend;
  volumes: VolumeBackend;
  networks: NetworkBackend;
  system: SystemBackend;
  events: EventsBackend;
  exec: ExecBackend;
  /** Volume users, for `docker volume ls` and inspect's UsageData. */
  volumeUsers: (name: string) => string[];
}
