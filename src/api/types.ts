// Engine API v1.45 wire types, in wire casing, transcribed from the swagger contract
// (shared/reference/engine-api-v1.45.yaml). A field is optional where the yaml does not list it
// as required; `| null` marks fields the yaml declares `x-nullable`. Types only: no runtime code.

/** The API version berth serves and its client speaks. */
export type ApiVersion = '1.45';

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** `{"<key>": "<value>"}` maps: labels, options, sysctls, tmpfs… */
export type StringMap = Record<string, string>;

/** A published port as `docker ps` sees it (`Port` in the yaml). */
export interface Port {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: 'tcp' | 'udp' | 'sctp';
}

/** A mount as inspected (`MountPoint`). */
export interface MountPoint {
  Type?: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster';
  /** Volume name; empty for bind mounts. */
  Name?: string;
  Source?: string;
  Destination?: string;
  Driver?: string;
  /** Comma-separated mount options as given (`ro`, `z`, …). */
  Mode?: string;
  RW?: boolean;
  Propagation?: string;
}

export interface DeviceMapping {
  PathOnHost?: string;
  PathInContainer?: string;
  CgroupPermissions?: string;
}

export interface DeviceRequest {
  Driver?: string;
  Count?: number;
  DeviceIDs?: string[];
  Capabilities?: string[][];
  Options?: StringMap;
}

export interface ThrottleDevice {
  Path?: string;
  Rate?: number;
}

export interface WeightDevice {
  Path?: string;
  Weight?: number;
}

export type MountType = 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster';
export type MountPropagation = 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave';

/** A mount as requested (`HostConfig.Mounts[]`, `--mount`). */
export interface Mount {
  Target?: string;
  Source?: string;
  Type?: MountType;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: {
    Propagation?: MountPropagation;
    NonRecursive?: boolean;
    CreateMountpoint?: boolean;
    ReadOnlyNonRecursive?: boolean;
    ReadOnlyForceRecursive?: boolean;
  };
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: StringMap;
    DriverConfig?: { Name?: string; Options?: StringMap };
    Subpath?: string;
  };
  TmpfsOptions?: {
    SizeBytes?: number;
    /** File mode as an integer (octal on the command line). */
    Mode?: number;
  };
}

export type RestartPolicyName = '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface RestartPolicy {
  Name?: RestartPolicyName;
  /** Only meaningful with `on-failure`. */
  MaximumRetryCount?: number;
}

export interface Ulimit {
  Name?: string;
  Soft?: number;
  Hard?: number;
}

/** Resource limits shared by HostConfig and the update request (`Resources`). */
export interface Resources {
  CpuShares?: number;
  Memory?: number;
  CgroupParent?: string;
  BlkioWeight?: number;
  BlkioWeightDevice?: WeightDevice[] | null;
  BlkioDeviceReadBps?: ThrottleDevice[] | null;
  BlkioDeviceWriteBps?: ThrottleDevice[] | null;
  BlkioDeviceReadIOps?: ThrottleDevice[] | null;
  BlkioDeviceWriteIOps?: ThrottleDevice[] | null;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Devices?: DeviceMapping[] | null;
  DeviceCgroupRules?: string[] | null;
  DeviceRequests?: DeviceRequest[] | null;
  KernelMemoryTCP?: number;
  MemoryReservation?: number;
  /** Memory + swap; -1 for unlimited swap. */
  MemorySwap?: number;
  MemorySwappiness?: number | null;
  /** CPU quota in units of 1e-9 CPUs. */
  NanoCpus?: number;
  OomKillDisable?: boolean | null;
  Init?: boolean | null;
  /** 0 or -1 for unlimited; null to leave unchanged. */
  PidsLimit?: number | null;
  Ulimits?: Ulimit[] | null;
  CpuCount?: number;
  CpuPercent?: number;
  IOMaximumIOps?: number;
  IOMaximumBandwidth?: number;
}

export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}

/** `"<port>/<proto>"` → host bindings (`PortMap`). */
export type PortMap = Record<string, PortBinding[] | null>;

export type LogDriverName =
  | 'json-file'
  | 'syslog'
  | 'journald'
  | 'gelf'
  | 'fluentd'
  | 'awslogs'
  | 'splunk'
  | 'etwlogs'
  | 'none'
  | 'local'
  | 'k8s-file'
  | (string & {});

export interface LogConfig {
  Type?: LogDriverName;
  Config?: StringMap;
}

/** Container configuration that depends on the host (`HostConfig`). */
export interface HostConfig extends Resources {
  /** `host-src:container-dest[:options]` or `volume-name:container-dest[:options]`. */
  Binds?: string[] | null;
  ContainerIDFile?: string;
  LogConfig?: LogConfig;
  /** `bridge`, `host`, `none`, `container:<name|id>`, or a network name. */
  NetworkMode?: string;
  PortBindings?: PortMap;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  VolumeDriver?: string;
  VolumesFrom?: string[] | null;
  Mounts?: Mount[];
  /** `[height, width]`. */
  ConsoleSize?: [number, number] | number[] | null;
  Annotations?: StringMap;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  CgroupnsMode?: 'private' | 'host' | '';
  Dns?: string[];
  DnsOptions?: string[];
  DnsSearch?: string[];
  /** `hostname:IP` entries for /etc/hosts. */
  ExtraHosts?: string[] | null;
  GroupAdd?: string[] | null;
  IpcMode?: string;
  Cgroup?: string;
  Links?: string[] | null;
  OomScoreAdj?: number;
  PidMode?: string;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  StorageOpt?: StringMap;
  /** Container path → mount options (`size=64m,mode=1777`). */
  Tmpfs?: StringMap;
  UTSMode?: string;
  UsernsMode?: string;
  /** Size of /dev/shm in bytes. */
  ShmSize?: number;
  Sysctls?: StringMap | null;
  Runtime?: string;
  Isolation?: 'default' | 'process' | 'hyperv' | '';
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
}

/** Durations are in nanoseconds. */
export interface HealthConfig {
  /** `[]`, `["NONE"]`, `["CMD", args…]` or `["CMD-SHELL", command]`. */
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
  StartInterval?: number;
}

export type HealthStatus = 'none' | 'starting' | 'healthy' | 'unhealthy';

export interface HealthcheckResult {
  Start?: string;
  End?: string;
  ExitCode?: number;
  Output?: string;
}

export interface Health {
  Status?: HealthStatus;
  FailingStreak?: number;
  Log?: HealthcheckResult[];
}

/** Portable container configuration (`ContainerConfig`, `Config` in inspect output). */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  /** `{"80/tcp": {}}`. */
  ExposedPorts?: Record<string, Record<string, never>> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  /** `["VAR=value", …]`; a bare `VAR` removes it. */
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean | null;
  Image?: string;
  /** `{"/data": {}}`: anonymous volumes. */
  Volumes?: Record<string, Record<string, never>> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean | null;
  MacAddress?: string | null;
  OnBuild?: string[] | null;
  Labels?: StringMap | null;
  StopSignal?: string | null;
  /** Seconds. */
  StopTimeout?: number | null;
  Shell?: string[] | null;
}

export interface EndpointIPAMConfig {
  IPv4Address?: string;
  IPv6Address?: string;
  LinkLocalIPs?: string[];
}

/** A container's attachment to one network (`EndpointSettings`). */
export interface EndpointSettings {
  IPAMConfig?: EndpointIPAMConfig | null;
  Links?: string[] | null;
  MacAddress?: string;
  Aliases?: string[] | null;
  NetworkID?: string;
  EndpointID?: string;
  Gateway?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  IPv6Gateway?: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  DriverOpts?: StringMap | null;
  DNSNames?: string[] | null;
}

export interface NetworkingConfig {
  EndpointsConfig?: Record<string, EndpointSettings>;
}

export interface Address {
  Addr?: string;
  PrefixLen?: number;
}

export interface NetworkSettings {
  Bridge?: string;
  SandboxID?: string;
  HairpinMode?: boolean;
  LinkLocalIPv6Address?: string;
  LinkLocalIPv6PrefixLen?: number;
  Ports?: PortMap;
  SandboxKey?: string;
  SecondaryIPAddresses?: Address[] | null;
  SecondaryIPv6Addresses?: Address[] | null;
  EndpointID?: string;
  Gateway?: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  IPAddress?: string;
  IPPrefixLen?: number;
  IPv6Gateway?: string;
  MacAddress?: string;
  Networks?: Record<string, EndpointSettings>;
}

export interface GraphDriverData {
  Name: string;
  Data: StringMap | null;
}

/** 0 = modified ("C"), 1 = added ("A"), 2 = deleted ("D"). */
export type ChangeType = 0 | 1 | 2;

/** One entry of `GET /containers/{id}/changes`. */
export interface FilesystemChange {
  Path: string;
  Kind: ChangeType;
}

export interface ErrorResponse {
  message: string;
}

export interface IdResponse {
  Id: string;
}

export interface ErrorDetail {
  code?: number;
  message?: string;
}

export interface ProgressDetail {
  current?: number;
  total?: number;
}

/** One line of a pull, load, import or push progress stream (`CreateImageInfo`, `BuildInfo`). */
export interface ProgressMessage {
  id?: string;
  status?: string;
  progress?: string;
  progressDetail?: ProgressDetail;
  stream?: string;
  error?: string;
  errorDetail?: ErrorDetail;
  aux?: unknown;
}

export type CreateImageInfo = ProgressMessage;

// ---------------------------------------------------------------------------------------------
// Containers

/** Body of `POST /containers/create`. */
export interface ContainerCreateRequest extends ContainerConfig {
  HostConfig?: HostConfig;
  NetworkingConfig?: NetworkingConfig;
}

export interface ContainerCreateResponse {
  Id: string;
  Warnings: string[] | null;
}

export type ContainerStatusName = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** One row of `GET /containers/json`. */
export interface ContainerSummary {
  Id?: string;
  /** Names with a leading slash (`/web`). */
  Names?: string[];
  Image?: string;
  ImageID?: string;
  Command?: string;
  /** Unix seconds. */
  Created?: number;
  Ports?: Port[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels?: StringMap;
  State?: ContainerStatusName | (string & {});
  /** Human status (`Up 2 minutes`, `Exited (0) 3 seconds ago`). */
  Status?: string;
  HostConfig?: { NetworkMode?: string; Annotations?: StringMap };
  NetworkSettings?: { Networks?: Record<string, EndpointSettings> };
  Mounts?: MountPoint[];
}

export interface ContainerState {
  Status?: ContainerStatusName;
  Running?: boolean;
  Paused?: boolean;
  Restarting?: boolean;
  OOMKilled?: boolean;
  Dead?: boolean;
  Pid?: number;
  ExitCode?: number;
  Error?: string;
  /** RFC 3339 with nanoseconds; `0001-01-01T00:00:00Z` when never started. */
  StartedAt?: string;
  FinishedAt?: string;
  Health?: Health;
}

/** `GET /containers/{id}/json`. */
export interface ContainerInspectResponse {
  Id?: string;
  Created?: string;
  Path?: string;
  Args?: string[];
  State?: ContainerState;
  /** Image ID (`sha256:…`). */
  Image?: string;
  ResolvConfPath?: string;
  HostnamePath?: string;
  HostsPath?: string;
  LogPath?: string;
  /** With a leading slash. */
  Name?: string;
  RestartCount?: number;
  Driver?: string;
  Platform?: string;
  MountLabel?: string;
  ProcessLabel?: string;
  AppArmorProfile?: string;
  ExecIDs?: string[] | null;
  HostConfig?: HostConfig;
  GraphDriver?: GraphDriverData;
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts?: MountPoint[];
  Config?: ContainerConfig;
  NetworkSettings?: NetworkSettings;
}

export interface ContainerWaitExitError {
  Message?: string;
}

export interface ContainerWaitResponse {
  StatusCode: number;
  Error?: ContainerWaitExitError | null;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface ContainerTopResponse {
  Titles?: string[];
  Processes?: string[][];
}

/** Body of `POST /containers/{id}/update`. */
export interface ContainerUpdateRequest extends Resources {
  RestartPolicy?: RestartPolicy;
}

export interface ContainerUpdateResponse {
  Warnings?: string[] | null;
}

export interface ContainerPruneResponse {
  ContainersDeleted?: string[] | null;
  SpaceReclaimed?: number;
}

export interface ImagePruneResponse {
  ImagesDeleted?: ImageDeleteResponseItem[] | null;
  SpaceReclaimed?: number;
}

export interface VolumePruneResponse {
  VolumesDeleted?: string[] | null;
  SpaceReclaimed?: number;
}

export interface NetworkPruneResponse {
  NetworksDeleted?: string[] | null;
}

export interface BuildPruneResponse {
  CachesDeleted?: string[] | null;
  SpaceReclaimed?: number;
}

/** The prune responses by resource, for `system prune`. */
export interface PruneReports {
  containers: ContainerPruneResponse;
  images: ImagePruneResponse;
  volumes: VolumePruneResponse;
  networks: NetworkPruneResponse;
  buildCache: BuildPruneResponse;
}

// ---------------------------------------------------------------------------------------------
// Stats: the `docker stats` JSON (moby api/types/container StatsResponse); the yaml leaves it
// as a bare object, so this follows the Go types.

export interface ThrottlingData {
  periods: number;
  throttled_periods: number;
  throttled_time: number;
}

export interface CpuUsage {
  total_usage: number;
  /** cgroup v1 only. */
  percpu_usage?: number[];
  usage_in_kernelmode: number;
  usage_in_usermode: number;
}

export interface CpuStats {
  cpu_usage: CpuUsage;
  /** Host CPU time in nanoseconds (Linux). */
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: ThrottlingData;
}

export interface MemoryStats {
  usage?: number;
  max_usage?: number;
  /** Raw cgroup counters (`cache`, `total_inactive_file`, `inactive_file`, …). */
  stats?: Record<string, number>;
  failcnt?: number;
  limit?: number;
  commitbytes?: number;
  commitpeakbytes?: number;
  privateworkingset?: number;
}

export interface BlkioStatEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface BlkioStats {
  io_service_bytes_recursive: BlkioStatEntry[] | null;
  io_serviced_recursive: BlkioStatEntry[] | null;
  io_queue_recursive: BlkioStatEntry[] | null;
  io_service_time_recursive: BlkioStatEntry[] | null;
  io_wait_time_recursive: BlkioStatEntry[] | null;
  io_merged_recursive: BlkioStatEntry[] | null;
  io_time_recursive: BlkioStatEntry[] | null;
  sectors_recursive: BlkioStatEntry[] | null;
}

export interface PidsStats {
  current?: number;
  limit?: number;
}

export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
  endpoint_id?: string;
  instance_id?: string;
}

export interface StorageStats {
  read_count_normalized?: number;
  read_size_bytes?: number;
  write_count_normalized?: number;
  write_size_bytes?: number;
}

/** One sample of `GET /containers/{id}/stats`. */
export interface ContainerStats {
  /** With a leading slash. */
  name?: string;
  id?: string;
  /** RFC 3339 times of this and the previous sample. */
  read: string;
  preread: string;
  pids_stats?: PidsStats;
  blkio_stats?: BlkioStats;
  num_procs: number;
  storage_stats?: StorageStats;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: MemoryStats;
  networks?: Record<string, NetworkStats>;
}

// ---------------------------------------------------------------------------------------------
// Exec

/** Body of `POST /containers/{id}/exec`. */
export interface ExecConfig {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ConsoleSize?: [number, number] | number[] | null;
  DetachKeys?: string;
  Tty?: boolean;
  Env?: string[];
  Cmd?: string[];
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
}

/** Body of `POST /exec/{id}/start`. */
export interface ExecStartConfig {
  Detach?: boolean;
  Tty?: boolean;
  ConsoleSize?: [number, number] | number[] | null;
}

export interface ProcessConfig {
  privileged?: boolean;
  user?: string;
  tty?: boolean;
  entrypoint?: string;
  arguments?: string[];
}

/** `GET /exec/{id}/json`. */
export interface ExecInspect {
  CanRemove?: boolean;
  DetachKeys?: string;
  ID?: string;
  Running?: boolean;
  ExitCode?: number | null;
  ProcessConfig?: ProcessConfig;
  OpenStdin?: boolean;
  OpenStderr?: boolean;
  OpenStdout?: boolean;
  ContainerID?: string;
  Pid?: number;
}

// ---------------------------------------------------------------------------------------------
// Images

/** One row of `GET /images/json`. */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  /** Unix seconds. */
  Created: number;
  Size: number;
  /** -1 when not computed. */
  SharedSize: number;
  VirtualSize?: number;
  Labels: StringMap | null;
  /** -1 when not computed. */
  Containers: number;
}

/** `GET /images/{name}/json`. */
export interface ImageInspect {
  Id?: string;
  RepoTags?: string[];
  RepoDigests?: string[];
  Parent?: string;
  Comment?: string;
  Created?: string | null;
  Container?: string;
  ContainerConfig?: ContainerConfig;
  DockerVersion?: string;
  Author?: string;
  Config?: ContainerConfig;
  Architecture?: string;
  Variant?: string | null;
  Os?: string;
  OsVersion?: string | null;
  Size?: number;
  VirtualSize?: number;
  GraphDriver?: GraphDriverData;
  RootFS?: { Type: string; Layers?: string[] };
  Metadata?: { LastTagTime?: string | null };
}

/** One entry of `GET /images/{name}/history`. */
export interface HistoryResponseItem {
  /** Image ID, or `<missing>` for layers of pulled images. */
  Id: string;
  /** Unix seconds. */
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export interface ImageDeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}

// ---------------------------------------------------------------------------------------------
// Volumes

export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Status?: Record<string, unknown>;
  Labels: StringMap | null;
  Scope: 'local' | 'global';
  Options: StringMap | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

export interface VolumeCreateOptions {
  Name?: string;
  Driver?: string;
  DriverOpts?: StringMap;
  Labels?: StringMap;
}

export interface VolumeListResponse {
  Volumes?: Volume[] | null;
  Warnings?: string[] | null;
}

// ---------------------------------------------------------------------------------------------
// Networks (as much as `inspect` and `ps` need)

export interface IPAMConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: StringMap;
}

export interface IPAM {
  Driver?: string;
  Config?: IPAMConfig[];
  Options?: StringMap | null;
}

export interface NetworkContainer {
  Name?: string;
  EndpointID?: string;
  MacAddress?: string;
  IPv4Address?: string;
  IPv6Address?: string;
}

/** `POST /networks/create`. */
export interface NetworkCreateRequest {
  Name: string;
  CheckDuplicate?: boolean;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string } | null;
  IPAM?: IPAM;
  EnableIPv6?: boolean;
  Options?: StringMap;
  Labels?: StringMap;
}

export interface NetworkCreateResponse {
  Id: string;
  Warning?: string;
}

/** `POST /networks/{id}/connect`. */
export interface NetworkConnectRequest {
  Container: string;
  EndpointConfig?: EndpointSettings | null;
}

/** `POST /networks/{id}/disconnect`. */
export interface NetworkDisconnectRequest {
  Container: string;
  Force?: boolean;
}

export interface Network {
  Name?: string;
  Id?: string;
  Created?: string;
  Scope?: string;
  Driver?: string;
  /** API 1.47+. */
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  IPAM?: IPAM;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigFrom?: { Network?: string };
  ConfigOnly?: boolean;
  Containers?: Record<string, NetworkContainer>;
  Options?: StringMap;
  Labels?: StringMap;
}

// ---------------------------------------------------------------------------------------------
// System

export interface ComponentVersion {
  Name: string;
  Version: string;
  Details?: Record<string, string> | null;
}

/** `GET /version`. */
export interface SystemVersion {
  Platform?: { Name: string };
  Components?: ComponentVersion[];
  Version?: string;
  ApiVersion?: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
}

export interface PluginsInfo {
  Volume?: string[];
  Network?: string[];
  Authorization?: string[] | null;
  Log?: string[];
}

export interface IndexInfo {
  Name?: string;
  Mirrors?: string[];
  Secure?: boolean;
  Official?: boolean;
}

export interface RegistryServiceConfig {
  AllowNondistributableArtifactsCIDRs?: string[];
  AllowNondistributableArtifactsHostnames?: string[];
  InsecureRegistryCIDRs?: string[];
  IndexConfigs?: Record<string, IndexInfo>;
  Mirrors?: string[];
}

export interface RuntimeInfo {
  path?: string;
  runtimeArgs?: string[] | null;
  status?: StringMap | null;
}

export interface Commit {
  ID?: string;
  Expected?: string;
}

export interface SwarmInfo {
  NodeID?: string;
  NodeAddr?: string;
  LocalNodeState?: '' | 'inactive' | 'pending' | 'active' | 'error' | 'locked';
  ControlAvailable?: boolean;
  Error?: string;
  RemoteManagers?: { NodeID?: string; Addr?: string }[] | null;
  Nodes?: number | null;
  Managers?: number | null;
}

/** `GET /info`. */
export interface SystemInfo {
  ID?: string;
  Containers?: number;
  ContainersRunning?: number;
  ContainersPaused?: number;
  ContainersStopped?: number;
  Images?: number;
  Driver?: string;
  DriverStatus?: [string, string][] | string[][];
  DockerRootDir?: string;
  Plugins?: PluginsInfo;
  MemoryLimit?: boolean;
  SwapLimit?: boolean;
  KernelMemoryTCP?: boolean;
  CpuCfsPeriod?: boolean;
  CpuCfsQuota?: boolean;
  CPUShares?: boolean;
  CPUSet?: boolean;
  PidsLimit?: boolean;
  OomKillDisable?: boolean;
  IPv4Forwarding?: boolean;
  BridgeNfIptables?: boolean;
  BridgeNfIp6tables?: boolean;
  Debug?: boolean;
  NFd?: number;
  NGoroutines?: number;
  SystemTime?: string;
  LoggingDriver?: string;
  CgroupDriver?: 'cgroupfs' | 'systemd' | 'none';
  CgroupVersion?: '1' | '2';
  NEventsListener?: number;
  KernelVersion?: string;
  OperatingSystem?: string;
  OSVersion?: string;
  OSType?: string;
  Architecture?: string;
  NCPU?: number;
  MemTotal?: number;
  IndexServerAddress?: string;
  RegistryConfig?: RegistryServiceConfig | null;
  GenericResources?: unknown[] | null;
  HttpProxy?: string;
  HttpsProxy?: string;
  NoProxy?: string;
  Name?: string;
  Labels?: string[];
  ExperimentalBuild?: boolean;
  ServerVersion?: string;
  Runtimes?: Record<string, RuntimeInfo>;
  DefaultRuntime?: string;
  Swarm?: SwarmInfo;
  LiveRestoreEnabled?: boolean;
  Isolation?: 'default' | 'hyperv' | 'process' | '';
  InitBinary?: string;
  ContainerdCommit?: Commit;
  RuncCommit?: Commit;
  InitCommit?: Commit;
  SecurityOptions?: string[];
  ProductLicense?: string;
  DefaultAddressPools?: { Base?: string; Size?: number }[];
  Warnings?: string[] | null;
  CDISpecDirs?: string[];
}

export interface BuildCache {
  ID?: string;
  Parent?: string | null;
  Parents?: string[] | null;
  Type?: 'internal' | 'frontend' | 'source.local' | 'source.git.checkout' | 'exec.cachemount' | 'regular';
  Description?: string;
  InUse?: boolean;
  Shared?: boolean;
  Size?: number;
  CreatedAt?: string;
  LastUsedAt?: string | null;
  UsageCount?: number;
}

/** `GET /system/df`. */
export interface SystemDataUsageResponse {
  LayersSize?: number;
  Images?: ImageSummary[];
  Containers?: ContainerSummary[];
  Volumes?: Volume[];
  BuildCache?: BuildCache[];
}

export type EventType =
  | 'builder'
  | 'config'
  | 'container'
  | 'daemon'
  | 'image'
  | 'network'
  | 'node'
  | 'plugin'
  | 'secret'
  | 'service'
  | 'volume';

export interface EventActor {
  ID?: string;
  Attributes?: StringMap;
}

/** One line of `GET /events`. */
export interface EventMessage {
  Type?: EventType;
  Action?: string;
  Actor?: EventActor;
  scope?: 'local' | 'swarm';
  /** Unix seconds. */
  time?: number;
  timeNano?: number;
  // compat: the deprecated pre-1.22 fields docker still sends for container and image events.
  status?: string;
  id?: string;
  from?: string;
}

/** `POST /auth` body. */
export interface AuthConfig {
  username?: string;
  password?: string;
  email?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** `POST /auth` answer. */
export interface AuthResponse {
  Status: string;
  IdentityToken?: string;
}

/** One `GET /images/search` result. */
export interface ImageSearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

/** Query filters as the API takes them: `{"label": ["a=b"], "status": ["running"]}`. */
export type Filters = Record<string, string[]>;
